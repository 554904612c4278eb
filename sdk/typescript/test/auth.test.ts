// The session: sign-up, sign-in (TOTP too), sign-out, the access token, refresh under
// concurrency, and a reused refresh token ending the session — against a real weft.
import { describe, expect, inject, it } from 'vitest';
import { WeftProblem, memoryStorage, type Tokens, type TokenStorage } from '../src/index.js';
import { PASSWORD, client, recordingFetch, signUp } from './helpers.js';

/** A storage whose session's access token expired a minute ago. */
function expiredCopy(t: Tokens): TokenStorage {
  const s = memoryStorage();
  s.set({ ...t, expires_at: Date.now() - 60_000 });
  return s;
}

describe('auth', () => {
  it('signs up, is signed in, and calls as the new customer', async () => {
    const weft = client();
    expect(await weft.auth.isSignedIn()).toBe(false);
    expect(await weft.auth.accessToken()).toBeNull();
    const user = await signUp(weft);
    expect(user.id).toMatch(/^usr_/);
    expect(user.role).toBe('customer');
    expect(await weft.auth.isSignedIn()).toBe(true);
    const { data: me } = await weft.api.GET('/v1/me');
    expect(me!.id).toBe(user.id);
  });

  it('signs in, keeps the tokens in the given storage, and signs out on the server too', async () => {
    const first = client();
    const user = await signUp(first);
    const storage = memoryStorage();
    const rec = recordingFetch();
    const weft = client({ storage, fetch: rec.fetch });
    const signedIn = await weft.auth.signIn({ email: user.email, password: PASSWORD });
    expect(signedIn.id).toBe(user.id);
    const tokens = (await storage.get())!;
    expect(tokens.access_token).toBe(await weft.auth.accessToken());
    // 15 minutes from now, in ms
    expect(tokens.expires_at).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(tokens.expires_at).toBeLessThanOrEqual(Date.now() + 15 * 60_000);

    await weft.auth.signOut();
    expect(await weft.auth.isSignedIn()).toBe(false);
    expect(await storage.get()).toBeNull();
    expect(rec.count('POST', '/v1/auth/logout')).toBe(1);
    // the server ended the session: its refresh token is refused now
    const res = await fetch(`${inject('baseUrl')}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    });
    expect(res.status).toBe(401);
    // and calls go out as a guest
    await expect(weft.api.GET('/v1/me')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('signs an admin in with a TOTP stand-in (a recovery code), and refuses a wrong password with a problem', async () => {
    const weft = client();
    const email = inject('adminEmail');
    await expect(weft.auth.signIn({ email, password: inject('adminPassword') })).rejects.toMatchObject({
      status: 401,
      code: 'totp_required',
    });
    await expect(weft.auth.signIn({ email, password: 'not-the-password-1' })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_credentials',
    });
    expect(await weft.auth.isSignedIn()).toBe(false);
    const admin = await weft.auth.signIn({ email, password: inject('adminPassword'), totp_code: inject('adminRecoveryCode') });
    expect(admin.role).toBe('admin');
    const { data: users } = await weft.api.GET('/v1/admin/users', { params: { query: { limit: 1 } } });
    expect(users!.data).toHaveLength(1);
  });

  it('refreshes an expired access token once before the call, for ten concurrent calls', async () => {
    const { tokens } = await session();
    const rec = recordingFetch();
    const storage = expiredCopy(tokens);
    const weft = client({ storage, fetch: rec.fetch });

    const answers = await Promise.all(Array.from({ length: 10 }, () => weft.api.GET('/v1/me')));
    expect(answers.every((a) => a.data!.email === answers[0]!.data!.email)).toBe(true);
    expect(rec.count('POST', '/v1/auth/refresh')).toBe(1);
    // nobody called with the expired token: the refresh came first
    expect(rec.count('GET', '/v1/me')).toBe(10);
    expect(rec.sent.filter((s) => s.path === '/v1/me').every((s) => s.status === 200)).toBe(true);
    const now = (await storage.get())!;
    expect(now.refresh_token).not.toBe(tokens.refresh_token);
    expect(now.expires_at).toBeGreaterThan(Date.now());
  });

  it('refreshes and retries once when the API refuses the access token (401), for ten concurrent calls', async () => {
    const { user, tokens } = await session();
    const rec = recordingFetch();
    const storage = memoryStorage();
    // a token the server never issued, that the client believes valid for an hour
    storage.set({ ...tokens, access_token: 'garbage.not.a-jwt', expires_at: Date.now() + 3_600_000 });
    const weft = client({ storage, fetch: rec.fetch });

    const answers = await Promise.all(Array.from({ length: 10 }, () => weft.api.GET('/v1/me')));
    expect(answers.map((a) => a.data!.id)).toEqual(Array(10).fill(user.id));
    expect(rec.count('POST', '/v1/auth/refresh')).toBe(1);
    const me = rec.sent.filter((s) => s.path === '/v1/me');
    expect(me.filter((s) => s.status === 401)).toHaveLength(10);
    expect(me.filter((s) => s.status === 200)).toHaveLength(10);
    expect(me.filter((s) => s.status === 200).every((s) => s.headers.get('authorization') !== 'Bearer garbage.not.a-jwt')).toBe(true);
  });

  it('accessToken() refreshes a token about to expire', async () => {
    const { tokens } = await session();
    const rec = recordingFetch();
    const storage = memoryStorage();
    storage.set({ ...tokens, expires_at: Date.now() + 5_000 });
    const weft = client({ storage, fetch: rec.fetch });
    const [a, b] = await Promise.all([weft.auth.accessToken(), weft.auth.accessToken()]);
    expect(rec.count('POST', '/v1/auth/refresh')).toBe(1);
    expect(a).toBe(b);
    const now = (await storage.get())!;
    expect(a).toBe(now.access_token);
    expect(now.refresh_token).not.toBe(tokens.refresh_token);
    expect(now.expires_at).toBeGreaterThan(Date.now() + 14 * 60_000);
  });

  it('signs out cleanly when its refresh token was already used (the server revokes the family)', async () => {
    const { tokens } = await session();

    // one holder refreshes: the refresh token in `tokens` is now spent
    const firstStorage = expiredCopy(tokens);
    const first = client({ storage: firstStorage });
    await first.api.GET('/v1/me');

    // another holder of the same, now spent, refresh token
    let signedOut = 0;
    const storage = expiredCopy(tokens);
    const rec = recordingFetch();
    const replayer = client({ storage, fetch: rec.fetch, onSignOut: () => signedOut++ });
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => replayer.api.GET('/v1/me')));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason;
      expect(e).toBeInstanceOf(WeftProblem);
      expect(e).toMatchObject({ status: 401, code: 'invalid_refresh_token' });
    }
    expect(rec.count('POST', '/v1/auth/refresh')).toBe(1);
    expect(rec.count('GET', '/v1/me')).toBe(0);
    expect(signedOut).toBe(1);
    expect(await storage.get()).toBeNull();
    expect(await replayer.auth.isSignedIn()).toBe(false);

    // the reuse revoked the whole family: the first holder is signed out at its next refresh
    let firstOut = 0;
    const firstTokens = (await firstStorage.get())!;
    const again = client({ storage: expiredCopy(firstTokens), onSignOut: () => firstOut++ });
    await expect(again.api.GET('/v1/me')).rejects.toMatchObject({ status: 401, code: 'invalid_refresh_token' });
    expect(firstOut).toBe(1);
  });

  it('goes on as a guest when the session ended (another tab signed out) between a 401 and its refresh', async () => {
    const { tokens } = await session();
    let reads = 0;
    // the first read hands out a token the server refuses; then the other tab has signed out
    const storage: TokenStorage = {
      get: () => (reads++ === 0 ? { ...tokens, access_token: 'garbage.not.a-jwt', expires_at: Date.now() + 3_600_000 } : null),
      set: () => {},
    };
    const rec = recordingFetch();
    const weft = client({ storage, fetch: rec.fetch });
    await expect(weft.api.GET('/v1/me')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    // tried once more, without the refused token: what a guest gets, not a stale session's answer
    expect(rec.sent.map((s) => [s.path, s.status, s.headers.get('authorization')])).toEqual([
      ['/v1/me', 401, 'Bearer garbage.not.a-jwt'],
      ['/v1/me', 401, null],
    ]);
  });

  it('an API key rides on every call as X-Api-Key', async () => {
    const rec = recordingFetch();
    const weft = client({ apiKey: inject('apiKey'), fetch: rec.fetch });
    const { data } = await weft.api.GET('/v1/admin/products', { params: { query: { limit: 1 } } });
    expect(Array.isArray(data!.data)).toBe(true);
    expect(rec.sent[0]!.headers.get('x-api-key')).toBe(inject('apiKey'));
    expect(rec.sent[0]!.headers.get('authorization')).toBeNull();
  });

  it('sends the headers option with every call', async () => {
    const rec = recordingFetch();
    const weft = client({ fetch: rec.fetch, headers: { 'Accept-Language': 'de' } });
    await weft.api.GET('/v1/categories');
    expect(rec.sent[0]!.headers.get('accept-language')).toBe('de');
  });
});

/** A new customer's session, and its tokens as the SDK stored them. */
async function session() {
  const storage = memoryStorage();
  const user = await signUp(client({ storage }));
  return { user, tokens: (await storage.get())! };
}
