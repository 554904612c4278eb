'use client';
import { useEffect, useRef, useState } from 'react';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';

/**
 * Search as you type: the query goes into the URL (replacing the history entry, so the
 * back button leaves the search rather than stepping through keystrokes) 250 ms after the
 * last key; the server renders the results. Without JavaScript it is a plain GET form.
 */
export function SearchBox({ initial }: { initial: string }) {
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const [q, setQ] = useState(initial);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => setQ(initial), [initial]);

  function go(value: string, replace: boolean) {
    const next = new URLSearchParams(params.toString());
    if (value.trim()) next.set('q', value);
    else next.delete('q');
    next.delete('cursor');
    next.delete('prev');
    const url = `${pathname}?${next.toString()}`;
    if (replace) router.replace(url, { scroll: false });
    else router.push(url);
  }

  return (
    <form
      role="search"
      aria-label="Refine search"
      action="/search"
      method="get"
      className="mt-4 flex max-w-xl gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        if (timer.current) clearTimeout(timer.current);
        go(q, false);
      }}
    >
      <label htmlFor="search-q" className="sr-only">
        Search products
      </label>
      <input
        id="search-q"
        name="q"
        type="search"
        value={q}
        autoComplete="off"
        placeholder="Search for jackets, dresses, brands…"
        onChange={(e) => {
          const v = e.target.value;
          setQ(v);
          if (timer.current) clearTimeout(timer.current);
          timer.current = setTimeout(() => go(v, true), 250);
        }}
        className="w-full rounded border border-neutral-400 px-3 py-2"
      />
      <button type="submit" className="rounded bg-neutral-900 px-4 py-2 text-sm font-medium text-white hover:bg-neutral-700">
        Search
      </button>
    </form>
  );
}
