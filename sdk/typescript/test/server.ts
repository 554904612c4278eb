// Starts a real `weft serve --demo` for the tests: a fresh data dir, a free port, and a clean
// stop. Used by the global setup (the shared server) and by tests that need a server of
// their own (the 429 test runs one with a tiny rate limit).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const WEFT_BIN = process.env.WEFT_BIN || '/var/tmp/weft-ci-target/debug/weft';

export interface WeftServer {
  baseUrl: string;
  dataDir: string;
  log: string;
  stop(): Promise<void>;
}

export function weftBinary(): string {
  if (!existsSync(WEFT_BIN)) {
    throw new Error(
      `no weft binary at ${WEFT_BIN}: build it (cargo build -p weft) or point WEFT_BIN at one`,
    );
  }
  return WEFT_BIN;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The environment for weft: ours, minus a database URL that would point it elsewhere. */
function weftEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RUST_LOG: 'warn', ...extra };
  delete env.WEFT_DATABASE_URL;
  return env;
}

const NO_RATE_LIMITS = {
  WEFT_RATE_LIMIT_PER_MINUTE: '0',
  WEFT_RATE_LIMIT_PER_USER_PER_MINUTE: '0',
  WEFT_RATE_LIMIT_PER_APP_PER_MINUTE: '0',
};

/**
 * Starts `weft serve` (with `--demo` unless `demo: false`) and waits for `/health/ready`.
 * `env` overrides the environment (rate limits).
 */
export async function startWeft(env: Record<string, string> = {}, { demo = true } = {}): Promise<WeftServer> {
  const bin = weftBinary();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'weft-sdk-test-'));
  const log = path.join(dataDir, 'weft.log');
  const out = openSync(log, 'a');
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    ['serve', ...(demo ? ['--demo'] : []), '--port', String(port), '--data-dir', path.join(dataDir, 'data')],
    {
      cwd: dataDir,
      env: weftEnv({ ...NO_RATE_LIMITS, ...env }),
      stdio: ['ignore', out, out],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const tail = () => readFileSync(log, 'utf8').split('\n').slice(-30).join('\n');

  const deadline = Date.now() + 120_000;
  let ready = false;
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`weft serve exited with ${child.exitCode}:\n${tail()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`weft serve not ready at ${baseUrl}/health/ready within 120 s:\n${tail()}`);
    }
    try {
      ready = (await fetch(`${baseUrl}/health/ready`)).status === 200;
    } catch {
      // not listening yet
    }
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }

  return {
    baseUrl,
    dataDir: path.join(dataDir, 'data'),
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `weft admin create` against the server's data dir. */
export async function createAdmin(server: WeftServer, email: string, password: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(
      weftBinary(),
      ['admin', 'create', '--email', email, '--data-dir', server.dataDir],
      { env: weftEnv({ WEFT_ADMIN_PASSWORD: password }) },
      (err, _stdout, stderr) => (err ? reject(new Error(`weft admin create failed: ${stderr}`)) : resolve()),
    );
  });
}
