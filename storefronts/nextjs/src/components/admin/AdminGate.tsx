'use client';
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import Link from 'next/link';
import { createWeft, memoryStorage, WeftProblem, type Schemas, type Weft } from '@weft/sdk';
import { browserWeft, tokens } from '@/lib/weft-browser';
import { problemText } from '@/lib/admin';
import { revalidateAfterCatalogWrites } from '@/lib/revalidate';
import { QrCode } from './QrCode';

// The merchant area's gate. Nothing under /admin is rendered on the server with data: the
// session lives in the browser (localStorage), so the page the server sends is this gate
// alone. In the browser it asks Weft who the caller is (GET /v1/me) and renders the admin
// screens only for role `admin`; a customer gets "not allowed" and a guest the sign-in
// form, and for neither is an admin screen mounted, so no /v1/admin call is made. Weft
// itself refuses every /v1/admin call without an admin's token (403), whatever a page does.

interface AdminContext {
  weft: Weft;
  me: Schemas['User'];
  signOut: () => Promise<void>;
}

const Ctx = createContext<AdminContext | null>(null);

export function useAdmin(): AdminContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('useAdmin outside the admin gate');
  return c;
}

type State =
  | { kind: 'checking' }
  | { kind: 'guest' }
  | { kind: 'not-allowed'; email: string }
  | { kind: 'admin'; weft: Weft; me: Schemas['User'] }
  | { kind: 'error'; message: string };

export function AdminGate({ children }: { children: React.ReactNode }) {
  const [state, setState] = useState<State>({ kind: 'checking' });

  const check = useCallback(async () => {
    setState({ kind: 'checking' });
    try {
      const weft = await browserWeft();
      if (!(await weft.auth.isSignedIn())) return setState({ kind: 'guest' });
      const { data: me } = await weft.api.GET('/v1/me');
      if (me!.role === 'admin') {
        revalidateAfterCatalogWrites(weft);
        setState({ kind: 'admin', weft, me: me! });
      }
      else setState({ kind: 'not-allowed', email: me!.email });
    } catch (e) {
      if (e instanceof WeftProblem && e.status === 401) return setState({ kind: 'guest' });
      setState({ kind: 'error', message: problemText(e) });
    }
  }, []);

  useEffect(() => {
    void check();
  }, [check]);

  const signOut = useCallback(async () => {
    const weft = await browserWeft();
    await weft.auth.signOut().catch(() => {});
    setState({ kind: 'guest' });
  }, []);

  if (state.kind === 'checking') {
    return <p role="status" className="py-10 text-center text-neutral-600">Checking your access…</p>;
  }
  if (state.kind === 'error') {
    return (
      <div role="alert" className="mx-auto max-w-md py-10">
        <h1 className="text-2xl font-semibold">Merchant area</h1>
        <p className="mt-2">{state.message}</p>
        <button type="button" onClick={() => void check()} className="mt-4 rounded bg-neutral-900 px-4 py-2 text-white">Try again</button>
      </div>
    );
  }
  if (state.kind === 'not-allowed') {
    return (
      <div className="mx-auto max-w-md py-10" data-testid="admin-not-allowed">
        <h1 className="text-2xl font-semibold">Not allowed</h1>
        <p className="mt-2">
          You are signed in as {state.email}. The merchant area is for the shop&apos;s staff only.
        </p>
        <p className="mt-4 flex gap-4">
          <Link href="/" className="font-medium underline">Back to the shop</Link>
          <button type="button" onClick={() => void signOut()} className="font-medium underline">Sign out</button>
        </p>
      </div>
    );
  }
  if (state.kind === 'guest') return <StaffSignIn onSignedIn={() => void check()} />;
  return (
    <Ctx.Provider value={{ weft: state.weft, me: state.me, signOut }}>
      <AdminShell email={state.me.email} onSignOut={() => void signOut()}>
        {children}
      </AdminShell>
    </Ctx.Provider>
  );
}

const SECTIONS = [
  ['/admin', 'Dashboard'],
  ['/admin/orders', 'Orders'],
  ['/admin/products', 'Products'],
  ['/admin/inventory', 'Inventory'],
  ['/admin/returns', 'Returns'],
  ['/admin/reviews', 'Reviews'],
  ['/admin/promotions', 'Promotions'],
  ['/admin/customers', 'Customers'],
  ['/admin/apps', 'Apps and keys'],
  ['/admin/webhooks', 'Webhooks'],
  ['/admin/import', 'Import'],
] as const;

function AdminShell({ email, onSignOut, children }: { email: string; onSignOut: () => void; children: React.ReactNode }) {
  return (
    <div className="flex flex-col gap-6 md:flex-row">
      <nav aria-label="Merchant area" className="md:w-48 md:shrink-0">
        <p className="mb-2 text-xs uppercase tracking-wide text-neutral-600">Merchant area</p>
        <ul className="flex flex-wrap gap-x-4 gap-y-1 md:flex-col">
          {SECTIONS.map(([href, label]) => (
            <li key={href}>
              <Link href={href} className="font-medium hover:underline">{label}</Link>
            </li>
          ))}
        </ul>
        <p className="mt-4 text-sm text-neutral-700">{email}</p>
        <button type="button" onClick={onSignOut} className="mt-1 text-sm font-medium underline">Sign out</button>
      </nav>
      <div className="min-w-0 flex-1">{children}</div>
    </div>
  );
}

const input = 'mt-1 w-full rounded border border-neutral-500 px-3 py-2';
const button = 'rounded bg-neutral-900 px-4 py-2 font-medium text-white hover:bg-neutral-700 disabled:opacity-50';

