'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { ACCOUNT_FORM, buttonClass } from '@/lib/account';
import { useSubmit } from '@/lib/useSubmit';
import { Field } from './Field';

type User = Schemas['User'];
type Provider = { id: string; name: string; start_path: string };

/** Sign in and create an account, side by side, with the social sign-in Weft offers. */
export function AuthPanel({ onSignedIn }: { onSignedIn: (user: User) => Promise<void> }) {
  const [providers, setProviders] = useState<Provider[]>([]);
  const [apiUrl, setApiUrl] = useState('');
  // The sign-in form's e-mail, handed to the provider as `login_hint` (which account to use).
  const [email, setEmail] = useState('');

  // Only the providers Weft has configured get a button.
  useEffect(() => {
    void (async () => {
      const [weft, config] = await Promise.all([browserWeft(), fetch('/weft-config.json').then((r) => r.json() as Promise<{ apiUrl: string }>)]);
      const { data } = await weft.api.GET('/v1/auth/providers');
      setApiUrl(config.apiUrl);
      setProviders((data?.data ?? []) as Provider[]);
    })().catch(() => setProviders([]));
  }, []);

  return (
    <div className="grid gap-10 md:grid-cols-2">
      <SignInForm email={email} setEmail={setEmail} onSignedIn={onSignedIn} />
      <SignUpForm onSignedIn={onSignedIn} />
      {providers.length > 0 && (
        <section aria-labelledby="social-heading" className="md:col-span-2">
          <h2 id="social-heading" className="mb-3 text-lg font-semibold">Or continue with</h2>
          <ul className="flex flex-wrap gap-3" data-testid="social-providers">
            {providers.map((p) => (
              <li key={p.id}>
                <a href={`${apiUrl}${p.start_path}${email.trim() ? `?login_hint=${encodeURIComponent(email.trim())}` : ''}`} className="inline-block rounded border border-neutral-400 px-4 py-2 font-medium hover:bg-neutral-100">
                  Sign in with {p.name}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

function SignInForm({ email, setEmail, onSignedIn }: { email: string; setEmail: (v: string) => void; onSignedIn: (user: User) => Promise<void> }) {
  const [password, setPassword] = useState('');
  const { busy, error: message, errors, submit } = useSubmit(ACCOUNT_FORM);
  return (
    <section aria-labelledby="signin-heading">
      <h2 id="signin-heading" className="mb-3 text-lg font-semibold">Sign in</h2>
      <form
        noValidate
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          void submit(async () => {
            const weft = await browserWeft();
            const user = await weft.auth.signIn({ email: email.trim(), password });
            await onSignedIn(user);
          });
        }}
      >
        {message && <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="signin-error">{message}</p>}
        <Field id="signin-email" label="E-mail" type="email" auto="email" value={email} onChange={setEmail} error={errors['email']} />
        <Field id="signin-password" label="Password" type="password" auto="current-password" value={password} onChange={setPassword} error={errors['password']} />
        <div className="flex flex-wrap items-center gap-x-6 gap-y-3">
          <button type="submit" disabled={busy} className={buttonClass}>Sign in</button>
          <Link href="/account/forgot-password" className="text-sm underline hover:text-neutral-700">
            Forgot your password?
          </Link>
        </div>
      </form>
    </section>
  );
}

function SignUpForm({ onSignedIn }: { onSignedIn: (user: User) => Promise<void> }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error: message, errors, submit } = useSubmit(ACCOUNT_FORM);
  return (
    <section aria-labelledby="signup-heading">
      <h2 id="signup-heading" className="mb-3 text-lg font-semibold">Create an account</h2>
      <form
        noValidate
        className="space-y-3"
        onSubmit={(e) => {
          e.preventDefault();
          void submit(async () => {
            const weft = await browserWeft();
            const user = await weft.auth.signUp({ name: name.trim(), email: email.trim(), password });
            await onSignedIn(user);
          });
        }}
      >
        {message && <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="signup-error">{message}</p>}
        <Field id="signup-name" label="Name" auto="name" value={name} onChange={setName} error={errors['name']} />
        <Field id="signup-email" label="E-mail" type="email" auto="email" value={email} onChange={setEmail} error={errors['email']} />
        <Field
          id="signup-password"
          label="New password"
          type="password"
          auto="new-password"
          value={password}
          onChange={setPassword}
          error={errors['password']}
          hint="10 to 128 characters; not a common password or your e-mail."
        />
        <button type="submit" disabled={busy} className={buttonClass}>Create account</button>
      </form>
    </section>
  );
}
