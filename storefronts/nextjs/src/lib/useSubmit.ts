'use client';
import { useState } from 'react';
import { fieldErrors, type FieldErrors } from './forms';
import { problemText } from './admin';

export interface SubmitOptions {
  /** The refusal in words (default: the merchant area's `problemText`, with Weft's code). */
  describe?: (e: unknown) => string;
  /** A 422 with field errors puts them on their fields only, with no sentence besides
   *  (the account's forms); by default the sentence is shown too. */
  fieldsOnly?: boolean;
}

export interface Submit {
  /** A call is on its way: disable what would send it twice. */
  busy: boolean;
  /** The last refusal in words, '' when there is none. */
  error: string;
  /** The last refusal's field errors (a 422's `errors[].field`), keyed by field path. */
  errors: FieldErrors;
  setError: (message: string) => void;
  setErrors: (errors: FieldErrors) => void;
  /** Runs `action` with `busy` set and the previous refusal cleared; a throw becomes `error`/`errors`. */
  submit: (action: () => Promise<unknown>) => Promise<void>;
}

/**
 * The pattern every form repeated: `busy` on, the last refusal cleared, the call, and
 * Weft's problem turned into words (and field errors) for the page — `busy` off whatever
 * happens. What the form does on success stays in `action`.
 */
export function useSubmit({ describe = problemText, fieldsOnly = false }: SubmitOptions = {}): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});

  async function submit(action: () => Promise<unknown>) {
    setBusy(true);
    setError('');
    setErrors({});
    try {
      await action();
    } catch (e) {
      const fields = fieldErrors(e);
      if (fields) setErrors(fields);
      if (!(fields && fieldsOnly)) setError(describe(e));
    } finally {
      setBusy(false);
    }
  }

  return { busy, error, errors, setError, setErrors, submit };
}
