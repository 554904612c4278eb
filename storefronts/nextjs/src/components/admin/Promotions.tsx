'use client';
import { useEffect, useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { parseAmount, problemText, when } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { PromotionEdit, PromotionKindSelect } from './PromotionEdit';
import { button, h1, h2, input, secondary, table } from './ui';

/** Promotion codes: list, create (percentage, fixed USD amount, free shipping), edit, switch on/off, delete. */
export function Promotions() {
  const { weft } = useAdmin();
  const [promos, setPromos] = useState<Schemas['Promotion'][] | null>(null);
  const [code, setCode] = useState('');
  const [kind, setKind] = useState('percentage');
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  const [editing, setEditing] = useState<Schemas['Promotion'] | null>(null);
  const [saved, setSaved] = useState('');
  const { error, setError, submit } = useSubmit();

  useEffect(() => {
    weft.api.GET('/v1/admin/promotions', { params: { query: { limit: 100 } } }).then(({ data }) => setPromos(data!.data)).catch((e) => setError(problemText(e)));
  }, [weft]);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    await submit(async () => {
      const body: Schemas['CreatePromotionRequest'] = { code: code.trim(), kind, description: description.trim() || null };
      if (kind === 'percentage') body.percentage = Number(value);
      if (kind === 'fixed_amount') {
        const a = parseAmount(value);
        if (a === null) return void setError('Enter an amount such as 5.00.');
        body.amounts = { USD: a };
      }
      const { data } = await weft.api.POST('/v1/admin/promotions', { body });
      setPromos((p) => [data!, ...(p ?? [])]);
      setCode('');
      setValue('');
      setDescription('');
    });
  }

  const replace = (p: Schemas['Promotion']) => setPromos((ps) => ps?.map((x) => (x.id === p.id ? p : x)) ?? null);

  async function toggle(p: Schemas['Promotion']) {
    await submit(async () => {
      const { data } = await weft.api.PATCH('/v1/admin/promotions/{id}', { params: { path: { id: p.id } }, body: { active: !p.active } });
      replace(data!);
    });
  }

  async function remove(p: Schemas['Promotion']) {
    await submit(async () => {
      await weft.api.DELETE('/v1/admin/promotions/{id}', { params: { path: { id: p.id } } });
      setPromos((ps) => ps?.filter((x) => x.id !== p.id) ?? null);
    });
  }

  const off = (p: Schemas['Promotion']) =>
    p.kind === 'percentage' ? `${p.percentage} %` : p.kind === 'fixed_amount' ? Object.entries(p.amounts).map(([c, a]) => formatMoney({ amount: a, currency: c })).join(', ') : 'free shipping';

  return (
    <div>
      <h1 className={h1}>Promotions</h1>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {!promos ? (
        <p role="status">Loading promotions…</p>
      ) : (
        <table className={table}>
          <caption className="sr-only">Promotion codes</caption>
          <thead><tr><th scope="col">Code</th><th scope="col">Off</th><th scope="col">Description</th><th scope="col">Used</th><th scope="col">Valid</th><th scope="col">Active</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {promos.map((p) => (
              <tr key={p.id} data-testid={`promo-${p.code}`}>
                <td className="font-mono">{p.code}</td><td>{off(p)}</td><td>{p.description}</td>
                <td>{p.times_used}{p.usage_limit != null && ` of ${p.usage_limit}`}</td>
                <td>{p.starts_at || p.ends_at ? `${p.starts_at ? `from ${when(p.starts_at)}` : ''} ${p.ends_at ? `until ${when(p.ends_at)}` : ''}`.trim() : 'always'}</td>
                <td>{p.active ? 'yes' : 'no'}</td>
                <td className="flex gap-2">
                  <button type="button" className={secondary} onClick={() => { setSaved(''); setEditing(p); }}>Edit {p.code}</button>
                  <button type="button" className={secondary} onClick={() => void toggle(p)}>{p.active ? `Deactivate ${p.code}` : `Activate ${p.code}`}</button>
                  <button type="button" className={secondary} onClick={() => void remove(p)}>Delete {p.code}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {saved && <p role="status" className="mt-2 text-green-800">{saved}</p>}
      {editing && (
        <PromotionEdit
          key={editing.id}
          promotion={editing}
          onCancel={() => setEditing(null)}
          onSaved={(p) => {
            replace(p);
            setEditing(null);
            setSaved(`Saved ${p.code}.`);
          }}
        />
      )}
      <form onSubmit={create} className="mt-6 flex max-w-md flex-col gap-3">
        <h2 className={h2}>New code</h2>
        <div><label htmlFor="promo-code" className="font-medium">Code</label><input id="promo-code" required value={code} onChange={(e) => setCode(e.target.value)} className={input} /></div>
        <PromotionKindSelect id="promo-kind" value={kind} onChange={setKind} />
        {kind !== 'free_shipping' && (
          <div><label htmlFor="promo-value" className="font-medium">{kind === 'percentage' ? 'Percent (1–100)' : 'Amount (USD)'}</label><input id="promo-value" required value={value} onChange={(e) => setValue(e.target.value)} inputMode="decimal" className={input} /></div>
        )}
        <div><label htmlFor="promo-description" className="font-medium">Description</label><input id="promo-description" value={description} onChange={(e) => setDescription(e.target.value)} className={input} /></div>
        <button type="submit" className={`${button} self-start`}>Create code</button>
      </form>
    </div>
  );
}
