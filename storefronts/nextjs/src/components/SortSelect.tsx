'use client';
import { useRouter } from 'next/navigation';
import { SORTS } from '@/lib/listing';

/** The sort order, kept in the URL: with JavaScript it applies on change, without it the form submits. */
export function SortSelect({ value, hrefFor }: { value: string; hrefFor: Record<string, string> }) {
  const router = useRouter();
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor="sort">Sort by</label>
      <select
        id="sort"
        name="sort"
        value={value}
        onChange={(e) => router.push(hrefFor[e.target.value] ?? '?')}
        className="rounded border border-neutral-400 bg-white px-2 py-1"
      >
        {SORTS.map((s) => (
          <option key={s.value} value={s.value}>
            {s.label}
          </option>
        ))}
      </select>
    </div>
  );
}
