// Type-level tests, checked by `tsc --noEmit` (npm run typecheck, part of npm test): the
// contract's types reach the caller, so mistakes do not compile. Each `@ts-expect-error`
// fails the typecheck if the line below it compiles.
import { createWeft, type Schemas, type PageItem } from '../src/index.js';

const weft = createWeft({ baseUrl: 'http://localhost:8000' });
const { api } = weft;

export async function paths() {
  // a path the contract has, with its path parameter
  await api.GET('/v1/products/{id}', { params: { path: { id: 'linen-shirt' } } });
  // @ts-expect-error an unknown path
  await api.GET('/v1/produtcs');
  // @ts-expect-error a path that exists for another method only
  await api.DELETE('/v1/products');
  // @ts-expect-error a path parameter under the wrong name
  await api.GET('/v1/products/{id}', { params: { path: { handle: 'linen-shirt' } } });
  // @ts-expect-error a required path parameter left out
  await api.GET('/v1/products/{id}', {});
}

export async function bodies() {
  const path = { id: 'cart_1' };
  await api.POST('/v1/carts/{id}/items', { params: { path }, body: { variant_id: 'var_1', quantity: 2 } });
  // @ts-expect-error a body field of the wrong type (quantity is an integer)
  await api.POST('/v1/carts/{id}/items', { params: { path }, body: { variant_id: 'var_1', quantity: '2' } });
  // @ts-expect-error a required body field left out
  await api.POST('/v1/carts/{id}/items', { params: { path }, body: { variant_id: 'var_1' } });
  // @ts-expect-error sign-in needs a password
  await weft.auth.signIn({ email: 'a@b.c' });
  // @ts-expect-error a query parameter of the wrong type (limit is a number)
  await api.GET('/v1/products', { params: { query: { limit: '20' } } });
}

export async function enums() {
  // the contract's enums (health states) are unions of their values
  const ok: Schemas['ReadinessStatus'] = 'degraded';
  // @ts-expect-error a value the enum does not have
  const wrong: Schemas['ReadinessStatus'] = 'sideways';
  const { data } = await api.GET('/health/ready');
  // @ts-expect-error comparing with a value the enum does not have cannot be true
  if (data?.status === 'sideways') return;
  // @ts-expect-error a check's state is `up` or `down`
  const check: Schemas['CheckStatus'] = 'degraded';
  return [ok, wrong, check];
}

export async function answers() {
  const { data } = await api.GET('/v1/carts/{id}', { params: { path: { id: 'cart_1' } } });
  const total: number | undefined = data?.total.amount;
  // @ts-expect-error an amount is a number, not a string
  const asText: string | undefined = data?.total.amount;
  // @ts-expect-error no such field on a cart
  data?.grand_total;
  return [total, asText];
}

export async function helpers() {
  for await (const product of weft.pages('/v1/products', { params: { query: { limit: 50, category: 'women' } } })) {
    const id: string = product.id;
    // @ts-expect-error pages() yields the list's items (products), not pages
    product.next_cursor;
    void id;
  }
  // @ts-expect-error the category tree is not a cursor-paged list
  weft.pages('/v1/categories');
  // @ts-expect-error nor is an endpoint without GET
  weft.pages('/v1/auth/login');
  // @ts-expect-error nor is a single product
  weft.pages('/v1/products/{id}');
  // @ts-expect-error pages() takes the list's own query parameters
  weft.pages('/v1/orders', { params: { query: { colour: 'red' } } });
  const hit: PageItem<'/v1/search/products'> = { id: 'prod_1' } as Schemas['SearchHit'];
  void hit;

  weft.watchCart('cart_1', (cart) => {
    const n: number = cart.item_count;
    // @ts-expect-error the callback gets a Cart
    cart.lines;
    void n;
  });

  const user: Schemas['User'] = await weft.auth.signUp({ email: 'a@b.c', password: 'long-enough-pw', name: 'A' });
  // @ts-expect-error sign-up takes a name
  await weft.auth.signUp({ email: 'a@b.c', password: 'long-enough-pw' });
  return user;
}
