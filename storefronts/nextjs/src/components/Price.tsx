import type { ReactNode } from 'react';
import { formatMoney, type Money } from '@/lib/money';

type Range = { currency: string; min: Money; max: Money };

/**
 * One element per shop currency, each marked `data-cur`: the page's CSS shows the
 * shopper's (see lib/currency), so a page cached for everyone still shows each shopper
 * their own currency.
 */
export function EachCurrency({ currencies, children }: { currencies: string[]; children: (currency: string) => ReactNode }) {
  return (
    <>
      {currencies.map((c) => (
        <span key={c} data-cur={c}>
          {children(c)}
        </span>
      ))}
    </>
  );
}

/** A product's price in each shop currency: one amount, or "from" the lowest when variants differ. */
export function PriceRange({ ranges, currencies }: { ranges: Range[]; currencies: string[] }) {
  return <EachCurrency currencies={currencies}>{(c) => <OneRange r={ranges.find((x) => x.currency === c)} />}</EachCurrency>;
}

function OneRange({ r }: { r: Range | undefined }) {
  if (!r) return <span className="text-neutral-700">Price unavailable</span>;
  if (r.min.amount === r.max.amount) return <span>{formatMoney(r.min)}</span>;
  return (
    <span>
      <span className="text-neutral-700">from </span>
      {formatMoney(r.min)}
    </span>
  );
}

export function VariantPrice({ amount, compareAt, currency }: { amount: number; compareAt?: number | null; currency: string }) {
  const onSale = compareAt != null && compareAt > amount;
  return (
    <span className="inline-flex items-baseline gap-2">
      <span className={onSale ? 'text-red-800' : undefined} data-testid="price">
        {formatMoney({ amount, currency })}
      </span>
      {onSale && (
        <s className="text-sm text-neutral-700">
          <span className="sr-only">was </span>
          {formatMoney({ amount: compareAt, currency })}
        </s>
      )}
    </span>
  );
}
