'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { problemText, when } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { h1, h2, table } from './ui';

interface Today {
  orders: Schemas['Order'][];
  revenue: Map<string, number>;
}

/** Today's (UTC) orders and revenue, and the variants at or below their low-stock threshold. */
export function Dashboard() {
  const { weft } = useAdmin();
  const [today, setToday] = useState<Today | null>(null);
  const [low, setLow] = useState<{ stock: Schemas['Stock']; sku: string; title: string }[] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    const start = new Date();
    start.setUTCHours(0, 0, 0, 0);
    (async () => {
      // orders come newest first: read pages until one reaches before midnight
      const orders: Schemas['Order'][] = [];
      for await (const o of weft.pages('/v1/admin/orders', { params: { query: { limit: 100 } } })) {
        if (new Date(o.created_at) < start) break;
        orders.push(o);
      }
      const revenue = new Map<string, number>();
      for (const o of orders) {
        if (o.status === 'pending' || o.status === 'cancelled') continue;
        revenue.set(o.currency, (revenue.get(o.currency) ?? 0) + o.total.amount - o.refunded.amount);
      }
      setToday({ orders, revenue });

      const { data: stock } = await weft.api.GET('/v1/admin/inventory', { params: { query: { low_stock: true, limit: 50 } } });
      const ids = stock!.data.map((s) => s.variant_id);
      const names = new Map<string, Schemas['VariantSummary']>();
      if (ids.length) {
        const { data: vs } = await weft.api.GET('/v1/admin/variants', { params: { query: { ids: ids.join(',') } } });
        for (const v of vs!.data) names.set(v.variant_id, v);
      }
      setLow(stock!.data.map((s) => ({ stock: s, sku: names.get(s.variant_id)?.sku ?? s.variant_id, title: names.get(s.variant_id)?.product_title ?? '' })));
    })().catch((e) => setError(problemText(e)));
  }, [weft]);

  return (
    <div>
      <h1 className={h1}>Dashboard</h1>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      <section aria-labelledby="today">
        <h2 id="today" className={h2}>Today</h2>
        {!today ? (
          <p role="status">Loading today&apos;s orders…</p>
        ) : (
          <>
            <dl className="flex gap-8">
              <div>
                <dt className="text-sm text-neutral-700">Orders</dt>
                <dd className="text-3xl font-semibold" data-testid="orders-today">{today.orders.length}</dd>
              </div>
              <div>
                <dt className="text-sm text-neutral-700">Revenue (paid, net of refunds)</dt>
                <dd className="text-3xl font-semibold" data-testid="revenue-today">
                  {today.revenue.size === 0 ? formatMoney({ amount: 0, currency: 'USD' }) : [...today.revenue].map(([currency, amount]) => formatMoney({ amount, currency })).join(' + ')}
                </dd>
              </div>
            </dl>
            {today.orders.length > 0 && (
              <table className={`${table} mt-4`}>
                <caption className="sr-only">Today&apos;s orders</caption>
                <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Customer</th><th scope="col">Status</th><th scope="col">Total</th></tr></thead>
                <tbody>
                  {today.orders.slice(0, 10).map((o) => (
                    <tr key={o.id}>
                      <td><Link className="underline" href={`/admin/orders/${o.id}`}>{o.id}</Link></td>
                      <td>{when(o.created_at)}</td><td>{o.email}</td><td>{o.status}</td><td>{formatMoney(o.total)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </section>
      <section aria-labelledby="low-stock">
        <h2 id="low-stock" className={h2}>Low stock</h2>
        {!low ? (
          <p role="status">Loading stock…</p>
        ) : low.length === 0 ? (
          <p>Nothing is at or below its low-stock threshold.</p>
        ) : (
          <table className={table}>
            <caption className="sr-only">Variants at or below their low-stock threshold</caption>
            <thead><tr><th scope="col">SKU</th><th scope="col">Product</th><th scope="col">Available</th><th scope="col">Threshold</th></tr></thead>
            <tbody>
              {low.map(({ stock, sku, title }) => (
                <tr key={stock.variant_id}><td>{sku}</td><td>{title}</td><td>{stock.available}</td><td>{stock.low_stock_threshold}</td></tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="mt-2"><Link href="/admin/inventory" className="underline">Inventory and restocking</Link></p>
      </section>
    </div>
  );
}
