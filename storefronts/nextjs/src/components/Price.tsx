import { formatMoney, type Money } from '@/lib/money';

type Range = { currency: string; min: Money; max: Money };

/** A product's price in a currency: one amount, or "from" the lowest when variants differ. */
export function PriceRange({ ranges, currency = 'USD' }: { ranges: Range[]; currency?: string }) {
  const r = ranges.find((x) => x.currency === currency) ?? ranges[0];
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
