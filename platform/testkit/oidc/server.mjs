// A real OpenID Connect provider (oidc-provider) for Weft's social sign-in tests.
//
// Prints one JSON line on stdout once listening: {"issuer": "...", "port": N}.
// Clients come from OIDC_CLIENTS (a JSON array of oidc-provider client metadata).
// Sign-in and consent complete by themselves: the account is the authorization request's
// `login_hint` (an email); without one the person "declines" (error=access_denied).
// Emails whose local part starts with "unverified" have email_verified = false.

import { createHash } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

// stdout carries only the ready line: oidc-provider prints its notices with console.info.
console.log = console.info = console.error;

const clients = JSON.parse(process.env.OIDC_CLIENTS ?? '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));

// accountId -> email, filled at sign-in so findAccount can answer claims later.
const accounts = new Map();

function accountFor(email) {
  const normalised = email.trim().toLowerCase();
  const accountId = createHash('sha256').update(normalised).digest('hex').slice(0, 24);
  accounts.set(accountId, normalised);
  return accountId;
}

function claimsOf(accountId) {
  const email = accounts.get(accountId);
  const local = email.split('@')[0];
  return {
    sub: accountId,
    email,
    email_verified: !local.startsWith('unverified'),
    name: local.replace(/[._-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase()),
  };
}

let provider;

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    const hint = params.login_hint;
    const result = hint
      ? { login: { accountId: accountFor(String(hint)) } }
      : { error: 'access_denied', error_description: 'the person declined to sign in' };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    return;
  }
  // consent: grant what the client asked for.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

let handler;
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      console.error('interaction failed:', err);
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  handler(req, res);
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, {
    clients,
    findAccount: async (_ctx, id) =>
      accounts.has(id) ? { accountId: id, claims: async () => claimsOf(id) } : undefined,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    cookies: { keys: ['weft-test-oidc-provider-cookie-key'] },
    // Explicit lifetimes (seconds), so the defaults' notices stay quiet.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
    },
    renderError: async (ctx, out) => {
      console.error('error page:', out);
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error:', err));
  handler = provider.callback();
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive clients must not hold the exit up
  });
}
