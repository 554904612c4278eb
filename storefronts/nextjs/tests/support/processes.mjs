// Starting and stopping the real processes a browser test needs: `weft serve --demo` and
// `next start`, each on a free port, each stopped with SIGTERM (then SIGKILL) at the end.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns a process and keeps its output, so a failure can say what it printed. */
export function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  const out = [];
  const listeners = new Set();
  const onData = (chunk) => {
    const text = chunk.toString();
    out.push(text);
    if (out.length > 4000) out.splice(0, out.length - 4000);
    for (const l of listeners) l(text);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return {
    child,
    output: () => out.join(''),
    /** Resolves when a line containing `text` is printed (already printed counts). */
    waitForLine(text, timeoutMs) {
      if (out.join('').includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`${cmd}: no "${text}" within ${timeoutMs} ms; last output:\n${out.join('').slice(-3000)}`));
        }, timeoutMs);
        const l = () => {
          if (out.join('').slice(-20000).includes(text)) {
            clearTimeout(t);
            listeners.delete(l);
            resolve();
          }
        };
        listeners.add(l);
        child.once('exit', (code) => {
          clearTimeout(t);
          listeners.delete(l);
          reject(new Error(`${cmd} exited (${code}) before "${text}":\n${out.join('').slice(-3000)}`));
        });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}

/** Polls `url` until it answers 200, or fails naming what the process printed. */
export async function waitHttp(url, proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}) before ${url} answered:\n${proc.output().slice(-3000)}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (${last}):\n${proc.output().slice(-3000)}`);
}
