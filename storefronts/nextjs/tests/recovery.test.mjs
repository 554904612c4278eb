// The pages the account e-mails link to, in a real browser against a real Weft whose
// notifications write each e-mail as an `.eml` file (`<dataDir>/mail/`) with links to this
// shop (`notifications.storefront_url`): confirming the address (/account/verify-email),
// a forgotten password (/account/forgot-password) and choosing a new one
// (/account/reset-password). See README.md ("Account").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWeft, memoryStorage } from '@weft/sdk';
import { startEnvironment } from './support/env.mjs';
import { freePort } from './support/processes.mjs';
import { linkIn, readMails, waitForMail } from './support/mail.mjs';
import { axeChecked, checkPage, RESULTS_DIR, watchConsole } from './support/page.mjs';

let env;

before(async () => {
  // The e-mails' links must lead to this shop: its address is known before it starts.
  const sitePort = await freePort();
  env = await startEnvironment({
    sitePort,
    weftEnv: { WEFT_NOTIFICATIONS__STOREFRONT_URL: `http://127.0.0.1:${sitePort}` },
  });
});

after(async () => {
  if (axeChecked.length) console.log(`axe-core checked ${axeChecked.length} recovery pages:`, axeChecked.map((a) => a.name).join(', '));
  await env?.stop();
});

const PASSWORD = 'plaid flannel 42 weft';
const NEW_PASSWORD = 'tartan corduroy 97 loom';
const VERIFY_SUBJECT = 'Confirm your e-mail address';
const RESET_SUBJECT = 'Reset your';

