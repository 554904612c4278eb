// The listing state lives in the URL query, so a filtered page can be shared, bookmarked
// and walked with the back button. This module reads it and writes links to its neighbours.

export const SORTS = [
  { value: 'relevance', label: 'Featured' },
  { value: 'newest', label: 'Newest' },
  { value: 'price_asc', label: 'Price: low to high' },
  { value: 'price_desc', label: 'Price: high to low' },
] as const;

export type SortValue = (typeof SORTS)[number]['value'];

export interface ListingState {
  q?: string;
  collection?: string;
  size?: string;
  color?: string;
  brand?: string;
  min_price?: number;
  max_price?: number;
  in_stock?: boolean;
  sort?: SortValue;
  cursor?: string;
  /** Cursors of the pages before this one, oldest first, so "Previous" works without state. */
  prev?: string[];
}

export type RawQuery = Record<string, string | string[] | undefined>;

function one(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,12}$/.test(v)) return undefined;
  return Number(v);
}

export function parseListing(raw: RawQuery): ListingState {
  const sort = one(raw.sort);
  const prev = one(raw.prev);
  return {
    q: one(raw.q)?.slice(0, 200),
    collection: one(raw.collection),
    size: one(raw.size),
    color: one(raw.color),
    brand: one(raw.brand),
    min_price: int(one(raw.min_price)),
    max_price: int(one(raw.max_price)),
    in_stock: one(raw.in_stock) === 'true' ? true : undefined,
    sort: SORTS.some((s) => s.value === sort) ? (sort as SortValue) : undefined,
    cursor: one(raw.cursor),
    prev: prev ? prev.split('~').filter(Boolean) : undefined,
  };
}

/** The query string for a state (filters in a stable order, empty values left out). */
export function toQuery(s: ListingState): string {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.collection) p.set('collection', s.collection);
  if (s.size) p.set('size', s.size);
  if (s.color) p.set('color', s.color);
  if (s.brand) p.set('brand', s.brand);
  if (s.min_price !== undefined) p.set('min_price', String(s.min_price));
  if (s.max_price !== undefined) p.set('max_price', String(s.max_price));
  if (s.in_stock) p.set('in_stock', 'true');
  if (s.sort) p.set('sort', s.sort);
  if (s.cursor) p.set('cursor', s.cursor);
  if (s.prev && s.prev.length) p.set('prev', s.prev.join('~'));
  const q = p.toString();
  return q ? `?${q}` : '';
}

/** A change of filter or sort starts again from the first page. */
export function withFilter(s: ListingState, change: Partial<ListingState>): ListingState {
  return { ...s, ...change, cursor: undefined, prev: undefined };
}

export function nextPage(s: ListingState, nextCursor: string): ListingState {
  return { ...s, cursor: nextCursor, prev: [...(s.prev ?? []), s.cursor ?? ''] };
}

export function previousPage(s: ListingState): ListingState | null {
  if (!s.cursor) return null;
  const prev = [...(s.prev ?? [])];
  const cursor = prev.pop();
  return { ...s, cursor: cursor || undefined, prev: prev.length ? prev : undefined };
}

/** The API's query for a state (the storefront's own `prev` stays here). */
export function apiQuery(s: ListingState, extra: Record<string, string> = {}) {
  return {
    ...extra,
    ...(s.q ? { q: s.q } : {}),
    ...(s.collection ? { collection: s.collection } : {}),
    ...(s.size ? { size: s.size } : {}),
    ...(s.color ? { color: s.color } : {}),
    ...(s.brand ? { brand: s.brand } : {}),
    ...(s.min_price !== undefined ? { min_price: s.min_price } : {}),
    ...(s.max_price !== undefined ? { max_price: s.max_price } : {}),
    ...(s.in_stock ? { in_stock: true } : {}),
    ...(s.sort ? { sort: s.sort } : {}),
    ...(s.cursor ? { cursor: s.cursor } : {}),
    limit: 24,
  };
}
