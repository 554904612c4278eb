'use client';
import { useEffect, useRef, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { problemText } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { h1, secondary, table } from './ui';

const STATUSES = ['draft', 'active', 'archived'] as const;

/**
 * Every product, drafts and archived ones included, 50 a page, newest first. The search
 * is Weft's (`GET /v1/admin/products?q=&status=`: title, handle, brand or SKU contains it,
 * any case), so it covers the whole catalog, not the pages loaded so far.
 */
export function Products() {
  const { weft } = useAdmin();
  const [products, setProducts] = useState<Schemas['Product'][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState('');
  // Only the latest search's answer is shown (an earlier one may arrive after it).
  const latest = useRef(0);

  async function load(query: { q: string; status: string }, cursor?: string): Promise<void> {
    const mine = ++latest.current;
    setLoading(true);
    setError('');
    try {
      const { data } = await weft.api.GET('/v1/admin/products', {
        params: {
          query: {
            limit: 50,
            ...(query.q.trim() ? { q: query.q.trim() } : {}),
            ...(query.status ? { status: query.status } : {}),
            ...(cursor ? { cursor } : {}),
          },
        },
      });
      if (mine !== latest.current) return;
      setProducts((p) => (cursor ? [...p, ...data!.data] : data!.data));
      setNext(data!.next_cursor ?? null);
    } catch (e) {
      if (mine === latest.current) setError(problemText(e));
    } finally {
      if (mine === latest.current) setLoading(false);
    }
  }

  // Typing searches after a short pause; every change starts from the first page.
  useEffect(() => {
    const t = setTimeout(() => void load({ q, status }), q ? 250 : 0);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [weft, q, status]);

  return (
    <div>
      <div className="flex flex-wrap items-center justify-between gap-4">
        <h1 className={h1}>Products</h1>
        <Link href="/admin/products/new" className="rounded bg-neutral-900 px-4 py-2 font-medium text-white hover:bg-neutral-700">New product</Link>
      </div>
      <form role="search" aria-label="Products" className="mt-2 flex flex-wrap items-center gap-3" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="product-q" className="font-medium">Find products</label>
        <input id="product-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Title, handle, brand or SKU" maxLength={200} className="w-72 rounded border border-neutral-500 px-3 py-1" />
        <label htmlFor="product-status" className="font-medium">Status</label>
        <select id="product-status" value={status} onChange={(e) => setStatus(e.target.value)} className="rounded border border-neutral-500 px-2 py-1">
          <option value="">any</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </form>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      <p className="mt-2 text-sm" aria-live="polite" data-testid="product-count">
        {loading ? 'Loading products…' : `${products.length}${next ? '+' : ''} product${products.length === 1 && !next ? '' : 's'}${q.trim() || status ? ' found' : ''}`}
      </p>
      <table className={`${table} mt-2`}>
        <caption className="sr-only">Products</caption>
        <thead><tr><th scope="col">Title</th><th scope="col">Brand</th><th scope="col">Status</th><th scope="col">Variants</th></tr></thead>
        <tbody>
          {products.map((p) => (
            <tr key={p.id}>
              <td><Link className="underline" href={`/admin/products/${p.id}`}>{p.title}</Link></td>
              <td>{p.brand}</td><td>{p.status}</td><td>{p.variants.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && <button type="button" disabled={loading} className={`${secondary} mt-4`} onClick={() => void load({ q, status }, next)}>Load more</button>}
    </div>
  );
}
