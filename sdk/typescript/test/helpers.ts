// What the tests share: clients against the run's server, a fetch that records what the SDK
// sends, customers, and products the tests make for themselves (as staff, with an API key).
import { inject } from 'vitest';
import { createWeft, type Schemas, type Weft, type WeftOptions } from '../src/index.js';

export const baseUrl = () => inject('baseUrl');

let n = 0;
/** A name no other test (or run) uses. */
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${process.pid}-${++n}`;

export interface Sent {
  method: string;
  path: string;
  headers: Headers;
  status?: number;
  replayed?: boolean;
}

/** A fetch that records every request it passes on (and the answer's status). */
export function recordingFetch(inner: typeof fetch = fetch) {
  const sent: Sent[] = [];
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const entry: Sent = { method: req.method, path: new URL(req.url).pathname, headers: req.headers };
    sent.push(entry);
    const res = await inner(req);
    entry.status = res.status;
    entry.replayed = res.headers.get('idempotent-replayed') === 'true';
    return res;
  }) as typeof fetch;
  return { fetch: wrapped, sent, count: (method: string, path: string) => sent.filter((s) => s.method === method && s.path === path).length };
}

export function client(opts: Partial<WeftOptions> = {}): Weft {
  return createWeft({ baseUrl: baseUrl(), ...opts });
}

/** Staff: the API key the global setup made (catalog, inventory, orders scopes). */
export const staff = () => client({ apiKey: inject('apiKey') });

export const PASSWORD = 'linen-and-wool-2026';

/** A new customer, signed in on `weft`. */
export async function signUp(weft: Weft, prefix = 'shopper'): Promise<Schemas['User'] & { password: string }> {
  const email = `${unique(prefix)}@weft.test`;
  const user = await weft.auth.signUp({ email, password: PASSWORD, name: 'Ada Lovelace' });
  return { ...user, password: PASSWORD };
}

/** An active product with one variant priced 25.00 USD and `onHand` units in stock. */
export async function productInStock(opts: { onHand?: number; categoryId?: string; title?: string } = {}) {
  const { api } = staff();
  const sku = unique('SKU').toUpperCase();
  const { data: product } = await api.POST('/v1/admin/products', {
    body: {
      title: opts.title ?? unique('Linen shirt'),
      brand: 'Weft Test',
      status: 'active',
      category_id: opts.categoryId ?? null,
      options: [{ name: 'size', values: ['M'] }],
      variants: [{ sku, options: { size: 'M' }, prices: [{ currency: 'USD', amount: 2500 }] }],
    },
  });
  const variant = product!.variants[0]!;
  await api.PUT('/v1/admin/inventory/{variant_id}', {
    params: { path: { variant_id: variant.id } },
    body: { on_hand: opts.onHand ?? 10 },
  });
  return { product: product!, variantId: variant.id };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once `check()` holds, polling; rejects with `what` after `ms`. */
export async function eventually(check: () => boolean, what: string, ms = 10_000) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
