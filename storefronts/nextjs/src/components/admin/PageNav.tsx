'use client';
import { useCallback, useState } from 'react';
import { secondary } from './ui';

/**
 * Cursor pages walked both ways: Weft's cursors only go forward, so the ones already
 * followed are kept as a stack (`cursor` is the page shown, undefined for the first).
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const back = useCallback(() => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)), []);
  const forward = useCallback((next: string) => setCursors((c) => [...c, next]), []);
  /** Back to the first page (a filter changed). */
  const reset = useCallback(() => setCursors([undefined]), []);
  return { cursor: cursors[cursors.length - 1], hasPrevious: cursors.length > 1, back, forward, reset };
}

/** Previous / Next under a paged list. */
export function PageNav({ pages, next }: { pages: ReturnType<typeof useCursorPages>; next: string | null | undefined }) {
  return (
    <p className="mt-4 flex gap-2">
      {pages.hasPrevious && <button type="button" className={secondary} onClick={pages.back}>Previous</button>}
      {next && <button type="button" className={secondary} onClick={() => pages.forward(next)}>Next</button>}
    </p>
  );
}
