import { formatMoney, type Money } from '@/lib/money';

export interface TotalsShape {
  subtotal: Money;
  discounts: Money;
  shipping: Money;
  tax: Money;
  total: Money;
  tax_inclusive: boolean;
}

/** Subtotal, discounts, shipping, tax and total exactly as Weft computed them. */
export function Totals({ t, shippingChosen }: { t: TotalsShape; shippingChosen: boolean }) {
  return (
    <dl className="grid grid-cols-[1fr_auto] gap-y-1 text-sm" data-testid="totals">
      <dt>Subtotal</dt>
      <dd className="text-right" data-testid="subtotal">{formatMoney(t.subtotal)}</dd>
      {t.discounts.amount > 0 && (
        <>
          <dt>Discounts</dt>
          <dd className="text-right text-green-800" data-testid="discounts">−{formatMoney(t.discounts)}</dd>
        </>
      )}
      <dt>Shipping</dt>
      <dd className="text-right" data-testid="shipping">{shippingChosen ? (t.shipping.amount === 0 ? 'Free' : formatMoney(t.shipping)) : 'Calculated at checkout'}</dd>
      <dt>{t.tax_inclusive ? 'Tax (included)' : 'Tax'}</dt>
      <dd className="text-right" data-testid="tax">{formatMoney(t.tax)}</dd>
      <dt className="mt-2 border-t border-neutral-200 pt-2 font-semibold">Total</dt>
      <dd className="mt-2 border-t border-neutral-200 pt-2 text-right font-semibold" data-testid="total">{formatMoney(t.total)}</dd>
    </dl>
  );
}
