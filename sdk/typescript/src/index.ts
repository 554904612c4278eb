/**
 * `@weft/sdk`: the Weft API from TypeScript. `api` is an openapi-fetch client typed by the
 * contract (`openapi/v1.json`, generated into `schema.ts`); around it, what every client
 * would otherwise write itself: the session and its refresh, idempotent retries, typed
 * problems, cursor pages and the live cart. No Node-only imports: it runs in Node 20+,
 * browsers, edge runtimes and React Native.
 */
import createClient, { type Client, type FetchOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';
import { memoryStorage, type TokenStorage } from './storage.js';
import { createTransport } from './transport.js';
import { watchCart, type WatchCartOptions, type WebSocketConstructor } from './cart.js';

export type { paths, components } from './schema.js';
export type { Tokens, TokenStorage } from './storage.js';
export type { WatchCartOptions, WebSocketConstructor, WebSocketLike } from './cart.js';
export { memoryStorage, localStorageStorage } from './storage.js';
export { WeftProblem } from './problem.js';

export type Schemas = components['schemas'];

export interface WeftOptions {
  /** Where the API is, e.g. `https://shop.example.com` (no `/v1`). */
  baseUrl: string;
  /** Where the session is kept; `memoryStorage()` by default. */
  storage?: TokenStorage;
  /** The `fetch` to call (the global one by default); wrap it to log or count requests. */
  fetch?: typeof fetch;
  /** Sent with every request. */
  headers?: Record<string, string>;
  /** Called when the SDK ends the session itself: its refresh token was refused. Not on `signOut()`. */
  onSignOut?: () => void;
  /** An API key (`wk_live_…`) for apps, sent as `X-Api-Key`. */
  apiKey?: string;
  /** The WebSocket class for `watchCart` where there is no global one (Node 20: `ws`). */
  WebSocket?: WebSocketConstructor;
  /** How many times a failed request is tried again (network error, 5xx, key in use); 3 by default. */
  retries?: number;
}

/** Paths whose GET answers a cursor page: `{ data: [...], next_cursor }`. */
export type PagedPath = {
  [P in keyof paths]: [PageOf<P>] extends [never]
    ? never
    : PageOf<P> extends { data: unknown[] }
      ? 'next_cursor' extends keyof PageOf<P>
        ? P
        : never
      : never;
}[keyof paths];
type PageOf<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: Record<string, infer R> } } };
}
  ? R
  : never;
/** The item type of a paged path's `data`. */
export type PageItem<P extends PagedPath> = PageOf<P> extends { data: (infer T)[] } ? T : never;
/** The options of a paged GET: its path and query parameters (`cursor` is the SDK's to set). */
export type PageInit<P extends PagedPath> = FetchOptions<paths[P]['get']>;

export interface Weft {
  /**
   * Every endpoint, typed: `api.GET('/v1/products/{id}', { params: { path: { id } } })`.
   * Each call carries the session, an `Idempotency-Key` on POST, and throws `WeftProblem`
   * on an answer of 400 or more, so `data` is set whenever a call returns.
   */
  api: Client<paths>;
  auth: {
    /** `POST /v1/auth/register`, then signed in. */
    signUp(b: Schemas['RegisterRequest']): Promise<Schemas['User']>;
    /** `POST /v1/auth/login` (`totp_code` for accounts with TOTP). */
    signIn(b: Schemas['LoginRequest']): Promise<Schemas['User']>;
    /** Ends the session on the server (`POST /v1/auth/logout`) and here. */
    signOut(): Promise<void>;
    isSignedIn(): Promise<boolean>;
    /** The current access token, refreshed when about to expire; `null` for a guest. */
    accessToken(): Promise<string | null>;
  };
  /** Every item of a cursor-paged list, page after page, to the end. */
  pages<P extends PagedPath>(path: P, init?: PageInit<P>): AsyncIterable<PageItem<P>>;
  /** Calls `onCart` with the cart now and after every change, until the returned function is called. */
  watchCart(cartId: string, onCart: (cart: Schemas['Cart']) => void, opts?: WatchCartOptions): () => void;
}

export function createWeft(o: WeftOptions): Weft {
  const baseUrl = o.baseUrl.replace(/\/+$/, '');
  const storage = o.storage ?? memoryStorage();
  const baseFetch = o.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const t = createTransport({ baseUrl, storage, fetch: baseFetch, onSignOut: o.onSignOut, retries: o.retries ?? 3 });
  const api = createClient<paths>({
    baseUrl,
    fetch: t.fetch,
    headers: { ...o.headers, ...(o.apiKey ? { 'X-Api-Key': o.apiKey } : {}) },
  });

  const session = async (p: Promise<{ data?: Schemas['AuthSession'] }>) => {
    const { data } = await p;
    await t.save(data!);
    return data!.user;
  };

  const auth: Weft['auth'] = {
    signUp: (body) => session(api.POST('/v1/auth/register', { body })),
    signIn: (body) => session(api.POST('/v1/auth/login', { body })),
    async signOut() {
      const tokens = await storage.get();
      await storage.set(null);
      if (tokens) {
        try {
          await api.POST('/v1/auth/logout', { body: { refresh_token: tokens.refresh_token } });
        } catch {
          // signed out here whatever the server answered; its refresh token lapses in 7 days
        }
      }
    },
    isSignedIn: async () => (await storage.get()) !== null,
    accessToken: async () => (await t.fresh())?.access_token ?? null,
  };

  async function* pages<P extends PagedPath>(path: P, init?: PageInit<P>): AsyncGenerator<PageItem<P>> {
    type Init = { params?: { query?: Record<string, unknown> } };
    const base = (init ?? {}) as Init;
    let cursor: string | null | undefined;
    do {
      const query = { ...base.params?.query, ...(cursor ? { cursor } : {}) };
      const get = api.GET as unknown as (p: string, i: unknown) => Promise<{ data: { data: PageItem<P>[]; next_cursor?: string | null } }>;
      const { data } = await get(path, { ...base, params: { ...base.params, query } });
      yield* data.data;
      cursor = data.next_cursor;
    } while (cursor);
  }

  return {
    api,
    auth,
    pages,
    watchCart: (cartId, onCart, opts) =>
      watchCart(
        {
          baseUrl,
          WebSocket: o.WebSocket,
          accessToken: auth.accessToken,
          check: (id) => api.GET('/v1/carts/{id}', { params: { path: { id } } }),
        },
        cartId,
        onCart,
        opts,
      ),
  };
}
