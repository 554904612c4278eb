// The storefront in a real browser against a real Weft: browse, search, cart, checkout.
// `npm test` runs it; see README.md for what it starts and what it needs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWeft, memoryStorage } from '@weft/sdk';
import { startEnvironment } from './support/env.mjs';
import { seed, CATEGORY, JACKET, TEE, PROMO } from './support/fixtures.mjs';
import { axeChecked, checkPage, RESULTS_DIR, watchConsole } from './support/page.mjs';
import { placeOrder, stockedProduct } from './support/orders.mjs';

let env;
let fixtures;

before(async () => {
  env = await startEnvironment();
  fixtures = await seed(env.staff);
});

after(async () => {
  if (axeChecked.length) console.log(`axe-core checked ${axeChecked.length} pages:`, axeChecked.map((a) => `${a.name} (${a.passes} rules passed, ${a.violations} minor)`).join(', '));
  await env?.stop();
});

/**
 * A test as a fresh shopper (their own cookies, localStorage and cart). On failure the
 * page is screenshotted as FAILED-<n>.png and the browser's errors join the message.
 */
let scenarios = 0;
function scenario(name, fn) {
  const n = ++scenarios;
  test(name, async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    watchConsole(page, errors);
    const unexpected = () => errors.filter((e) => !/Failed to load resource: (the server responded with a status of (402|404|409|422)|net::ERR_CONNECTION_RESET)/.test(e));
    try {
      await fn({ context, page, unexpected });
      assert.deepEqual(unexpected(), [], 'no errors in the browser');
    } catch (e) {
      await page.screenshot({ path: `${RESULTS_DIR}/FAILED-${n}.png`, fullPage: true }).catch(() => {});
      e.message += `\n  at ${page.url()}\n  browser errors: ${JSON.stringify(errors)}`;
      throw e;
    } finally {
      }
  });
}

/** Opens a storefront page and waits until React has hydrated it (clicks before that would be native). */
async function open(page, pathname) {
  await page.goto(`${env.site}${pathname}`);
  await page.locator('html[data-hydrated]').waitFor();
}

async function ordersFor(email) {
  const found = [];
  for await (const o of env.staff.pages('/v1/admin/orders', { params: { query: { limit: 100 } } })) {
    if (o.email === email) found.push(o);
  }
  return found;
}

/** Adds one size of the jacket from its product page; the cart drawer opens with it, and is closed. */
async function addJacket(page, color, size) {
  await page.getByTestId(`option-color-${color}`).click();
  await page.getByTestId(`option-size-${size}`).click();
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByTestId('add-status').getByText(`(${size} / ${color})`).waitFor();
  const drawer = page.getByRole('dialog', { name: /Your cart/ });
  await drawer.getByTestId('line-options').getByText(`${size} / ${color}`).waitFor();
  await drawer.getByRole('button', { name: 'Continue shopping' }).click();
  await drawer.waitFor({ state: 'hidden' });
}

async function fillAddress(page, a) {
  await page.getByLabel('Country').selectOption(a.country);
  await page.getByLabel('Full name').fill(a.name);
  await page.getByLabel('Address', { exact: true }).fill(a.line1);
  await page.getByLabel('City').fill(a.city);
  await page.getByLabel('State / region (optional)').fill(a.region ?? '');
  await page.getByLabel('Postal code').fill(a.postal_code);
}

const ADDRESS = { country: 'US', name: 'Ada Shopper', line1: '1 Market Street', city: 'San Francisco', region: 'CA', postal_code: '94105' };

