/**
 * The `fetch` every call goes through. It is what a developer would otherwise write around
 * each request:
 * - the session's `Authorization: Bearer …`, refreshed first when it is about to expire, and
 *   refreshed then retried once when the API answers 401 `unauthenticated` to it;
 * - ONE refresh at a time: concurrent calls wait for the same in-flight promise (a second
 *   refresh would present a refresh token that is already spent, and the server would revoke
 *   the whole session as replayed);
 * - an `Idempotency-Key` on every POST, kept across this request's retries so the server runs
 *   it once (a lost answer to "complete checkout" must not make a second order);
 * - retries with backoff on network errors, 5xx and 409 `idempotency_key_in_use`;
 * - every answer of 400 or more thrown as a `WeftProblem`.
 */
import { WeftProblem, parseRetryAfter } from './problem.js';
import type { TokenStorage, Tokens } from './storage.js';

export interface TransportOptions {
  baseUrl: string;
  storage: TokenStorage;
  fetch: typeof fetch;
  onSignOut?: () => void;
  retries: number;
}

/** Refresh this long before the access token's expiry (clocks drift; requests take time). */
const EXPIRY_MARGIN_MS = 30_000;

export interface Transport {
  fetch(input: Request): Promise<Response>;
  /** The stored tokens, refreshed first when the access token is about to expire. */
  fresh(): Promise<Tokens | null>;
  /** Stores a session answered by sign-up, sign-in or refresh. */
  save(s: { access_token: string; refresh_token: string; expires_in: number }): Promise<Tokens>;
}

export function uuid(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  // React Native and insecure browser contexts have no randomUUID: a v4 UUID from
  // getRandomValues, or Math.random, which is enough for an idempotency key's uniqueness
  return c?.randomUUID
    ? c.randomUUID()
    : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (d) =>
        (+d ^ ((c?.getRandomValues ? c.getRandomValues(new Uint8Array(1))[0]! : Math.random() * 256) & (15 >> (+d / 4)))).toString(16),
      );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createTransport(o: TransportOptions): Transport {
  const { storage, baseUrl } = o;
  let refreshing: Promise<Tokens | null> | null = null;

  // Tabs sharing localStorage also share the refresh token: where the Web Locks API exists,
  // one refresh runs at a time across them too (the next one then finds new tokens stored).
  const locks = (globalThis as { navigator?: { locks?: { request<T>(n: string, f: () => Promise<T>): Promise<T> } } })
    .navigator?.locks;
  const exclusive = <T>(f: () => Promise<T>) => (locks ? locks.request(`weft-refresh ${baseUrl}`, f) : f());

  async function save(s: { access_token: string; refresh_token: string; expires_in: number }) {
    const t = { access_token: s.access_token, refresh_token: s.refresh_token, expires_at: Date.now() + s.expires_in * 1000 };
    await storage.set(t);
    return t;
  }

  /** Sends `make()` until it succeeds or the tries run out; a POST keeps its key throughout. */
  async function send(make: () => Request, signal?: AbortSignal | null): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let failure: unknown;
      try {
        res = await o.fetch(make());
      } catch (e) {
        failure = e;
      }
      const retry =
        attempt < o.retries &&
        !signal?.aborted &&
        (res === undefined ||
          res.status >= 500 ||
          (res.status === 409 && (await codeOf(res)) === 'idempotency_key_in_use'));
      if (!retry) {
        if (res) return res;
        throw failure;
      }
      // the server's Retry-After (capped: an interactive call should not hang), else backoff
      const after = parseRetryAfter(res?.headers.get('retry-after') ?? null);
      await sleep(after ? Math.min(after, 5) * 1000 : 250 * 2 ** attempt * (1 + Math.random() / 2));
    }
  }

  /** Trades the refresh token for a new pair; a refused one (401) ends the session. */
  function refresh(stale: Tokens): Promise<Tokens | null> {
    refreshing ??= exclusive(async () => {
      const current = await storage.get();
      // another call (or tab) refreshed since `stale` was read: its pair is the one to use.
      // Refresh tokens are random and single use; an access token minted in the same second
      // for the same person can be byte-identical, so it cannot tell.
      if (!current || current.refresh_token !== stale.refresh_token) return current;
      const key = uuid();
      const res = await send(
        () =>
          new Request(`${baseUrl}/v1/auth/refresh`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ refresh_token: current.refresh_token }),
          }),
      );
      if (!res.ok) {
        const problem = await WeftProblem.fromResponse(res);
        if (res.status === 401) {
          // spent, revoked or expired: the session is over, and says so once
          await storage.set(null);
          o.onSignOut?.();
        }
        throw problem;
      }
      return save(await res.json());
    }).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function fresh() {
    const t = await storage.get();
    return t && t.expires_at - Date.now() < EXPIRY_MARGIN_MS ? refresh(t) : t;
  }

  async function weftFetch(req: Request): Promise<Response> {
    const method = req.method.toUpperCase();
    const buf = method === 'GET' || method === 'HEAD' ? undefined : await req.arrayBuffer();
    const body = buf && buf.byteLength > 0 ? buf : undefined;
    const headers = new Headers(req.headers);
    if (method === 'POST' && !headers.has('idempotency-key')) headers.set('idempotency-key', uuid());
    // the session rides on every call but the token endpoints' own, unless the caller set one
    const withSession = !headers.has('authorization') && !req.url.startsWith(`${baseUrl}/v1/auth/`);
    const init: RequestInit = { method, headers, body, signal: req.signal };
    // keep the caller's cache mode (`cache: 'no-store'`); the default is left out because
    // some runtimes reject the field altogether
    if (req.cache && req.cache !== 'default') init.cache = req.cache;
    const make = () => {
      const r = new Request(req.url, init);
      // framework extensions openapi-fetch copied onto the request (Next.js's `next`)
      for (const k of Object.keys(req)) if (!(k in r)) (r as unknown as Record<string, unknown>)[k] = (req as unknown as Record<string, unknown>)[k];
      return r;
    };

    for (let renewed = false; ; renewed = true) {
      const tokens = withSession ? await fresh() : null;
      if (tokens) headers.set('authorization', `Bearer ${tokens.access_token}`);
      else if (withSession) headers.delete('authorization'); // signed out meanwhile: go as a guest
      const res = await send(make, req.signal);
      if (res.ok || res.status < 400) return res;
      const problem = await WeftProblem.fromResponse(res);
      // an access token the server no longer takes (expired early, keys rotated, garbage):
      // refresh once and try again
      if (res.status === 401 && tokens && !renewed && problem.code === 'unauthenticated') {
        await refresh(tokens);
        continue;
      }
      throw problem;
    }
  }

  return { fetch: weftFetch, fresh, save };
}

async function codeOf(res: Response): Promise<string | undefined> {
  try {
    return ((await res.clone().json()) as { code?: string }).code;
  } catch {
    return undefined;
  }
}
