// watchCart(): the live cart over the WebSocket, fed by changes another client makes.
// Node 20 has no global WebSocket, so the `ws` package is passed in (as the README says).
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WeftProblem, type Schemas, type WebSocketConstructor } from '../src/index.js';
import { PASSWORD, client, eventually, productInStock, signUp, sleep } from './helpers.js';

const WS = WebSocket as unknown as WebSocketConstructor;

describe('watchCart', () => {
  it('sends the cart at once, then the change another client made', async () => {
    const { variantId } = await productInStock();
    const shopper = client({ WebSocket: WS });
    const { data: cart } = await shopper.api.POST('/v1/carts', { body: {} });
    const seen: Schemas['Cart'][] = [];
    const stop = shopper.watchCart(cart!.id, (c) => seen.push(c), { onError: (e) => seen.push(e as never) });
    try {
      await eventually(() => seen.length >= 1, 'the first cart');
      expect(seen[0]!.id).toBe(cart!.id);
      expect(seen[0]!.item_count).toBe(0);

      // another tab/device holding the same guest cart id
      await client().api.POST('/v1/carts/{id}/items', { params: { path: { id: cart!.id } }, body: { variant_id: variantId, quantity: 2 } });
      await eventually(() => seen.some((c) => c.item_count === 2), 'the cart with 2 items');
      const last = seen[seen.length - 1]!;
      expect(last.items[0]!.variant_id).toBe(variantId);
      expect(last.subtotal.amount).toBe(5000);
    } finally {
      stop();
    }
  });

  it('watches a customer’s cart with the session’s token, and stops on unsubscribe', async () => {
    const { variantId } = await productInStock();
    const phone = client({ WebSocket: WS });
    const user = await signUp(phone);
    const { data: cart } = await phone.api.POST('/v1/carts', { body: {} });
    expect(cart!.customer_id).toBe(user.id);

    const laptop = client();
    await laptop.auth.signIn({ email: user.email, password: PASSWORD });
    const seen: Schemas['Cart'][] = [];
    const errors: unknown[] = [];
    const stop = phone.watchCart(cart!.id, (c) => seen.push(c), { onError: (e) => errors.push(e) });
    await eventually(() => seen.length >= 1, 'the first cart');
    const { data: added } = await laptop.api.POST('/v1/carts/{id}/items', { params: { path: { id: cart!.id } }, body: { variant_id: variantId, quantity: 1 } });
    await eventually(() => seen.some((c) => c.item_count === 1), 'the added item');

    stop();
    const before = seen.length;
    await laptop.api.PATCH('/v1/carts/{id}/items/{item_id}', {
      params: { path: { id: cart!.id, item_id: added!.items[0]!.id } },
      body: { quantity: 3 },
    });
    await sleep(750);
    expect(seen.length).toBe(before);
    expect(errors).toEqual([]);
  });

  it('reconnects after the connection drops, and goes on receiving changes', async () => {
    const { variantId } = await productInStock();
    let opened = 0;
    // a network that cuts the first connection after its first message
    class Dropping extends WebSocket {
      constructor(url: string) {
        super(url);
        const n = ++opened;
        if (n === 1) this.once('message', () => setTimeout(() => this.terminate(), 10));
      }
    }
    const shopper = client({ WebSocket: Dropping as unknown as WebSocketConstructor });
    const { data: cart } = await shopper.api.POST('/v1/carts', { body: {} });
    const seen: Schemas['Cart'][] = [];
    const stop = shopper.watchCart(cart!.id, (c) => seen.push(c));
    try {
      await eventually(() => opened === 2 && seen.length >= 2, 'a second connection and its cart');
      await client().api.POST('/v1/carts/{id}/items', { params: { path: { id: cart!.id } }, body: { variant_id: variantId, quantity: 1 } });
      await eventually(() => seen.some((c) => c.item_count === 1), 'the change after reconnecting');
      expect(opened).toBe(2);
    } finally {
      stop();
    }
  });

  it('ends with onClose when the cart is gone (merged into the customer’s at sign-in)', async () => {
    const { variantId } = await productInStock();
    const device = client({ WebSocket: WS });
    const { data: guestCart } = await device.api.POST('/v1/carts', { body: {} });
    await device.api.POST('/v1/carts/{id}/items', { params: { path: { id: guestCart!.id } }, body: { variant_id: variantId, quantity: 1 } });
    let closed = 0;
    const seen: Schemas['Cart'][] = [];
    device.watchCart(guestCart!.id, (c) => seen.push(c), { onClose: () => closed++ });
    await eventually(() => seen.length >= 1, 'the guest cart');

    await signUp(device);
    const { data: merged } = await device.api.POST('/v1/carts/{id}/merge', { params: { path: { id: guestCart!.id } } });
    expect(merged!.item_count).toBe(1);
    await eventually(() => closed === 1, 'onClose');
    await sleep(500);
    expect(closed).toBe(1);
  });

  it('reports a cart it may not see as a 404 problem and stops trying', async () => {
    let opened = 0;
    class Counting extends WebSocket {
      constructor(url: string) {
        super(url);
        opened++;
      }
    }
    const weft = client({ WebSocket: Counting as unknown as WebSocketConstructor });
    const errors: unknown[] = [];
    weft.watchCart('cart_0193a7c2f1d07b5e8e9c1a2b3c4d5e6f', () => errors.push('a cart?'), { onError: (e) => errors.push(e) });
    await eventually(() => errors.length > 0, 'the error');
    expect(errors[0]).toBeInstanceOf(WeftProblem);
    expect(errors[0]).toMatchObject({ status: 404 });
    await sleep(1500);
    expect(opened).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it.runIf(typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined')(
    'says what to pass where there is no global WebSocket (Node 20)',
    async () => {
      const errors: unknown[] = [];
      client().watchCart('cart_x', () => {}, { onError: (e) => errors.push(e) });
      await eventually(() => errors.length > 0, 'the error');
      expect(String(errors[0])).toContain('createWeft({ WebSocket })');
    },
  );
});