async function checkoutUpToPayment(page, email) {
  await open(page, `/checkout`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByRole('button', { name: 'Continue to address' }).click();
  await fillAddress(page, ADDRESS);
  await page.getByRole('button', { name: 'Continue to shipping' }).click();
  await page.getByRole('radio', { name: /Standard/i }).check();
  await page.getByRole('button', { name: 'Continue to payment' }).click();
  await page.getByTestId('pay').waitFor();
}

describe('a guest shopper', () => {
  scenario('browses a category with a size filter, and the back button undoes the filter', async ({ context, page }) => {
    await open(page, '/');
    await page.getByRole('heading', { name: 'New arrivals' }).waitFor();
    await checkPage(page, '01-home');

    await open(page, `/categories/${CATEGORY.handle}`);
    await page.getByRole('heading', { level: 1, name: CATEGORY.name }).waitFor();
    const cards = page.getByTestId('product-card');
    assert.equal(await cards.count(), 2, 'both test products are listed');
    await checkPage(page, '02-category');

    // Only the jacket comes in L: the size facet link filters in the URL.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).waitFor();
    await page.getByRole('complementary', { name: 'Filters' }).getByRole('link', { name: /^L \(1\)$/ }).click();
    await page.waitForURL(/size=L/);
    await page.getByText('1 product', { exact: true }).waitFor();
    assert.deepEqual(await cards.locator('h3').allTextContents(), [JACKET.title]);
    await checkPage(page, '03-category-size-L');

    // The filtered URL is shareable: a new tab opened on it shows the same thing.
    const shared = await context.newPage();
    await shared.goto(page.url());
    assert.deepEqual(await shared.getByTestId('product-card').locator('h3').allTextContents(), [JACKET.title]);
    await shared.close();

    await page.goBack();
    await page.waitForURL((u) => !u.search.includes('size='));
    await page.getByText('2 products', { exact: true }).waitFor();

    // Sorting is in the URL too.
    await page.getByLabel('Sort by').selectOption('price_asc');
    await page.waitForURL(/sort=price_asc/);
    await page.getByText('2 products', { exact: true }).waitFor();
    assert.deepEqual(await cards.locator('h3').allTextContents(), [TEE.title, JACKET.title]);
  });

  scenario('searches with typos and sees highlighted matches', async ({ page }) => {
    await open(page, '/');
    await page.getByRole('search').first().getByLabel('Search products').fill('zephyrne jaket');
    await page.getByRole('search').first().getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/search\?q=zephyrne/);
    await page.locator('html[data-hydrated]').waitFor();
    const first = page.getByTestId('product-card').first();
    await first.waitFor();
    assert.equal(await first.locator('h3').textContent(), JACKET.title);
    assert.ok(await first.locator('h3 em').count() >= 1, 'the matching words are highlighted');
    await checkPage(page, '04-search-typo');

    // Search as you type: the results follow the box.
    await page.getByLabel('Search products').nth(1).fill('zephyrine cotton');
    await page.waitForURL(/q=zephyrine\+cotton|q=zephyrine%20cotton/);
    await page.getByText('1 product', { exact: true }).waitFor();
    assert.equal(await page.getByTestId('product-card').locator('h3').first().textContent(), TEE.title);
  });

  scenario('product page: structured data, Open Graph, and a sold-out size that cannot be picked', async ({ page }) => {
    await open(page, `/products/${JACKET.handle}`);
    await page.getByRole('heading', { level: 1, name: JACKET.title }).waitFor();

    const ld = JSON.parse(await page.locator('script[type="application/ld+json"]').textContent());
    assert.equal(ld['@type'], 'Product');
    assert.equal(ld.name, JACKET.title);
    assert.equal(ld.brand.name, JACKET.brand);
    // One offer per variant and shop currency.
    assert.equal(ld.offers.length, 12);
    assert.deepEqual([...new Set(ld.offers.map((o) => o.priceCurrency))].sort(), ['EUR', 'USD']);
    assert.equal(ld.offers.filter((o) => o.availability === 'https://schema.org/OutOfStock').length, 2);
    assert.equal(await page.locator('meta[property="og:title"]').getAttribute('content'), JACKET.title);
    assert.match(await page.locator('meta[property="og:image"]').getAttribute('content'), /\/media\/demo\//);

    // The picture is served through the storefront.
    const img = await page.request.get(`${env.site}/media/demo/${JACKET.handle}--navy.svg`);
    assert.equal(img.status(), 200);
    assert.match(img.headers()['content-type'], /image\/svg\+xml/);

    await page.getByTestId(`option-color-${JACKET.soldOut.color}`).click();
    const soldOut = page.locator(`#opt-size-${JACKET.soldOut.size.toLowerCase()}`);
    assert.equal(await soldOut.isDisabled(), true, 'L in Sand is sold out and cannot be chosen');
    assert.equal(await page.locator('#opt-size-m').isDisabled(), false, 'M in Sand is in stock');
    await page.getByTestId('option-size-M').click();
    await page.getByTestId('stock-state').getByText('In stock').waitFor();
    await checkPage(page, '05-product-sold-out-size');

    await page.getByTestId(`option-color-Navy`).click();
    assert.equal(await page.locator('#opt-size-l').isDisabled(), false, 'L in Navy is for sale');
    assert.ok((await page.getByTestId('recommendations').count()) <= 1);
  });

  scenario('adds two sizes, applies a code, follows live changes, and pays with 3-D Secure after a double click: one order', async ({ page }) => {
    await open(page, `/products/${JACKET.handle}`);
    await addJacket(page, 'Navy', 'M');
    await addJacket(page, 'Navy', 'L');
    await page.getByTestId('cart-count').getByText('2').waitFor();

    await open(page, `/cart`);
    await page.getByTestId('cart-line').nth(1).waitFor();
    assert.deepEqual((await page.getByTestId('line-options').allTextContents()).sort(), ['L / Navy', 'M / Navy']);
    assert.equal(await page.getByTestId('subtotal').textContent(), '$178.00');

    // A code that does not exist: the server's reason is shown.
    await page.getByLabel('Promo code').fill('NOSUCHCODE');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByTestId('promo-error').getByText('does not exist').waitFor();
    await checkPage(page, '06-cart-bad-code');

    await page.getByLabel('Promo code').fill(PROMO.code.toLowerCase());
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByTestId('discounts').waitFor();
    assert.equal(await page.getByTestId('discounts').textContent(), '−$17.80');
    assert.equal(await page.getByTestId('total').textContent(), '$160.20');

    // Shipping estimate: the cart priced by Weft for a destination and a method.
    await page.getByLabel('Estimate shipping and tax').selectOption('US');
    await page.getByRole('radio', { name: /Express/ }).check();
    await page.getByTestId('shipping').getByText('$15.00').waitFor();
    assert.equal(await page.getByTestId('total').textContent(), '$175.20');

    // Another device changes the cart: the page follows over the live WebSocket.
    const cartId = await page.evaluate(() => localStorage.getItem('weft.cart_id'));
    // (a guest cart is used by whoever holds its id: another device of the same guest)
    const other = await fetch(`${env.api}/v1/carts/${cartId}`).then((r) => r.json());
    const mLine = other.items.find((i) => i.options.size === 'M');
    const res = await fetch(`${env.api}/v1/carts/${cartId}/items/${mLine.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 2 }),
    });
    assert.equal(res.status, 200);
    await page.getByTestId('cart-count').getByText('3').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('subtotal').textContent(), '$267.00');
    await page.getByRole('button', { name: /Decrease quantity of .* M \/ Navy/ }).click();
    await page.getByTestId('subtotal').getByText('$178.00').waitFor();
    assert.equal(await page.getByTestId('line-quantity').first().textContent(), 'Quantity 1');
    await checkPage(page, '07-cart-with-code');

    // Checkout, with bad input first: the API's field errors land on their fields.
    await page.getByTestId('to-checkout').click();
    await page.getByLabel('E-mail').fill('not-an-email');
    await page.getByRole('button', { name: 'Continue to address' }).click();
    await page.getByTestId('error-email-error').waitFor();
    assert.equal(await page.getByLabel('E-mail').getAttribute('aria-invalid'), 'true');
    await checkPage(page, '08-checkout-bad-email');
    const email = `guest-3ds-${Date.now()}@shop-test.example`;
    await page.getByLabel('E-mail').fill(email);
    await page.getByRole('button', { name: 'Continue to address' }).click();

    await fillAddress(page, { ...ADDRESS, postal_code: 'ABCDE' });
    await page.getByRole('button', { name: 'Continue to shipping' }).click();
    await page.getByTestId('error-addr-postal_code').waitFor();
    assert.equal(await page.getByLabel('Postal code').getAttribute('aria-invalid'), 'true');
    await checkPage(page, '09-checkout-bad-postal-code');
    await page.getByLabel('Postal code').fill(ADDRESS.postal_code);
    await page.getByRole('button', { name: 'Continue to shipping' }).click();

    await page.getByRole('radio', { name: /Standard/i }).waitFor();
    await checkPage(page, '10-checkout-shipping');
    await page.getByRole('radio', { name: /Standard/i }).check();
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await page.getByRole('radio', { name: /3-D Secure/ }).check();
    await checkPage(page, '11-checkout-payment');

    // A double click on Pay: one attempt, one key, one order.
    const completes = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/complete')) completes.push(r.headers()['idempotency-key']);
    });
    await page.getByTestId('pay').dblclick();
    await page.getByTestId('three-d-secure').waitFor();
    assert.ok(completes.length >= 1 && new Set(completes).size === 1, `every complete request carries the same key: ${completes}`);
    await checkPage(page, '12-checkout-3ds');
    await page.getByRole('button', { name: 'Approve payment' }).click();

    await page.waitForURL(/\/checkout\/confirmation\?order=ord_/);
    await page.getByTestId('confirmation').waitFor();
    assert.equal(await page.getByTestId('order-status').textContent(), 'paid');
    const orderId = await page.getByTestId('order-id').textContent();
    await checkPage(page, '13-confirmation');
    await page.getByTestId('cart-count').getByText('0').waitFor();

    const orders = await ordersFor(email);
    assert.deepEqual(orders.map((o) => o.id), [orderId], 'exactly one order for this shopper');
    const o = orders[0];
    assert.equal(o.subtotal.amount, 17800);
    assert.equal(o.discounts.amount, 1780, 'the code took 10 % off');
    assert.equal(o.total.amount, o.subtotal.amount - o.discounts.amount + o.shipping.amount + o.tax.amount);
    assert.equal(o.lines.reduce((n, l) => n + l.quantity, 0), 2);
  });

  scenario('a shopper who chooses EUR sees euro prices everywhere, and the cart drawer and the cart follow the currency', async ({ page }) => {
    await open(page, `/products/${JACKET.handle}`);
    const shownPrice = () => page.getByTestId('price').filter({ visible: true });
    await page.getByTestId('option-color-Navy').click();
    await page.getByTestId('option-size-M').click();
    assert.equal(await shownPrice().textContent(), '$89.00');
    await page.getByTestId('currency').selectOption('EUR');
    assert.equal(await shownPrice().textContent(), '€82.00');

    // The choice outlives the page (a cookie): a cached product page shows it at once.
    await open(page, `/products/${JACKET.handle}`);
    assert.equal(await page.getByTestId('currency').inputValue(), 'EUR');
    assert.equal(await page.locator('main [data-cur="EUR"]').first().isVisible(), true);
    assert.equal(await page.locator('main [data-cur="USD"]').first().isVisible(), false);

    // Added: the drawer opens with the line, in euros; the cart was made in EUR.
    await page.getByTestId('option-size-M').click();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    const drawer = page.getByRole('dialog', { name: /Your cart/ });
    await drawer.getByTestId('drawer-subtotal').getByText('€82.00').waitFor();
    await checkPage(page, '05b-cart-drawer-eur');
    const cartId = await page.evaluate(() => localStorage.getItem('weft.cart_id'));
    const cartNow = () => fetch(`${env.api}/v1/carts/${cartId}`).then((r) => r.json());
    assert.equal((await cartNow()).currency, 'EUR');
    // The drawer changes quantities like the cart page.
    await drawer.getByRole('button', { name: /Increase quantity of .* M \/ Navy/ }).click();
    await drawer.getByTestId('drawer-subtotal').getByText('€164.00').waitFor();
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    // Back to dollars: the same cart, re-priced by Weft.
    await page.getByTestId('currency').selectOption('USD');
    for (let i = 0; i < 50 && (await cartNow()).currency !== 'USD'; i++) await new Promise((r) => setTimeout(r, 100));
    const cart = await cartNow();
    assert.deepEqual([cart.currency, cart.subtotal.amount, cart.items.length], ['USD', 17800, 1]);
    await page.getByTestId('cart-link').click();
    await drawer.getByTestId('drawer-subtotal').getByText('$178.00').waitFor();
    await drawer.getByRole('link', { name: 'View cart' }).click();
    await page.waitForURL(/\/cart$/);
    await drawer.waitFor({ state: 'hidden' });
    assert.equal(await page.getByTestId('subtotal').textContent(), '$178.00');

    // A listing's price filters are in the shopper's currency (the server reads the cookie).
    await open(page, `/categories/${CATEGORY.handle}`);
    const filters = page.getByRole('complementary', { name: 'Filters' }).getByRole('group', { name: 'Price' });
    await filters.getByText(/\$/).first().waitFor();
    await page.getByTestId('currency').selectOption('EUR');
    await filters.getByText(/€/).first().waitFor();
    assert.equal(await filters.getByText(/\$/).count(), 0);
  });

  test('a catalog change shows at once once the shop is asked to revalidate: by an admin, never by a shopper', async () => {
    const revalidate = (headers = {}) => fetch(`${env.site}/api/revalidate`, { method: 'POST', headers });
    const anonymous = await revalidate();
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).code, 'unauthorized');
    const shopper = createWeft({ baseUrl: env.api, storage: memoryStorage() });
    const shopperStorage = memoryStorage();
    const signedUp = createWeft({ baseUrl: env.api, storage: shopperStorage });
    await signedUp.auth.signUp({ email: `reval-${Date.now()}@shop-test.example`, password: 'a long enough password 42', name: 'Rae' });
    const customer = await revalidate({ authorization: `Bearer ${(await shopperStorage.get()).access_token}` });
    assert.equal(customer.status, 403);
    assert.equal(await shopper.auth.isSignedIn(), false);

    const page = () => fetch(`${env.site}/products/${TEE.handle}`).then((r) => r.text());
    const { data: tee } = await env.staff.api.GET('/v1/products/{id}', { params: { path: { id: TEE.handle } } });
    // A fresh start: everything cached from now on is at most a few seconds old.
    assert.equal((await revalidate({ authorization: `Bearer ${await env.staffToken()}` })).status, 200);
    const added = 'Now in organic cotton.';
    let html = '';
    for (let i = 0; i < 20 && !html.includes(TEE.title); i++) html = await page();
    assert.ok(html.includes(TEE.title) && !html.includes(added), 'rendered, and now cached');
    await env.staff.api.PATCH('/v1/admin/products/{id}', { params: { path: { id: tee.id } }, body: { description: `${tee.description} ${added}` } });
    try {
      assert.ok(!(await page()).includes(added), 'cached for a minute: the change is not shown before revalidation');
      const ok = await revalidate({ authorization: `Bearer ${await env.staffToken()}` });
      assert.equal(ok.status, 200);
      for (let i = 0; i < 20 && !html.includes(added); i++) html = await page();
      assert.ok(html.includes(added), 'shown right after revalidation');
    } finally {
      await env.staff.api.PATCH('/v1/admin/products/{id}', { params: { path: { id: tee.id } }, body: { description: tee.description } });
      await revalidate({ authorization: `Bearer ${await env.staffToken()}` });
    }
  });

  scenario('a declined card is reported, nothing is ordered, and another card then pays', async ({ page }) => {
    await open(page, `/products/${TEE.handle}`);
    await page.getByTestId('option-size-S').click();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByTestId('cart-count').getByText('1').waitFor();
    const email = `guest-declined-${Date.now()}@shop-test.example`;
    await checkoutUpToPayment(page, email);

    await page.getByRole('radio', { name: /insufficient funds/ }).check();
    await page.getByTestId('pay').click();
    await page.getByTestId('payment-message').getByText('insufficient_funds').waitFor();

    await page.getByRole('radio', { name: /declined/ }).check();
    await page.getByTestId('pay').click();
    await page.getByTestId('payment-message').getByText('card_declined').waitFor();
    await checkPage(page, '14-checkout-declined');
    assert.deepEqual(await ordersFor(email), [], 'a declined card makes no order');

    // The answer to the good card is lost on the way back (the server did place the
    // order): the SDK sends the request again with the same key, and the browser reads
    // Weft's replayed answer (cross-origin: it carries the CORS headers) — the same order.
    const keys = [];
    await page.route('**/complete', async (route) => {
      keys.push(route.request().headers()['idempotency-key']);
      if (keys.length > 1) return route.continue(); // the retry goes to Weft itself
      await route.fetch(); // the server handles it…
      return route.abort('connectionreset'); // …and the browser never hears back
    });
    await page.getByRole('radio', { name: /succeeds/ }).check();
    await page.getByTestId('pay').click();
    await page.waitForURL(/\/checkout\/confirmation\?order=ord_/);
    assert.equal(await page.getByTestId('order-status').textContent(), 'paid');
    assert.equal(keys.length, 2, 'the lost answer was asked for again');
    assert.equal(keys[0], keys[1], 'with the same Idempotency-Key');
    const orders = await ordersFor(email);
    assert.deepEqual(orders.map((o) => o.id), [await page.getByTestId('order-id').textContent()], 'one order');
  });

  test(
    "Weft's idempotent replay carries CORS headers, so a browser can read a retried answer",
    async () => {
      const key = crypto.randomUUID();
      const send = () =>
        fetch(`${env.api}/v1/carts`, {
          method: 'POST',
          headers: { origin: env.site, 'content-type': 'application/json', 'idempotency-key': key },
          body: '{}',
        });
      const first = await send();
      const again = await send();
      assert.equal(first.headers.get('access-control-allow-origin'), env.site, 'the first answer is readable cross-origin');
      assert.equal(again.headers.get('idempotent-replayed'), 'true', 'the second is the replay');
      assert.equal(again.headers.get('access-control-allow-origin'), env.site, 'the replay is readable cross-origin too');
    },
  );

  scenario('a product page shows its reviews: the rating, how the size runs, verified buyers and the shop\'s reply', async ({ page }) => {
    const { product, variant } = await stockedProduct(env.staff);
    const email = `reviewer-${Date.now()}@storefront-test.example`;
    const buyer = createWeft({ baseUrl: env.api, storage: memoryStorage() });
    await buyer.auth.signUp({ email, password: 'reviewer password 17 long', name: 'Rita Reviewer' });
    await placeOrder(env.api, variant.id, email, 1, buyer);
    // The order reaches reviews as an event after the answer: behind the demo's background
    // stocking (~14,000 stock events, applied at ~50/s by a debug build: minutes; issue 20
    // is about that backlog), so the wait is long.
    let review;
    for (const deadline = Date.now() + 240_000; !review && Date.now() < deadline; ) {
      try {
        const { data } = await buyer.api.POST('/v1/products/{id}/reviews', {
          params: { path: { id: product.id } },
          body: { rating: 4, title: 'Warm and soft', body: 'Wore it all winter.', size_fit: 'runs_small', author_name: 'Rita R.' },
        });
        review = data;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(review, 'the buyer could review');
    assert.equal(review.status, 'published');
    await env.staff.api.POST('/v1/admin/reviews/{id}/reply', {
      params: { path: { id: review.id } },
      body: { body: 'Thank you, Rita!' },
    });
    await open(page, `/products/${product.handle}`);
    const reviews = page.getByTestId('reviews');
    await reviews.getByText('4.0 out of 5, from 1 review').waitFor();
    const shown = reviews.getByTestId('review');
    assert.equal(await shown.count(), 1);
    assert.match(await shown.innerText(), /Warm and soft[\s\S]*Rita R\.[\s\S]*Verified purchase[\s\S]*Runs small[\s\S]*Wore it all winter\.[\s\S]*Thank you, Rita!/);
    await reviews.getByRole('table', { name: 'Ratings by stars' }).waitFor();
    // Search engines are told the rating too.
    const ld = JSON.parse(await page.locator('script[type="application/ld+json"]').first().textContent());
    assert.deepEqual(ld.aggregateRating, { '@type': 'AggregateRating', ratingValue: 4, reviewCount: 1, bestRating: 5, worstRating: 1 });
    await checkPage(page, '15-product-reviews');
  });

  test('serves robots.txt and a sitemap listing the categories and products', async () => {
    const robots = await fetch(`${env.site}/robots.txt`).then((r) => r.text());
    assert.match(robots, new RegExp(`Sitemap: ${env.site}/sitemap.xml`));
    const sitemap = await fetch(`${env.site}/sitemap.xml`).then((r) => r.text());
    assert.ok(sitemap.includes(`${env.site}/categories/${CATEGORY.handle}`));
    assert.ok(sitemap.includes(`${env.site}/products/${JACKET.handle}`));
    assert.ok(fixtures.products[TEE.handle]);
  });
});
