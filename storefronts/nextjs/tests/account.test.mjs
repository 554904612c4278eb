// The customer account (/account) in a real browser against a real Weft: sign up and in,
// a guest cart kept at sign-in, checkout as a customer, orders with their history,
// invoice, cancel, return, addresses, data export and account deletion.
// `npm test` runs it with the other files; see README.md ("Account").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createWeft, memoryStorage } from '@weft/sdk';
import { startEnvironment } from './support/env.mjs';
import { startOidcProvider } from './support/oidc.mjs';
import { freePort } from './support/processes.mjs';
import { seed, JACKET, TEE } from './support/fixtures.mjs';
import { axeChecked, checkPage, RESULTS_DIR, watchConsole } from './support/page.mjs';

let env;
let fixtures;

// Google is the one social provider configured — a real OpenID Connect provider
// (platform/testkit/oidc) that sends the browser back to the shop's callback page;
// Facebook is not configured.
let oidc;
let AUTH_URL;

before(async () => {
  const sitePort = await freePort();
  const callback = `http://127.0.0.1:${sitePort}/account/callback/google`;
  oidc = await startOidcProvider([{ client_id: 'shop-test-client', client_secret: 'shop-test-secret', redirect_uris: [callback] }]);
  AUTH_URL = `${oidc.issuer}/auth`;
  env = await startEnvironment({
    sitePort,
    weftEnv: {
      WEFT_SOCIAL__GOOGLE__CLIENT_ID: 'shop-test-client',
      WEFT_SOCIAL__GOOGLE__CLIENT_SECRET: 'shop-test-secret',
      WEFT_SOCIAL__GOOGLE__REDIRECT_URL: callback,
      WEFT_SOCIAL__GOOGLE__AUTH_URL: AUTH_URL,
      WEFT_SOCIAL__GOOGLE__TOKEN_URL: `${oidc.issuer}/token`,
      WEFT_SOCIAL__GOOGLE__USERINFO_URL: `${oidc.issuer}/me`,
    },
  });
  fixtures = await seed(env.staff);
});

after(async () => {
  if (axeChecked.length) console.log(`axe-core checked ${axeChecked.length} account pages:`, axeChecked.map((a) => a.name).join(', '));
  await env?.stop();
  await oidc?.stop();
});

const PASSWORD = 'plaid flannel 42 weft';
const ADDRESS = { country: 'US', name: 'Cora Customer', line1: '1 Market Street', city: 'San Francisco', region: 'CA', postal_code: '94105' };

/** A fresh shopper (own localStorage) per test; on failure a FAILED-account-<n>.png and the browser's errors. */
let scenarios = 0;
function scenario(name, fn) {
  const n = ++scenarios;
  test(name, async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    watchConsole(page, errors);
    // Refusals the page shows on purpose: 401 (wrong password), 404, 422 (field errors).
    const unexpected = () => errors.filter((e) => !/Failed to load resource: the server responded with a status of (401|404|422)/.test(e));
    try {
      await fn({ context, page });
      assert.deepEqual(unexpected(), [], 'no errors in the browser');
    } catch (e) {
      await page.screenshot({ path: `${RESULTS_DIR}/FAILED-account-${n}.png`, fullPage: true }).catch(() => {});
      e.message += `\n  at ${page.url()}\n  browser errors: ${JSON.stringify(errors)}`;
      throw e;
    } finally {
      await context.close();
    }
  });
}

async function open(page, pathname) {
  await page.goto(`${env.site}${pathname}`);
  await page.locator('html[data-hydrated]').waitFor();
}

/** A Node client of Weft signed in as the customer (to check what the browser did). */
async function customerClient(email) {
  const weft = createWeft({ baseUrl: env.api, storage: memoryStorage() });
  await weft.auth.signIn({ email, password: PASSWORD });
  return weft;
}

