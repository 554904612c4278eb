'use client';
import { useEffect, useMemo, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { problemMessage } from '@/lib/forms';
import { imageSrc } from '@/lib/images';
import { describeOptions, purchasable, stockLabel } from '@/lib/stock';
import { EachCurrency, VariantPrice, PriceRange } from './Price';
import { useCart } from './CartProvider';

type Product = Schemas['Product'];
type Variant = Schemas['Variant'];

function optionLabel(name: string): string {
  if (name === 'color') return 'Colour';
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function slug(s: string): string {
  return s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/**
 * Gallery, option picker and "Add to cart". A value is disabled when no variant with it
 * (and the other values chosen) can be bought now, so a sold-out size in the chosen
 * colour cannot be picked. Colour comes first: it decides the pictures.
 */
export function VariantPicker({ product, apiUrl, currencies }: { product: Product; apiUrl: string; currencies: string[] }) {
  const { addItem, openDrawer } = useCart();
  const options = useMemo(
    () => [...product.options].sort((a, b) => (a.name === 'color' ? -1 : b.name === 'color' ? 1 : 0)),
    [product.options],
  );
  const opts = (v: Variant) => v.options as Record<string, string>;

  // Start on the first colour that has something for sale; a single-valued option is chosen for the shopper.
  const [chosen, setChosen] = useState<Record<string, string>>(() => {
    const first = product.variants.find((v) => purchasable(v.stock_status)) ?? product.variants[0];
    const init: Record<string, string> = {};
    for (const o of options) {
      if (o.values.length === 1) init[o.name] = o.values[0]!;
      else if (o.name === 'color' && first) init[o.name] = opts(first)[o.name]!;
    }
    return init;
  });
  const [quantity, setQuantity] = useState(1);
  const [busy, setBusy] = useState(false);
  // Until React runs, a click would submit the form natively: keep the button off till then.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const matches = (v: Variant, sel: Record<string, string>) => Object.entries(sel).every(([k, val]) => opts(v)[k] === val);
  const variant = options.every((o) => chosen[o.name]) ? product.variants.find((v) => matches(v, chosen)) : undefined;

  function available(name: string, value: string): boolean {
    const sel = { ...chosen, [name]: value };
    return product.variants.some((v) => matches(v, sel) && purchasable(v.stock_status));
  }
  function exists(name: string, value: string): boolean {
    const others = Object.fromEntries(Object.entries(chosen).filter(([k]) => k !== name));
    return product.variants.some((v) => matches(v, { ...others, [name]: value }));
  }

  const colour = chosen['color'];
  const images = product.images;
  const main = (colour && images.find((i) => i.url.includes(`--${slug(colour)}.`))) || images[0];

  async function add() {
    if (!variant) return;
    setBusy(true);
    setMessage(null);
    try {
      await addItem(variant.id, quantity);
      setMessage({ kind: 'ok', text: `Added ${quantity} × ${product.title} (${describe(variant)}) to your cart.` });
      openDrawer();
    } catch (e) {
      setMessage({ kind: 'error', text: problemMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="grid gap-8 md:grid-cols-2">
      <div>
        <div className="aspect-[4/5] overflow-hidden rounded bg-neutral-100">
          {main && (
            // eslint-disable-next-line @next/next/no-img-element -- Weft serves its own images
            <img src={imageSrc(main.url, apiUrl)} alt={main.alt || product.title} width={800} height={1000} fetchPriority="high" className="h-full w-full object-cover" />
          )}
        </div>
        {images.length > 1 && (
          <ul className="mt-3 grid grid-cols-5 gap-2" aria-label="More pictures">
            {images.map((img) => (
              <li key={img.url} className="overflow-hidden rounded bg-neutral-100">
                {/* eslint-disable-next-line @next/next/no-img-element */}
                <img src={imageSrc(img.url, apiUrl)} alt={img.alt || product.title} width={160} height={200} loading="lazy" className="h-full w-full object-cover" />
              </li>
            ))}
          </ul>
        )}
      </div>
      <div>
        <p className="text-sm text-neutral-700">{product.brand}</p>
        <h1 className="text-2xl font-semibold tracking-tight">{product.title}</h1>
        <p className="mt-2 text-lg">
          {variant ? (
            <EachCurrency currencies={currencies}>
              {(c) => {
                const price = variant.prices.find((p) => p.currency === c);
                return price ? <VariantPrice amount={price.amount} compareAt={price.compare_at_amount} currency={c} /> : <span className="text-neutral-700">Not sold in {c}</span>;
              }}
            </EachCurrency>
          ) : (
            <PriceRange ranges={product.price_ranges} currencies={currencies} />
          )}
        </p>
        <form
          className="mt-6 space-y-5"
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          {options.map((o) => (
            <fieldset key={o.name}>
              <legend className="mb-2 text-sm font-medium">
                {optionLabel(o.name)}
                {chosen[o.name] && <span className="font-normal text-neutral-700">: {chosen[o.name]}</span>}
              </legend>
              <div className="flex flex-wrap gap-2">
                {o.values.map((value) => {
                  const can = available(o.name, value);
                  const real = exists(o.name, value);
                  // Colour stays choosable (it changes the picture); a size with nothing for sale is not.
                  const disabled = !real || (o.name !== 'color' && !can);
                  const id = `opt-${o.name}-${slug(value)}`;
                  return (
                    <span key={value}>
                      <input
                        type="radio"
                        id={id}
                        name={o.name}
                        value={value}
                        checked={chosen[o.name] === value}
                        disabled={disabled}
                        onChange={() => {
                          const next = { ...chosen, [o.name]: value };
                          // A colour change drops a size that the new colour has sold out.
                          for (const other of options) {
                            if (other.name !== o.name && next[other.name] && other.values.length > 1) {
                              const keep = product.variants.some((v) => matches(v, next) && purchasable(v.stock_status));
                              if (!keep) delete next[other.name];
                            }
                          }
                          setChosen(next);
                          setMessage(null);
                        }}
                        className="peer sr-only"
                      />
                      <label
                        htmlFor={id}
                        data-testid={`option-${o.name}-${value}`}
                        className={`inline-block min-w-12 cursor-pointer rounded border px-3 py-1.5 text-center text-sm peer-checked:border-neutral-900 peer-checked:bg-neutral-900 peer-checked:text-white peer-focus-visible:outline peer-focus-visible:outline-2 peer-focus-visible:outline-blue-700 ${
                          disabled ? 'cursor-not-allowed border-neutral-300 text-neutral-500 line-through' : 'border-neutral-400 hover:border-neutral-900'
                        } ${o.name === 'color' && !can ? 'text-neutral-600' : ''}`}
                      >
                        {value}
                        {(disabled || !can) && <span className="sr-only"> (sold out)</span>}
                      </label>
                    </span>
                  );
                })}
              </div>
            </fieldset>
          ))}
          <p className="text-sm" aria-live="polite" data-testid="stock-state">
            {variant ? (
              <span className={purchasable(variant.stock_status) ? 'text-green-800' : 'font-medium text-red-800'}>{stockLabel(variant.stock_status)}</span>
            ) : product.in_stock ? (
              `Choose ${options.filter((o) => !chosen[o.name]).map((o) => optionLabel(o.name).toLowerCase()).join(' and ')}`
            ) : (
              <span className="font-medium text-red-800">Sold out</span>
            )}
          </p>
          <div className="flex items-end gap-3">
            <div>
              <label htmlFor="qty" className="block text-sm font-medium">Quantity</label>
              <input
                id="qty"
                type="number"
                min={1}
                max={99}
                value={quantity}
                onChange={(e) => setQuantity(Math.max(1, Math.min(99, Number(e.target.value) || 1)))}
                className="mt-1 w-20 rounded border border-neutral-400 px-2 py-1.5"
              />
            </div>
            <button
              type="submit"
              disabled={!hydrated || !variant || !purchasable(variant.stock_status) || busy}
              className="rounded bg-neutral-900 px-6 py-2.5 font-medium text-white hover:bg-neutral-700 disabled:cursor-not-allowed disabled:bg-neutral-500"
            >
              {busy ? 'Adding…' : 'Add to cart'}
            </button>
          </div>
          <div role="status" aria-live="polite" className="min-h-6 text-sm" data-testid="add-status">
            {message?.kind === 'ok' && (
              <span className="text-green-800">
                {message.text} <Link href="/cart" className="font-medium underline">View cart</Link>
              </span>
            )}
            {message?.kind === 'error' && <span className="text-red-800">{message.text}</span>}
          </div>
        </form>
        {variant && <p className="text-xs text-neutral-700">SKU {variant.sku}</p>}
      </div>
    </div>
  );
}

function describe(v: Variant): string {
  return describeOptions(v.options as Record<string, string>);
}
