import { WeftProblem } from '@weft/sdk';

import type { SubmitOptions } from './useSubmit';

export { fieldErrors, inputClass, type FieldErrors } from './forms';

/** A problem as one sentence for the page (Weft's own detail when it gave one). */
export function problemMessage(e: unknown): string {
  if (e instanceof WeftProblem) {
    if (e.code === 'invalid_credentials') return 'That e-mail and password do not match an account.';
    if (e.code === 'login_throttled') return `Too many attempts. Try again in ${e.retryAfter ?? 60} seconds.`;
    return e.detail || e.title;
  }
  return 'Could not reach the shop. Check your connection and try again.';
}

/** `useSubmit` as the account's forms use it: Weft's field errors on their fields, any
 *  other refusal as one sentence. */
export const ACCOUNT_FORM: SubmitOptions = { describe: problemMessage, fieldsOnly: true };

/** Saves a Blob as a file through a temporary object URL (what a download link would do). */
export function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
}

/** Order statuses as shoppers read them. */
export const ORDER_STATUS: Record<string, string> = {
  pending: 'Awaiting payment',
  paid: 'Paid',
  fulfilled: 'Shipped',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
  refunded: 'Refunded',
  partially_refunded: 'Partly refunded',
};

export const statusLabel = (s: string) => ORDER_STATUS[s] ?? s;

export const buttonClass = 'rounded bg-neutral-900 px-4 py-2 font-medium text-white hover:bg-neutral-700 disabled:bg-neutral-500';
export const secondaryButtonClass = 'rounded border border-neutral-400 px-3 py-1.5 text-sm font-medium hover:bg-neutral-100 disabled:text-neutral-500';
