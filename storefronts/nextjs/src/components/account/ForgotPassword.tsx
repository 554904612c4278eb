'use client';
import { useState } from 'react';
import Link from 'next/link';
import { browserWeft } from '@/lib/weft-browser';
import { ACCOUNT_FORM, buttonClass } from '@/lib/account';
import { useSubmit } from '@/lib/useSubmit';
import { Field } from './Field';
import { Outcome } from './Outcome';

/**
 * `/account/forgot-password`: asks Weft to e-mail a reset link
 * (`POST /v1/auth/password/forgot`). Weft answers 202 whether or not an account uses the
 * address, and so does this page: the same words either way. A malformed address is a 422
 * on the field; too many requests a 429 `email_throttled` with how long to wait.
 */
export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { busy, error: message, errors, setErrors, submit } = useSubmit(ACCOUNT_FORM);

  if (sentTo !== null) {
    return (
      <Outcome tone="success" title="Check your inbox" testId="forgot-sent">
        <p>
          If an account exists for <strong>{sentTo}</strong>, we sent it a link to choose a new password. The link works once, for
          30 minutes.
        </p>
        <p>Nothing arrived after a few minutes? Check your spam folder, or make sure you typed the address you signed up with.</p>
        <p className="flex flex-wrap gap-x-6 gap-y-2">
          <Link href="/account" className="font-medium underline">Back to sign in</Link>
          <button type="button" className="underline" onClick={() => setSentTo(null)}>
            Use another address
          </button>
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
        const address = email.trim();
        if (!address) {
          setErrors({ email: 'Enter the e-mail address of your account.' });
          return;
        }
        void submit(async () => {
          const weft = await browserWeft();
          await weft.api.POST('/v1/auth/password/forgot', { body: { email: address } });
          setSentTo(address);
        });
      }}
    >
      <p className="text-neutral-700">Enter the e-mail address of your account and we will send you a link to choose a new password.</p>
      {message && (
        <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="forgot-error">
          {message}
        </p>
      )}
      <Field id="forgot-email" label="E-mail" type="email" auto="email" value={email} onChange={setEmail} error={errors['email']} required />
      <div className="flex flex-wrap items-center gap-x-6 gap-y-3">
        <button type="submit" disabled={busy} className={buttonClass}>Send reset link</button>
        <Link href="/account" className="text-sm underline hover:text-neutral-700">Back to sign in</Link>
      </div>
    </form>
  );
}
