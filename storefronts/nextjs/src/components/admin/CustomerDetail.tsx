'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { problemText, when } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { h1, table } from './ui';

type Order = Schemas['Order'];

/**
 * One customer: who they are (`GET /v1/admin/users/{id}`), what they spent (paid orders,
 * less refunds, per currency) and every order of theirs (`GET /v1/admin/orders?customer_id=`).
 */
export function CustomerDetail({ id }: { id: string }) {
  const { weft } = useAdmin();
  const [user, setUser] = useState<Schemas['User'] | null>(null);
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    let live = true;
    weft.api
      .GET('/v1/admin/users/{id}', { params: { path: { id } } })
      .then(({ data }) => live && setUser(data!))
      .catch((e) => live && setError(e instanceof WeftProblem && e.status === 404 ? 'No such customer (or their account was deleted).' : problemText(e)));
    (async () => {
      const all: Order[] = [];
      for await (const o of weft.pages('/v1/admin/orders', { params: { query: { customer_id: id, limit: 100 } } })) all.push(o as Order);
      if (live) setOrders(all);
    })().catch((e) => live && setError(problemText(e)));
    return () => {
      live = false;
    };
  }, [weft, id]);

  const spent = new Map<string, number>();
  for (const o of orders ?? []) {
    if (o.status === 'pending' || o.status === 'cancelled') continue;
    spent.set(o.currency, (spent.get(o.currency) ?? 0) + o.total.amount - o.refunded.amount);
  }

  return (
    <div>
      <p className="text-sm"><Link className="underline" href="/admin/customers">Customers</Link> /</p>
      <h1 className={h1}>{user ? user.name || user.email : 'Customer'}</h1>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {user && (
        <dl className="mt-2 grid max-w-xl grid-cols-[10rem_1fr] gap-y-1" data-testid="customer">
          <dt className="font-medium">E-mail</dt><dd>{user.email}</dd>
          <dt className="font-medium">Phone</dt><dd>{user.phone || '—'}</dd>
          <dt className="font-medium">Role</dt><dd>{user.role}</dd>
          <dt className="font-medium">Customer since</dt><dd>{when(user.created_at)}</dd>
          <dt className="font-medium">Orders</dt><dd data-testid="order-count">{orders ? orders.length : '…'}</dd>
          <dt className="font-medium">Spent</dt>
          <dd data-testid="spent">{orders ? (spent.size === 0 ? '—' : [...spent].map(([currency, amount]) => formatMoney({ amount, currency })).join(' + ')) : '…'}</dd>
        </dl>
      )}
      <h2 className="mt-6 text-lg font-semibold">Orders</h2>
      {!orders ? (
        <p role="status">Loading…</p>
      ) : orders.length === 0 ? (
        <p>No orders yet.</p>
      ) : (
        <table className={table}>
          <caption className="sr-only">Orders of this customer</caption>
          <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col">Total</th></tr></thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id}>
                <td><Link className="underline" href={`/admin/orders/${o.id}`}>{o.id}</Link></td>
                <td>{when(o.created_at)}</td><td>{o.status.replaceAll('_', ' ')}</td><td>{formatMoney(o.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
