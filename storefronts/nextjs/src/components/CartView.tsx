'use client';
import { useState } from 'react';
import Link from 'next/link';
import { WeftProblem } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { promotionReason } from '@/lib/promotions';
import { describeOptions } from '@/lib/stock';
import { useCart } from './CartProvider';
import { ShippingEstimate } from './ShippingEstimate';
import { Totals } from './Totals';

/** The cart page: lines with quantities, promotion codes and the server's totals. */
export function CartView() {
  const { cart, ready, setQuantity, removeItem, applyCode, removeCode } = useCart();
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [lineError, setLineError] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);

  if (!ready) return <p role="status">Loading your cart…</p>;
  if (!cart || cart.items.length === 0) {
    return (
      <div data-testid="cart-empty">
        <p>Your cart is empty.</p>
        <p className="mt-4">
          <Link href="/search" className="rounded bg-neutral-900 px-4 py-2 text-sm font-medium text-white hover:bg-neutral-700">Continue shopping</Link>
        </p>
      </div>
    );
  }

  async function run(key: string, f: () => Promise<unknown>) {
    setPending(key);
    setLineError(null);
    try {
      await f();
    } catch (e) {
      setLineError(e instanceof WeftProblem ? (e.code === 'out_of_stock' ? 'Not enough stock for that quantity.' : e.errors[0]?.message || e.detail || e.title) : 'Could not reach the shop.');
    } finally {
      setPending(null);
    }
  }

  async function apply(e: React.FormEvent) {
    e.preventDefault();
    const value = code.trim();
    if (!value) {
      setCodeError('Enter a code.');
      return;
    }
    setPending('code');
    setCodeError(null);
    try {
      await applyCode(value);
      setCode('');
    } catch (err) {
      if (err instanceof WeftProblem) {
        setCodeError(err.code.startsWith('promotion_') ? promotionReason(err.code) : err.errors[0]?.message || err.detail || err.title);
      } else setCodeError('Could not reach the shop.');
    } finally {
      setPending(null);
    }
  }

  return (
    <div className="grid gap-10 md:grid-cols-[1fr_20rem]">
      <section aria-labelledby="lines-heading">
        <h2 id="lines-heading" className="sr-only">Items</h2>
        <ul className="divide-y divide-neutral-200 border-y border-neutral-200" data-testid="cart-lines">
          {cart.items.map((item) => {
            const opts = describeOptions(item.options as Record<string, string>);
            return (
              <li key={item.id} className="flex gap-4 py-4" data-testid="cart-line">
                <div className="h-24 w-20 shrink-0 overflow-hidden rounded bg-neutral-100">
                  {item.image_url && (
                    // eslint-disable-next-line @next/next/no-img-element
                    <img src={item.image_url} alt="" width={80} height={96} className="h-full w-full object-cover" />
                  )}
                </div>
                <div className="flex-1">
                  <p className="font-medium">
                    {item.handle ? <Link href={`/products/${item.handle}`} className="hover:underline">{item.title}</Link> : item.title}
                  </p>
                  <p className="text-sm text-neutral-700" data-testid="line-options">{opts}</p>
                  {item.unit_price && <p className="text-sm">{formatMoney(item.unit_price)} each</p>}
                  {!item.purchasable && <p className="text-sm font-medium text-red-800">No longer available: remove it to check out.</p>}
                  <div className="mt-2 flex items-center gap-2">
                    <button
                      type="button"
                      aria-label={`Decrease quantity of ${item.title} ${opts}`}
                      disabled={pending !== null || item.quantity <= 1}
                      onClick={() => run(item.id, () => setQuantity(item.id, item.quantity - 1))}
                      className="h-8 w-8 rounded border border-neutral-400 disabled:opacity-50"
                    >
                      −
                    </button>
                    <span aria-live="polite" className="w-8 text-center" data-testid="line-quantity">
                      <span className="sr-only">Quantity </span>
                      {item.quantity}
                    </span>
                    <button
                      type="button"
                      aria-label={`Increase quantity of ${item.title} ${opts}`}
                      disabled={pending !== null}
                      onClick={() => run(item.id, () => setQuantity(item.id, item.quantity + 1))}
                      className="h-8 w-8 rounded border border-neutral-400 disabled:opacity-50"
                    >
                      +
                    </button>
                    <button
                      type="button"
                      disabled={pending !== null}
                      onClick={() => run(item.id, () => removeItem(item.id))}
                      className="ml-4 text-sm underline disabled:opacity-50"
                    >
                      Remove<span className="sr-only"> {item.title} {opts}</span>
                    </button>
                  </div>
                </div>
                <div className="text-right">
                  <p className="font-medium" data-testid="line-total">{formatMoney(item.line_total)}</p>
                  {item.discount.amount > 0 && <p className="text-sm text-green-800">−{formatMoney(item.discount)}</p>}
                </div>
              </li>
            );
          })}
        </ul>
        {lineError && <p role="alert" className="mt-3 text-sm text-red-800">{lineError}</p>}
      </section>
      <aside aria-labelledby="summary-heading" className="space-y-6">
        <h2 id="summary-heading" className="text-lg font-semibold">Summary</h2>
        <form onSubmit={apply} noValidate>
          <label htmlFor="promo" className="block text-sm font-medium">Promo code</label>
          <div className="mt-1 flex gap-2">
            <input
              id="promo"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              aria-invalid={codeError ? true : undefined}
              aria-describedby={codeError ? 'promo-error' : undefined}
              className="w-full rounded border border-neutral-400 px-2 py-1.5 uppercase"
              autoComplete="off"
            />
            <button type="submit" disabled={pending !== null} className="rounded border border-neutral-900 px-3 py-1.5 text-sm font-medium hover:bg-neutral-100 disabled:opacity-50">
              Apply
            </button>
          </div>
          {codeError && <p id="promo-error" role="alert" className="mt-1 text-sm text-red-800" data-testid="promo-error">{codeError}</p>}
        </form>
        {cart.promotions.length > 0 && (
          <ul className="space-y-1 text-sm" aria-label="Codes on this cart" data-testid="promotions">
            {cart.promotions.map((p) => (
              <li key={p.code} className="flex items-start justify-between gap-2">
                <span>
                  <span className="font-mono font-medium">{p.code}</span>{' '}
                  {p.applied ? (
                    <span className="text-green-800">−{formatMoney(p.amount)}</span>
                  ) : (
                    <span className="text-red-800">{promotionReason(p.reason)}</span>
                  )}
                  {p.description && <span className="block text-neutral-700">{p.description}</span>}
                </span>
                <button type="button" onClick={() => run(p.code, () => removeCode(p.code))} className="underline">
                  Remove<span className="sr-only"> code {p.code}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <ShippingEstimate />
        <Totals t={cart} shippingChosen={cart.shipping_method_id != null} />
        <Link href="/checkout" className="block rounded bg-neutral-900 px-4 py-3 text-center font-medium text-white hover:bg-neutral-700" data-testid="to-checkout">
          Check out
        </Link>
      </aside>
    </div>
  );
}
