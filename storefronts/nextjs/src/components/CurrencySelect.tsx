'use client';
import { useSyncExternalStore } from 'react';
import { useRouter } from 'next/navigation';
import { chooseCurrency, currentCurrency, subscribeCurrency } from '@/lib/currency';

/**
 * The shopper's currency. Prices already on the page switch at once (CSS); pages that
 * depend on it on the server (price facets, the price sort) are fetched again; the cart
 * is re-priced by Weft (see CartProvider).
 */
export function CurrencySelect({ currencies }: { currencies: string[] }) {
  const router = useRouter();
  const fallback = currencies[0] ?? 'USD';
  const currency = useSyncExternalStore(subscribeCurrency, () => currentCurrency(fallback), () => fallback);
  if (currencies.length < 2) return null;
  return (
    <label className="flex items-center gap-1 text-sm font-medium">
      <span className="sr-only">Currency</span>
      <select
        value={currency}
        onChange={(e) => {
          chooseCurrency(e.target.value);
          router.refresh();
        }}
        className="rounded border border-neutral-400 bg-white px-1.5 py-1 text-sm"
        data-testid="currency"
      >
        {currencies.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}
