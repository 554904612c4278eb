'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { problemText } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { h1, secondary, table } from './ui';

/**
 * Every product, drafts and archived ones included, 100 a page; the search box filters the
 * pages loaded so far by title, handle, brand or SKU (the admin list has no query of its own).
 */
export function Products() {
  const { weft } = useAdmin();
  const [products, setProducts] = useState<Schemas['Product'][]>([]);
  const [next, setNext] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [q, setQ] = useState('');
  const [error, setError] = useState('');

  async function load(cursor?: string) {
    setLoading(true);
    try {
      const { data } = await weft.api.GET('/v1/admin/products', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } });
      setProducts((p) => (cursor ? [...p, ...data!.data] : data!.data));
      setNext(data!.next_cursor ?? null);
    } catch (e) {
      setError(problemText(e));
    } finally {
      setLoading(false);
    }
  }
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [weft]);

  const needle = q.trim().toLowerCase();
  const shown = needle
    ? products.filter((p) => [p.title, p.handle, p.brand, ...p.variants.map((v) => v.sku)].some((s) => s.toLowerCase().includes(needle)))
    : products;

  return (
    <div>
      <div className="flex flex-wrap items-center justify-between gap-4">
        <h1 className={h1}>Products</h1>
        <Link href="/admin/products/new" className="rounded bg-neutral-900 px-4 py-2 font-medium text-white hover:bg-neutral-700">New product</Link>
      </div>
      <div role="search" aria-label="Products">
        <label htmlFor="product-q" className="font-medium">Search loaded products</label>
        <input id="product-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} className="ml-2 rounded border border-neutral-500 px-3 py-1" />
      </div>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      <p className="mt-2 text-sm" aria-live="polite">{loading ? 'Loading products…' : `${shown.length} of ${products.length} loaded products`}</p>
      <table className={`${table} mt-2`}>
        <caption className="sr-only">Products</caption>
        <thead><tr><th scope="col">Title</th><th scope="col">Brand</th><th scope="col">Status</th><th scope="col">Variants</th></tr></thead>
        <tbody>
          {shown.map((p) => (
            <tr key={p.id}>
              <td><Link className="underline" href={`/admin/products/${p.id}`}>{p.title}</Link></td>
              <td>{p.brand}</td><td>{p.status}</td><td>{p.variants.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && <button type="button" disabled={loading} className={`${secondary} mt-4`} onClick={() => void load(next)}>Load more</button>}
    </div>
  );
}
