'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { problemText, when } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { PageNav, useCursorPages } from './PageNav';
import { h1, table } from './ui';

export const ORDER_STATUSES = ['pending', 'paid', 'fulfilled', 'delivered', 'cancelled', 'partially_refunded', 'refunded'] as const;

/** Orders, newest first, filtered by status, a page of 25 at a time. */
export function Orders() {
  const { weft } = useAdmin();
  const [status, setStatus] = useState('');
  const pages = useCursorPages();
  const { cursor } = pages;
  const [page, setPage] = useState<Schemas['OrderPage'] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    setPage(null);
    weft.api
      .GET('/v1/admin/orders', { params: { query: { limit: 25, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } } })
      .then(({ data }) => setPage(data!))
      .catch((e) => setError(problemText(e)));
  }, [weft, status, cursor]);

  return (
    <div>
      <h1 className={h1}>Orders</h1>
      <label htmlFor="order-status" className="font-medium">Status</label>{' '}
      <select id="order-status" value={status} onChange={(e) => { setStatus(e.target.value); pages.reset(); }} className="rounded border border-neutral-500 px-2 py-1">
        <option value="">All</option>
        {ORDER_STATUSES.map((s) => <option key={s} value={s}>{s.replace('_', ' ')}</option>)}
      </select>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {!page ? (
        <p role="status" className="mt-4">Loading orders…</p>
      ) : page.data.length === 0 ? (
        <p className="mt-4">No orders{status ? ` with status ${status.replace('_', ' ')}` : ''}.</p>
      ) : (
        <table className={`${table} mt-4`}>
          <caption className="sr-only">Orders</caption>
          <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Customer</th><th scope="col">Status</th><th scope="col">Total</th></tr></thead>
          <tbody>
            {page.data.map((o) => (
              <tr key={o.id} data-testid="order-row">
                <td><Link className="underline" href={`/admin/orders/${o.id}`}>{o.id}</Link></td>
                <td>{when(o.created_at)}</td><td>{o.email}</td><td>{o.status.replace('_', ' ')}</td><td>{formatMoney(o.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <PageNav pages={pages} next={page?.next_cursor} />
    </div>
  );
}
