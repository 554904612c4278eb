// Per-page checks every browser test makes: a screenshot kept under test-results/, and
// axe-core with no serious or critical violation.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { APP_DIR } from './env.mjs';

export const RESULTS_DIR = path.join(APP_DIR, 'test-results');
// This run's pictures only. `node --test` runs each test file in a child process of one
// runner: the first file of a run empties the folder, the next ones (same parent) add to it.
const RUN_MARK = path.join(RESULTS_DIR, '.run');
let sameRun = false;
try {
  sameRun = readFileSync(RUN_MARK, 'utf8') === String(process.ppid);
} catch {
  // no mark: a new run
}
if (!sameRun) rmSync(RESULTS_DIR, { recursive: true, force: true });
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(RUN_MARK, String(process.ppid));

export const axeChecked = [];

/** Screenshot (full page) and accessibility check of the page as it is now. */
export async function checkPage(page, name) {
  await page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage: true });
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  axeChecked.push({ name, url: page.url(), passes: result.passes.length, violations: result.violations.length, serious: bad.length });
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`),
    [],
    `axe on ${name} (${page.url()})`,
  );
}

/** Fails the test on any uncaught page error or failed API call the page did not expect. */
export function watchConsole(page, errors) {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
}
