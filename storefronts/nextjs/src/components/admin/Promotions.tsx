'use client';
import { useEffect, useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { parseAmount, problemText } from '@/lib/admin';
import { useAdmin } from './AdminGate';
import { button, h1, h2, input, secondary, table } from './ui';

/** Promotion codes: list, create (percentage, fixed USD amount, free shipping), switch on/off, delete. */
export function Promotions() {
  const { weft } = useAdmin();
  const [promos, setPromos] = useState<Schemas['Promotion'][] | null>(null);
  const [code, setCode] = useState('');
  const [kind, setKind] = useState('percentage');
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState('');

  useEffect(() => {
    weft.api.GET('/v1/admin/promotions', { params: { query: { limit: 100 } } }).then(({ data }) => setPromos(data!.data)).catch((e) => setError(problemText(e)));
  }, [weft]);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    setError('');
    try {
      const body: Schemas['CreatePromotionRequest'] = { code: code.trim(), kind, description: description.trim() || null };
      if (kind === 'percentage') body.percentage = Number(value);
      if (kind === 'fixed_amount') {
        const a = parseAmount(value);
        if (a === null) return setError('Enter an amount such as 5.00.');
        body.amounts = { USD: a };
      }
      const { data } = await weft.api.POST('/v1/admin/promotions', { body });
      setPromos((p) => [data!, ...(p ?? [])]);
      setCode('');
      setValue('');
      setDescription('');
    } catch (err) {
      setError(problemText(err));
    }
  }

  async function toggle(p: Schemas['Promotion']) {
    try {
      const { data } = await weft.api.PATCH('/v1/admin/promotions/{id}', { params: { path: { id: p.id } }, body: { active: !p.active } });
      setPromos((ps) => ps?.map((x) => (x.id === p.id ? data! : x)) ?? null);
    } catch (err) {
      setError(problemText(err));
    }
  }

  async function remove(p: Schemas['Promotion']) {
    try {
      await weft.api.DELETE('/v1/admin/promotions/{id}', { params: { path: { id: p.id } } });
      setPromos((ps) => ps?.filter((x) => x.id !== p.id) ?? null);
    } catch (err) {
      setError(problemText(err));
    }
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
          <thead><tr><th scope="col">Code</th><th scope="col">Off</th><th scope="col">Description</th><th scope="col">Used</th><th scope="col">Active</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {promos.map((p) => (
              <tr key={p.id}>
                <td className="font-mono">{p.code}</td><td>{off(p)}</td><td>{p.description}</td><td>{p.times_used}</td><td>{p.active ? 'yes' : 'no'}</td>
                <td className="flex gap-2">
                  <button type="button" className={secondary} onClick={() => void toggle(p)}>{p.active ? `Deactivate ${p.code}` : `Activate ${p.code}`}</button>
                  <button type="button" className={secondary} onClick={() => void remove(p)}>Delete {p.code}</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={create} className="mt-6 flex max-w-md flex-col gap-3">
        <h2 className={h2}>New code</h2>
        <div><label htmlFor="promo-code" className="font-medium">Code</label><input id="promo-code" required value={code} onChange={(e) => setCode(e.target.value)} className={input} /></div>
        <div>
          <label htmlFor="promo-kind" className="font-medium">Kind</label>
          <select id="promo-kind" value={kind} onChange={(e) => setKind(e.target.value)} className={input}>
            <option value="percentage">Percentage off</option>
            <option value="fixed_amount">Fixed amount off (USD)</option>
            <option value="free_shipping">Free shipping</option>
          </select>
        </div>
        {kind !== 'free_shipping' && (
          <div><label htmlFor="promo-value" className="font-medium">{kind === 'percentage' ? 'Percent (1–100)' : 'Amount (USD)'}</label><input id="promo-value" required value={value} onChange={(e) => setValue(e.target.value)} inputMode="decimal" className={input} /></div>
        )}
        <div><label htmlFor="promo-description" className="font-medium">Description</label><input id="promo-description" value={description} onChange={(e) => setDescription(e.target.value)} className={input} /></div>
        <button type="submit" className={`${button} self-start`}>Create code</button>
      </form>
    </div>
  );
}
