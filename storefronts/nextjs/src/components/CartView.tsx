'use client';
import { useState } from 'react';
import Link from 'next/link';
import { WeftProblem } from '@weft/sdk';
import { problemMessage } from '@/lib/forms';
import { CartLines } from './CartLines';
import { formatMoney } from '@/lib/money';
import { promotionReason } from '@/lib/promotions';
import { useCart } from './CartProvider';
import { ShippingEstimate } from './ShippingEstimate';
import { Totals } from './Totals';

/** The cart page: lines with quantities, promotion codes and the server's totals. */
export function CartView() {
  const { cart, ready, applyCode, removeCode } = useCart();
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
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

  async function dropCode(value: string) {
    setPending(value);
    setCodeError(null);
    try {
      await removeCode(value);
    } catch (e) {
      setCodeError(problemMessage(e));
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
        setCodeError(err.code.startsWith('promotion_') ? promotionReason(err.code) : problemMessage(err));
      } else setCodeError(problemMessage(err));
    } finally {
      setPending(null);
    }
  }

  return (
    <div className="grid gap-10 md:grid-cols-[1fr_20rem]">
      <section aria-labelledby="lines-heading">
        <h2 id="lines-heading" className="sr-only">Items</h2>
        <CartLines cart={cart} />
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
                <button type="button" onClick={() => dropCode(p.code)} disabled={pending !== null} className="underline disabled:opacity-50">
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
