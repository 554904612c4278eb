export interface Money {
  amount: number;
  currency: string;
}

const formatters = new Map<string, Intl.NumberFormat>();

/** Minor units to a display string in the currency's own number of decimals. */
export function formatMoney(m: Money, locale = 'en-US'): string {
  const key = `${locale}:${m.currency}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency: m.currency });
    formatters.set(key, f);
  }
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(m.amount / 10 ** digits);
}

/** Minor units in a currency with two decimals to a plain major-unit string ("59.00"). */
export function toMajor(amount: number): string {
  return (amount / 100).toFixed(2);
}
