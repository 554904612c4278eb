// The catalog the browser tests shop in, made by the admin through the API (so the tests
// do not wait for the demo's background stocking): a category with two products, stock on
// every variant but one sold-out combination, and a 10 % promotion code.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const CATEGORY = { name: 'Test Outerwear', handle: 'test-outerwear' };
export const JACKET = {
  title: 'Zephyrine Rain Jacket',
  handle: 'test-zephyrine-rain-jacket-harbor-1',
  brand: 'Harbor Test Co',
  price: 8900,
  eur: 8200,
  sizes: ['S', 'M', 'L'],
  colors: ['Navy', 'Sand'],
  soldOut: { size: 'L', color: 'Sand' },
};
export const TEE = {
  title: 'Zephyrine Cotton Tee',
  handle: 'test-zephyrine-cotton-tee-harbor-2',
  brand: 'Harbor Test Co',
  price: 2500,
  eur: 2300,
  sizes: ['XS', 'S'],
  colors: ['Navy'],
};
export const PROMO = { code: 'TESTSAVE10', percentage: 10 };

function productBody(p, categoryId) {
  const colorHandle = (c) => c.toLowerCase().replace(/\s+/g, '-');
  return {
    title: p.title,
    handle: p.handle,
    brand: p.brand,
    status: 'active',
    description: `${p.title}: a test product made by the storefront's browser tests.`,
    category_id: categoryId,
    tags: ['test'],
    images: p.colors.map((c) => ({ url: `/media/demo/${p.handle}--${colorHandle(c)}.svg`, alt: `${p.title} in ${c}` })),
    options: [
      { name: 'size', values: p.sizes },
      { name: 'color', values: p.colors },
    ],
    variants: p.colors.flatMap((color) =>
      p.sizes.map((size) => ({
        sku: `${p.handle.slice(5, 20)}-${size}-${colorHandle(color)}`.toUpperCase(),
        options: { size, color },
        prices: [
          { currency: 'USD', amount: p.price },
          { currency: 'EUR', amount: p.eur },
        ],
      })),
    ),
  };
}

export async function seed(staff) {
  const { data: category } = await staff.api.POST('/v1/admin/categories', { body: CATEGORY });
  const made = {};
  for (const p of [JACKET, TEE]) {
    const { data: product } = await staff.api.POST('/v1/admin/products', { body: productBody(p, category.id) });
    for (const v of product.variants) {
      const sold = p.soldOut && v.options.size === p.soldOut.size && v.options.color === p.soldOut.color;
      await staff.api.PUT('/v1/admin/inventory/{variant_id}', {
        params: { path: { variant_id: v.id } },
        body: { on_hand: sold ? 0 : 25 },
      });
    }
    made[p.handle] = product;
  }
  await staff.api.POST('/v1/admin/promotions', {
    body: { code: PROMO.code, kind: 'percentage', percentage: PROMO.percentage, description: '10 % off everything' },
  });

  // The catalog follows inventory through events: wait until both products show their
  // stock, and search finds them, before any page is rendered (and cached) from them.
  const deadline = Date.now() + 60_000;
  await waitFor(async () => {
    for (const p of [JACKET, TEE]) {
      const { data } = await staff.api.GET('/v1/products/{id}', { params: { path: { id: p.handle } } });
      for (const v of data.variants) {
        const sold = p.soldOut && v.options.size === p.soldOut.size && v.options.color === p.soldOut.color;
        if (v.stock_status !== (sold ? 'out_of_stock' : 'in_stock')) return false;
      }
    }
    const { data: found } = await staff.api.GET('/v1/search/products', { params: { query: { q: 'zephyrine', category: CATEGORY.handle } } });
    return found.total === 2 && found.data.every((h) => h.in_stock);
  }, deadline);
  return { category, products: made };
}

async function waitFor(check, deadline) {
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('the catalog did not show the test products and their stock within 60 s');
    await sleep(200);
  }
}
