// Vitest global setup: one real `weft serve --demo` for the whole run (rate limits off), an
// admin made by `weft admin create` and enrolled in TOTP, and an API key with the staff
// scopes the tests use to build their own catalog (products, stock). Tests read these with
// `inject(...)`; the server is stopped (SIGTERM) at the end.
import type { TestProject } from 'vitest/node';
import { createAdmin, startWeft, type WeftServer } from './server.js';
import { totp } from './totp.js';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    adminEmail: string;
    adminPassword: string;
    /** One unused recovery code, which stands in for a TOTP code at sign-in once. */
    adminRecoveryCode: string;
    apiKey: string;
  }
}

let server: WeftServer | undefined;

async function call<T>(baseUrl: string, path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`setup: POST ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export async function setup(project: TestProject) {
  // Webhook tests deliver to a receiver on this machine over plain HTTP.
  server = await startWeft({ WEFT_WEBHOOKS__ALLOW_PRIVATE_TARGETS: 'true', WEFT_WEBHOOKS__REQUIRE_HTTPS: 'false' });
  const { baseUrl } = server;
  const adminEmail = 'sdk-admin@weft.test';
  const adminPassword = 'tailor-made-2026!';
  await createAdmin(server, adminEmail, adminPassword);

  // an admin signs in with a session restricted to TOTP enrolment, then enrols
  const pending = await call<{ access_token: string }>(baseUrl, '/v1/auth/login', {
    email: adminEmail,
    password: adminPassword,
  });
  const enrolment = await call<{ secret: string }>(baseUrl, '/v1/me/mfa/totp', {}, pending.access_token);
  const enabled = await call<{ recovery_codes: string[]; session: { access_token: string } }>(
    baseUrl,
    '/v1/me/mfa/totp/verify',
    { code: totp(enrolment.secret) },
    pending.access_token,
  );
  const created = await call<{ key: string }>(
    baseUrl,
    '/v1/admin/api-keys',
    {
      name: 'sdk tests',
      scopes: [
        'catalog:read',
        'catalog:write',
        'inventory:read',
        'inventory:write',
        'orders:read',
        'customers:read',
        'webhooks:write',
      ],
    },
    enabled.session.access_token,
  );

  project.provide('baseUrl', baseUrl);
  project.provide('adminEmail', adminEmail);
  project.provide('adminPassword', adminPassword);
  project.provide('adminRecoveryCode', enabled.recovery_codes[0]!);
  project.provide('apiKey', created.key);
}

export async function teardown() {
  await server?.stop();
}
