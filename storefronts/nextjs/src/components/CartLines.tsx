'use client';
import { useState } from 'react';
import Link from 'next/link';
import { problemMessage } from '@/lib/forms';
import { formatMoney } from '@/lib/money';
import { describeOptions } from '@/lib/stock';
import { useCart, type Cart } from './CartProvider';

/**
 * The cart's lines with quantity buttons and remove, for the cart page and the drawer
 * (`compact`). Weft prices every change; the line shows what it answered.
 */
export function CartLines({ cart, compact = false, onNavigate }: { cart: Cart; compact?: boolean; onNavigate?: () => void }) {
  const { setQuantity, removeItem } = useCart();
  const [pending, setPending] = useState<string | null>(null);
  const [lineError, setLineError] = useState<string | null>(null);

  async function run(key: string, f: () => Promise<unknown>) {
    setPending(key);
    setLineError(null);
    try {
      await f();
    } catch (e) {
      setLineError(problemMessage(e));
    } finally {
      setPending(null);
    }
  }

  return (
    <>
        <ul className="divide-y divide-neutral-200 border-y border-neutral-200" data-testid="cart-lines">
          {cart.items.map((item) => {
            const opts = describeOptions(item.options as Record<string, string>);
            return (
              <li key={item.id} className="flex gap-4 py-4" data-testid="cart-line">
                <div className={`${compact ? 'h-20 w-16' : 'h-24 w-20'} shrink-0 overflow-hidden rounded bg-neutral-100`}>
                  {item.image_url && (
                    // eslint-disable-next-line @next/next/no-img-element
                    <img src={item.image_url} alt="" width={80} height={96} className="h-full w-full object-cover" />
                  )}
                </div>
                <div className="flex-1">
                  <p className="font-medium">
                    {item.handle ? <Link href={`/products/${item.handle}`} className="hover:underline" onClick={onNavigate}>{item.title}</Link> : item.title}
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
    </>
  );
}