async function signIn(page, email, password) {
  const form = page.getByRole('region', { name: 'Sign in' });
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/** Reads a download the page started into a Buffer. */
async function downloaded(page, click) {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  return { name: download.suggestedFilename(), body: await readFile(await download.path()) };
}

describe('the customer account', () => {
  scenario('sign up: a bad password is refused on its field, then a good one signs in; a button for each social provider Weft offers', async ({ page }) => {
    await open(page, '/account');
    const signUp = page.getByRole('region', { name: 'Create an account' });
    await signUp.waitFor();
    await checkPage(page, 'account-01-signed-out');
    const { data: providers } = await env.staff.api.GET('/v1/auth/providers');
    assert.deepEqual(providers.data.map((p) => p.id), ['google'], 'the test Weft offers Google alone');
    const buttons = page.getByTestId('social-providers').getByRole('link');
    await buttons.first().waitFor();
    assert.deepEqual(await buttons.allTextContents(), ['Sign in with Google'], 'no button for a provider Weft does not offer');
    const href = await buttons.first().getAttribute('href');
    assert.equal(href, `${env.api}${providers.data[0].start_path}`);
    // The link starts Weft's authorisation-code flow: a redirect to the provider with PKCE and a state.
    const started = await fetch(href, { redirect: 'manual' });
    assert.ok([302, 303, 307].includes(started.status), `a redirect, not ${started.status}`);
    const to = new URL(started.headers.get('location'));
    assert.equal(`${to.origin}${to.pathname}`, AUTH_URL);
    assert.equal(to.searchParams.get('client_id'), 'shop-test-client');
    assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(to.searchParams.get('state'), 'a state');

    const email = `signup-${Date.now()}@shop-test.example`;
    await signUp.getByLabel('Name').fill('Sam Signup');
    await signUp.getByLabel('E-mail').fill(email);
    await signUp.getByLabel('New password').fill('short');
    await signUp.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('error-signup-password').getByText('at least 10 characters').waitFor();
    assert.equal(await signUp.getByLabel('New password').getAttribute('aria-invalid'), 'true');
    await checkPage(page, 'account-02-signup-bad-password');

    await signUp.getByLabel('New password').fill(PASSWORD);
    await signUp.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('signed-in-as').getByText(email).waitFor();
    await page.getByText('No orders yet.').waitFor();
    await checkPage(page, 'account-03-signed-in');

    // The account exists in Weft; the session survives a reload (localStorage).
    const weft = await customerClient(email);
    assert.equal((await weft.api.GET('/v1/me')).data.name, 'Sam Signup');
    await page.reload();
    await page.getByTestId('signed-in-as').getByText(email).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('region', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('weft.tokens')), null, 'the session is gone');
  });

  scenario('signing in or out in one tab is followed by the account page open in another', async ({ context, page }) => {
    const email = `two-tabs-${Date.now()}@shop-test.example`;
    await createWeft({ baseUrl: env.api, storage: memoryStorage() }).auth.signUp({ email, password: PASSWORD, name: 'Tess Tabs' });
    const other = await context.newPage();
    await open(other, '/account');
    await other.getByRole('region', { name: 'Sign in' }).waitFor();

    await open(page, '/account');
    await signIn(page, email, PASSWORD);
    await page.getByTestId('signed-in-as').getByText(email).waitFor();
    await other.getByTestId('signed-in-as').getByText(email).waitFor();

    await other.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('region', { name: 'Sign in' }).waitFor();
    assert.equal(await page.getByTestId('signed-in-as').count(), 0);
  });

  scenario('social sign-in: Google (a real OpenID Connect provider) sends the shopper back to the shop, signed in, with the guest cart', async ({ page }) => {
    await open(page, `/products/${TEE.handle}`);
    await page.getByTestId('option-size-XS').click();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByTestId('cart-count').getByText('1').waitFor();

    const email = `social-${Date.now()}@shop-test.example`;
    await open(page, '/account');
    await page.getByRole('region', { name: 'Sign in' }).getByLabel('E-mail').fill(email);
    const button = page.getByRole('link', { name: 'Sign in with Google' });
    assert.match(await button.getAttribute('href'), new RegExp(`/v1/auth/oauth/google/start\\?login_hint=${encodeURIComponent(email).replace(/\./g, '\\.')}$`));
    await button.click();
    // Weft → the provider (sign-in and consent complete by themselves) → the shop's callback page.
    await page.waitForURL(/\/account$/, { timeout: 30_000 });
    await page.getByTestId('signed-in-as').getByText(email).waitFor();
    await checkPage(page, 'account-04-social-signed-in');

    // A customer was made from the provider's verified e-mail, and the guest's tee is in their cart.
    const tokens = await page.evaluate(() => JSON.parse(localStorage.getItem('weft.tokens')));
    const me = await fetch(`${env.api}/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } }).then((r) => r.json());
    assert.equal(me.email, email);
    assert.equal(me.role, 'customer');
    const cartId = await page.evaluate(() => localStorage.getItem('weft.cart_id'));
    const cart = await fetch(`${env.api}/v1/carts/${cartId}`, { headers: { authorization: `Bearer ${tokens.access_token}` } }).then((r) => r.json());
    assert.equal(cart.customer_id, me.id);
    assert.deepEqual(cart.items.map((i) => [i.handle, i.options.size]), [[TEE.handle, 'XS']]);

    // Without an e-mail the provider's person declines: the shop says so.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.context().clearCookies(); // the provider's own session too
    await page.getByRole('link', { name: 'Sign in with Google' }).click();
    await page.getByTestId('social-error').waitFor({ timeout: 30_000 });
    assert.match(await page.getByTestId('social-error').textContent(), /did not complete/);
    await checkPage(page, 'account-05-social-declined');
  });

  scenario('a guest cart is kept at sign-in; checkout as the customer; orders, invoice, cancel, return, addresses, export, deletion', async ({ page }) => {
    const email = `customer-${Date.now()}@shop-test.example`;
    const made = createWeft({ baseUrl: env.api, storage: memoryStorage() });
    const user = await made.auth.signUp({ email, password: PASSWORD, name: 'Cora Customer' });

    // As a guest: the tee (S) into the cart.
    await open(page, `/products/${TEE.handle}`);
    await page.getByTestId('option-size-S').click();
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByTestId('cart-count').getByText('1').waitFor();
    const guestCart = await page.evaluate(() => localStorage.getItem('weft.cart_id'));

    // Sign in: a wrong password is one message (401), then the right one.
    await open(page, '/account');
    await signIn(page, email, 'not the password at all');
    await page.getByTestId('signin-error').getByText('do not match').waitFor();
    await checkPage(page, 'account-06-signin-wrong-password');
    await signIn(page, email, PASSWORD);
    await page.getByTestId('signed-in-as').getByText(email).waitFor();

    // The guest cart moved into the customer's cart: same lines, the customer's now.
    await page.waitForFunction((old) => localStorage.getItem('weft.cart_id') !== old, guestCart);
    const cartId = await page.evaluate(() => localStorage.getItem('weft.cart_id'));
    const customer = await customerClient(email);
    const { data: cart } = await customer.api.GET('/v1/carts/{id}', { params: { path: { id: cartId } } });
    assert.equal(cart.customer_id, user.id, 'the cart is the customer’s');
    assert.deepEqual(cart.items.map((i) => [i.handle, i.options.size, i.quantity]), [[TEE.handle, 'S', 1]]);
    assert.equal((await fetch(`${env.api}/v1/carts/${guestCart}`)).status, 404, 'the guest cart is gone');
    assert.equal(await page.getByTestId('cart-count').textContent(), '1');

    // Checkout as the customer: the e-mail is filled in.
    await open(page, '/checkout');
    const emailField = page.getByLabel('E-mail');
    await page.waitForFunction(() => document.querySelector('#email')?.value);
    assert.equal(await emailField.inputValue(), email);
    await checkPage(page, 'account-07-checkout-prefilled');
    await page.getByRole('button', { name: 'Continue to address' }).click();
    await page.getByLabel('Country').selectOption(ADDRESS.country);
    await page.getByLabel('Full name').fill(ADDRESS.name);
    await page.getByLabel('Address', { exact: true }).fill(ADDRESS.line1);
    await page.getByLabel('City').fill(ADDRESS.city);
    await page.getByLabel('State / region (optional)').fill(ADDRESS.region);
    await page.getByLabel('Postal code').fill(ADDRESS.postal_code);
    await page.getByRole('button', { name: 'Continue to shipping' }).click();
    await page.getByRole('radio', { name: /Standard/i }).check();
    await page.getByRole('button', { name: 'Continue to payment' }).click();
    await page.getByRole('radio', { name: /succeeds/ }).check();
    await page.getByTestId('pay').click();
    await page.waitForURL(/\/checkout\/confirmation\?order=ord_/);
    const orderId = await page.getByTestId('order-id').textContent();

    // The order under /account, then its page with its history.
    await open(page, '/account');
    const row = page.getByTestId(`order-${orderId}`);
    await row.waitFor();
    assert.equal(await row.getByTestId('order-status').textContent(), 'Paid');
    await checkPage(page, 'account-08-orders');
    await row.getByRole('link', { name: orderId }).click();
    await page.waitForURL(new RegExp(`/account/orders/${orderId}$`));
    await page.getByTestId('order-history').getByText('Awaiting payment → Paid').waitFor();
    await checkPage(page, 'account-09-order');

    // The invoice: a PDF, fetched with the session and saved.
    const invoice = await downloaded(page, () => page.getByRole('button', { name: 'Download invoice (PDF)' }).click());
    assert.equal(invoice.name, `invoice-${orderId}.pdf`);
    assert.equal(invoice.body.subarray(0, 5).toString('latin1'), '%PDF-');

    // Cancel before fulfilment.
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await page.getByTestId('order-status').getByText('Cancelled').waitFor();
    await page.getByTestId('order-history').getByText('Paid → Cancelled').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Cancel order' }).count(), 0);
    assert.equal((await customer.api.GET('/v1/orders/{id}', { params: { path: { id: orderId } } })).data.status, 'cancelled');
    await checkPage(page, 'account-10-order-cancelled');

    // A shipped order (bought through the API, fulfilled by the merchant): a return request.
    const shipped = await buyJacket(customer, email);
    await env.staff.api.POST('/v1/admin/orders/{id}/fulfillments', { params: { path: { id: shipped } }, body: { tracking_number: '1Z999', carrier: 'ups' } });
    await open(page, `/account/orders/${shipped}`);
    await page.getByTestId('order-status').getByText('Shipped').waitFor();
    await page.getByTestId('order-history').getByText('tracking 1Z999').waitFor();
    await page.getByRole('button', { name: 'Request return' }).click();
    await page.getByText('Choose at least one item to return.').waitFor();
    await page.getByLabel(new RegExp(JACKET.title)).selectOption('1');
    await page.getByLabel('Reason').fill('too small');
    await page.getByRole('button', { name: 'Request return' }).click();
    await page.getByTestId('returns').getByText('requested').waitFor();
    await checkPage(page, 'account-11-return-requested');
    const { data: withReturn } = await customer.api.GET('/v1/orders/{id}', { params: { path: { id: shipped } } });
    assert.deepEqual(withReturn.returns.map((r) => [r.status, r.reason, r.items[0].quantity]), [['requested', 'too small', 1]]);

    // Addresses: a bad postal code on its field, then a good one; edit; delete.
    await open(page, '/account');
    const book = page.getByRole('region', { name: 'Addresses' });
    await book.getByRole('button', { name: 'Add an address' }).click();
    await book.getByLabel('Country', { exact: true }).selectOption('US');
    await book.getByLabel('Full name').fill(ADDRESS.name);
    await book.getByLabel('Address', { exact: true }).fill(ADDRESS.line1);
    await book.getByLabel('City').fill(ADDRESS.city);
    await book.getByLabel('State / region').fill(ADDRESS.region);
    await book.getByLabel('Postal code').fill('ABCDE');
    await book.getByRole('button', { name: 'Add address' }).click();
    await book.getByTestId('error-address-new-postal_code').getByText('not a valid postal code').waitFor();
    assert.equal(await book.getByLabel('Postal code').getAttribute('aria-invalid'), 'true');
    await checkPage(page, 'account-12-address-bad-postal-code');
    await book.getByLabel('Postal code').fill(ADDRESS.postal_code);
    await book.getByRole('button', { name: 'Add address' }).click();
    await book.getByTestId('address').getByText('1 Market Street, San Francisco, CA, 94105, US').waitFor();
    await book.getByRole('button', { name: /^Edit/ }).click();
    await book.getByLabel('City').fill('Oakland');
    await book.getByLabel('Postal code').fill('94607');
    await book.getByRole('button', { name: 'Save address' }).click();
    await book.getByTestId('address').getByText('1 Market Street, Oakland, CA, 94607, US').waitFor();
    await checkPage(page, 'account-13-addresses');
    const { data: addresses } = await customer.api.GET('/v1/me/addresses');
    assert.deepEqual(addresses.data.map((a) => [a.city, a.postal_code, a.is_default]), [['Oakland', '94607', true]]);
    await book.getByRole('button', { name: /^Delete/ }).click();
    await book.getByText('No saved addresses.').waitFor();
    assert.equal((await customer.api.GET('/v1/me/addresses')).data.data.length, 0);

    // Export: a JSON file with what Weft holds about the customer.
    const exported = await downloaded(page, () => page.getByRole('button', { name: 'Download my data (JSON)' }).click());
    const data = JSON.parse(exported.body.toString('utf8'));
    assert.equal(data.user.email, email);
    assert.equal(data.user.id, user.id);
    assert.ok(Array.isArray(data.sessions) && data.sessions.length >= 1);

    // Deletion, after a confirmation: signed out, and the password no longer works.
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('group', { name: 'Delete your account?' }).waitFor();
    await checkPage(page, 'account-14-delete-confirm');
    await page.getByRole('button', { name: 'Yes, delete my account' }).click();
    await page.getByRole('region', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('weft.tokens')), null);
    await signIn(page, email, PASSWORD);
    await page.getByTestId('signin-error').getByText('do not match').waitFor();
    await assert.rejects(customerClient(email), (e) => e.status === 401 && e.code === 'invalid_credentials');
  });
});

/** Buys one jacket (M / Navy) as the customer through the API; answers the order id. */
async function buyJacket(weft, email) {
  const variant = fixtures.products[JACKET.handle].variants.find((v) => v.options.size === 'M' && v.options.color === 'Navy');
  const { data: cart } = await weft.api.POST('/v1/carts', { body: {} });
  await weft.api.POST('/v1/carts/{id}/items', { params: { path: { id: cart.id } }, body: { variant_id: variant.id, quantity: 1 } });
  const { data: co } = await weft.api.POST('/v1/checkouts', { body: { cart_id: cart.id } });
  await weft.api.PATCH('/v1/checkouts/{id}', { params: { path: { id: co.id } }, body: { email, shipping_address: ADDRESS } });
  const { data: methods } = await weft.api.GET('/v1/checkouts/{id}/shipping-methods', { params: { path: { id: co.id } } });
  await weft.api.PATCH('/v1/checkouts/{id}', { params: { path: { id: co.id } }, body: { shipping_method_id: methods.data[0].id } });
  const { data: done } = await weft.api.POST('/v1/checkouts/{id}/complete', { params: { path: { id: co.id } }, body: { payment: { provider: 'test', token: 'tok_visa' } } });
  return done.order.id;
}
