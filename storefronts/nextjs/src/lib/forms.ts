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

export const inputClass = (bad: boolean) => `mt-1 w-full rounded border px-3 py-2 ${bad ? 'border-red-700' : 'border-neutral-400'}`;
