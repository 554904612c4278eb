// What a customer receives, in a real browser against a real Weft: the account page's
// "Notifications" section (marketing e-mail, SMS with a phone number, push and the devices)
// and the unsubscribe page a marketing e-mail's footer links to (/account/unsubscribe),
// from a real cart reminder: Weft runs with a 2-second abandoned-cart delay and writes
// each e-mail as an `.eml` file (`<dataDir>/mail/`) with links to this shop. See README.md
// ("Account": Notifications, Unsubscribing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWeft, memoryStorage } from '@weft/sdk';
import { startEnvironment } from './support/env.mjs';
import { freePort } from './support/processes.mjs';
import { seed, TEE } from './support/fixtures.mjs';
import { linkIn, waitForMail } from './support/mail.mjs';
import { axeChecked, checkPage, RESULTS_DIR, watchConsole } from './support/page.mjs';

let env;
let fixtures;

before(async () => {
  // The e-mails' links must lead to this shop: its address is known before it starts.
  const sitePort = await freePort();
  env = await startEnvironment({
    sitePort,
    weftEnv: {
      WEFT_NOTIFICATIONS__STOREFRONT_URL: `http://127.0.0.1:${sitePort}`,
      // A signed-in customer's cart left alone 2 s is reported (checked every second).
      WEFT_CART__ABANDONED_AFTER_SECONDS: '2',
      WEFT_CART__SWEEP_INTERVAL_SECONDS: '1',
    },
  });
  fixtures = await seed(env.staff);
});

after(async () => {
  if (axeChecked.length) console.log(`axe-core checked ${axeChecked.length} notification pages:`, axeChecked.map((a) => a.name).join(', '));
  await env?.stop();
});

const PASSWORD = 'plaid flannel 42 weft';
const MARKETING = 'E-mail me news and reminders (e.g. a cart I left)';
const REMINDER_SUBJECT = 'You left something in your cart';

/** A fresh shopper (own localStorage) per test; on failure a FAILED-notifications-<n>.png and the browser's errors. */
let scenarios = 0;
function scenario(name, fn) {
  const n = ++scenarios;
  test(name, async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    watchConsole(page, errors);
    // Refusals the pages show on purpose: 422 (field errors, a forged unsubscribe link).
    const unexpected = () => errors.filter((e) => !/Failed to load resource: the server responded with a status of 422/.test(e));
    try {
      await fn({ context, page });
      assert.deepEqual(unexpected(), [], 'no errors in the browser');
    } catch (e) {
      await page.screenshot({ path: `${RESULTS_DIR}/FAILED-notifications-${n}.png`, fullPage: true }).catch(() => {});
      e.message += `\n  at ${page.url()}\n  browser errors: ${JSON.stringify(errors)}`;
      throw e;
    } finally {
      await context.close();
    }
  });
}

async function open(page, url) {
  await page.goto(url.startsWith('http') ? url : `${env.site}${url}`);
  await page.locator('html[data-hydrated]').waitFor();
}

/** A new customer, and a Node client of Weft signed in as them (to check what the browser did). */
async function newCustomer(email, name) {
  const weft = createWeft({ baseUrl: env.api, storage: memoryStorage() });
  const user = await weft.auth.signUp({ email, password: PASSWORD, name });
  return { weft, user };
}

async function signIn(page, email) {
  const form = page.getByRole('region', { name: 'Sign in' });
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').getByText(email).waitFor();
}

const preferences = async (weft) => (await weft.api.GET('/v1/me/notification-preferences')).data;

/** The section and its controls. */
function settings(page) {
  const section = page.getByRole('region', { name: 'Notifications', exact: true });
  return {
    section,
    marketing: section.getByLabel(MARKETING),
    phone: section.getByLabel('Mobile phone number'),
    sms: section.getByLabel('Text me order updates'),
    push: section.getByLabel('Push order updates to my devices'),
    save: section.getByRole('button', { name: 'Save notification settings' }),
    status: section.getByRole('status').filter({ hasText: /\S/ }),
  };
}

/** Counts the browser's POSTs to one Weft endpoint. */
function countCalls(page, pathname) {
  const calls = { n: 0 };
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === pathname) calls.n++;
  });
  return calls;
}

