// Token storage: in memory, in localStorage (a reload keeps the session), and nothing at all
// where there is no localStorage (server rendering).
import { afterEach, describe, expect, it } from 'vitest';
import { localStorageStorage, memoryStorage } from '../src/index.js';
import { uuid } from '../src/transport.js';
import { client, signUp } from './helpers.js';

/** The Web Storage API as browsers have it, for Node, which has none. */
class MapStorage {
  private m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  clear() {
    this.m.clear();
  }
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  setItem(k: string, v: string) {
    this.m.set(k, String(v));
  }
}

const g = globalThis as { localStorage?: unknown };

describe('storage', () => {
  afterEach(() => {
    delete g.localStorage;
  });

  it('memoryStorage holds one session per instance', () => {
    const a = memoryStorage();
    const b = memoryStorage();
    expect(a.get()).toBeNull();
    a.set({ access_token: 'a', refresh_token: 'r', expires_at: 1 });
    expect(a.get()).toEqual({ access_token: 'a', refresh_token: 'r', expires_at: 1 });
    expect(b.get()).toBeNull();
    a.set(null);
    expect(a.get()).toBeNull();
  });

  it('localStorageStorage keeps the session across a reload of the page', async () => {
    const ls = new MapStorage();
    g.localStorage = ls;
    const before = client({ storage: localStorageStorage() });
    const user = await signUp(before);
    expect(JSON.parse(ls.getItem('weft.tokens')!).refresh_token).toBeTruthy();

    // "reload": a new client over the same storage is signed in as the same person
    const after = client({ storage: localStorageStorage() });
    expect(await after.auth.isSignedIn()).toBe(true);
    const { data: me } = await after.api.GET('/v1/me');
    expect(me!.id).toBe(user.id);

    await after.auth.signOut();
    expect(ls.getItem('weft.tokens')).toBeNull();
  });

  it('localStorageStorage uses its key, and reads damaged data as no session', () => {
    const ls = new MapStorage();
    g.localStorage = ls;
    const s = localStorageStorage('shop.session');
    s.set({ access_token: 'a', refresh_token: 'r', expires_at: 2 });
    expect(ls.getItem('shop.session')).toContain('"access_token":"a"');
    ls.setItem('shop.session', '{not json');
    expect(s.get()).toBeNull();
  });

  it('without localStorage (a server render) it stores nothing and is signed out', async () => {
    const s = localStorageStorage();
    s.set({ access_token: 'a', refresh_token: 'r', expires_at: 3 });
    expect(s.get()).toBeNull();
    expect(await client({ storage: s }).auth.isSignedIn()).toBe(false);
  });

  it('an asynchronous storage (React Native’s AsyncStorage shape) works the same', async () => {
    const saved = new Map<string, string>();
    const asyncStorage = {
      get: async () => (saved.has('t') ? JSON.parse(saved.get('t')!) : null),
      set: async (t: unknown) => {
        if (t) saved.set('t', JSON.stringify(t));
        else saved.delete('t');
      },
    };
    const weft = client({ storage: asyncStorage });
    const user = await signUp(weft);
    const { data: me } = await weft.api.GET('/v1/me');
    expect(me!.id).toBe(user.id);
    expect(saved.has('t')).toBe(true);
  });

  it('makes v4 UUIDs for idempotency keys, also where crypto.randomUUID is missing', () => {
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(uuid()).toMatch(v4);
    const desc = Object.getOwnPropertyDescriptor(globalThis, 'crypto')!;
    try {
      Object.defineProperty(globalThis, 'crypto', { value: { getRandomValues: desc.get ? desc.get.call(globalThis).getRandomValues.bind(desc.get.call(globalThis)) : (desc.value as Crypto).getRandomValues.bind(desc.value) }, configurable: true });
      const keys = new Set(Array.from({ length: 100 }, () => uuid()));
      expect(keys.size).toBe(100);
      for (const k of keys) expect(k).toMatch(v4);
      Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
      expect(uuid()).toMatch(v4);
    } finally {
      Object.defineProperty(globalThis, 'crypto', desc);
    }
  });
});
