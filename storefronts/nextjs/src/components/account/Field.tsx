'use client';
import { inputClass } from '@/lib/account';

/**
 * A labelled input of the account's forms: its error (a 422's message for the field, or the
 * page's own check) below it, tied to it by `aria-describedby` and `aria-invalid`, as is its
 * hint. The error carries `data-testid="error-<id>"`.
 */
export function Field(props: {
  id: string;
  label: string;
  type?: string;
  auto: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  hint?: string;
  required?: boolean;
}) {
  const describedBy = [props.error ? `${props.id}-error` : null, props.hint ? `${props.id}-hint` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div>
      <label htmlFor={props.id} className="block text-sm font-medium">{props.label}</label>
      <input
        id={props.id}
        type={props.type ?? 'text'}
        autoComplete={props.auto}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
        aria-required={props.required ? true : undefined}
        className={inputClass(!!props.error)}
      />
      {props.hint && <p id={`${props.id}-hint`} className="mt-1 text-xs text-neutral-700">{props.hint}</p>}
      {props.error && (
        <p id={`${props.id}-error`} className="mt-1 text-sm text-red-800" data-testid={`error-${props.id}`}>
          {props.error}
        </p>
      )}
    </div>
  );
}
