'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { parseAmount, problemText } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { StockCell } from './Restock';
import { button, h1, h2, input, secondary, table } from './ui';

interface VariantRow { size: string; color: string; sku: string; price: string }
const emptyRow = (): VariantRow => ({ size: '', color: '', sku: '', price: '' });

/** A new product (with its variants and USD prices), or an existing one to edit, publish, archive and restock. */
export function ProductForm({ id }: { id?: string }) {
  const { weft } = useAdmin();
  const router = useRouter();
  const [product, setProduct] = useState<Schemas['Product'] | null>(null);
  const [title, setTitle] = useState('');
  const [brand, setBrand] = useState('');
  const [handle, setHandle] = useState('');
  const [description, setDescription] = useState('');
  const [rows, setRows] = useState<VariantRow[]>([emptyRow()]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!id) return;
    weft.api
      .GET('/v1/products/{id}', { params: { path: { id } } })
      .then(({ data }) => {
        setProduct(data!);
        setTitle(data!.title);
        setBrand(data!.brand);
        setHandle(data!.handle);
        setDescription(data!.description);
      })
      .catch((e) => setError(problemText(e)));
  }, [weft, id]);

  function showProblem(e: unknown) {
    if (e instanceof WeftProblem && e.errors.length) {
      setErrors(Object.fromEntries(e.errors.map((f) => [f.field, f.message])));
    }
    setError(problemText(e));
  }

  async function save(ev: React.FormEvent) {
    ev.preventDefault();
    setBusy(true);
    setErrors({});
    setError('');
    setSaved('');
    try {
      if (product) {
        const { data } = await weft.api.PATCH('/v1/admin/products/{id}', {
          params: { path: { id: product.id } },
          body: { title, brand, handle, description },
        });
        setProduct(data!);
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
          options,
          variants: used.map((r) => ({
            sku: r.sku.trim(),
            options: Object.fromEntries(options.map((o) => [o.name, r[o.name as 'size' | 'color'].trim()])),
            prices: [{ currency: 'USD', amount: parseAmount(r.price)! }],
          })),
        },
      });
      router.push(`/admin/products/${data!.id}`);
    } catch (e) {
      showProblem(e);
    } finally {
      setBusy(false);
    }
  }

  async function setStatus(status: 'active' | 'archived' | 'draft') {
    if (!product) return;
    setError('');
    setSaved('');
    try {
      const { data } = await weft.api.PATCH('/v1/admin/products/{id}', { params: { path: { id: product.id } }, body: { status } });
      setProduct(data!);
      setSaved(status === 'active' ? 'Published.' : status === 'archived' ? 'Archived.' : 'Back to draft.');
    } catch (e) {
      showProblem(e);
    }
  }

  const field = (name: string, label: string, value: string, set: (v: string) => void, required = false) => (
    <div>
      <label htmlFor={`p-${name}`} className="font-medium">{label}</label>
      <input
        id={`p-${name}`}
        required={required}
        value={value}
        onChange={(e) => set(e.target.value)}
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={errors[name] ? `p-${name}-error` : undefined}
        className={input}
      />
      {errors[name] && <p id={`p-${name}-error`} className="text-red-700">{errors[name]}</p>}
    </div>
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
        {field('title', 'Title', title, setTitle, true)}
        {field('brand', 'Brand', brand, setBrand, true)}
        {field('handle', 'Handle (made from the title when empty)', handle, setHandle)}
        <div>
          <label htmlFor="p-description" className="font-medium">Description</label>
          <textarea id="p-description" value={description} onChange={(e) => setDescription(e.target.value)} rows={3} className={input} />
        </div>
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
        <thead><tr><th scope="col">SKU</th><th scope="col">Options</th><th scope="col">Price</th><th scope="col">Stock</th></tr></thead>
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
            </tr>
          ))}
        </tbody>
      </table>
      <NewVariant product={product} onAdded={onChange} />
    </section>
  );
}

/** The variant's USD price (other currencies are kept as they are). */
function PriceEdit({ variant, onSaved }: { variant: Schemas['Variant']; onSaved: () => void }) {
  const { weft } = useAdmin();
  const usd = variant.prices.find((p) => p.currency === 'USD');
  const [price, setPrice] = useState(usd ? (usd.amount / 100).toFixed(2) : '');
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  const others = variant.prices.filter((p) => p.currency !== 'USD');
  return (
    <form
      className="flex flex-wrap items-center gap-2"
      onSubmit={async (e) => {
        e.preventDefault();
        setSaved(false);
        const amount = parseAmount(price);
        if (amount === null) return setError('Enter a price such as 49.00.');
        setError('');
        try {
          await weft.api.PATCH('/v1/admin/variants/{id}', { params: { path: { id: variant.id } }, body: { prices: [...others, { currency: 'USD', amount }] } });
          setSaved(true);
          onSaved();
        } catch (err) {
          setError(problemText(err));
        }
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
  const [error, setError] = useState('');
  return (
    <form
      aria-labelledby="new-variant-h"
      className="mt-4 flex flex-wrap items-end gap-2"
      onSubmit={async (e) => {
        e.preventDefault();
        const amount = parseAmount(price);
        if (amount === null) return setError('Enter a price such as 49.00.');
        setError('');
        try {
          await weft.api.POST('/v1/admin/products/{id}/variants', {
            params: { path: { id: product.id } },
            body: { sku: sku.trim(), options: Object.fromEntries(product.options.map((o) => [o.name, values[o.name] ?? o.values[0]!])), prices: [{ currency: 'USD', amount }] },
          });
          setValues({});
          setSku('');
          setPrice('');
          onAdded();
        } catch (err) {
          setError(problemText(err));
        }
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
