'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import type { Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { Totals } from './Totals';

type Order = Schemas['Order'];

export const ORDER_KEY = (id: string) => `weft.order.${id}`;

/**
 * The order as checkout answered it. A guest cannot read orders back from the API (they
 * are the customer's), so checkout keeps the answer in sessionStorage for this page.
 */
export function Confirmation() {
  const id = useSearchParams().get('order') ?? '';
  const [order, setOrder] = useState<Order | null | undefined>(undefined);
  useEffect(() => {
    try {
      const raw = sessionStorage.getItem(ORDER_KEY(id));
      setOrder(raw ? (JSON.parse(raw) as Order) : null);
    } catch {
      setOrder(null);
    }
  }, [id]);

  if (order === undefined) return <p role="status">Loading your order…</p>;
  if (order === null) {
    return (
      <div>
        <h1 className="text-2xl font-semibold">Order {id}</h1>
        <p className="mt-2">Your order was placed. Its confirmation was sent to your e-mail address.</p>
      </div>
    );
  }
  const a = order.shipping_address;
  return (
    <div className="max-w-2xl" data-testid="confirmation">
      <h1 className="text-2xl font-semibold tracking-tight">Thank you for your order</h1>
      <p className="mt-2">
        Order <span className="font-mono font-medium" data-testid="order-id">{order.id}</span> is{' '}
        <span className="font-medium" data-testid="order-status">{order.status}</span>. A confirmation goes to {order.email}.
      </p>
      <h2 className="mt-8 text-lg font-semibold">Items</h2>
      <ul className="mt-2 divide-y divide-neutral-200 border-y border-neutral-200 text-sm">
        {order.lines.map((l) => (
          <li key={l.variant_id} className="flex justify-between py-2">
            <span>
              {l.title} {l.sku && <span className="text-neutral-700">({l.sku})</span>} × {l.quantity}
            </span>
            <span>{formatMoney(l.line_total)}</span>
          </li>
        ))}
      </ul>
      <div className="mt-4 max-w-sm">
        <Totals t={{ ...order, tax_inclusive: false }} shippingChosen />
      </div>
      {a && (
        <>
          <h2 className="mt-8 text-lg font-semibold">Shipping to</h2>
          <address className="mt-2 text-sm not-italic">
            {a.name}<br />
            {a.line1}{a.line2 ? <>, {a.line2}</> : null}<br />
            {a.postal_code} {a.city}{a.region ? `, ${a.region}` : ''}<br />
            {a.country}
          </address>
        </>
      )}
      <p className="mt-8">
        <Link href="/" className="rounded bg-neutral-900 px-4 py-2 text-sm font-medium text-white hover:bg-neutral-700">Continue shopping</Link>
      </p>
    </div>
  );
}
