// Every answer of 400 or more is a WeftProblem with the server's status, code and field
// errors; 5xx and lost answers are retried with the same Idempotency-Key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeftProblem, createWeft } from '../src/index.js';
import { client, recordingFetch, signUp, unique } from './helpers.js';
import { startWeft, type WeftServer } from './server.js';

async function problemOf(p: Promise<unknown>): Promise<WeftProblem> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WeftProblem);
    return e as WeftProblem;
  }
  throw new Error('expected a WeftProblem, the call succeeded');
}

describe('problems', () => {
  it('401: a guest where a session is needed', async () => {
    const p = await problemOf(client().api.GET('/v1/me'));
    expect(p).toMatchObject({ status: 401, code: 'unauthenticated', errors: [] });
    expect(p.title).toBeTruthy();
    expect(p.requestId).toMatch(/^[0-9a-f]{16,}$/);
    expect(p.message).toContain(p.title);
  });

  it('403: a customer on an admin endpoint', async () => {
    const weft = client();
    await signUp(weft);
    const p = await problemOf(weft.api.GET('/v1/admin/users'));
    expect(p).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('404: a product that does not exist', async () => {
    const p = await problemOf(
      client().api.GET('/v1/products/{id}', { params: { path: { id: unique('no-such-handle') } } }),
    );
    expect(p.status).toBe(404);
    expect(p.code).toMatch(/not_found$/);
  });

  it('409: an email that is already registered', async () => {
    const weft = client();
    const user = await signUp(weft);
    const p = await problemOf(
      client().auth.signUp({ email: user.email, password: 'another-long-password-9', name: 'Twin' }),
    );
    expect(p).toMatchObject({ status: 409, code: 'email_taken' });
  });

  it('422: every invalid field named in errors', async () => {
    const p = await problemOf(client().auth.signUp({ email: 'not-an-email', password: 'short', name: 'X' }));
    expect(p.status).toBe(422);
    expect(p.code).toBe('validation_failed');
    const fields = p.errors.map((e) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['email', 'password']));
    for (const e of p.errors) expect(e.message.length).toBeGreaterThan(0);
  });

  it('422 from a quantity of 0 in a cart names `quantity`', async () => {
    const weft = client();
    const { data: cart } = await weft.api.POST('/v1/carts', { body: {} });
    const p = await problemOf(
      weft.api.POST('/v1/carts/{id}/items', {
        params: { path: { id: cart!.id } },
        body: { variant_id: 'var_0193a7c2f1d07b5e8e9c1a2b3c4d5e6f', quantity: 0 },
      }),
    );
    expect(p.status).toBe(422);
    expect(p.errors.map((e) => e.field)).toContain('quantity');
  });

  it('a body that is not a problem (a proxy page) still becomes a WeftProblem', async () => {
    const p = await WeftProblem.fromResponse(
      new Response('<html><body>Bad gateway</body></html>', {
        status: 502,
        statusText: 'Bad Gateway',
        headers: { 'content-type': 'text/html', 'x-request-id': 'abc123' },
      }),
    );
    expect(p).toMatchObject({ status: 502, code: 'http_502', title: 'Bad Gateway', requestId: 'abc123', errors: [] });
    expect(p.detail).toContain('Bad gateway');
    const empty = await WeftProblem.fromResponse(new Response(null, { status: 503, headers: { 'retry-after': '7' } }));
    expect(empty).toMatchObject({ status: 503, code: 'http_503', retryAfter: 7 });
  });

  it('retries a 5xx with the same Idempotency-Key, then answers', async () => {
    // a gateway in front of weft that fails twice with an HTML page, then passes requests on
    let failures = 2;
    const flaky = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (failures-- > 0) return new Response('<h1>503 Service Unavailable</h1>', { status: 503, headers: { 'content-type': 'text/html' } });
      return fetch(input, init);
    }) as typeof fetch;
    const rec = recordingFetch(flaky);
    const weft = client({ fetch: rec.fetch });
    const { data: cart } = await weft.api.POST('/v1/carts', { body: {} });
    expect(cart!.id).toMatch(/^cart_/);
    const posts = rec.sent.filter((s) => s.path === '/v1/carts');
    expect(posts.map((s) => s.status)).toEqual([503, 503, 201]);
    const keys = new Set(posts.map((s) => s.headers.get('idempotency-key')));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives up after its retries and throws the last 5xx as a problem', async () => {
    let calls = 0;
    const down = (async () => {
      calls++;
      return new Response('upstream down', { status: 502 });
    }) as typeof fetch;
    const weft = createWeft({ baseUrl: 'http://127.0.0.1:9', fetch: down, retries: 2 });
    const p = await problemOf(weft.api.GET('/v1/categories'));
    expect(p).toMatchObject({ status: 502, code: 'http_502', detail: 'upstream down' });
    expect(calls).toBe(3);
  });

  it('each POST gets its own key; GET, PATCH and DELETE none', async () => {
    const rec = recordingFetch();
    const weft = client({ fetch: rec.fetch });
    const a = await weft.api.POST('/v1/carts', { body: {} });
    await weft.api.POST('/v1/carts', { body: {} });
    await weft.api.GET('/v1/carts/{id}', { params: { path: { id: a.data!.id } } });
    await weft.api.PATCH('/v1/carts/{id}', { params: { path: { id: a.data!.id } }, body: { country: 'US', region: 'CA' } });
    const posts = rec.sent.filter((s) => s.method === 'POST').map((s) => s.headers.get('idempotency-key'));
    expect(posts).toHaveLength(2);
    expect(posts[0]).not.toBe(posts[1]);
    expect(rec.sent.filter((s) => s.method !== 'POST').every((s) => !s.headers.has('idempotency-key'))).toBe(true);
  });
});

describe('problems: 429', () => {
  let limited: WeftServer;
  beforeAll(async () => {
    // no demo catalog: this server only has to count requests
    limited = await startWeft({ WEFT_RATE_LIMIT_PER_MINUTE: '3' }, { demo: false });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it('over the rate limit: 429 rate_limited with Retry-After as retryAfter', async () => {
    const weft = createWeft({ baseUrl: limited.baseUrl });
    let problem: WeftProblem | undefined;
    for (let i = 0; i < 10 && !problem; i++) {
      try {
        await weft.api.GET('/v1/categories');
      } catch (e) {
        problem = e as WeftProblem;
      }
    }
    expect(problem).toBeInstanceOf(WeftProblem);
    expect(problem).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(problem!.retryAfter).toBeGreaterThan(0);
    expect(problem!.retryAfter).toBeLessThanOrEqual(60);
  });
});

