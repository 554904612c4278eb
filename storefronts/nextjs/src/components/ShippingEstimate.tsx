'use client';
import { useEffect, useState } from 'react';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { COUNTRIES } from '@/lib/countries';
import { formatMoney } from '@/lib/money';
import { useCart } from './CartProvider';

type Method = Schemas['ShippingMethodDto'];

/**
 * Shipping and tax before checkout: the shopper picks a country (and a method), the cart
 * is priced for it by Weft, and the totals below follow.
 */
export function ShippingEstimate() {
  const { cart, ship, shippingMethods } = useCart();
  const [methods, setMethods] = useState<Method[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The method just picked shows as chosen while Weft prices it.
  const [picked, setPicked] = useState<string | null>(null);
  const country = cart?.country ?? '';
  const signature = `${cart?.country}|${cart?.currency}|${cart?.subtotal.amount}|${cart?.discounts.amount}`;

  useEffect(() => {
    if (!country) {
      setMethods([]);
      return;
    }
    let live = true;
    shippingMethods()
      .then((m) => live && setMethods(m))
      .catch(() => live && setMethods([]));
    return () => {
      live = false;
    };
  }, [signature]); // eslint-disable-line react-hooks/exhaustive-deps

  async function change(body: Schemas['UpdateCartRequest']) {
    setBusy(true);
    setError(null);
    try {
      await ship(body);
    } catch (e) {
      setError(e instanceof WeftProblem ? e.errors[0]?.message || e.detail || e.title : 'Could not reach the shop.');
    } finally {
      setBusy(false);
      setPicked(null);
    }
  }

  if (!cart) return null;
  return (
    <div className="space-y-2 text-sm" data-testid="shipping-estimate">
      <label htmlFor="estimate-country" className="block font-medium">Estimate shipping and tax</label>
      <select
        id="estimate-country"
        value={country}
        disabled={busy}
        onChange={(e) => change({ country: e.target.value || null, region: null, shipping_method_id: null })}
        className="w-full rounded border border-neutral-400 bg-white px-2 py-1.5"
      >
        <option value="">Choose a country</option>
        {COUNTRIES.map(([code, name]) => (
          <option key={code} value={code}>{name}</option>
        ))}
      </select>
      {methods.length > 0 && (
        <fieldset>
          <legend className="sr-only">Shipping method</legend>
          {methods.map((m) => (
            <label key={m.id} className="flex items-center justify-between gap-2 py-0.5">
              <span className="flex items-center gap-2">
                <input
                  type="radio"
                  name="estimate-method"
                  checked={(picked ?? cart.shipping_method_id) === m.id}
                  disabled={busy}
                  onChange={() => {
                    setPicked(m.id);
                    void change({ shipping_method_id: m.id });
                  }}
                />
                {m.name} <span className="text-neutral-700">({m.delivery_estimate})</span>
              </span>
              <span>{m.price.amount === 0 ? 'Free' : formatMoney(m.price)}</span>
            </label>
          ))}
        </fieldset>
      )}
      {error && <p role="alert" className="text-red-800">{error}</p>}
    </div>
  );
}
