'use client';
import { useCallback, useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { formatMoney, toMajor } from '@/lib/money';
import { parseAmount, problemText, when } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { Field } from './Field';
import { button, h1, h2, input, secondary, table } from './ui';

type Order = Schemas['Order'];

// Money can be given back once it was taken, until all of it was
const REFUNDABLE = new Set(['paid', 'fulfilled', 'delivered', 'partially_refunded']);

/** One order: lines, totals, history; fulfil with tracking, refund (full or part), cancel. */
export function OrderDetail({ id }: { id: string }) {
  const { weft } = useAdmin();
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState('');

  const load = useCallback(() => {
    weft.api
      .GET('/v1/admin/orders/{id}', { params: { path: { id } } })
      .then(({ data }) => setOrder(data!))
      .catch((e) => setError(problemText(e)));
  }, [weft, id]);
  useEffect(load, [load]);

  if (!order) {
    return (
      <div>
        <h1 className={h1}>Order {id}</h1>
        {error ? <p role="alert" className="text-red-700">{error}</p> : <p role="status">Loading…</p>}
      </div>
    );
  }
  const refundable = order.total.amount - order.refunded.amount;
  return (
    <div>
      <p><Link href="/admin/orders" className="underline">All orders</Link></p>
      <h1 className={h1}>Order {order.id}</h1>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
        <dt className="font-medium">Status</dt><dd data-testid="order-status">{order.status.replace('_', ' ')}</dd>
        <dt className="font-medium">Placed</dt><dd>{when(order.created_at)}</dd>
        <dt className="font-medium">Customer</dt><dd>{order.email}</dd>
        <dt className="font-medium">Ship to</dt>
        <dd>{order.shipping_address ? `${order.shipping_address.name}, ${order.shipping_address.line1}, ${order.shipping_address.postal_code} ${order.shipping_address.city}, ${order.shipping_address.country}` : '—'}</dd>
        <dt className="font-medium">Total</dt><dd>{formatMoney(order.total)}</dd>
        <dt className="font-medium">Refunded</dt><dd data-testid="order-refunded">{formatMoney(order.refunded)}</dd>
      </dl>

      <h2 className={h2}>Lines</h2>
      <table className={table}>
        <caption className="sr-only">Order lines</caption>
        <thead><tr><th scope="col">Item</th><th scope="col">SKU</th><th scope="col">Quantity</th><th scope="col">Price</th><th scope="col">Total</th></tr></thead>
        <tbody>
          {order.lines.map((l) => (
            <tr key={l.variant_id}><td>{l.title}</td><td>{l.sku ?? ''}</td><td>{l.quantity}</td><td>{formatMoney(l.unit_price)}</td><td>{formatMoney(l.line_total)}</td></tr>
          ))}
        </tbody>
      </table>
      <p className="mt-2 text-sm">
        Subtotal {formatMoney(order.subtotal)} · discounts {formatMoney(order.discounts)} · shipping {formatMoney(order.shipping)} · tax {formatMoney(order.tax)}
      </p>

      <h2 className={h2}>History</h2>
      <ol className="list-decimal pl-6" data-testid="order-history">
        {order.history.map((h, i) => (
          <li key={i}>
            {when(h.at)}: {h.from} → {h.to} ({h.transition}) by {h.actor}
            {h.detail ? <span className="text-neutral-700"> — {describe(h.detail)}</span> : null}
          </li>
        ))}
      </ol>

      <div className="mt-6 grid gap-6 lg:grid-cols-3">
        {order.status === 'paid' && <Fulfil order={order} onDone={setOrder} />}
        {order.status === 'fulfilled' && <Delivered order={order} onDone={setOrder} />}
        {refundable > 0 && REFUNDABLE.has(order.status) && <Refund order={order} refundable={refundable} onDone={setOrder} />}
        {(order.status === 'pending' || order.status === 'paid') && <Cancel order={order} onDone={setOrder} />}
      </div>
    </div>
  );
}

function describe(detail: unknown): string {
  if (typeof detail !== 'object' || detail === null) return String(detail);
  return Object.entries(detail as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

function useAction(onDone: (o: Order) => void) {
  const { busy, error, submit } = useSubmit();
  const [done, setDone] = useState('');
  async function run(f: () => Promise<Order>, message: string) {
    setDone('');
    await submit(async () => {
      onDone(await f());
      setDone(message);
    });
  }
  return { busy, error, done, run };
}

function Outcome({ id, error, done }: { id: string; error: string; done: string }) {
  return (
    <div aria-live="polite">
      {error && <p id={id} role="alert" className="mt-2 text-red-700">{error}</p>}
      {done && <p className="mt-2 text-green-800">{done}</p>}
    </div>
  );
}

function Fulfil({ order, onDone }: { order: Order; onDone: (o: Order) => void }) {
  const { weft } = useAdmin();
  const [tracking, setTracking] = useState('');
  const [carrier, setCarrier] = useState('');
  const a = useAction(onDone);
  return (
    <form
      aria-labelledby="fulfil-h"
      onSubmit={(e) => {
        e.preventDefault();
        void a.run(async () => {
          const { data } = await weft.api.POST('/v1/admin/orders/{id}/fulfillments', {
            params: { path: { id: order.id } },
            body: { tracking_number: tracking.trim() || null, carrier: carrier.trim() || null },
          });
          return data!;
        }, 'Fulfilled.');
      }}
    >
      <h2 id="fulfil-h" className={h2}>Fulfil</h2>
      <label htmlFor="tracking" className="font-medium">Tracking number</label>
      <input id="tracking" value={tracking} onChange={(e) => setTracking(e.target.value)} className={input} />
      <label htmlFor="carrier" className="mt-2 block font-medium">Carrier</label>
      <input id="carrier" value={carrier} onChange={(e) => setCarrier(e.target.value)} placeholder="ups, dhl…" className={input} />
      <button type="submit" disabled={a.busy} className={`${button} mt-3`}>Mark as fulfilled</button>
      <Outcome id="fulfil-error" error={a.error} done={a.done} />
    </form>
  );
}

function Delivered({ order, onDone }: { order: Order; onDone: (o: Order) => void }) {
  const { weft } = useAdmin();
  const a = useAction(onDone);
  return (
    <section aria-labelledby="delivered-h">
      <h2 id="delivered-h" className={h2}>Delivery</h2>
      <p>Shipped; mark it delivered when the carrier confirms.</p>
      <button
        type="button"
        disabled={a.busy}
        className={`${button} mt-3`}
        onClick={() =>
          void a.run(async () => {
            const { data } = await weft.api.POST('/v1/admin/orders/{id}/delivered', { params: { path: { id: order.id } } });
            return data!;
          }, 'Delivered.')
        }
      >
        Mark as delivered
      </button>
      <Outcome id="delivered-error" error={a.error} done={a.done} />
    </section>
  );
}

function Refund({ order, refundable, onDone }: { order: Order; refundable: number; onDone: (o: Order) => void }) {
  const { weft } = useAdmin();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [amountError, setAmountError] = useState('');
  const a = useAction(onDone);
  return (
    <form
      aria-labelledby="refund-h"
      onSubmit={(e) => {
        e.preventDefault();
        const minor = parseAmount(amount);
        if (minor === null || minor <= 0) {
          setAmountError('Enter an amount such as 12.50.');
          return;
        }
        setAmountError('');
        void a.run(async () => {
          const { data } = await weft.api.POST('/v1/admin/orders/{id}/refunds', {
            params: { path: { id: order.id } },
            body: { amount: minor, reason: reason.trim() },
          });
          return data!.order;
        }, 'Refunded.');
      }}
    >
      <h2 id="refund-h" className={h2}>Refund</h2>
      <p className="text-sm">Up to {formatMoney({ amount: refundable, currency: order.currency })} can be refunded.</p>
      <Field id="refund-amount" label={`Amount (${order.currency})`} error={amountError || undefined} labelClass="mt-2 block font-medium">
        {(c) => <input {...c} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} className={input} />}
      </Field>
      <button type="button" className={`${secondary} mt-2`} onClick={() => setAmount(toMajor(refundable))}>Full amount</button>
      <label htmlFor="refund-reason" className="mt-2 block font-medium">Reason (shown to the customer)</label>
      <input id="refund-reason" required value={reason} onChange={(e) => setReason(e.target.value)} className={input} />
      <button type="submit" disabled={a.busy} className={`${button} mt-3`}>Refund</button>
      {order.returns.filter((r) => r.status === 'received').map((r) => (
        <button
          key={r.id}
          type="button"
          disabled={a.busy}
          className={`${secondary} mt-3 block`}
          onClick={() =>
            void a.run(async () => {
              const { data } = await weft.api.POST('/v1/admin/orders/{id}/refunds', {
                params: { path: { id: order.id } },
                body: { return_id: r.id, reason: reason.trim() || 'Your return arrived' },
              });
              return data!.order;
            }, 'Refunded the return.')
          }
        >
          Refund the received return {r.id}
        </button>
      ))}
      <Outcome id="refund-error" error={a.error} done={a.done} />
    </form>
  );
}

function Cancel({ order, onDone }: { order: Order; onDone: (o: Order) => void }) {
  const { weft } = useAdmin();
  const [reason, setReason] = useState('');
  const a = useAction(onDone);
  return (
    <form
      aria-labelledby="cancel-h"
      onSubmit={(e) => {
        e.preventDefault();
        void a.run(async () => {
          const { data } = await weft.api.POST('/v1/admin/orders/{id}/cancel', {
            params: { path: { id: order.id } },
            body: { reason: reason.trim() || null },
          });
          return data!;
        }, 'Cancelled.');
      }}
    >
      <h2 id="cancel-h" className={h2}>Cancel</h2>
      <label htmlFor="cancel-reason" className="font-medium">Reason</label>
      <input id="cancel-reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="cancelled by the shop" className={input} />
      <button type="submit" disabled={a.busy} className={`${button} mt-3`}>Cancel order</button>
      <Outcome id="cancel-error" error={a.error} done={a.done} />
    </form>
  );
}
