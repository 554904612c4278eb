// End-to-end check of server.mjs without Rust: `node selftest.mjs` (after `npm ci`).
//
// Starts the provider the way the Rust tests do, then plays a non-browser client that
// only follows redirects and keeps cookies: authorization code + PKCE (S256) + state,
// token exchange (client_secret_basic and client_secret_post), userinfo. Also checks
// that a missing login_hint ends in error=access_denied, that a wrong code_verifier is
// invalid_grant, that stdout carries exactly one line, and that SIGTERM exits cleanly.
// Exits non-zero on the first failure.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const REDIRECT = 'http://127.0.0.1:9/callback';
const clients = [
  { client_id: 'basic', client_secret: 'basic-secret', redirect_uris: [REDIRECT] },
  {
    client_id: 'post',
    client_secret: 'post-secret',
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'client_secret_post',
  },
];

const child = spawn(process.execPath, ['server.mjs'], {
  cwd: here,
  env: { ...process.env, OIDC_CLIENTS: JSON.stringify(clients) },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stderr = '';
child.stderr.on('data', (d) => { stderr += d; });
const stdoutLines = [];
const lines = createInterface({ input: child.stdout });
const firstLine = new Promise((resolve, reject) => {
  lines.on('line', (l) => { stdoutLines.push(l); if (stdoutLines.length === 1) resolve(l); });
  child.on('exit', (code) => reject(new Error(`server exited (${code}) before ready:\n${stderr}`)));
});
const ready = JSON.parse(await Promise.race([
  firstLine,
  new Promise((_, rej) => setTimeout(() => rej(new Error('no ready line in 20 s')), 20000)),
]));
assert.equal(typeof ready.port, 'number');
assert.equal(ready.issuer, `http://127.0.0.1:${ready.port}`);
const { issuer } = ready;

const b64url = (buf) => buf.toString('base64url');

// A minimal cookie jar: name -> value, sent to the issuer only.
function jar() {
  const cookies = new Map();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    store(res) {
      for (const sc of res.headers.getSetCookie()) {
        const [pair] = sc.split(';');
        const i = pair.indexOf('=');
        const name = pair.slice(0, i).trim();
        const value = pair.slice(i + 1).trim();
        if (/;\s*expires=Thu, 01 Jan 1970/i.test(sc) || value === '') cookies.delete(name);
        else cookies.set(name, value);
      }
    },
  };
}

// Follows redirects by hand until one points at the redirect URI; returns its URL and
// the list of hops (status + path) for the README.
async function authorize(params) {
  const cookies = jar();
  let url = `${discovery.authorization_endpoint}?${new URLSearchParams(params)}`;
  const hops = [];
  for (let i = 0; i < 20; i++) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: cookies.header() ? { cookie: cookies.header() } : {},
    });
    cookies.store(res);
    const location = res.headers.get('location');
    const u = new URL(url);
    hops.push(`${res.status} ${u.pathname.replace(/\/[A-Za-z0-9_-]{20,}$/, '/<uid>')}`);
    if (![302, 303].includes(res.status) || !location) {
      throw new Error(`hop ${i}: ${res.status} at ${url}: ${await res.text()}`);
    }
    const next = new URL(location, url);
    if (next.href.startsWith(REDIRECT)) return { callback: next, hops };
    url = next.href;
  }
  throw new Error('too many redirects');
}

function pkce() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

async function token(client, code, verifier) {
  const body = new URLSearchParams({
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier,
  });
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.token_endpoint_auth_method === 'client_secret_post') {
    body.set('client_id', client.client_id);
    body.set('client_secret', client.client_secret);
  } else {
    const enc = (s) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(client.client_id)}:${enc(client.client_secret)}`).toString('base64')}`;
  }
  const res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

async function signIn(client, email) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(16));
  const nonce = b64url(randomBytes(16));
  const { callback, hops } = await authorize({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid email profile',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: email,
  });
  assert.equal(callback.searchParams.get('state'), state, 'state round-trips');
  assert.equal(callback.searchParams.get('iss'), issuer, 'iss parameter (RFC 9207)');
  const code = callback.searchParams.get('code');
  assert.ok(code, `code in ${callback}`);
  return { code, verifier, hops };
}

