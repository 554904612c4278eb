// One test environment: a real Weft (`weft serve --demo`, rate limits off) with an admin,
// this storefront's production build (`next start`) pointed at it, and Debian's Chromium.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createWeft, memoryStorage } from '@weft/sdk';
import { freePort, start, waitHttp } from './processes.mjs';
import { totp } from './totp.mjs';

export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WEFT_BIN = process.env.WEFT_BIN ?? '/var/tmp/weft-ci-target/debug/weft';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the storefront when there is no build, or when a source file (or the SDK's build) is newer than it. */
export function ensureBuilt() {
  const id = path.join(APP_DIR, '.next', 'BUILD_ID');
  // the SDK's dist/ is bundled into the build too
  const sources = ['app', 'src', '../../sdk/typescript/dist'].map((d) => newestMtime(path.join(APP_DIR, d)));
  const configs = ['next.config.ts', 'package.json', 'postcss.config.mjs'].map((f) => statSync(path.join(APP_DIR, f)).mtimeMs);
  if (existsSync(id) && statSync(id).mtimeMs > Math.max(...sources, ...configs)) return false;
  execFileSync('nice', ['-n', '10', 'npx', 'next', 'build'], {
    cwd: APP_DIR,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  return true;
}

/**
 * Starts Weft, the storefront and Chromium. `options.weftEnv`: more environment for Weft
 * (`WEFT_SOCIAL__GOOGLE__CLIENT_ID`, …), on top of the defaults below; `options.sitePort`:
 * the storefront's port, when something must know it first (a redirect URL).
 */
export async function startEnvironment(options = {}) {
  if (!existsSync(WEFT_BIN)) {
    throw new Error(`no weft binary at ${WEFT_BIN}: build it (cargo build -p weft) or set WEFT_BIN`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  }
  ensureBuilt();

  const dataDir = mkdtempSync(path.join(tmpdir(), 'weft-shop-test-'));
  const [apiPort, sitePort] = [await freePort(), options.sitePort ?? (await freePort())];
  const api = `http://127.0.0.1:${apiPort}`;
  const site = `http://127.0.0.1:${sitePort}`;
  const admin = { email: 'admin@shop-test.example', password: 'correct horse battery staple 17' };

  execFileSync(WEFT_BIN, ['admin', 'create', '--data-dir', dataDir, '--email', admin.email, '--password', admin.password], {
    stdio: 'pipe',
  });
  const weftEnv = {
    ...process.env,
    WEFT_RATE_LIMIT_PER_MINUTE: '0',
    WEFT_RATE_LIMIT_PER_USER_PER_MINUTE: '0',
    WEFT_RATE_LIMIT_PER_APP_PER_MINUTE: '0',
    WEFT_CORS_ORIGINS: JSON.stringify([site]),
    WEFT_LOG_FORMAT: 'json',
    ...options.weftEnv,
  };
  const weftProc = start(WEFT_BIN, ['serve', '--demo', '--port', String(apiPort), '--data-dir', dataDir], { env: weftEnv });
  const procs = [weftProc];
  let browser;
  const stop = async () => {
    await browser?.close().catch(() => {});
    for (const p of procs.reverse()) await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitHttp(`${api}/health/ready`, weftProc, 120_000);

    const { weft: staff, storage: staffTokens } = await signInAdmin(api, admin);

    // Next's data cache and its regenerated pages outlive a server: what an earlier run's
    // Weft answered (other ids under the same handles) must not be served against this one.
    rmSync(path.join(APP_DIR, '.next', 'cache', 'fetch-cache'), { recursive: true, force: true });
    rmSync(path.join(APP_DIR, '.next', 'server', 'route-cache'), { recursive: true, force: true });

    const siteProc = start(path.join(APP_DIR, 'node_modules', '.bin', 'next'), ['start', '-p', String(sitePort), '-H', '127.0.0.1'], {
      cwd: APP_DIR,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        WEFT_API_URL: api,
        NEXT_PUBLIC_WEFT_API_URL: api,
        WEFT_SITE_URL: site,
      },
    });
    procs.push(siteProc);
    await waitHttp(`${site}/weft-config.json`, siteProc, 60_000);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    });
    const staffToken = async () => (await staffTokens.get()).access_token;
    return { api, site, staff, staffToken, browser, weftProc, siteProc, stop, dataDir, weftBin: WEFT_BIN };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Signs the admin in, enrols TOTP (an admin cannot act before), and keeps the enrolled session. */
async function signInAdmin(api, admin) {
  const storage = memoryStorage();
  const weft = createWeft({ baseUrl: api, storage });
  await weft.auth.signIn({ email: admin.email, password: admin.password });
  const { data: enrolment } = await weft.api.POST('/v1/me/mfa/totp');
  const { data: verified } = await weft.api.POST('/v1/me/mfa/totp/verify', { body: { code: totp(enrolment.secret) } });
  const s = verified.session;
  await storage.set({ access_token: s.access_token, refresh_token: s.refresh_token, expires_at: Date.now() + s.expires_in * 1000 });
  return { weft, storage };
}
