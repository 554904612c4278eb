// The SDK unchanged in a real browser (Debian's Chromium, headless): the esbuild bundle as an
// app would ship it, with the browser's own fetch, localStorage, Web Locks and WebSocket,
// against the run's weft. The page's server also passes /v1 (HTTP and WebSocket) on to weft,
// so the API is same-origin, as a storefront that proxies its API serves it (the storefront's
// browser tests cover a cross-origin shop).
// Skipped without /usr/bin/chromium, except under CI=true, where a missing Chromium fails.
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl, productInStock } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI runs the browser test)`);
}

describe.runIf(haveChromium)('in a browser', () => {
  let server: Server;
  let origin = '';
  let browser: Browser;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [path.join(here, '../src/index.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
    });
    const js = bundle.outputFiles[0]!.text;
    const api = new URL(baseUrl());
    server = createServer((req, res) => {
      if (req.url?.startsWith('/v1/')) {
        const upstream = request(
          { host: api.hostname, port: api.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      } else if (req.url === '/sdk.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      } else {
        // the page loads the bundle as an app would, and hands it to the test
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<!doctype html><title>sdk</title><script type="module">import * as sdk from "/sdk.js"; window.sdk = sdk;</script>');
      }
    });
    // WebSocket upgrades (the live cart) go through as raw bytes
    server.on('upgrade', (req, socket, head) => {
      const upstream = connect(Number(api.port), api.hostname, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      const close = () => {
        upstream.destroy();
        socket.destroy();
      };
      upstream.on('error', close);
      socket.on('error', close);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it('signs up into localStorage, shares one refresh across calls, maps problems and watches a cart', async () => {
    const { variantId } = await productInStock();
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('pageerror', (e) => logs.push(String(e)));
    await page.goto(origin);
    await page.waitForFunction(() => 'sdk' in window);

    const result = await page.evaluate(
      async ({ api, variantId }) => {
        const { createWeft, localStorageStorage, WeftProblem } = (window as unknown as { sdk: typeof import('../src/index.js') }).sdk;
        const refreshes: string[] = [];
        const counting = (input: RequestInfo | URL, init?: RequestInit) => {
          const url = input instanceof Request ? input.url : String(input);
          if (url.endsWith('/v1/auth/refresh')) refreshes.push(url);
          return fetch(input, init);
        };
        const weft = createWeft({ baseUrl: api, storage: localStorageStorage(), fetch: counting });
        const email = `browser-${Date.now()}-${Math.random().toString(36).slice(2)}@weft.test`;
        const user = await weft.auth.signUp({ email, password: 'linen-and-wool-2026', name: 'Grace Hopper' });
        const stored = JSON.parse(localStorage.getItem('weft.tokens') ?? 'null');

        // the access token "expired": five calls at once make one refresh (Web Locks here)
        localStorage.setItem('weft.tokens', JSON.stringify({ ...stored, expires_at: Date.now() - 1000 }));
        const mes = await Promise.all(Array.from({ length: 5 }, () => weft.api.GET('/v1/me')));
        const renewed = JSON.parse(localStorage.getItem('weft.tokens') ?? 'null');

        let problem: unknown;
        try {
          await weft.api.GET('/v1/admin/users');
        } catch (e) {
          problem = e;
        }

        // the browser's own WebSocket: another client (a second tab's) change arrives
        const cartId = (await weft.api.POST('/v1/carts', { body: {} })).data!.id;
        // a second tab: another client over the same localStorage session
        const other = createWeft({ baseUrl: api, storage: localStorageStorage() });
        const seen: number[] = [];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no live change; saw ${JSON.stringify(seen)}`)), 15_000);
          const stop = weft.watchCart(cartId, (c) => {
            seen.push(c.item_count);
            if (seen.length === 1) {
              other.api
                .POST('/v1/carts/{id}/items', { params: { path: { id: cartId } }, body: { variant_id: variantId, quantity: 3 } })
                .catch(reject);
            }
            if (c.item_count === 3) {
              clearTimeout(timer);
              stop();
              resolve();
            }
          }, { onError: reject });
        });

        await weft.auth.signOut();
        return {
          userId: user.id,
          storedRefresh: stored?.refresh_token,
          meIds: mes.map((m) => m.data!.id),
          refreshes: refreshes.length,
          renewedRefresh: renewed?.refresh_token,
          problem: problem instanceof WeftProblem ? { status: problem.status, code: problem.code } : String(problem),
          seen,
          afterSignOut: localStorage.getItem('weft.tokens'),
          hasLocks: 'locks' in navigator,
        };
      },
      { api: origin, variantId },
    );

    expect(logs).toEqual([]);
    expect(result.userId).toMatch(/^usr_/);
    expect(result.storedRefresh).toBeTruthy();
    expect(result.meIds).toEqual(Array(5).fill(result.userId));
    expect(result.refreshes).toBe(1);
    expect(result.hasLocks).toBe(true);
    expect(result.renewedRefresh).not.toBe(result.storedRefresh);
    expect(result.problem).toEqual({ status: 403, code: 'forbidden' });
    expect(result.seen[0]).toBe(0);
    expect(result.seen.at(-1)).toBe(3);
    expect(result.afterSignOut).toBeNull();
    await page.close();
  });
});
