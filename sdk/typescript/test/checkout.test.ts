// Idempotent retry: the answer to "complete checkout" is lost after the server placed the
// order; the SDK sends the request again with the same Idempotency-Key and the customer
// ends up with exactly one order.
import { describe, expect, it } from 'vitest';
import { client, productInStock, recordingFetch, signUp, staff } from './helpers.js';

describe('checkout', () => {
  it('a lost answer to complete is retried with the same key and makes one order', async () => {
    const { variantId } = await productInStock({ onHand: 5 });

    // the network drops the first answer to /complete, after the server handled the request
    let dropped = 0;
    const lossy = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await fetch(input, init);
      const url = input instanceof Request ? input.url : String(input);
      if (url.endsWith('/complete') && dropped === 0) {
        dropped++;
        await res.arrayBuffer();
        throw new TypeError('fetch failed: connection reset');
      }
      return res;
    }) as typeof fetch;
    const rec = recordingFetch(lossy);
    const weft = client({ fetch: rec.fetch });
    const me = await signUp(weft, 'buyer');

    const { data: cart } = await weft.api.POST('/v1/carts', { body: {} });
    await weft.api.POST('/v1/carts/{id}/items', {
      params: { path: { id: cart!.id } },
      body: { variant_id: variantId, quantity: 2 },
    });
    const { data: checkout } = await weft.api.POST('/v1/checkouts', { body: { cart_id: cart!.id } });
    const id = checkout!.id;
    await weft.api.PATCH('/v1/checkouts/{id}', {
      params: { path: { id } },
      body: {
        email: me.email,
        shipping_address: { name: 'Ada Lovelace', line1: '1 Market St', city: 'San Francisco', region: 'CA', postal_code: '94105', country: 'US' },
      },
    });
    const { data: methods } = await weft.api.GET('/v1/checkouts/{id}/shipping-methods', { params: { path: { id } } });
    await weft.api.PATCH('/v1/checkouts/{id}', { params: { path: { id } }, body: { shipping_method_id: methods!.data[0]!.id } });

    const { data: done, response } = await weft.api.POST('/v1/checkouts/{id}/complete', {
      params: { path: { id } },
      body: { payment: { provider: 'test', token: 'tok_visa' } },
    });
    expect(response.status).toBe(201);
    expect(done!.status).toBe('completed');
    const order = done!.order!;
    expect(order.id).toMatch(/^ord_/);

    // two requests with one key; the second answer is the server's replay of the first
    const completes = rec.sent.filter((s) => s.path === `/v1/checkouts/${id}/complete`);
    expect(dropped).toBe(1);
    expect(completes).toHaveLength(2);
    expect(completes[0]!.headers.get('idempotency-key')).toBe(completes[1]!.headers.get('idempotency-key'));
    expect(completes[1]!.replayed).toBe(true);

    // one order, with the two units, and the stock taken once
    const { data: orders } = await weft.api.GET('/v1/orders');
    expect(orders!.data.map((o) => o.id)).toEqual([order.id]);
    expect(orders!.data[0]!.lines.reduce((n, l) => n + l.quantity, 0)).toBe(2);
    const { data: stock } = await staff().api.GET('/v1/inventory/{variant_id}', { params: { path: { variant_id: variantId } } });
    expect(stock!.on_hand).toBe(3);
  });
});
