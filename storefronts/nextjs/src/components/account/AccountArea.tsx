'use client';
import { useCallback, useEffect, useState } from 'react';
import Link from 'next/link';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { browserWeft, TOKENS_KEY } from '@/lib/weft-browser';
import { formatMoney } from '@/lib/money';
import { useSubmit } from '@/lib/useSubmit';
import { buttonClass, formatDate, problemMessage, saveBlob, secondaryButtonClass, statusLabel } from '@/lib/account';
import { useCart } from '../CartProvider';
import { AuthPanel } from './AuthPanel';
import { useMergeGuestCart } from './useMergeGuestCart';
import { Addresses } from './Addresses';
import { EmailVerificationNotice } from './EmailVerification';
import { NotificationSettings } from './Notifications';

type User = Schemas['User'];
type Order = Schemas['Order'];

/**
 * `/account`, client-side: signed out, the sign-in and sign-up forms; signed in, the
 * customer's orders, addresses, notification settings and personal data (and a notice
 * while the e-mail address is not confirmed). The session is the SDK's (localStorage).
 */
export function AccountArea() {
  const { ready, forget } = useCart();
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    const weft = await browserWeft();
    if (!(await weft.auth.isSignedIn())) return setUser(null);
    try {
      setUser((await weft.api.GET('/v1/me')).data ?? null);
    } catch (e) {
      // The session ended (refresh refused) or the account is gone.
      if (e instanceof WeftProblem && (e.status === 401 || e.status === 404)) {
        await weft.auth.signOut().catch(() => {});
        setUser(null);
      } else setNotice(problemMessage(e));
    }
  }, []);

  useEffect(() => {
    void load();
    // Signed in or out in another tab (the session is shared through localStorage): follow
    // it. A refresh there rewrites the tokens too, which changes nothing here.
    const onStorage = (e: StorageEvent) => {
      if (e.key !== TOKENS_KEY || (e.oldValue === null) === (e.newValue === null)) return;
      setNotice(null);
      void load();
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [load]);

  // A cart filled as a guest moves into the account at sign-in (docs/cart.md).
  const mergeGuestCart = useMergeGuestCart();
  const onSignedIn = useCallback(
    async (u: User) => {
      setNotice(await mergeGuestCart());
      setUser(u);
    },
    [mergeGuestCart],
  );

  const signOut = useCallback(async () => {
    const weft = await browserWeft();
    await weft.auth.signOut();
    forget(); // the account's cart stays with the account
    setUser(null);
  }, [forget]);

  if (user === undefined || !ready) return <p role="status">Loading…</p>;
  if (user === null) {
    return (
      <>
        {notice && <p role="alert" className="mb-4 text-sm text-red-800">{notice}</p>}
        <AuthPanel onSignedIn={onSignedIn} />
      </>
    );
  }
  return (
    <div className="space-y-10">
      <div className="flex flex-wrap items-center justify-between gap-4">
        <p data-testid="signed-in-as">
          Signed in as <strong>{user.name}</strong> ({user.email})
        </p>
        <button type="button" onClick={() => void signOut()} className={secondaryButtonClass}>
          Sign out
        </button>
      </div>
      {notice && <p role="alert" className="text-sm text-red-800">{notice}</p>}
      {!user.email_verified && <EmailVerificationNotice email={user.email} />}
      <Orders />
      <Addresses />
      <NotificationSettings />
      <PersonalData
        onDeleted={() => {
          forget();
          setUser(null);
          setNotice(null);
        }}
      />
    </div>
  );
}

function Orders() {
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void (async () => {
      const weft = await browserWeft();
      const all: Order[] = [];
      for await (const o of weft.pages('/v1/orders', { params: { query: { limit: 50 } } })) all.push(o);
      setOrders(all);
    })().catch((e) => setError(problemMessage(e)));
  }, []);
  return (
    <section aria-labelledby="orders-heading">
      <h2 id="orders-heading" className="mb-3 text-xl font-semibold">Orders</h2>
      {error && <p role="alert" className="text-sm text-red-800">{error}</p>}
      {!orders && !error && <p role="status">Loading orders…</p>}
      {orders && orders.length === 0 && <p>No orders yet.</p>}
      {orders && orders.length > 0 && (
        <table className="w-full text-left text-sm" data-testid="orders">
          <caption className="sr-only">Your orders, newest first</caption>
          <thead>
            <tr className="border-b border-neutral-300">
              <th scope="col" className="py-2 pr-4">Order</th>
              <th scope="col" className="py-2 pr-4">Placed</th>
              <th scope="col" className="py-2 pr-4">Items</th>
              <th scope="col" className="py-2 pr-4">Total</th>
              <th scope="col" className="py-2">Status</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id} className="border-b border-neutral-200" data-testid={`order-${o.id}`}>
                <td className="py-2 pr-4">
                  <Link href={`/account/orders/${encodeURIComponent(o.id)}`} className="font-mono underline">
                    {o.id}
                  </Link>
                </td>
                <td className="py-2 pr-4">{formatDate(o.created_at)}</td>
                <td className="py-2 pr-4">{o.lines.reduce((n, l) => n + l.quantity, 0)}</td>
                <td className="py-2 pr-4">{formatMoney(o.total)}</td>
                <td className="py-2" data-testid="order-status">{statusLabel(o.status)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PersonalData({ onDeleted }: { onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const { busy, error: message, setError: setMessage, submit } = useSubmit({ describe: problemMessage });
  return (
    <section aria-labelledby="data-heading">
      <h2 id="data-heading" className="mb-3 text-xl font-semibold">Your data</h2>
      {message && <p role="alert" className="mb-3 text-sm text-red-800">{message}</p>}
      <div className="flex flex-wrap gap-3">
        <button
          type="button"
          disabled={busy}
          className={secondaryButtonClass}
          onClick={async () => {
            setMessage('');
            try {
              const weft = await browserWeft();
              const { data } = await weft.api.GET('/v1/me/export');
              saveBlob(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), 'weft-account-export.json');
            } catch (e) {
              setMessage(problemMessage(e));
            }
          }}
        >
          Download my data (JSON)
        </button>
        {!confirming && (
          <button type="button" className="rounded border border-red-700 px-3 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50" onClick={() => setConfirming(true)}>
            Delete my account
          </button>
        )}
      </div>
      {confirming && (
        <div role="group" aria-labelledby="delete-heading" className="mt-4 rounded border border-red-300 bg-red-50 p-4">
          <h3 id="delete-heading" className="font-semibold text-red-900">Delete your account?</h3>
          <p className="mt-1 text-sm text-red-900">
            Your name, e-mail, password, phone and addresses are erased and you are signed out everywhere. Orders stay on record without your details. This cannot be undone.
          </p>
          <div className="mt-3 flex gap-3">
            <button
              type="button"
              disabled={busy}
              className="rounded bg-red-800 px-4 py-2 font-medium text-white hover:bg-red-700 disabled:bg-neutral-500"
              onClick={() =>
                void submit(async () => {
                  const weft = await browserWeft();
                  await weft.api.DELETE('/v1/me');
                  await weft.auth.signOut().catch(() => {});
                  onDeleted();
                })
              }
            >
              Yes, delete my account
            </button>
            <button type="button" className={buttonClass} onClick={() => setConfirming(false)}>
              Keep my account
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
