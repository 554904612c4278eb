'use client';
import { useState } from 'react';
import Link from 'next/link';
import { WeftProblem } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { ACCOUNT_FORM, buttonClass } from '@/lib/account';
import { useSubmit } from '@/lib/useSubmit';
import { useCart } from '../CartProvider';
import { Field } from './Field';
import { Outcome } from './Outcome';

/**
 * `/account/reset-password?token=…`, where a reset e-mail's link leads: a new password
 * (typed twice) for `POST /v1/auth/password/reset {token, password}`. 204: Weft ended every
 * session of the account, so the one kept here goes too and the shopper signs in again.
 * 422 `invalid_reset_token` (unknown, expired or used; or no token at all): a link to ask
 * for a new one. Weft's password rules come back as 422 field errors, shown on the field.
 */
export function ResetPassword({ token }: { token: string | null }) {
  const { forget } = useCart();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [state, setState] = useState<'form' | 'done' | 'expired'>(token ? 'form' : 'expired');
  const { busy, error: message, errors, setErrors, submit } = useSubmit(ACCOUNT_FORM);

  if (state === 'expired') return <ExpiredResetLink />;
  if (state === 'done') {
    return (
      <Outcome tone="success" title="Your password is changed" testId="reset-done">
        <p>For your safety you were signed out on every device. Sign in again with your new password.</p>
        <p>
          <Link href="/account" className={`inline-block ${buttonClass}`}>Sign in</Link>
        </p>
      </Outcome>
    );
  }

  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        if (!password) return setErrors({ password: 'Enter a new password.' });
        if (confirm !== password) return setErrors({ confirm: 'The two passwords do not match.' });
        void submit(async () => {
          const weft = await browserWeft();
          try {
            await weft.api.POST('/v1/auth/password/reset', { body: { token: token!, password } });
          } catch (e) {
            // A token Weft does not know (or cannot even read) is the same dead link.
            if (e instanceof WeftProblem && (e.code === 'invalid_reset_token' || e.errors.some((x) => x.field === 'token'))) {
              return setState('expired');
            }
            throw e;
          }
          // Weft revoked every session of the account: drop the one kept in this browser
          // (whosever it is), and the signed-in cart with it, as a sign-out does.
          if (await weft.auth.isSignedIn()) {
            await weft.auth.signOut();
            forget();
          }
          setState('done');
        });
      }}
    >
      <p className="text-neutral-700">Choose a new password for your account. You will then sign in with it.</p>
      {message && (
        <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="reset-error">
          {message}
        </p>
      )}
      <Field
        id="reset-password"
        label="New password"
        type="password"
        auto="new-password"
        value={password}
        onChange={setPassword}
        error={errors['password']}
        hint="10 to 128 characters; not a common password or your e-mail."
        required
      />
      <Field id="reset-confirm" label="Confirm new password" type="password" auto="new-password" value={confirm} onChange={setConfirm} error={errors['confirm']} required />
      <button type="submit" disabled={busy} className={buttonClass}>Set new password</button>
    </form>
  );
}

function ExpiredResetLink() {
  return (
    <Outcome tone="problem" title="This link has expired or was already used" testId="reset-expired">
      <p>A password reset link works once, for 30 minutes. Ask for a new one and open the latest e-mail we send you.</p>
      <p>
        <Link href="/account/forgot-password" className="font-medium underline">Request a new link</Link>
      </p>
    </Outcome>
  );
}
