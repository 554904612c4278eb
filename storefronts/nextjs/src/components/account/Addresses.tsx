'use client';
import { useCallback, useEffect, useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { ACCOUNT_FORM, buttonClass, problemMessage, secondaryButtonClass } from '@/lib/account';
import { useSubmit } from '@/lib/useSubmit';
import { AddressFields, type AddressFieldSpec } from '../AddressFields';

type Address = Schemas['Address'];
type AddressBody = Schemas['CreateAddressRequest'];

const FIELDS: (AddressFieldSpec & { name: keyof AddressBody })[] = [
  { name: 'name', label: 'Full name', auto: 'name', wide: true },
  { name: 'company', label: 'Company (optional)', auto: 'organization', wide: true },
  { name: 'line1', label: 'Address', auto: 'address-line1', wide: true },
  { name: 'line2', label: 'Apartment, suite (optional)', auto: 'address-line2', wide: true },
  { name: 'city', label: 'City', auto: 'address-level2' },
  { name: 'region', label: 'State / region', auto: 'address-level1' },
  { name: 'postal_code', label: 'Postal code', auto: 'postal-code' },
  { name: 'phone', label: 'Phone (optional, international: +1…)', auto: 'tel' },
];

function oneLine(a: Address): string {
  return [a.company, a.line1, a.line2, a.city, a.region, a.postal_code, a.country].filter(Boolean).join(', ');
}

/** The address book: list, add, edit, delete; Weft's field errors shown on their fields. */
export function Addresses() {
  const [list, setList] = useState<Address[] | null>(null);
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const reload = useCallback(async () => {
    const weft = await browserWeft();
    const { data } = await weft.api.GET('/v1/me/addresses');
    setList(data?.data ?? []);
  }, []);

  useEffect(() => {
    void reload().catch((e) => setMessage(problemMessage(e)));
  }, [reload]);

  return (
    <section aria-labelledby="addresses-heading">
      <h2 id="addresses-heading" className="mb-3 text-xl font-semibold">Addresses</h2>
      {message && <p role="alert" className="mb-3 text-sm text-red-800">{message}</p>}
      {!list && !message && <p role="status">Loading addresses…</p>}
      {list && list.length === 0 && editing !== 'new' && <p className="mb-3">No saved addresses.</p>}
      {list && list.length > 0 && (
        <ul className="mb-4 space-y-3" data-testid="addresses">
          {list.map((a) => (
            <li key={a.id} className="rounded border border-neutral-300 p-3" data-testid="address">
              {editing === a.id ? (
                <AddressForm
                  initial={a}
                  submitLabel="Save address"
                  onCancel={() => setEditing(null)}
                  onSubmit={async (body) => {
                    const weft = await browserWeft();
                    await weft.api.PATCH('/v1/me/addresses/{id}', { params: { path: { id: a.id } }, body });
                    setEditing(null);
                    await reload();
                  }}
                />
              ) : (
                <div className="flex flex-wrap items-start justify-between gap-3">
                  <p className="text-sm">
                    <strong>{a.name}</strong>
                    {a.is_default && <span className="ml-2 rounded bg-neutral-200 px-1.5 text-xs">Default</span>}
                    <br />
                    {oneLine(a)}
                    {a.phone && (
                      <>
                        <br />
                        {a.phone}
                      </>
                    )}
                  </p>
                  <div className="flex gap-2">
                    <button type="button" className={secondaryButtonClass} onClick={() => setEditing(a.id)}>
                      Edit<span className="sr-only"> the address of {a.name}, {a.line1}</span>
                    </button>
                    <button
                      type="button"
                      className={secondaryButtonClass}
                      onClick={async () => {
                        setMessage(null);
                        try {
                          const weft = await browserWeft();
                          await weft.api.DELETE('/v1/me/addresses/{id}', { params: { path: { id: a.id } } });
                          await reload();
                        } catch (e) {
                          setMessage(problemMessage(e));
                        }
                      }}
                    >
                      Delete<span className="sr-only"> the address of {a.name}, {a.line1}</span>
                    </button>
                  </div>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {editing === 'new' ? (
        <div className="rounded border border-neutral-300 p-4">
          <h3 className="mb-3 font-semibold">New address</h3>
          <AddressForm
            initial={null}
            submitLabel="Add address"
            onCancel={() => setEditing(null)}
            onSubmit={async (body) => {
              const weft = await browserWeft();
              await weft.api.POST('/v1/me/addresses', { body });
              setEditing(null);
              await reload();
            }}
          />
        </div>
      ) : (
        <button type="button" className={secondaryButtonClass} onClick={() => setEditing('new')}>
          Add an address
        </button>
      )}
    </section>
  );
}

function AddressForm(props: { initial: Address | null; submitLabel: string; onSubmit: (body: AddressBody) => Promise<void>; onCancel: () => void }) {
  const prefix = props.initial ? `address-${props.initial.id}` : 'address-new';
  const [a, setA] = useState<Record<string, string>>(() => {
    const i = props.initial;
    return {
      name: i?.name ?? '',
      company: i?.company ?? '',
      line1: i?.line1 ?? '',
      line2: i?.line2 ?? '',
      city: i?.city ?? '',
      region: i?.region ?? '',
      postal_code: i?.postal_code ?? '',
      phone: i?.phone ?? '',
      country: i?.country ?? 'US',
    };
  });
  const [isDefault, setIsDefault] = useState(props.initial?.is_default ?? false);
  const { busy, error: message, errors, submit } = useSubmit(ACCOUNT_FORM);
  const opt = (v: string | undefined) => v?.trim() || null;
  const unplaced = Object.entries(errors).filter(([k]) => !(k in a));
  return (
    <form
      noValidate
      className="grid gap-3 sm:grid-cols-2"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(() =>
          props.onSubmit({
            name: a.name!.trim(),
            company: opt(a.company),
            line1: a.line1!.trim(),
            line2: opt(a.line2),
            city: a.city!.trim(),
            region: opt(a.region),
            postal_code: opt(a.postal_code),
            country: a.country!,
            phone: opt(a.phone),
            is_default: isDefault,
          }),
        );
      }}
    >
      {(message || unplaced.length > 0) && (
        <p role="alert" className="text-sm text-red-800 sm:col-span-2">
          {[message, ...unplaced.map(([k, m]) => `${k}: ${m}`)].filter(Boolean).join(' ')}
        </p>
      )}
      <AddressFields prefix={prefix} fields={FIELDS} values={a} onChange={setA} errorOf={(f) => errors[f]} />
      <div className="flex items-center gap-2 sm:col-span-2">
        <input id={`${prefix}-default`} type="checkbox" checked={isDefault} onChange={(e) => setIsDefault(e.target.checked)} />
        <label htmlFor={`${prefix}-default`} className="text-sm">Make this my default address</label>
      </div>
      <div className="flex gap-3 sm:col-span-2">
        <button type="submit" disabled={busy} className={buttonClass}>{props.submitLabel}</button>
        <button type="button" className={secondaryButtonClass} onClick={props.onCancel}>Cancel</button>
      </div>
    </form>
  );
}
