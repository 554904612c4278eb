import 'server-only';
import { createWeft, WeftProblem, type Schemas, type Weft } from '@weft/sdk';
import { CATALOG_REVALIDATE_SECONDS, serverApiUrl } from './config';

export type { Schemas };

let client: Weft | null = null;

/** Every catalog answer is cached under this tag; POST /api/revalidate drops them all. */
export const CATALOG_TAG = 'catalog';

/**
 * The server's Weft client: anonymous, and every GET goes through Next's data cache for
 * CATALOG_REVALIDATE_SECONDS, so a catalog page costs the API one request per minute and
 * URL however many shoppers load it, until the catalog changes (app/api/revalidate).
 */
export function weft(): Weft {
  if (!client) {
    client = createWeft({
      baseUrl: serverApiUrl(),
      fetch: (input: RequestInfo | URL, init?: RequestInit) =>
        fetch(input, { ...init, next: { revalidate: CATALOG_REVALIDATE_SECONDS, tags: [CATALOG_TAG] } } as RequestInit),
    });
  }
  return client;
}

/** A 404 from Weft as `null`, so pages can answer their own not-found. */
export async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof WeftProblem && e.status === 404) return null;
    throw e;
  }
}

export type Product = Schemas['Product'];
export type Category = Schemas['Category'];
export type Collection = Schemas['Collection'];
export type SearchResults = Schemas['SearchResults'];
export type SearchHit = Schemas['SearchHit'];

export async function getCategories(): Promise<Category[]> {
  const { data } = await weft().api.GET('/v1/categories');
  return data?.data ?? [];
}

/** The category tree, or an empty one when Weft cannot be reached (a build without an API). */
export async function getCategoriesOrEmpty(): Promise<Category[]> {
  try {
    return await getCategories();
  } catch {
    return [];
  }
}

export async function getCategory(handle: string): Promise<Category | null> {
  return orNull(
    weft()
      .api.GET('/v1/categories/{id}', { params: { path: { id: handle } } })
      .then((r) => r.data ?? null),
  );
}

export async function getProduct(handle: string): Promise<Product | null> {
  return orNull(
    weft()
      .api.GET('/v1/products/{id}', { params: { path: { id: handle } } })
      .then((r) => r.data ?? null),
  );
}

export async function getRecommendations(id: string, limit = 4): Promise<Product[]> {
  try {
    const { data } = await weft().api.GET('/v1/products/{id}/recommendations', {
      params: { path: { id }, query: { limit } },
    });
    return data?.data ?? [];
  } catch {
    // Recommendations are a nicety: a product page still renders without them.
    return [];
  }
}

export type Review = Schemas['Review'];
export type RatingSummary = Schemas['RatingSummary'];

/**
 * A product's most helpful published reviews and its rating summary; none when reviews
 * cannot be reached (a product page still renders without them).
 */
export async function getReviews(id: string, limit = 10): Promise<{ reviews: Review[]; summary: RatingSummary | null }> {
  try {
    const [list, summary] = await Promise.all([
      weft().api.GET('/v1/products/{id}/reviews', { params: { path: { id }, query: { sort: 'helpful', limit } } }),
      weft().api.GET('/v1/products/{id}/reviews/summary', { params: { path: { id } } }),
    ]);
    return { reviews: list.data?.data ?? [], summary: summary.data ?? null };
  } catch {
    return { reviews: [], summary: null };
  }
}

export async function getCollections(): Promise<Collection[]> {
  const { data } = await weft().api.GET('/v1/collections');
  return data?.data ?? [];
}

export async function listProducts(query: Record<string, string | number | boolean>): Promise<Schemas['ProductPage']> {
  const { data } = await weft().api.GET('/v1/products', { params: { query } as never });
  return data ?? { data: [], next_cursor: null };
}

export interface ListingQuery {
  q?: string;
  category?: string;
  size?: string;
  color?: string;
  brand?: string;
  min_price?: number;
  max_price?: number;
  in_stock?: boolean;
  sort?: string;
  cursor?: string;
  limit?: number;
}

export async function searchProducts(query: ListingQuery): Promise<SearchResults> {
  const { data } = await weft().api.GET('/v1/search/products', { params: { query: query as never } });
  if (!data) throw new Error('search answered no body');
  return data;
}
