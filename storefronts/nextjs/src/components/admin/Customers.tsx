'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { problemText, when } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { PageNav, useCursorPages } from './PageNav';
import { h1, table } from './ui';

/** People with an account (customers and staff), 50 a page, each linked to their page; role changes. */
export function Customers() {
  const { weft, me } = useAdmin();
  const pages = useCursorPages();
  const { cursor } = pages;
  const [page, setPage] = useState<Schemas['UserPage'] | null>(null);
  const { error, setError, submit } = useSubmit();

  useEffect(() => {
    weft.api
      .GET('/v1/admin/users', { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })
      .then(({ data }) => setPage(data!))
      .catch((e) => setError(problemText(e)));
  }, [weft, cursor]);

  async function setRole(u: Schemas['User'], role: string) {
    await submit(async () => {
      const { data } = await weft.api.PATCH('/v1/admin/users/{id}', { params: { path: { id: u.id } }, body: { role } });
      setPage((p) => (p ? { ...p, data: p.data.map((x) => (x.id === u.id ? data! : x)) } : p));
    });
  }

  return (
    <div>
      <h1 className={h1}>Customers</h1>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {!page ? (
        <p role="status">Loading…</p>
      ) : (
        <table className={table}>
          <caption className="sr-only">Accounts</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Since</th><th scope="col">Role</th></tr></thead>
          <tbody>
            {page.data.map((u) => (
              <tr key={u.id}>
                <td><Link className="underline" href={`/admin/customers/${u.id}`}>{u.name || '(no name)'}</Link></td><td>{u.email}</td><td>{when(u.created_at)}</td>
                <td>
                  {u.id === me.id ? u.role : (
                    <label>
                      <span className="sr-only">Role of {u.email}</span>
                      <select value={u.role} onChange={(e) => void setRole(u, e.target.value)} className="rounded border border-neutral-500 px-2 py-1">
                        <option value="customer">customer</option>
                        <option value="admin">admin</option>
                      </select>
                    </label>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <PageNav pages={pages} next={page?.next_cursor} />
    </div>
  );
}
