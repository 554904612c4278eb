'use client';
import { useCallback, useEffect, useState } from 'react';
import Link from 'next/link';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { formatMoney } from '@/lib/money';
import { useSubmit } from '@/lib/useSubmit';
import { ACCOUNT_FORM, buttonClass, formatDate, inputClass, problemMessage, saveBlob, secondaryButtonClass, statusLabel } from '@/lib/account';

type Order = Schemas['Order'];
type History = Schemas['OrderHistoryDto'];

const CANCELLABLE = new Set(['pending', 'paid']);
const RETURNABLE = new Set(['fulfilled', 'delivered', 'partially_refunded']);

function describeMove(h: History): string {
  const d = (h.detail ?? {}) as Record<string, unknown>;
  const tracking = d['tracking_number'] ?? d['tracking'];
  const extra = [tracking ? `tracking ${String(tracking)}` : null, d['reason'] ? `reason: ${String(d['reason'])}` : null]
    .filter(Boolean)
    .join(', ');
  return `${statusLabel(h.from)} → ${statusLabel(h.to)}${extra ? ` (${extra})` : ''}`;
}

/** One of the customer's orders: lines, status history, returns; invoice, cancel, return. */
export function OrderDetail({ id }: { id: string }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [signedOut, setSignedOut] = useState(false);
  const { busy, error: message, setError: setMessage, submit } = useSubmit({ describe: problemMessage });

  const load = useCallback(async () => {
    const weft = await browserWeft();
    if (!(await weft.auth.isSignedIn())) return setSignedOut(true);
    try {
      setOrder((await weft.api.GET('/v1/orders/{id}', { params: { path: { id } } })).data ?? null);
    } catch (e) {
      setError(e instanceof WeftProblem && e.status === 404 ? 'There is no such order in your account.' : problemMessage(e));
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  if (signedOut) {
    return (
      <p>
        <Link href="/account" className="underline">Sign in</Link> to see your orders.
      </p>
    );
  }
  if (error) {
    return (
      <>
        <h1 className="mb-4 text-2xl font-semibold tracking-tight">Order</h1>
        <p role="alert" className="text-red-800">{error}</p>
      </>
    );
  }
  if (!order) return <p role="status">Loading your order…</p>;

  return (
    <div className="space-y-8">
      <div>
        <p className="text-sm">
          <Link href="/account" className="underline">← Your account</Link>
        </p>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight">
          Order <span className="font-mono text-xl">{order.id}</span>
        </h1>
        <p className="mt-1">
          Placed {formatDate(order.created_at)} · Status: <strong data-testid="order-status">{statusLabel(order.status)}</strong>
        </p>
      </div>
      {message && <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800">{message}</p>}

      <div className="flex flex-wrap gap-3">
        <button
          type="button"
          disabled={busy}
          className={secondaryButtonClass}
          onClick={async () => {
            setMessage('');
            try {
              const weft = await browserWeft();
              const { data } = await weft.api.GET('/v1/orders/{id}/invoice', { params: { path: { id: order.id } }, parseAs: 'blob' });
              saveBlob(data as Blob, `invoice-${order.id}.pdf`);
            } catch (e) {
              setMessage(problemMessage(e));
            }
          }}
        >
          Download invoice (PDF)
        </button>
        {CANCELLABLE.has(order.status) && (
          <button
            type="button"
            disabled={busy}
            className={secondaryButtonClass}
            onClick={() =>
              void submit(async () => {
                const weft = await browserWeft();
                await weft.api.POST('/v1/orders/{id}/cancel', { params: { path: { id: order.id } }, body: { reason: 'cancelled by the customer' } });
                await load();
              })
            }
          >
            Cancel order
          </button>
        )}
      </div>

      <section aria-labelledby="lines-heading">
        <h2 id="lines-heading" className="mb-2 text-lg font-semibold">Items</h2>
        <ul className="space-y-1 text-sm">
          {order.lines.map((l) => (
            <li key={l.variant_id} className="flex justify-between gap-2">
              <span>
                {l.title} {l.sku && <span className="text-neutral-700">({l.sku})</span>} × {l.quantity}
              </span>
              <span>{formatMoney({ amount: l.unit_price.amount * l.quantity, currency: l.unit_price.currency })}</span>
            </li>
          ))}
        </ul>
        <dl className="mt-3 grid max-w-xs grid-cols-2 gap-x-4 text-sm">
          <dt>Subtotal</dt>
          <dd className="text-right">{formatMoney(order.subtotal)}</dd>
          {order.discounts.amount > 0 && (
            <>
              <dt>Discounts</dt>
              <dd className="text-right">−{formatMoney(order.discounts)}</dd>
            </>
          )}
          <dt>Shipping</dt>
          <dd className="text-right">{formatMoney(order.shipping)}</dd>
          <dt>Tax</dt>
          <dd className="text-right">{formatMoney(order.tax)}</dd>
          <dt className="font-semibold">Total</dt>
          <dd className="text-right font-semibold">{formatMoney(order.total)}</dd>
          {order.refunded.amount > 0 && (
            <>
              <dt>Refunded</dt>
              <dd className="text-right">{formatMoney(order.refunded)}</dd>
            </>
          )}
        </dl>
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading" className="mb-2 text-lg font-semibold">History</h2>
        {order.history.length === 0 ? (
          <p className="text-sm">Placed, awaiting payment.</p>
        ) : (
          <ol className="space-y-1 text-sm" data-testid="order-history">
            {order.history.map((h, i) => (
              <li key={i}>
                <time dateTime={h.at}>{formatDate(h.at)}</time>: {describeMove(h)}
              </li>
            ))}
          </ol>
        )}
      </section>

      {order.returns.length > 0 && (
        <section aria-labelledby="returns-heading">
          <h2 id="returns-heading" className="mb-2 text-lg font-semibold">Returns</h2>
          <ul className="space-y-2 text-sm" data-testid="returns">
            {order.returns.map((r) => (
              <li key={r.id}>
                {formatDate(r.created_at)}: {r.items.reduce((n, i) => n + i.quantity, 0)} unit(s), “{r.reason}” — <strong>{r.status}</strong>
              </li>
            ))}
          </ul>
        </section>
      )}

      {RETURNABLE.has(order.status) && <ReturnForm order={order} onDone={load} />}
    </div>
  );
}

function ReturnForm({ order, onDone }: { order: Order; onDone: () => Promise<void> }) {
  const [quantities, setQuantities] = useState<Record<string, number>>({});
  const [reason, setReason] = useState('');
  const { busy, error: message, setError: setMessage, errors, setErrors, submit } = useSubmit(ACCOUNT_FORM);
  return (
    <section aria-labelledby="return-heading">
      <h2 id="return-heading" className="mb-2 text-lg font-semibold">Return items</h2>
      <form
        noValidate
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          const items = Object.entries(quantities)
            .filter(([, q]) => q > 0)
            .map(([variant_id, quantity]) => ({ variant_id, quantity }));
          if (items.length === 0) {
            setErrors({});
            return setMessage('Choose at least one item to return.');
          }
          void submit(async () => {
            const weft = await browserWeft();
            await weft.api.POST('/v1/orders/{id}/returns', { params: { path: { id: order.id } }, body: { items, reason: reason.trim() } });
            setQuantities({});
            setReason('');
            await onDone();
          });
        }}
      >
        {message && <p role="alert" className="text-sm text-red-800">{message}</p>}
        {Object.entries(errors)
          .filter(([k]) => k !== 'reason')
          .map(([k, m]) => (
            <p key={k} role="alert" className="text-sm text-red-800">{m}</p>
          ))}
        <fieldset className="space-y-2">
          <legend className="text-sm font-medium">How many of each?</legend>
          {order.lines.map((l) => (
            <div key={l.variant_id} className="flex items-center gap-3 text-sm">
              <label htmlFor={`return-${l.variant_id}`} className="w-64">
                {l.title} {l.sku && `(${l.sku})`}
              </label>
              <select
                id={`return-${l.variant_id}`}
                value={quantities[l.variant_id] ?? 0}
                onChange={(e) => setQuantities({ ...quantities, [l.variant_id]: Number(e.target.value) })}
                className="rounded border border-neutral-400 bg-white px-2 py-1"
              >
                {Array.from({ length: l.quantity + 1 }, (_, n) => (
                  <option key={n} value={n}>{n}</option>
                ))}
              </select>
            </div>
          ))}
        </fieldset>
        <div>
          <label htmlFor="return-reason" className="block text-sm font-medium">Reason</label>
          <input
            id="return-reason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-invalid={errors['reason'] ? true : undefined}
            aria-describedby={errors['reason'] ? 'return-reason-error' : undefined}
            className={inputClass(!!errors['reason'])}
          />
          {errors['reason'] && <p id="return-reason-error" className="mt-1 text-sm text-red-800">{errors['reason']}</p>}
        </div>
        <button type="submit" disabled={busy} className={buttonClass}>Request return</button>
      </form>
    </section>
  );
}
