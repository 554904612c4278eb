'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { problemText, when } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { h1, secondary, table } from './ui';

const STATUSES = ['requested', 'approved', 'received', 'rejected', 'refunded'] as const;

/** Return requests by status: approve or reject a request, receive an approved one (restocking or not). */
export function Returns() {
  const { weft } = useAdmin();
  const [status, setStatus] = useState<string>('requested');
  const [returns, setReturns] = useState<Schemas['Return'][] | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  const { error, setError, submit } = useSubmit();

  useEffect(() => {
    setReturns(null);
    weft.api
      .GET('/v1/admin/returns', { params: { query: { limit: 100, ...(status ? { status } : {}) } } })
      .then(({ data }) => setReturns(data!.data))
      .catch((e) => setError(problemText(e)));
  }, [weft, status]);

  async function act(r: Schemas['Return'], action: 'approve' | 'reject' | 'receive' | 'receive-damaged') {
    await submit(async () => {
      const path = { params: { path: { id: r.id } } };
      const note = notes[r.id]?.trim() || null;
      const { data } =
        action === 'approve'
          ? await weft.api.POST('/v1/admin/returns/{id}/approve', { ...path, body: { note } })
          : action === 'reject'
            ? await weft.api.POST('/v1/admin/returns/{id}/reject', { ...path, body: { note } })
            : await weft.api.POST('/v1/admin/returns/{id}/receive', { ...path, body: { restock: action === 'receive' } });
      setReturns((rs) => rs?.map((x) => (x.id === r.id ? data! : x)) ?? null);
    });
  }

  return (
    <div>
      <h1 className={h1}>Returns</h1>
      <label htmlFor="return-status" className="font-medium">Status</label>{' '}
      <select id="return-status" value={status} onChange={(e) => setStatus(e.target.value)} className="rounded border border-neutral-500 px-2 py-1">
        <option value="">All</option>
        {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
      </select>
      {error && <p role="alert" className="mt-2 text-red-700">{error}</p>}
      {!returns ? (
        <p role="status" className="mt-4">Loading returns…</p>
      ) : returns.length === 0 ? (
        <p className="mt-4">No returns{status ? ` ${status}` : ''}.</p>
      ) : (
        <table className={`${table} mt-4`}>
          <caption className="sr-only">Returns</caption>
          <thead><tr><th scope="col">Return</th><th scope="col">Order</th><th scope="col">Asked</th><th scope="col">Reason</th><th scope="col">Units</th><th scope="col">Status</th><th scope="col">Decide</th></tr></thead>
          <tbody>
            {returns.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td><Link className="underline" href={`/admin/orders/${r.order_id}`}>{r.order_id}</Link></td>
                <td>{when(r.created_at)}</td>
                <td>{r.reason}</td>
                <td>{r.items.reduce((n, i) => n + i.quantity, 0)}</td>
                <td>{r.status}</td>
                <td>
                  {r.status === 'requested' && (
                    <div className="flex flex-wrap items-center gap-2">
                      <label className="text-sm">
                        <span className="sr-only">Note for {r.id}</span>
                        <input placeholder="note" value={notes[r.id] ?? ''} onChange={(e) => setNotes({ ...notes, [r.id]: e.target.value })} className="w-32 rounded border border-neutral-500 px-2 py-1" />
                      </label>
                      <button type="button" className={secondary} onClick={() => void act(r, 'approve')}>Approve</button>
                      <button type="button" className={secondary} onClick={() => void act(r, 'reject')}>Reject</button>
                    </div>
                  )}
                  {r.status === 'approved' && (
                    <div className="flex flex-wrap gap-2">
                      <button type="button" className={secondary} onClick={() => void act(r, 'receive')}>Received, restock</button>
                      <button type="button" className={secondary} onClick={() => void act(r, 'receive-damaged')}>Received, damaged</button>
                    </div>
                  )}
                  {r.status === 'received' && <Link className="underline" href={`/admin/orders/${r.order_id}`}>Refund it on the order</Link>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
