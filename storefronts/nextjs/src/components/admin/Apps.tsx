'use client';
import { useEffect, useState } from 'react';
import type { Schemas } from '@weft/sdk';
import { problemText, when, withRows } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { button, h1, h2, input, secondary, table } from './ui';

const SCOPES = ['catalog:read', 'catalog:write', 'customers:read', 'customers:write', 'inventory:read', 'inventory:write', 'orders:read', 'orders:write', 'payments:read', 'promotions:read', 'promotions:write', 'reviews:write', 'webhooks:write'];

/** Third-party apps (OAuth client credentials) and API keys; a secret is shown once, right after it is made. */
export function Apps() {
  const { weft } = useAdmin();
  const [apps, setApps] = useState<Schemas['App'][] | null>(null);
  const [keys, setKeys] = useState<Schemas['ApiKey'][] | null>(null);
  const [error, setError] = useState('');

  useEffect(() => {
    weft.api.GET('/v1/admin/apps').then(({ data }) => setApps((made) => withRows(data!.data, made ?? []))).catch((e) => setError(problemText(e)));
    weft.api.GET('/v1/admin/api-keys').then(({ data }) => setKeys((made) => withRows(data!.data, made ?? []))).catch((e) => setError(problemText(e)));
  }, [weft]);

  return (
    <div>
      <h1 className={h1}>Apps and API keys</h1>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      <section aria-labelledby="apps-h">
        <h2 id="apps-h" className={h2}>Apps (OAuth client credentials)</h2>
        <List
          rows={apps}
          describe={(a) => `client id ${a.client_id}`}
          onRevoke={async (a) => {
            await weft.api.DELETE('/v1/admin/apps/{id}', { params: { path: { id: a.id } } });
            setApps((xs) => xs?.filter((x) => x.id !== a.id) ?? null);
          }}
          onError={setError}
        />
        <NewCredential
          kind="app"
          create={async (name, scopes) => {
            const { data } = await weft.api.POST('/v1/admin/apps', { body: { name, scopes } });
            setApps((xs) => withRows(xs, [data!.app]));
            return `client id ${data!.app.client_id}, client secret ${data!.client_secret}`;
          }}
        />
      </section>
      <section aria-labelledby="keys-h">
        <h2 id="keys-h" className={h2}>API keys</h2>
        <List
          rows={keys}
          describe={(k) => `${k.prefix}… ${k.last_used_at ? `last used ${when(k.last_used_at)}` : 'never used'}`}
          onRevoke={async (k) => {
            await weft.api.DELETE('/v1/admin/api-keys/{id}', { params: { path: { id: k.id } } });
            setKeys((xs) => xs?.filter((x) => x.id !== k.id) ?? null);
          }}
          onError={setError}
        />
        <NewCredential
          kind="key"
          create={async (name, scopes) => {
            const { data } = await weft.api.POST('/v1/admin/api-keys', { body: { name, scopes } });
            setKeys((xs) => withRows(xs, [data!.api_key]));
            return data!.key;
          }}
        />
      </section>
    </div>
  );
}

function List<T extends { id: string; name: string; scopes: string[]; created_at: string }>({ rows, describe, onRevoke, onError }: {
  rows: T[] | null;
  describe: (t: T) => string;
  onRevoke: (t: T) => Promise<void>;
  onError: (m: string) => void;
}) {
  if (!rows) return <p role="status">Loading…</p>;
  if (rows.length === 0) return <p>None yet.</p>;
  return (
    <table className={table}>
      <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Made</th><th scope="col">Details</th><th scope="col">Revoke</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <td>{r.name}</td><td>{r.scopes.join(', ')}</td><td>{when(r.created_at)}</td><td className="font-mono text-xs">{describe(r)}</td>
            <td><button type="button" className={secondary} onClick={() => onRevoke(r).catch((e) => onError(problemText(e)))}>Revoke {r.name}</button></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function NewCredential({ kind, create }: { kind: 'app' | 'key'; create: (name: string, scopes: string[]) => Promise<string> }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [secret, setSecret] = useState('');
  const { error, submit } = useSubmit();
  return (
    <form
      className="mt-4 flex max-w-xl flex-col gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        setSecret('');
        void submit(async () => {
          setSecret(await create(name.trim(), scopes));
          setName('');
          setScopes([]);
        });
      }}
    >
      <label htmlFor={`${kind}-name`} className="font-medium">{kind === 'app' ? 'New app' : 'New API key'}: name</label>
      <input id={`${kind}-name`} required value={name} onChange={(e) => setName(e.target.value)} className={input} />
      <fieldset className="flex flex-wrap gap-x-4 gap-y-1">
        <legend className="font-medium">Scopes</legend>
        {SCOPES.map((s) => (
          <label key={s} className="flex items-center gap-1 text-sm">
            <input type="checkbox" checked={scopes.includes(s)} onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))} />
            {s}
          </label>
        ))}
      </fieldset>
      <button type="submit" className={`${button} self-start`}>{kind === 'app' ? 'Create app' : 'Create key'}</button>
      {error && <p role="alert" className="text-red-700">{error}</p>}
      {secret && (
        <div role="status" className="rounded border border-amber-600 bg-amber-50 p-3">
          <p className="font-medium">Copy it now: it is shown only once.</p>
          <code data-testid={`${kind}-secret`} className="break-all font-mono text-sm">{secret}</code>
        </div>
      )}
    </form>
  );
}
