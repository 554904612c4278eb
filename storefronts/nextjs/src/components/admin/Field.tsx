import type { ReactNode } from 'react';

/** What a control needs to be tied to its label, hint and error. */
export interface FieldControl {
  id: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
}

/**
 * A labelled control of the merchant screens with an optional hint and Weft's error for
 * it underneath; `children` draws the control (input, textarea, select) with the ids.
 */
export function Field({ id, label, error, hint, labelClass = 'font-medium', className, children }: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  labelClass?: string;
  className?: string;
  children: (control: FieldControl) => ReactNode;
}) {
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return (
    <div className={className}>
      <label htmlFor={id} className={labelClass}>{label}</label>
      {children({ id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy })}
      {hint && <p id={`${id}-hint`} className="text-sm text-neutral-700">{hint}</p>}
      {error && <p id={`${id}-error`} className="text-red-700">{error}</p>}
    </div>
  );
}