type Step =
  | { kind: 'password' }
  | { kind: 'code' }
  | { kind: 'enrol'; weft: Weft; secret: string; uri: string }
  | { kind: 'recovery'; codes: string[]; session: Schemas['TotpEnabled']['session'] }
  | { kind: 'customer'; email: string };

/**
 * Password, then the six-digit code. An admin without TOTP signs in to a session that may
 * only enrol: it is kept in memory, enrolment is done (secret and otpauth URI shown,
 * a code verified, recovery codes shown once), and only the fresh full session is stored.
 */
function StaffSignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  async function keep(session: { access_token: string; refresh_token: string; expires_in: number }) {
    await tokens.set({
      access_token: session.access_token,
      refresh_token: session.refresh_token,
      expires_at: Date.now() + session.expires_in * 1000,
    });
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const { apiUrl } = (await (await fetch('/weft-config.json', { cache: 'no-store' })).json()) as { apiUrl: string };
      if (step.kind === 'enrol') {
        const { data } = await step.weft.api.POST('/v1/me/mfa/totp/verify', { body: { code: code.trim() } });
        setCode('');
        setStep({ kind: 'recovery', codes: data!.recovery_codes, session: data!.session });
        return;
      }
      const storage = memoryStorage();
      const weft = createWeft({ baseUrl: apiUrl, storage });
      await weft.auth.signIn(step.kind === 'code' ? { email, password, totp_code: code.trim() } : { email, password });
      const { data: me } = await weft.api.GET('/v1/me');
      if (me!.role !== 'admin') {
        await weft.auth.signOut().catch(() => {});
        setStep({ kind: 'customer', email: me!.email });
        return;
      }
      if (step.kind === 'code') {
        const t = await storage.get();
        await tokens.set(t);
        onSignedIn();
        return;
      }
      // an admin signed in without a code: TOTP is not enrolled yet
      const { data: enrolment } = await weft.api.POST('/v1/me/mfa/totp');
      setStep({ kind: 'enrol', weft, secret: enrolment!.secret, uri: enrolment!.otpauth_uri });
    } catch (err) {
      if (err instanceof WeftProblem && err.code === 'totp_required') {
        setStep({ kind: 'code' });
      } else if (err instanceof WeftProblem && err.code === 'invalid_credentials') {
        setError('Wrong e-mail or password.');
      } else if (err instanceof WeftProblem && err.code === 'invalid_totp_code') {
        setError('That code was not accepted (wrong, already used, or expired). Wait for the next code and try again.');
      } else {
        setError(problemText(err));
      }
    } finally {
      setBusy(false);
    }
  }

  if (step.kind === 'customer') {
    return (
      <div className="mx-auto max-w-md py-10" data-testid="admin-not-allowed">
        <h1 className="text-2xl font-semibold">Not allowed</h1>
        <p className="mt-2">{step.email} is not a member of the shop&apos;s staff. The merchant area is for staff only.</p>
        <p className="mt-4"><Link href="/" className="font-medium underline">Back to the shop</Link></p>
      </div>
    );
  }

  if (step.kind === 'recovery') {
    return (
      <div className="mx-auto max-w-lg py-6">
        <h1 className="text-2xl font-semibold">Two-step sign-in is on</h1>
        <p className="mt-2">
          Keep these recovery codes somewhere safe. Each one signs you in once instead of a code
          from your app. They are shown only now.
        </p>
        <ul aria-label="Recovery codes" data-testid="recovery-codes" className="mt-4 grid grid-cols-2 gap-2 font-mono">
          {step.codes.map((c) => <li key={c}>{c}</li>)}
        </ul>
        <button
          type="button"
          className={`${button} mt-6`}
          onClick={async () => {
            await keep(step.session);
            onSignedIn();
          }}
        >
          I have saved them — continue
        </button>
      </div>
    );
  }

  return (
    <form onSubmit={submit} className="mx-auto flex max-w-md flex-col gap-4 py-6" aria-describedby={error ? 'signin-error' : undefined}>
      <h1 className="text-2xl font-semibold">{step.kind === 'enrol' ? 'Set up two-step sign-in' : 'Staff sign-in'}</h1>
      {step.kind === 'password' && (
        <>
          <div>
            <label htmlFor="staff-email" className="font-medium">E-mail</label>
            <input id="staff-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} className={input} />
          </div>
          <div>
            <label htmlFor="staff-password" className="font-medium">Password</label>
            <input id="staff-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} className={input} />
          </div>
        </>
      )}
      {step.kind === 'enrol' && (
        <div className="flex flex-col gap-2">
          <p>Staff sign in with a password and a code from an authenticator app. Add this account to your app: scan the code,</p>
          <QrCode text={step.uri} label="QR code of the setup link, for an authenticator app" />
          <p>or type in the secret: <code data-testid="totp-secret" className="break-all font-mono font-semibold">{step.secret}</code></p>
          <p>The setup link: <code data-testid="totp-uri" className="break-all font-mono text-sm">{step.uri}</code></p>
        </div>
      )}
      {step.kind !== 'password' && (
        <div>
          <label htmlFor="staff-code" className="font-medium">
            {step.kind === 'enrol' ? 'The 6-digit code your app shows' : 'Code from your authenticator app (or a recovery code)'}
          </label>
          <input id="staff-code" inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} className={input} />
        </div>
      )}
      {error && <p id="signin-error" role="alert" className="text-red-700">{error}</p>}
      <button type="submit" disabled={busy} className={button}>
        {step.kind === 'enrol' ? 'Turn on two-step sign-in' : step.kind === 'code' ? 'Verify code' : 'Sign in'}
      </button>
    </form>
  );
}
