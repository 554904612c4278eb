/** A signed-in session's tokens. `expires_at` is when the access token expires (ms since epoch). */
export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_at: number;
}

/**
 * Where the SDK keeps the session. Either method may be asynchronous (React Native's
 * AsyncStorage, a cookie store on a server): the SDK awaits both.
 */
export interface TokenStorage {
  get(): Tokens | null | Promise<Tokens | null>;
  set(t: Tokens | null): void | Promise<void>;
}

/** Tokens in this JavaScript context only (the default): gone on reload. */
export function memoryStorage(): TokenStorage {
  let tokens: Tokens | null = null;
  return {
    get: () => tokens,
    set: (t) => {
      tokens = t;
    },
  };
}

/**
 * Tokens in `localStorage` under `key`, shared by the tabs of an origin. Where there is no
 * `localStorage` (server rendering, workers) it holds nothing and stores nothing, so a
 * module-level client on a server never shares one visitor's session with another.
 */
export function localStorageStorage(key = 'weft.tokens'): TokenStorage {
  const ls = (): Storage | undefined => {
    try {
      return (globalThis as { localStorage?: Storage }).localStorage;
    } catch {
      return undefined; // some browsers throw when storage is disabled
    }
  };
  return {
    get() {
      try {
        return JSON.parse(ls()?.getItem(key) ?? 'null') as Tokens | null;
      } catch {
        return null; // not ours, or damaged: no session
      }
    },
    set(t) {
      const s = ls();
      if (!s) return;
      if (t) s.setItem(key, JSON.stringify(t));
      else s.removeItem(key);
    },
  };
}
