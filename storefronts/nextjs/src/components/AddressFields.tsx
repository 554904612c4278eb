'use client';
import { COUNTRIES } from '@/lib/countries';
import { inputClass } from '@/lib/forms';

export interface AddressFieldSpec {
  name: string;
  label: string;
  /** The `autocomplete` token browsers fill it from. */
  auto: string;
  /** Spans both columns. */
  wide?: boolean;
}

/**
 * An address's country select and inputs, each labelled and carrying the API's error for
 * it: ids `${prefix}-${name}`, errors `${prefix}-${name}-error` (linked by
 * aria-describedby) with the test id `error-${prefix}-${name}`. The checkout's address
 * step and the account's address book both use it.
 */
export function AddressFields(props: {
  prefix: string;
  fields: AddressFieldSpec[];
  values: Record<string, string>;
  onChange: (values: Record<string, string>) => void;
  errorOf: (field: string) => string | undefined;
}) {
  const { prefix, values, onChange, errorOf } = props;
  const described = (id: string, message: string | undefined) => ({
    'aria-invalid': message ? true : undefined,
    'aria-describedby': message ? `${id}-error` : undefined,
  });
  const error = (id: string, message: string | undefined) =>
    message ? (
      <p id={`${id}-error`} className="mt-1 text-sm text-red-800" data-testid={`error-${id}`}>
        {message}
      </p>
    ) : null;
  const countryId = `${prefix}-country`;
  const countryError = errorOf('country');
  return (
    <>
      <div className="sm:col-span-2">
        <label htmlFor={countryId} className="block text-sm font-medium">Country</label>
        <select
          id={countryId}
          autoComplete="country"
          value={values.country}
          onChange={(e) => onChange({ ...values, country: e.target.value })}
          {...described(countryId, countryError)}
          className={inputClass(!!countryError) + ' bg-white'}
        >
          {COUNTRIES.map(([code, name]) => (
            <option key={code} value={code}>{name}</option>
          ))}
        </select>
        {error(countryId, countryError)}
      </div>
      {props.fields.map((f) => {
        const id = `${prefix}-${f.name}`;
        const message = errorOf(f.name);
        return (
          <div key={f.name} className={f.wide ? 'sm:col-span-2' : undefined}>
            <label htmlFor={id} className="block text-sm font-medium">{f.label}</label>
            <input
              id={id}
              autoComplete={f.auto}
              value={values[f.name] ?? ''}
              onChange={(e) => onChange({ ...values, [f.name]: e.target.value })}
              {...described(id, message)}
              className={inputClass(!!message)}
            />
            {error(id, message)}
          </div>
        );
      })}
    </>
  );
}
