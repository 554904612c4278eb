'use client';
import { useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { parseAmount } from '@/lib/admin';
import type { FieldErrors } from '@/lib/forms';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { Field } from './Field';
import { button, h2, input, secondary } from './ui';

type Promotion = Schemas['Promotion'];

/** An instant as a `datetime-local` value, in UTC (every screen of the merchant area reads UTC). */
const toInput = (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().slice(0, 16) : '');
const fromInput = (v: string) => (v ? `${v}:00Z` : null);
const major = (minor: number | undefined) => (minor === undefined ? '' : (minor / 100).toFixed(2));

/** A whole number ≥ 0 typed in a box, `null` for an empty box, `undefined` when it is not a number. */
function wholeOrEmpty(text: string): number | null | undefined {
  const t = text.trim();
  if (!t) return null;
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/**
 * Edits an existing code with `PATCH /v1/admin/promotions/{id}`: its code, description,
 * kind and value (percent or USD amount; other currencies' amounts are kept), USD minimum
 * subtotal, usage limits, dates (UTC), whether it combines with other codes and whether it
 * is active. Its scope is left as it is. Weft's field errors go on their fields.
 */
export function PromotionEdit({ promotion: p, onSaved, onCancel }: { promotion: Promotion; onSaved: (p: Promotion) => void; onCancel: () => void }) {
  const { weft } = useAdmin();
  const [code, setCode] = useState(p.code);
  const [description, setDescription] = useState(p.description);
  const [kind, setKind] = useState(p.kind);
  const [value, setValue] = useState(p.kind === 'percentage' ? String(p.percentage ?? '') : major(p.amounts['USD']));
  const [minimum, setMinimum] = useState(major(p.minimum_subtotal['USD']));
  const [usageLimit, setUsageLimit] = useState(p.usage_limit == null ? '' : String(p.usage_limit));
  const [perCustomer, setPerCustomer] = useState(p.per_customer_limit == null ? '' : String(p.per_customer_limit));
  const [startsAt, setStartsAt] = useState(toInput(p.starts_at));
  const [endsAt, setEndsAt] = useState(toInput(p.ends_at));
  const [combinable, setCombinable] = useState(p.combinable);
  const [active, setActive] = useState(p.active);
  const { busy, error, setError, errors, setErrors, submit } = useSubmit();

  /** Weft names a map's entry (`amounts.USD`) or the map itself: both belong to one box. */
  const errorOf = (name: string) => Object.entries(errors).find(([k]) => k === name || k.startsWith(`${name}.`))?.[1];

  /** The patch the form describes, or the boxes that hold no number (sent as nothing, not as `null`, which would clear a limit). */
  function patch(): { body: Schemas['UpdatePromotionRequest']; bad: FieldErrors } {
    const bad: FieldErrors = {};
    const b: Schemas['UpdatePromotionRequest'] = {
      code: code.trim(),
      description: description.trim(),
      kind,
      combinable,
      active,
      starts_at: fromInput(startsAt),
      ends_at: fromInput(endsAt),
    };
    if (kind === 'percentage') {
      const n = wholeOrEmpty(value);
      if (typeof n !== 'number') bad['percentage'] = 'Enter a whole percent from 1 to 100.';
      else b.percentage = n;
    }
    if (kind === 'fixed_amount') {
      const a = parseAmount(value);
      if (a === null) bad['amounts'] = 'Enter an amount such as 5.00.';
      else b.amounts = { ...p.amounts, USD: a };
    }
    const { USD: _oldMinimum, ...otherMinimums } = p.minimum_subtotal;
    if (minimum.trim()) {
      const m = parseAmount(minimum);
      if (m === null) bad['minimum_subtotal'] = 'Enter an amount such as 50.00, or leave it empty.';
      else b.minimum_subtotal = { ...otherMinimums, USD: m };
    } else {
      b.minimum_subtotal = otherMinimums;
    }
    for (const [name, text] of [['usage_limit', usageLimit], ['per_customer_limit', perCustomer]] as const) {
      const n = wholeOrEmpty(text);
      if (n === undefined) bad[name] = 'Enter a whole number, or leave it empty for no limit.';
      else b[name] = n;
    }
    return { body: b, bad };
  }

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const { body, bad } = patch();
    if (Object.keys(bad).length) {
      setErrors(bad);
      return setError('Some fields need another value.');
    }
    await submit(async () => {
      const { data } = await weft.api.PATCH('/v1/admin/promotions/{id}', { params: { path: { id: p.id } }, body });
      onSaved(data!);
    });
  }

  const box = (name: string, label: string, val: string, set: (v: string) => void, type = 'text', hint?: string) => (
    <Field id={`edit-promo-${name}`} label={label} error={errorOf(name)} hint={hint}>
      {(control) => <input {...control} type={type} value={val} onChange={(e) => set(e.target.value)} className={input} />}
    </Field>
  );

  return (
    <form onSubmit={save} aria-labelledby="edit-promo-h" className="mt-6 flex max-w-md flex-col gap-3 rounded border border-neutral-300 p-4">
      <h2 id="edit-promo-h" className={`${h2} mt-0`}>Edit {p.code}</h2>
      {box('code', 'Code', code, setCode)}
      {box('description', 'Description', description, setDescription)}
      <PromotionKindSelect id="edit-promo-kind" value={kind} onChange={setKind} />
      {kind === 'percentage' && box('percentage', 'Percent (1–100)', value, setValue)}
      {kind === 'fixed_amount' && box('amounts', 'Amount off (USD)', value, setValue)}
      {box('minimum_subtotal', 'Minimum subtotal (USD)', minimum, setMinimum, 'text', 'Empty: no minimum.')}
      {box('usage_limit', 'Usage limit (orders in all)', usageLimit, setUsageLimit, 'text', `Empty: no limit. Used ${p.times_used} times so far.`)}
      {box('per_customer_limit', 'Limit per customer', perCustomer, setPerCustomer, 'text', 'Empty: no limit.')}
      {box('starts_at', 'Starts (UTC)', startsAt, setStartsAt, 'datetime-local', 'Empty: from now on.')}
      {box('ends_at', 'Ends (UTC)', endsAt, setEndsAt, 'datetime-local', 'The code stops working at this minute. Empty: no end.')}
      <label className="flex items-center gap-2"><input type="checkbox" checked={combinable} onChange={(e) => setCombinable(e.target.checked)} /> Combines with other codes</label>
      <label className="flex items-center gap-2"><input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} /> Active</label>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      <div className="flex gap-2">
        <button type="submit" disabled={busy} className={button}>Save {p.code}</button>
        <button type="button" className={secondary} onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** The kinds of promotion Weft knows, for the create and edit forms. */
export function PromotionKindSelect({ id, value, onChange }: { id: string; value: string; onChange: (kind: string) => void }) {
  return (
    <div>
      <label htmlFor={id} className="font-medium">Kind</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)} className={input}>
        <option value="percentage">Percentage off</option>
        <option value="fixed_amount">Fixed amount off (USD)</option>
        <option value="free_shipping">Free shipping</option>
      </select>
    </div>
  );
}
