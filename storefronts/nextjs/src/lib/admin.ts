import { WeftProblem } from '@weft/sdk';

/** The API's reason for a refusal, in words a merchant can act on. */
export function problemText(e: unknown): string {
  if (e instanceof WeftProblem) {
    const fields = e.errors.map((f) => `${f.field}: ${f.message}`).join('; ');
    return [e.detail || e.title, fields].filter(Boolean).join(' — ') + ` (${e.code})`;
  }
  return 'Could not reach the shop.';
}

/** A date-time for a merchant's screens (UTC, so every member of staff reads the same). */
export function when(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/** "12.50" (major units) to minor units, or null when it is not an amount. */
export function parseAmount(text: string): number | null {
  const t = text.trim();
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ''] = t.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

/**
 * A list the screen loaded, joined with rows made on the screen meanwhile. The first load can
 * answer after a row was created (and then already hold it, or not yet): each id shows once,
 * newest rows first when `newestFirst`.
 */
export function withRows<T extends { id: string }>(rows: T[] | null, added: T[], newestFirst = false): T[] {
  const ids = new Set(added.map((x) => x.id));
  const kept = (rows ?? []).filter((x) => !ids.has(x.id));
  return newestFirst ? [...added, ...kept] : [...kept, ...added];
}
