'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { parseAmount, problemText } from '@/lib/admin';
import { withDepth } from '@/lib/categories';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { Field } from './Field';
import { ProductImages } from './ProductImages';
import { StockCell } from './Restock';
import { button, h1, h2, input, secondary, table } from './ui';

interface VariantRow { size: string; color: string; sku: string; price: string }
const emptyRow = (): VariantRow => ({ size: '', color: '', sku: '', price: '' });

/** A new product (with its variants and USD prices), or an existing one to edit (text, SEO,
 *  category, images), publish, archive, restock, and add or delete variants of. */
export function ProductForm({ id }: { id?: string }) {
  const { weft } = useAdmin();
  const router = useRouter();
  const [product, setProduct] = useState<Schemas['Product'] | null>(null);
  const [title, setTitle] = useState('');
  const [brand, setBrand] = useState('');
  const [handle, setHandle] = useState('');
  const [description, setDescription] = useState('');
  const [seoTitle, setSeoTitle] = useState('');
  const [seoDescription, setSeoDescription] = useState('');
  const [categoryId, setCategoryId] = useState('');
  const [images, setImages] = useState<Schemas['Image'][]>([]);
  const [categories, setCategories] = useState<Schemas['Category'][] | null>(null);
  const [rows, setRows] = useState<VariantRow[]>([emptyRow()]);
  const { busy, error, setError, errors, setErrors, submit } = useSubmit();
  const [saved, setSaved] = useState('');

  /** The form shows the product as Weft has it (after a load, and after a save: Weft trims). */
  function show(p: Schemas['Product']) {
    setProduct(p);
    setTitle(p.title);
    setBrand(p.brand);
    setHandle(p.handle);
    setDescription(p.description);
    setSeoTitle(p.seo_title ?? '');
    setSeoDescription(p.seo_description ?? '');
    setCategoryId(p.category_id ?? '');
    setImages(p.images);
  }

  useEffect(() => {
    if (!id) return;
    weft.api
      .GET('/v1/products/{id}', { params: { path: { id } } })
      .then(({ data }) => show(data!))
      .catch((e) => setError(problemText(e)));
  }, [weft, id]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    weft.api
      .GET('/v1/categories')
      .then(({ data }) => setCategories(data!.data))
      .catch((e) => setError(problemText(e)));
  }, [weft]); // eslint-disable-line react-hooks/exhaustive-deps

  async function save(ev: React.FormEvent) {
    ev.preventDefault();
    setSaved('');
    await submit(async () => {
      if (product) {
        // every field of the form, so what is on screen is what Weft keeps: "" clears
        // the SEO texts, category_id "" takes the product out of its category, and
        // `images` replaces the list (order included)
        const { data } = await weft.api.PATCH('/v1/admin/products/{id}', {
          params: { path: { id: product.id } },
          body: { title, brand, handle, description, seo_title: seoTitle, seo_description: seoDescription, category_id: categoryId, images },
        });
        show(data!);
        setSaved('Saved.');
        return;
      }
      const used = rows.filter((r) => r.sku.trim() || r.size.trim() || r.color.trim() || r.price.trim());
      const bad: Record<string, string> = {};
      used.forEach((r, i) => {
        const p = parseAmount(r.price);
        if (p === null || p <= 0) bad[`variants[${i}].prices`] = 'Enter a price such as 49.00.';
      });
      if (Object.keys(bad).length) {
        setErrors(bad);
        setError('Some variants need a price.');
        return;
      }
      const values = (k: 'size' | 'color') => [...new Set(used.map((r) => r[k].trim()).filter(Boolean))];
      const options = (['size', 'color'] as const).filter((k) => values(k).length).map((k) => ({ name: k, values: values(k) }));
      const { data } = await weft.api.POST('/v1/admin/products', {
        body: {
          title,
          brand,
          handle: handle.trim() || null,
          description: description || null,
          seo_title: seoTitle.trim() || null,
          seo_description: seoDescription.trim() || null,
          category_id: categoryId || null,
          images,
          options,
          variants: used.map((r) => ({
            sku: r.sku.trim(),
            options: Object.fromEntries(options.map((o) => [o.name, r[o.name as 'size' | 'color'].trim()])),
            prices: [{ currency: 'USD', amount: parseAmount(r.price)! }],
          })),
        },
      });
      router.push(`/admin/products/${data!.id}`);
    });
  }

  async function setStatus(status: 'active' | 'archived' | 'draft') {
    if (!product) return;
    setSaved('');
    await submit(async () => {
      const { data } = await weft.api.PATCH('/v1/admin/products/{id}', { params: { path: { id: product.id } }, body: { status } });
      setProduct(data!);
      setSaved(status === 'active' ? 'Published.' : status === 'archived' ? 'Archived.' : 'Back to draft.');
    });
  }

  /** A labelled input (or textarea) with Weft's error for field `name` under it. */
  const field = (name: string, label: string, value: string, set: (v: string) => void, opts: { required?: boolean; multiline?: boolean } = {}) => (
    <Field id={`p-${name}`} label={label} error={errors[name]}>
      {(control) =>
        opts.multiline ? (
          <textarea {...control} rows={3} value={value} onChange={(e) => set(e.target.value)} className={input} />
        ) : (
          <input {...control} required={opts.required} value={value} onChange={(e) => set(e.target.value)} className={input} />
        )
      }
    </Field>
  );

  if (id && !product) {
    return <div><h1 className={h1}>Product</h1>{error ? <p role="alert" className="text-red-700">{error}</p> : <p role="status">Loading…</p>}</div>;
  }

  return (
    <div>
      <p><Link href="/admin/products" className="underline">All products</Link></p>
      <h1 className={h1}>{product ? product.title : 'New product'}</h1>
      {product && (
        <div className="mb-4 flex flex-wrap items-center gap-3">
          <span>Status: <strong data-testid="product-status">{product.status}</strong></span>
          {product.status !== 'active' && <button type="button" className={secondary} onClick={() => void setStatus('active')}>Publish</button>}
          {product.status !== 'archived' && <button type="button" className={secondary} onClick={() => void setStatus('archived')}>Archive</button>}
          {product.status === 'active' && <Link className="underline" href={`/products/${product.handle}`}>View in the shop</Link>}
        </div>
      )}
      <form onSubmit={save} className="flex max-w-3xl flex-col gap-3">
        {field('title', 'Title', title, setTitle, { required: true })}
        {field('brand', 'Brand', brand, setBrand, { required: true })}
        {field('handle', 'Handle (made from the title when empty)', handle, setHandle)}
        {field('description', 'Description', description, setDescription, { multiline: true })}
        <Field id="p-category_id" label="Category" error={errors['category_id']}>
          {(control) => (
            <select {...control} value={categoryId} onChange={(e) => setCategoryId(e.target.value)} className={input}>
              <option value="">No category</option>
              {/* until the tree is in, the product's own category is kept as it is */}
              {!categories && categoryId && <option value={categoryId}>{categoryId}</option>}
              {withDepth(categories ?? []).map(({ category, depth }) => (
                <option key={category.id} value={category.id}>{'\u2014 '.repeat(depth)}{category.name}</option>
              ))}
            </select>
          )}
        </Field>
        <fieldset className="flex flex-col gap-3 rounded border border-neutral-300 p-3">
          <legend className="px-1 font-semibold">Search engines</legend>
          {field('seo_title', 'SEO title (up to 70 characters; the shop uses the title when empty)', seoTitle, setSeoTitle)}
          {field('seo_description', 'SEO description (up to 320 characters; the shop uses the description when empty)', seoDescription, setSeoDescription, { multiline: true })}
        </fieldset>
        <ProductImages images={images} onChange={setImages} errors={errors} />
        {!product && (
          <fieldset>
            <legend className="font-semibold">Variants</legend>
            {rows.map((r, i) => (
              <div key={i} className="mt-2 grid grid-cols-2 gap-2 sm:grid-cols-5" data-testid="variant-row">
                {(['size', 'color', 'sku', 'price'] as const).map((k) => (
                  <label key={k} className="text-sm">
                    {k === 'sku' ? 'SKU' : k === 'price' ? 'Price (USD)' : k[0]!.toUpperCase() + k.slice(1)} {i + 1}
                    <input
                      value={r[k]}
                      required={k === 'sku' || k === 'price'}
                      inputMode={k === 'price' ? 'decimal' : undefined}
                      onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, [k]: e.target.value } : x)))}
                      aria-invalid={k === 'price' && errors[`variants[${i}].prices`] ? true : undefined}
                      className="mt-1 w-full rounded border border-neutral-500 px-2 py-1"
                    />
                  </label>
                ))}
                {rows.length > 1 && (
                  <button type="button" className={`${secondary} self-end`} onClick={() => setRows(rows.filter((_, j) => j !== i))}>Remove {i + 1}</button>
                )}
              </div>
            ))}
            <button type="button" className={`${secondary} mt-2`} onClick={() => setRows([...rows, emptyRow()])}>Add variant</button>
          </fieldset>
        )}
        {error && <p role="alert" className="text-red-700">{error}</p>}
        {saved && <p role="status" className="text-green-800">{saved}</p>}
        <button type="submit" disabled={busy} className={`${button} self-start`}>{product ? 'Save' : 'Create product'}</button>
      </form>
      {product && (
        <Variants
          product={product}
          onChange={() => void weft.api.GET('/v1/products/{id}', { params: { path: { id: product.id } } }).then(({ data }) => setProduct(data!))}
        />
      )}
    </div>
  );
}