async function userinfo(accessToken) {
  const res = await fetch(discovery.userinfo_endpoint, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  assert.equal(res.status, 200, 'userinfo status');
  return res.json();
}

const results = [];
const check = async (name, fn) => { await fn(); results.push(name); console.log(`ok - ${name}`); };

let discovery;
try {
  await check('discovery', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    discovery = await res.json();
    assert.equal(discovery.issuer, issuer);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    for (const s of ['openid', 'email', 'profile']) assert.ok(discovery.scopes_supported.includes(s));
    for (const m of ['client_secret_basic', 'client_secret_post']) {
      assert.ok(discovery.token_endpoint_auth_methods_supported.includes(m), m);
    }
    console.log(JSON.stringify({
      authorization_endpoint: discovery.authorization_endpoint,
      token_endpoint: discovery.token_endpoint,
      userinfo_endpoint: discovery.userinfo_endpoint,
      jwks_uri: discovery.jwks_uri,
    }));
  });

  for (const client of clients) {
    await check(`sign-in, token (${client.token_endpoint_auth_method ?? 'client_secret_basic'}), userinfo`, async () => {
      const { code, verifier, hops } = await signIn(client, 'Alice.Smith@Example.com');
      console.log(`  redirects: ${hops.join(' -> ')} -> redirect_uri`);
      const t = await token(client, code, verifier);
      assert.equal(t.status, 200, JSON.stringify(t.body));
      assert.equal(t.body.token_type, 'Bearer');
      assert.ok(t.body.id_token, 'id_token');
      assert.equal(t.body.scope, 'openid email profile');
      assert.equal(t.body.access_token.split('.').length, 1, 'opaque access token');
      const me = await userinfo(t.body.access_token);
      assert.equal(me.email, 'alice.smith@example.com');
      assert.equal(me.email_verified, true);
      assert.equal(me.name, 'Alice Smith');
      assert.match(me.sub, /^[0-9a-f]{24}$/);
      // Code is single-use.
      const again = await token(client, code, verifier);
      assert.equal(again.status, 400);
      assert.equal(again.body.error, 'invalid_grant');
    });
  }

  await check('sub is stable and derived from the email', async () => {
    const subs = [];
    for (const email of ['bob@example.com', 'BOB@example.com']) {
      const { code, verifier } = await signIn(clients[0], email);
      const t = await token(clients[0], code, verifier);
      subs.push((await userinfo(t.body.access_token)).sub);
    }
    assert.equal(subs[0], subs[1]);
    assert.equal(subs[0], createHash('sha256').update('bob@example.com').digest('hex').slice(0, 24));
  });

  await check('unverified* email has email_verified=false', async () => {
    const { code, verifier } = await signIn(clients[0], 'unverified.carol@example.com');
    const t = await token(clients[0], code, verifier);
    const me = await userinfo(t.body.access_token);
    assert.equal(me.email, 'unverified.carol@example.com');
    assert.equal(me.email_verified, false);
  });

  await check('missing login_hint -> error=access_denied', async () => {
    const { challenge } = pkce();
    const state = 'cancel-state';
    const { callback, hops } = await authorize({
      client_id: 'basic', response_type: 'code', redirect_uri: REDIRECT,
      scope: 'openid email profile', state, code_challenge: challenge, code_challenge_method: 'S256',
    });
    console.log(`  redirects: ${hops.join(' -> ')} -> redirect_uri`);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), state);
    assert.equal(callback.searchParams.get('code'), null);
  });

  await check('wrong code_verifier -> 400 invalid_grant', async () => {
    const { code } = await signIn(clients[0], 'dave@example.com');
    const t = await token(clients[0], code, pkce().verifier);
    assert.equal(t.status, 400);
    assert.equal(t.body.error, 'invalid_grant');
  });

  await check('no code_challenge -> rejected (PKCE required)', async () => {
    const res = await fetch(`${discovery.authorization_endpoint}?${new URLSearchParams({
      client_id: 'basic', response_type: 'code', redirect_uri: REDIRECT,
      scope: 'openid', state: 's', login_hint: 'eve@example.com',
    })}`, { redirect: 'manual' });
    const loc = new URL(res.headers.get('location'));
    assert.ok(loc.href.startsWith(REDIRECT));
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
  });

  await check('wrong client secret -> 401 invalid_client', async () => {
    const { code, verifier } = await signIn(clients[0], 'frank@example.com');
    const t = await token({ ...clients[0], client_secret: 'nope' }, code, verifier);
    assert.equal(t.status, 401);
    assert.equal(t.body.error, 'invalid_client');
  });

  await check('SIGTERM exits cleanly; stdout had exactly one line', async () => {
    // Hold a keep-alive connection open, as a pooled HTTP client would.
    await fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.text());
    const t0 = Date.now();
    child.kill('SIGTERM');
    const [code, signal] = await once(child, 'exit');
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 3000, 'exit within 3 s');
    assert.equal(stdoutLines.length, 1, `stdout lines: ${JSON.stringify(stdoutLines)}`);
  });
  console.log(`selftest: ${results.length} checks passed`);
  process.exit(0);
} catch (err) {
  console.error('selftest FAILED:', err);
  console.error('--- provider stderr ---\n' + stderr);
  child.kill('SIGKILL');
  process.exit(1);
}
