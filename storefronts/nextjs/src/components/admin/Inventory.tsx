'use client';
import { useEffect, useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { problemText } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { StockCell } from './Restock';
import { PageNav, useCursorPages } from './PageNav';
import { h1, table } from './ui';

type Row = { stock: Schemas['Stock']; variant?: Schemas['VariantSummary'] };

/** Stock per variant and location (all, or only low), 50 at a time, with restocking. */
export function Inventory() {
  const { weft } = useAdmin();
  const [lowOnly, setLowOnly] = useState(false);
  const pages = useCursorPages();
  const { cursor } = pages;
  const [rows, setRows] = useState<Row[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [locations, setLocations] = useState<Schemas['Location'][]>([]);
  const [error, setError] = useState('');

  useEffect(() => {
    weft.api.GET('/v1/admin/inventory/locations').then(({ data }) => setLocations(data!.data)).catch((e) => setError(problemText(e)));
  }, [weft]);

  useEffect(() => {
    setRows(null);
    (async () => {
      const { data } = await weft.api.GET('/v1/admin/inventory', { params: { query: { limit: 50, ...(lowOnly ? { low_stock: true } : {}), ...(cursor ? { cursor } : {}) } } });
      const ids = data!.data.map((s) => s.variant_id);
      const byId = new Map<string, Schemas['VariantSummary']>();
      if (ids.length) {
        const { data: vs } = await weft.api.GET('/v1/admin/variants', { params: { query: { ids: ids.join(',') } } });
        for (const v of vs!.data) byId.set(v.variant_id, v);
      }
      setRows(data!.data.map((s) => ({ stock: s, variant: byId.get(s.variant_id) })));
      setNext(data!.next_cursor ?? null);
    })().catch((e) => setError(problemText(e)));
  }, [weft, lowOnly, cursor]);

  return (
    <div>
      <h1 className={h1}>Inventory</h1>
      <label className="flex items-center gap-2">
        <input type="checkbox" checked={lowOnly} onChange={(e) => { setLowOnly(e.target.checked); pages.reset(); }} />
        Low stock only
      </label>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {!rows ? (
        <p role="status" className="mt-4">Loading stock…</p>
      ) : (
        <table className={`${table} mt-4`}>
          <caption className="sr-only">Stock per variant</caption>
          <thead><tr><th scope="col">SKU</th><th scope="col">Product</th><th scope="col">Status</th><th scope="col">Per location</th></tr></thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={r.stock.variant_id}>
                <td>{r.variant?.sku ?? r.stock.variant_id}</td>
                <td>{r.variant ? `${r.variant.product_title} (${Object.values(r.variant.options).join(' / ')})` : ''}</td>
                <td>{r.stock.stock_status.replace('_', ' ')}</td>
                <td>
                  <StockCell
                    stock={r.stock}
                    locations={locations}
                    label={r.variant?.sku ?? r.stock.variant_id}
                    onChange={(s) => setRows(rows.map((x, j) => (j === i ? { ...x, stock: s } : x)))}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <PageNav pages={pages} next={next} />
    </div>
  );
}