describe('notifications', () => {
  scenario('the account’s notification settings: marketing off until opted in, a bad phone refused on its field, SMS saved and shown after a reload, devices removed', async ({ page }) => {
    const email = `notify-${Date.now()}@shop-test.example`;
    const { weft } = await newCustomer(email, 'Nina Notify');
    // The shop's app registered a phone for push (the web shop never adds one).
    await weft.api.POST('/v1/me/push-devices', { body: { token: 'ExponentPushToken[storefront-test-1]', platform: 'ios' } });

    await open(page, '/account');
    await signIn(page, email);
    const s = settings(page);
    await s.section.getByRole('group', { name: 'E-mail' }).waitFor();
    await s.section.getByRole('group', { name: 'Text messages (SMS)' }).waitFor();
    await s.section.getByRole('group', { name: 'Push notifications' }).waitFor();
    assert.equal(await s.marketing.isChecked(), false, 'marketing is off until the customer opts in');
    assert.equal(await s.sms.isChecked(), false);
    assert.equal(await s.push.isChecked(), true, 'push order updates are on by default');
    assert.equal(await s.phone.inputValue(), '');
    await s.section.getByText('E-mails about your orders and your account (confirmations, shipping, password resets) always come.').waitFor();
    const device = s.section.getByTestId('device');
    assert.equal(await device.count(), 1);
    assert.match(await device.textContent(), /^iOS, added \w{3} \d{1,2}, \d{4}/);
    await checkPage(page, 'notifications-01-settings');

    // Opted in, with a number that is not E.164 (no country code): Weft's 422 on the field,
    // and nothing saved.
    await s.marketing.check();
    await s.phone.fill('06 12 34 56 78');
    await s.sms.check();
    await s.save.click();
    const phoneError = s.section.getByTestId('error-notify-phone');
    await phoneError.waitFor();
    assert.match(await phoneError.textContent(), /E\.164/);
    assert.equal(await s.phone.getAttribute('aria-invalid'), 'true');
    assert.equal(await s.section.getByTestId('notifications-error').count(), 0, 'the refusal is on its field only');
    assert.equal((await preferences(weft)).marketing_email, false, 'the refused PATCH saved nothing');
    await checkPage(page, 'notifications-02-bad-phone');

    // The number with its country code (spaces are dropped): saved in one PATCH.
    await s.phone.fill('+33 6 12 34 56 78');
    await s.save.click();
    await s.status.getByText('Your notification settings are saved.').waitFor();
    assert.equal(await phoneError.count(), 0);
    assert.equal(await s.phone.inputValue(), '+33612345678', 'as Weft keeps it');
    let saved = await preferences(weft);
    assert.equal(saved.marketing_email, true);
    assert.equal(saved.phone, '+33612345678');
    assert.equal(saved.sms_order_updates, true);
    assert.equal(saved.push_order_updates, true);
    await checkPage(page, 'notifications-03-saved');

    // Removing the number while SMS stays on: Weft's refusal on the SMS checkbox.
    await s.phone.fill('');
    await s.save.click();
    const smsError = s.section.getByTestId('error-notify-sms');
    await smsError.getByText('phone number').waitFor();
    assert.equal(await s.sms.getAttribute('aria-invalid'), 'true');
    assert.equal((await preferences(weft)).phone, '+33612345678', 'still saved');
    await checkPage(page, 'notifications-04-sms-without-phone');

    // A reload shows what Weft keeps, not what was typed.
    await page.reload();
    await page.locator('html[data-hydrated]').waitFor();
    await s.phone.waitFor();
    assert.equal(await s.marketing.isChecked(), true);
    assert.equal(await s.phone.inputValue(), '+33612345678');
    assert.equal(await s.sms.isChecked(), true);
    assert.equal(await s.push.isChecked(), true);

    // Push off; then the device removed.
    await s.push.uncheck();
    await s.save.click();
    await s.status.getByText('Your notification settings are saved.').waitFor();
    saved = await preferences(weft);
    assert.equal(saved.push_order_updates, false);
    assert.equal(saved.marketing_email, true, 'what was not changed stays');
    await s.section.getByRole('button', { name: /^Remove the iOS device added / }).click();
    await s.section.getByText('No devices yet — our app registers them.').waitFor();
    await s.status.getByText('The device is removed').waitFor();
    assert.deepEqual((await preferences(weft)).push_devices, []);
    await checkPage(page, 'notifications-05-no-devices');
  });

  scenario('unsubscribe from a real cart reminder: opening the link changes nothing, the button does; a forged or missing token is not valid', async ({ page }) => {
    const email = `unsub-${Date.now()}@shop-test.example`;
    const { weft, user } = await newCustomer(email, 'Una Unsubscribe');

    // The shopper opts in on the account page.
    await open(page, '/account');
    await signIn(page, email);
    const s = settings(page);
    await s.marketing.check();
    await s.save.click();
    await s.status.getByText('Your notification settings are saved.').waitFor();
    assert.equal((await preferences(weft)).marketing_email, true);

    // A cart made while signed in is the customer's; left alone, Weft reminds them of it.
    const variant = fixtures.products[TEE.handle].variants[0];
    const { data: cart } = await weft.api.POST('/v1/carts', { body: {} });
    assert.equal(cart.customer_id, user.id);
    await weft.api.POST('/v1/carts/{id}/items', { params: { path: { id: cart.id } }, body: { variant_id: variant.id, quantity: 1 } });
    const left = Date.now();
    const mail = await waitForMail(env.dataDir, { to: email, subject: REMINDER_SUBJECT }, 15_000);
    console.log(`the cart reminder arrived ${((Date.now() - left) / 1000).toFixed(1)} s after the cart’s last change`);

    // RFC 8058 one-click for mail clients, and the footer's link to this shop, with the same token.
    const header = /^<(https?:\/\/[^>\s]+\/v1\/notifications\/unsubscribe\?token=[^>\s]+)>$/.exec(mail.headers['list-unsubscribe'] ?? '');
    assert.ok(header, `List-Unsubscribe: ${mail.headers['list-unsubscribe']}`);
    assert.equal(mail.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    const link = linkIn(mail, 'unsubscribe');
    assert.ok(link.startsWith(`${env.site}/account/unsubscribe?token=`), link);
    const token = new URL(link).searchParams.get('token');
    assert.ok(token);
    assert.equal(new URL(header[1]).searchParams.get('token'), token, 'the header and the link carry the same token');

    // A link scanner's GET (no JavaScript): a page, nothing changed; not indexed, no referrer.
    const html = await fetch(link).then((r) => r.text());
    assert.match(html, /<meta name="robots" content="noindex"\/>/);
    assert.match(html, /<meta name="referrer" content="no-referrer"\/>/);

    // Opened in the browser: a question and a button, and still nothing changed.
    const calls = countCalls(page, '/v1/notifications/unsubscribe');
    await open(page, link);
    const ask = page.getByRole('form', { name: 'Unsubscribe from marketing e-mails from Weft?' });
    await ask.waitFor();
    await ask.getByText('E-mails about your orders and your account still come.').waitFor();
    await checkPage(page, 'notifications-06-unsubscribe-ask');
    await page.waitForTimeout(500); // a call on load would have gone by now
    assert.equal(calls.n, 0, 'opening the page sent nothing');
    assert.equal((await preferences(weft)).marketing_email, true, 'opening the page did not unsubscribe');

    // The button unsubscribes; signed in, a link to the settings.
    await ask.getByRole('button', { name: 'Unsubscribe' }).click();
    const done = page.getByRole('region', { name: 'You are unsubscribed' });
    await done.getByText('You are unsubscribed. Order and account e-mails still come.').waitFor();
    assert.equal(calls.n, 1);
    assert.equal((await preferences(weft)).marketing_email, false, 'Weft says marketing e-mail is off');
    await done.getByRole('link', { name: 'Your notification settings' }).waitFor();
    await checkPage(page, 'notifications-07-unsubscribed');

    // The settings show it, and the page lands on them.
    await done.getByRole('link', { name: 'Your notification settings' }).click();
    await page.waitForURL(/\/account#notifications$/);
    await s.marketing.waitFor();
    assert.equal(await s.marketing.isChecked(), false);
    await page.waitForFunction(() => document.activeElement?.id === 'notifications-heading');

    // A mail client's one-click POST to the header's URL (here: this Weft's address) is fine
    // too, however often it comes.
    const oneClick = new URL(header[1]);
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${env.api}${oneClick.pathname}${oneClick.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      assert.equal(r.status, 204);
    }

    // A token altered on its way: the question (the page cannot tell), then "not valid".
    const i = Math.floor(token.length / 2);
    const forged = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    await open(page, `/account/unsubscribe?token=${encodeURIComponent(forged)}`);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    const invalid = page.getByRole('region', { name: 'This link is not valid' });
    await invalid.waitFor();
    await invalid.getByRole('link', { name: 'Your notification settings' }).waitFor();
    assert.equal(calls.n, 2);
    await checkPage(page, 'notifications-08-invalid-link');

    // No token: the same, at once, with no button.
    await open(page, '/account/unsubscribe');
    await page.getByRole('region', { name: 'This link is not valid' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Unsubscribe' }).count(), 0);

    // Signed out, the real link again: unsubscribed (twice is fine), with a way to sign in.
    await open(page, '/account');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('region', { name: 'Sign in' }).waitFor();
    await open(page, link);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    const again = page.getByRole('region', { name: 'You are unsubscribed' });
    await again.getByRole('link', { name: 'Sign in' }).waitFor();
    assert.equal(await again.getByRole('link', { name: 'Your notification settings' }).count(), 0);
    await checkPage(page, 'notifications-09-unsubscribed-signed-out');
    assert.equal((await preferences(weft)).marketing_email, false);
  });
});
