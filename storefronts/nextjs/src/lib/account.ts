import { problemMessage } from './forms';
import type { SubmitOptions } from './useSubmit';

export { fieldErrors, inputClass, problemMessage, type FieldErrors } from './forms';

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
