'use client';
import { useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { secondary } from './ui';

/** Stock of one variant per location, and a form that puts units back at one of them. */
export function StockCell({ stock, locations, label, onChange }: {
  stock: Schemas['Stock'];
  locations: Schemas['Location'][];
  label: string;
  onChange: (s: Schemas['Stock']) => void;
}) {
  const { weft } = useAdmin();
  const [quantity, setQuantity] = useState('');
  const [location, setLocation] = useState(locations.find((l) => l.is_default)?.id ?? '');
  const { busy, error, setError, submit } = useSubmit();
  const name = (id: string) => locations.find((l) => l.id === id)?.name ?? id;
  const key = stock.variant_id;
  return (
    <div>
      <ul className="text-sm" data-testid={`stock-${key}`}>
        {stock.locations.map((l) => (
          <li key={l.location_id}>{name(l.location_id)}: {l.on_hand} on hand, {l.reserved} reserved, {l.available} available</li>
        ))}
        {stock.locations.length === 0 && <li>None on hand</li>}
      </ul>
      <form
        className="mt-1 flex flex-wrap items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          const n = Number(quantity);
          if (!Number.isInteger(n) || n <= 0) return setError('Enter a whole number of units.');
          void submit(async () => {
            const { data } = await weft.api.POST('/v1/admin/inventory/{variant_id}/restock', {
              params: { path: { variant_id: stock.variant_id } },
              body: { quantity: n, location_id: location || null },
            });
            setQuantity('');
            onChange(data!);
          });
        }}
      >
        <label className="text-sm">
          <span className="sr-only">Units to restock for {label}</span>
          <input value={quantity} onChange={(e) => setQuantity(e.target.value)} inputMode="numeric" placeholder="units" className="w-20 rounded border border-neutral-500 px-2 py-1" />
        </label>
        {locations.length > 1 && (
          <label className="text-sm">
            <span className="sr-only">Location for {label}</span>
            <select value={location} onChange={(e) => setLocation(e.target.value)} className="rounded border border-neutral-500 px-2 py-1">
              {locations.map((l) => <option key={l.id} value={l.id}>{l.name}</option>)}
            </select>
          </label>
        )}
        <button type="submit" disabled={busy} className={secondary} aria-label={`Restock ${label}`}>Restock</button>
      </form>
      {error && <p role="alert" className="text-sm text-red-700">{error}</p>}
    </div>
  );
}