/** A fresh shopper (own localStorage) per test; on failure a FAILED-recovery-<n>.png and the browser's errors. */
let scenarios = 0;
function scenario(name, fn) {
  const n = ++scenarios;
  test(name, async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    watchConsole(page, errors);
    // Refusals the pages show on purpose: 401 (a revoked session signed out), 409 (already
    // confirmed), 422 (field errors, dead links), 429 (too many e-mails).
    const unexpected = () => errors.filter((e) => !/Failed to load resource: the server responded with a status of (401|409|422|429)/.test(e));
    try {
      await fn({ context, page });
      assert.deepEqual(unexpected(), [], 'no errors in the browser');
    } catch (e) {
      await page.screenshot({ path: `${RESULTS_DIR}/FAILED-recovery-${n}.png`, fullPage: true }).catch(() => {});
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

async function signIn(page, email, password) {
  const form = page.getByRole('region', { name: 'Sign in' });
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/** Counts the browser's calls to one Weft endpoint (a single-use token must be spent once). */
function countCalls(page, pathname) {
  const calls = { n: 0 };
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === pathname) calls.n++;
  });
  return calls;
}

const tokens = (page) => page.evaluate(() => localStorage.getItem('weft.tokens'));

describe('account recovery and e-mail confirmation', () => {
  scenario('sign up in the shop: a notice asks to confirm the address; a dead link offers a new one; the e-mail’s link confirms it once', async ({ context, page }) => {
    const email = `verify-${Date.now()}@shop-test.example`;
    const seen = new Set();
    await open(page, '/account');
    const signUp = page.getByRole('region', { name: 'Create an account' });
    await signUp.getByLabel('Name').fill('Vera Verify');
    await signUp.getByLabel('E-mail').fill(email);
    await signUp.getByLabel('New password').fill(PASSWORD);
    await signUp.getByRole('button', { name: 'Create account' }).click();
    await page.getByTestId('signed-in-as').getByText(email).waitFor();

    // Not confirmed yet: the account page says so, with a button for a new link.
    const notice = page.getByRole('region', { name: 'Please confirm your e-mail address' });
    await notice.waitFor();
    await checkPage(page, 'recovery-01-account-unconfirmed');

    // Registration e-mailed a link to this shop; a new one is asked for from the notice,
    // which makes the first one useless.
    const first = await waitForMail(env.dataDir, { to: email, subject: VERIFY_SUBJECT, seen });
    const firstLink = linkIn(first, 'verify-email');
    assert.ok(firstLink.startsWith(`${env.site}/account/verify-email?token=`), firstLink);
    await notice.getByRole('button', { name: 'Send a confirmation link' }).click();
    await notice.getByTestId('verification-sent').getByText(email).waitFor();
    await checkPage(page, 'recovery-02-account-link-sent');
    const second = await waitForMail(env.dataDir, { to: email, subject: VERIFY_SUBJECT, seen });
    const link = linkIn(second, 'verify-email');
    assert.notEqual(link, firstLink, 'a new token');

    // The first link is dead: said so, and (signed in, unconfirmed) a button for a new link.
    await open(page, firstLink);
    const expired = page.getByRole('region', { name: 'This link has expired or was already used' });
    await expired.waitFor();
    await expired.getByRole('button', { name: 'Send a new link' }).waitFor();
    await checkPage(page, 'recovery-03-verify-dead-link-signed-in');

    // The latest link, in another tab: confirmed, with one call (the token is single use).
    const other = await context.newPage();
    const calls = countCalls(other, '/v1/auth/email/verify');
    await open(other, link);
    await other.getByRole('region', { name: 'Your e-mail address is confirmed' }).waitFor();
    await checkPage(other, 'recovery-04-verify-confirmed');
    await other.waitForTimeout(300); // a second call would have gone by now
    assert.equal(calls.n, 1, 'the token was sent once');
    const me = await fetch(`${env.api}/v1/me`, { headers: { authorization: `Bearer ${JSON.parse(await tokens(page)).access_token}` } }).then((r) => r.json());
    assert.equal(me.email_verified, true, 'Weft says the address is verified');

    // Back in the first tab, asking for a new link now: already confirmed (409).
    await expired.getByRole('button', { name: 'Send a new link' }).click();
    await expired.getByTestId('verification-already').waitFor();
    assert.equal(await expired.getByRole('button', { name: 'Send a new link' }).count(), 0);

    // The same link again: dead, and for this signed-in shopper nothing left to do.
    await open(other, link);
    const again = other.getByRole('region', { name: 'This link has expired or was already used' });
    await again.waitFor();
    await again.getByTestId('verify-already').getByText(email).waitFor();
    await checkPage(other, 'recovery-05-verify-used-link');

    // The account page no longer asks.
    await open(page, '/account');
    await page.getByTestId('signed-in-as').getByText(email).waitFor();
    await page.getByRole('heading', { name: 'Orders' }).waitFor();
    assert.equal(await page.getByTestId('verify-notice').count(), 0);

    // Signed out, a dead link says how to get a new one; no link at all is the same dead link.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('region', { name: 'Sign in' }).waitFor();
    await open(page, link);
    await page.getByRole('region', { name: 'This link has expired or was already used' }).getByRole('link', { name: 'sign in' }).waitFor();
    await checkPage(page, 'recovery-06-verify-used-link-signed-out');
    await open(page, '/account/verify-email');
    await page.getByRole('region', { name: 'This link has expired or was already used' }).waitFor();
  });

  scenario('forgot password: the e-mail’s link sets a new password, ends the sessions, and works once', async ({ page }) => {
    const email = `reset-${Date.now()}@shop-test.example`;
    const seen = new Set();
    await createWeft({ baseUrl: env.api, storage: memoryStorage() }).auth.signUp({ email, password: PASSWORD, name: 'Rita Reset' });
    // Elsewhere (another device), the shopper is signed in too.
    const elsewhere = memoryStorage();
    await createWeft({ baseUrl: env.api, storage: elsewhere }).auth.signIn({ email, password: PASSWORD });
    const { refresh_token: elsewhereRefresh } = await elsewhere.get();

    // From the sign-in form to the forgot form: an empty and a malformed address are refused on the field.
    await open(page, '/account');
    await page.getByRole('region', { name: 'Sign in' }).getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL(/\/account\/forgot-password$/);
    await page.getByRole('heading', { name: 'Forgot your password?', level: 1 }).waitFor();
    await checkPage(page, 'recovery-07-forgot');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByTestId('error-forgot-email').getByText('Enter the e-mail address').waitFor();
    await page.getByLabel('E-mail').fill('not-an-address');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByTestId('error-forgot-email').waitFor();
    assert.doesNotMatch(await page.getByTestId('error-forgot-email').textContent(), /Enter the e-mail address/, 'Weft’s own message (422)');
    assert.equal(await page.getByLabel('E-mail').getAttribute('aria-invalid'), 'true');
    await checkPage(page, 'recovery-08-forgot-bad-address');

    await page.getByLabel('E-mail').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    const sent = page.getByRole('region', { name: 'Check your inbox' });
    await sent.getByText(`If an account exists for ${email}, we sent it a link`).waitFor();
    await checkPage(page, 'recovery-09-forgot-sent');

    // Signed in in this browser meanwhile: the reset must drop that session here too.
    await open(page, '/account');
    await signIn(page, email, PASSWORD);
    await page.getByTestId('signed-in-as').getByText(email).waitFor();
    assert.notEqual(await tokens(page), null);

    const mail = await waitForMail(env.dataDir, { to: email, subject: RESET_SUBJECT, seen });
    const link = linkIn(mail, 'reset-password');
    assert.ok(link.startsWith(`${env.site}/account/reset-password?token=`), link);
    await open(page, link);
    await page.getByRole('heading', { name: 'Choose a new password', level: 1 }).waitFor();
    await checkPage(page, 'recovery-10-reset');

    // Two passwords that differ: caught here. A short one: Weft's rule, on the field.
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill(`${NEW_PASSWORD}!`);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByTestId('error-reset-confirm').getByText('do not match').waitFor();
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('Confirm new password').fill('short');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByTestId('error-reset-password').getByText('at least 10 characters').waitFor();
    assert.equal(await page.getByLabel('New password', { exact: true }).getAttribute('aria-invalid'), 'true');
    await checkPage(page, 'recovery-11-reset-short-password');

    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    const done = page.getByRole('region', { name: 'Your password is changed' });
    await done.waitFor();
    await checkPage(page, 'recovery-12-reset-done');
    assert.equal(await tokens(page), null, 'the session kept in this browser is gone');

    // Weft: the old password no longer works, and the other device's session is over.
    await assert.rejects(createWeft({ baseUrl: env.api, storage: memoryStorage() }).auth.signIn({ email, password: PASSWORD }), (e) => e.status === 401);
    const refresh = await fetch(`${env.api}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: elsewhereRefresh }),
    });
    assert.equal(refresh.status, 401, 'the other session cannot be renewed');

    // Sign in with the new password, through the page; the reset confirmed the address too.
    await done.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(/\/account$/);
    await signIn(page, email, NEW_PASSWORD);
    await page.getByTestId('signed-in-as').getByText(email).waitFor();
    await page.getByRole('heading', { name: 'Orders' }).waitFor();
    assert.equal(await page.getByTestId('verify-notice').count(), 0, 'a reset link proves the address');

    // The same link again: dead, with a way to ask for a new one.
    await open(page, link);
    await page.getByLabel('New password', { exact: true }).fill('another good password 55');
    await page.getByLabel('Confirm new password').fill('another good password 55');
    await page.getByRole('button', { name: 'Set new password' }).click();
    const expired = page.getByRole('region', { name: 'This link has expired or was already used' });
    await expired.waitFor();
    await checkPage(page, 'recovery-13-reset-used-link');
    assert.notEqual(await tokens(page), null, 'a refused link signs no one out');
    await expired.getByRole('link', { name: 'Request a new link' }).click();
    await page.waitForURL(/\/account\/forgot-password$/);

    // No token at all: the same dead link, without a form.
    await open(page, '/account/reset-password');
    await page.getByRole('region', { name: 'This link has expired or was already used' }).waitFor();
    assert.equal(await page.getByLabel('New password', { exact: true }).count(), 0);
  });

  scenario('forgot password for an unknown address: the same answer; too many requests: how long to wait', async ({ page }) => {
    const nobody = `nobody-${Date.now()}@shop-test.example`;
    await open(page, '/account/forgot-password');
    await page.getByLabel('E-mail').fill(nobody);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    const sent = page.getByRole('region', { name: 'Check your inbox' });
    await sent.getByText(`If an account exists for ${nobody}, we sent it a link`).waitFor();
    await checkPage(page, 'recovery-14-forgot-unknown');

    // Weft sends at most 3 a quarter-hour per address, known or not; the 4th is a 429.
    for (let i = 2; i <= 3; i++) {
      await sent.getByRole('button', { name: 'Use another address' }).click();
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await sent.waitFor();
    }
    await sent.getByRole('button', { name: 'Use another address' }).click();
    assert.equal(await page.getByLabel('E-mail').inputValue(), nobody, 'the address is kept');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByTestId('forgot-error').getByText(/Too many e-mails were asked for this address\. Try again in \d+ (seconds|minutes)\./).waitFor();
    await checkPage(page, 'recovery-15-forgot-throttled');

    // Nothing was sent to the unknown address (the dispatcher sends within a second or so).
    await page.waitForTimeout(2000);
    assert.deepEqual((await readMails(env.dataDir)).filter((m) => m.to.includes(nobody)), []);
  });
});

