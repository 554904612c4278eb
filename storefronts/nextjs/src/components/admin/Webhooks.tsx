'use client';
import { useCallback, useEffect, useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { problemText, when, withRows } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { button, h1, h2, input, secondary, table } from './ui';

type Endpoint = Schemas['WebhookEndpoint'];
type Delivery = Schemas['WebhookDelivery'];

const EVENTS = [
  'order.created',
  'order.fulfilled',
  'order.completed',
  'order.cancelled',
  'order.refunded',
  'order.return_received',
  'payment.succeeded',
  'payment.failed',
  'inventory.low',
  'product.updated',
  'review.product_rated',
  'user.registered',
  'user.erased',
];

/** Outbound webhooks: subscribe an HTTPS URL (its secret shown once), send a test event, follow each endpoint's deliveries and send one again. */
export function Webhooks() {
  const { weft } = useAdmin();
  const [endpoints, setEndpoints] = useState<Endpoint[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const { error, setError, submit } = useSubmit();

  useEffect(() => {
    weft.api
      .GET('/v1/admin/webhooks', { params: { query: { limit: 100 } } })
      .then(({ data }) => setEndpoints((made) => withRows(data!.data, made ?? [], true)))
      .catch((e) => setError(problemText(e)));
  }, [weft, setError]);

  const replace = (e: Endpoint) => setEndpoints((xs) => xs?.map((x) => (x.id === e.id ? e : x)) ?? null);

  return (
    <div>
      <h1 className={h1}>Webhooks</h1>
      <p className="max-w-2xl text-sm text-neutral-700">
        Weft posts each event to the endpoints subscribed to it, signed in <code>Weft-Signature</code> with the endpoint&apos;s
        secret, and tries again for up to three days before it disables the endpoint.
      </p>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      <NewEndpoint onCreated={(e) => setEndpoints((xs) => withRows(xs, [e], true))} />
      <h2 className={h2}>Endpoints</h2>
      {!endpoints ? (
        <p role="status">Loading…</p>
      ) : endpoints.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <table className={table}>
          <thead>
            <tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Actions</th></tr>
          </thead>
          <tbody>
            {endpoints.map((e) => (
              <tr key={e.id} data-testid={`webhook-${e.id}`}>
                <td className="break-all font-mono text-xs">{e.url}</td>
                <td className="text-xs">{e.events.join(', ')}</td>
                <td>{e.status}{e.disabled_reason ? ` (${e.disabled_reason})` : ''}</td>
                <td className="flex flex-wrap gap-2">
                  <button
                    type="button"
                    className={secondary}
                    disabled={e.status !== 'enabled'}
                    onClick={() =>
                      void submit(async () => {
                        await weft.api.POST('/v1/admin/webhooks/{id}/test', { params: { path: { id: e.id } } });
                        setOpen(e.id);
                      })
                    }
                  >
                    Send test event
                  </button>
                  <button
                    type="button"
                    className={secondary}
                    onClick={() =>
                      void submit(async () => {
                        const { data } = await weft.api.PATCH('/v1/admin/webhooks/{id}', {
                          params: { path: { id: e.id } },
                          body: { enabled: e.status !== 'enabled' },
                        });
                        replace(data!);
                      })
                    }
                  >
                    {e.status === 'enabled' ? 'Disable' : 'Enable'}
                  </button>
                  <button type="button" className={secondary} aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                    Deliveries
                  </button>
                  <button
                    type="button"
                    className={secondary}
                    onClick={() =>
                      void submit(async () => {
                        if (!window.confirm(`Delete the endpoint ${e.url} and its delivery log?`)) return;
                        await weft.api.DELETE('/v1/admin/webhooks/{id}', { params: { path: { id: e.id } } });
                        setEndpoints((xs) => xs?.filter((x) => x.id !== e.id) ?? null);
                      })
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <DeliveryLog key={open} endpointId={open} />}
    </div>
  );
}

function NewEndpoint({ onCreated }: { onCreated: (e: Endpoint) => void }) {
  const { weft } = useAdmin();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [secret, setSecret] = useState('');
  const { error, busy, submit } = useSubmit();
  return (
    <form
      className="mt-4 flex max-w-2xl flex-col gap-2"
      onSubmit={(ev) => {
        ev.preventDefault();
        setSecret('');
        void submit(async () => {
          const { data } = await weft.api.POST('/v1/admin/webhooks', { body: { url: url.trim(), events } });
          const { secret: shown, ...endpoint } = data!;
          setSecret(shown);
          onCreated(endpoint);
          setUrl('');
          setEvents([]);
        });
      }}
    >
      <label htmlFor="webhook-url" className="font-medium">Endpoint URL (https)</label>
      <input id="webhook-url" type="url" required value={url} onChange={(ev) => setUrl(ev.target.value)} className={input} />
      <fieldset className="flex flex-wrap gap-x-4 gap-y-1">
        <legend className="font-medium">Events</legend>
        {EVENTS.map((name) => (
          <label key={name} className="flex items-center gap-1 text-sm">
            <input type="checkbox" checked={events.includes(name)} onChange={(ev) => setEvents(ev.target.checked ? [...events, name] : events.filter((x) => x !== name))} />
            {name}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy} className={`${button} self-start`}>Subscribe</button>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {secret && (
        <div role="status" className="rounded border border-amber-600 bg-amber-50 p-3">
          <p className="font-medium">The signing secret. Copy it now: it is shown only once.</p>
          <code data-testid="webhook-secret" className="break-all font-mono text-sm">{secret}</code>
        </div>
      )}
    </form>
  );
}

function DeliveryLog({ endpointId }: { endpointId: string }) {
  const { weft } = useAdmin();
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const { error, setError, submit } = useSubmit();

  const load = useCallback(() => {
    weft.api
      .GET('/v1/admin/webhooks/{id}/deliveries', { params: { path: { id: endpointId }, query: { limit: 50 } } })
      .then(({ data }) => setDeliveries(data!.data))
      .catch((e) => setError(problemText(e)));
  }, [weft, endpointId, setError]);
  useEffect(load, [load]);

  return (
    <section aria-labelledby="deliveries-h">
      <h2 id="deliveries-h" className={h2}>Deliveries</h2>
      <button type="button" className={secondary} onClick={load}>Refresh</button>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {!deliveries ? (
        <p role="status">Loading…</p>
      ) : deliveries.length === 0 ? (
        <p>Nothing delivered yet.</p>
      ) : (
        <table className={table}>
          <thead>
            <tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Made</th><th scope="col">Again</th></tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id} data-testid={`delivery-${d.event_id}`}>
                <td className="font-mono text-xs">{d.event_type}</td>
                <td>{d.status}</td>
                <td>{d.attempt_count}</td>
                <td>{d.last_response_status ?? '—'}</td>
                <td>{when(d.created_at)}</td>
                <td>
                  {d.status === 'failed' && d.request_body !== null && (
                    <button
                      type="button"
                      className={secondary}
                      onClick={() =>
                        void submit(async () => {
                          await weft.api.POST('/v1/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver', {
                            params: { path: { id: endpointId, delivery_id: d.id } },
                          });
                          load();
                        })
                      }
                    >
                      Redeliver
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
