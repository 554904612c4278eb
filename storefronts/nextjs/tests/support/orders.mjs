// Orders the merchant-area tests work on, placed the way a shop's client would: a guest's
// cart, a checkout with an address and a shipping method, paid with the test provider.
import { createWeft, memoryStorage } from '@weft/sdk';

let made = 0;

/** A draft-free product with one variant and `onHand` units, made by the admin `staff`. */
export async function stockedProduct(staff, { price = 4000, onHand = 50 } = {}) {
  const n = ++made;
  const tag = `${Date.now().toString(36)}-${n}`;
  const { data: product } = await staff.api.POST('/v1/admin/products', {
    body: {
      title: `Admin Test Scarf ${tag}`,
      handle: `admin-test-scarf-${tag}`,
      brand: 'Admin Test Co',
      status: 'active',
      options: [{ name: 'size', values: ['OS'] }],
      variants: [{ sku: `ATS-${tag}`.toUpperCase(), options: { size: 'OS' }, prices: [{ currency: 'USD', amount: price }] }],
    },
  });
  const variant = product.variants[0];
  await staff.api.PUT('/v1/admin/inventory/{variant_id}', { params: { path: { variant_id: variant.id } }, body: { on_hand: onHand } });
  return { product, variant };
}

/** A paid order of `quantity` units of `variantId`, placed by a guest with `email` (or by the signed-in `weft`). */
export async function placeOrder(api, variantId, email, quantity = 2, weft = createWeft({ baseUrl: api, storage: memoryStorage() })) {
  const { data: cart } = await weft.api.POST('/v1/carts', { body: { currency: 'USD' } });
  await weft.api.POST('/v1/carts/{id}/items', { params: { path: { id: cart.id } }, body: { variant_id: variantId, quantity } });
  const { data: checkout } = await weft.api.POST('/v1/checkouts', { body: { cart_id: cart.id } });
  const path = { params: { path: { id: checkout.id } } };
  await weft.api.PATCH('/v1/checkouts/{id}', {
    ...path,
    body: {
      email,
      shipping_address: { name: 'Grace Buyer', line1: '2 Harbor Way', city: 'Oakland', region: 'CA', postal_code: '94607', country: 'US' },
    },
  });
  const { data: methods } = await weft.api.GET('/v1/checkouts/{id}/shipping-methods', path);
  await weft.api.PATCH('/v1/checkouts/{id}', { ...path, body: { shipping_method_id: methods.data[0].id } });
  const { data: done } = await weft.api.POST('/v1/checkouts/{id}/complete', { ...path, body: { payment: { provider: 'test', token: 'tok_visa' } } });
  if (!done.order) throw new Error(`checkout did not make an order: ${JSON.stringify(done)}`);
  return done.order;
}
