import { WeftProblem } from '@weft/sdk';

/** Field errors of a 422, keyed by the API's field path (`postal_code`,
 *  `shipping_address.postal_code`). */
export type FieldErrors = Record<string, string>;

export function fieldErrors(e: unknown): FieldErrors | null {
  if (e instanceof WeftProblem && e.errors.length > 0) {
    return Object.fromEntries(e.errors.map((x) => [x.field, x.message]));
  }
  return null;
}

/**
 * A refusal as one sentence for a shopper: a few codes in the shop's words, a 422's field
 * messages, else Weft's own detail (the merchant area has its own, with the code).
 */
export function problemMessage(e: unknown): string {
  if (!(e instanceof WeftProblem)) return 'Could not reach the shop. Check your connection and try again.';
  switch (e.code) {
    case 'invalid_credentials':
      return 'That e-mail and password do not match an account.';
    case 'login_throttled':
      return `Too many attempts. Try again in ${e.retryAfter ?? 60} seconds.`;
    case 'email_throttled':
      return `Too many e-mails were asked for this address. Try again in ${waitText(e.retryAfter ?? 60)}.`;
    case 'out_of_stock':
      return 'Sorry, there is not enough stock for that.';
  }
  if (e.errors.length > 0) return e.errors.map((x) => x.message).join('; ');
  return e.detail || e.title;
}

/** A `Retry-After` in words: `45 seconds`, `2 minutes`, `15 minutes`. */
export function waitText(seconds: number): string {
  if (seconds < 90) return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

export const inputClass = (bad: boolean) => `mt-1 w-full rounded border px-3 py-2 ${bad ? 'border-red-700' : 'border-neutral-400'}`;
