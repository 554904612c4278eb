// A real OpenID Connect provider for the social sign-in test: the repository's own
// platform/testkit/oidc (oidc-provider from npm; `npm ci` there on first use, as the Rust
// tests do). Sign-in and consent complete by themselves for the `login_hint` e-mail.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { APP_DIR } from './env.mjs';
import { start } from './processes.mjs';

const OIDC_DIR = path.resolve(APP_DIR, '..', '..', 'platform', 'testkit', 'oidc');

/** Starts the provider with these clients; answers `{ issuer, stop }`. */
export async function startOidcProvider(clients) {
  if (!existsSync(path.join(OIDC_DIR, 'node_modules', 'oidc-provider'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: OIDC_DIR, stdio: 'pipe' });
  }
  const proc = start(process.execPath, ['server.mjs'], { cwd: OIDC_DIR, env: { ...process.env, OIDC_CLIENTS: JSON.stringify(clients) } });
  await proc.waitForLine('"issuer"', 20_000);
  const line = proc.output().split('\n').find((l) => l.includes('"issuer"'));
  const { issuer } = JSON.parse(line.slice(line.indexOf('{')));
  return { issuer, stop: () => proc.stop() };
}