function Variants({ product, onChange }: { product: Schemas['Product']; onChange: () => void }) {
  const { weft } = useAdmin();
  const [stock, setStock] = useState<Map<string, Schemas['Stock']>>(new Map());
  const [locations, setLocations] = useState<Schemas['Location'][]>([]);
  const [error, setError] = useState('');
  useEffect(() => {
    (async () => {
      const { data: locs } = await weft.api.GET('/v1/admin/inventory/locations');
      setLocations(locs!.data);
      const m = new Map<string, Schemas['Stock']>();
      for (const v of product.variants) {
        const { data } = await weft.api.GET('/v1/inventory/{variant_id}', { params: { path: { variant_id: v.id } } });
        m.set(v.id, data!);
      }
      setStock(m);
    })().catch((e) => setError(problemText(e)));
  }, [weft, product.variants]);
  return (
    <section aria-labelledby="variants-h">
      <h2 id="variants-h" className={h2}>Variants and stock</h2>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      <table className={table}>
        <caption className="sr-only">Variants</caption>
        <thead><tr><th scope="col">SKU</th><th scope="col">Options</th><th scope="col">Price</th><th scope="col">Stock</th><th scope="col">Delete</th></tr></thead>
        <tbody>
          {product.variants.map((v) => (
            <tr key={v.id}>
              <td>{v.sku}</td>
              <td>{Object.entries(v.options).map(([k, x]) => `${k}: ${x}`).join(', ')}</td>
              <td><PriceEdit variant={v} onSaved={onChange} /></td>
              <td>
                {stock.get(v.id) ? (
                  <StockCell stock={stock.get(v.id)!} locations={locations} label={v.sku} onChange={(s) => setStock(new Map(stock).set(v.id, s))} />
                ) : '…'}
              </td>
              <td><DeleteVariant variant={v} only={product.variants.length === 1} onDeleted={onChange} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <NewVariant product={product} onAdded={onChange} />
    </section>
  );
}

/** Deletes a variant after a confirmation; Weft's refusal (a variant already gone, a
 *  missing right) is shown in the row. */
function DeleteVariant({ variant, only, onDeleted }: { variant: Schemas['Variant']; only: boolean; onDeleted: () => void }) {
  const { weft } = useAdmin();
  const [confirming, setConfirming] = useState(false);
  const { busy, error, submit } = useSubmit();
  const remove = () =>
    submit(async () => {
      await weft.api.DELETE('/v1/admin/variants/{id}', { params: { path: { id: variant.id } } });
      setConfirming(false);
      onDeleted();
    });
  return (
    <div className="text-sm">
      {!confirming ? (
        <button type="button" className={secondary} onClick={() => setConfirming(true)}>Delete<span className="sr-only"> {variant.sku}</span></button>
      ) : (
        <div role="group" aria-label={`Delete ${variant.sku}?`} className="flex max-w-xs flex-col gap-2 rounded border border-red-700 bg-red-50 p-2">
          <p>
            Delete {variant.sku}? Its prices go with it; orders keep their lines.
            {only && <strong> It is the product&apos;s only variant: the product will have nothing to sell.</strong>}
          </p>
          <div className="flex gap-2">
            <button type="button" disabled={busy} className="rounded bg-red-800 px-3 py-1.5 font-medium text-white hover:bg-red-700 disabled:opacity-50" onClick={() => void remove()}>
              Yes, delete {variant.sku}
            </button>
            <button type="button" className={secondary} onClick={() => setConfirming(false)}>Keep it</button>
          </div>
        </div>
      )}
      {error && <p role="alert" className="mt-1 text-red-700">{error}</p>}
    </div>
  );
}

/** The variant's USD price (other currencies are kept as they are). */
function PriceEdit({ variant, onSaved }: { variant: Schemas['Variant']; onSaved: () => void }) {
  const { weft } = useAdmin();
  const usd = variant.prices.find((p) => p.currency === 'USD');
  const [price, setPrice] = useState(usd ? (usd.amount / 100).toFixed(2) : '');
  const { error, setError, submit } = useSubmit();
  const [saved, setSaved] = useState(false);
  const others = variant.prices.filter((p) => p.currency !== 'USD');
  return (
    <form
      className="flex flex-wrap items-center gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        const amount = parseAmount(price);
        if (amount === null) return setError('Enter a price such as 49.00.');
        void submit(async () => {
          await weft.api.PATCH('/v1/admin/variants/{id}', { params: { path: { id: variant.id } }, body: { prices: [...others, { currency: 'USD', amount }] } });
          setSaved(true);
          onSaved();
        });
      }}
    >
      <label>
        <span className="sr-only">Price (USD) of {variant.sku}</span>
        <input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" className="w-24 rounded border border-neutral-500 px-2 py-1" />
      </label>
      <button type="submit" className={secondary} aria-label={`Save price of ${variant.sku}`}>Save</button>
      {others.length > 0 && <span className="text-xs">{others.map((p) => formatMoney(p)).join(', ')}</span>}
      {saved && <span className="text-sm text-green-800">Saved.</span>}
      {error && <span role="alert" className="text-sm text-red-700">{error}</span>}
    </form>
  );
}

/** One more variant: a value for each of the product's options, a SKU and a USD price. */
function NewVariant({ product, onAdded }: { product: Schemas['Product']; onAdded: () => void }) {
  const { weft } = useAdmin();
  const [values, setValues] = useState<Record<string, string>>({});
  const [sku, setSku] = useState('');
  const [price, setPrice] = useState('');
  const { error, setError, submit } = useSubmit();
  return (
    <form
      aria-labelledby="new-variant-h"
      className="mt-4 flex flex-wrap items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        const amount = parseAmount(price);
        if (amount === null) return setError('Enter a price such as 49.00.');
        void submit(async () => {
          await weft.api.POST('/v1/admin/products/{id}/variants', {
            params: { path: { id: product.id } },
            body: { sku: sku.trim(), options: Object.fromEntries(product.options.map((o) => [o.name, values[o.name] ?? o.values[0]!])), prices: [{ currency: 'USD', amount }] },
          });
          setValues({});
          setSku('');
          setPrice('');
          onAdded();
        });
      }}
    >
      <h3 id="new-variant-h" className="w-full font-semibold">Add a variant</h3>
      <p className="w-full text-sm">A product&apos;s options are fixed once it is made: a new variant takes one of their values.</p>
      {product.options.map((o) => (
        <label key={o.name} className="text-sm">
          New variant&apos;s {o.name}
          <select value={values[o.name] ?? o.values[0]} onChange={(e) => setValues({ ...values, [o.name]: e.target.value })} className="mt-1 block rounded border border-neutral-500 px-2 py-1">
            {o.values.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
      ))}
      <label className="text-sm">New variant&apos;s SKU<input value={sku} onChange={(e) => setSku(e.target.value)} required className="mt-1 block w-40 rounded border border-neutral-500 px-2 py-1" /></label>
      <label className="text-sm">New variant&apos;s price (USD)<input value={price} onChange={(e) => setPrice(e.target.value)} required inputMode="decimal" className="mt-1 block w-24 rounded border border-neutral-500 px-2 py-1" /></label>
      <button type="submit" className={secondary}>Add variant</button>
      {error && <p role="alert" className="w-full text-red-700">{error}</p>}
    </form>
  );
}
