'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { problemMessage } from '@/lib/account';
import { Outcome } from './Outcome';
import { SendVerificationLink } from './EmailVerification';

type Result = 'verified' | 'invalid' | { error: string };

// The token is single use: it is sent once per page, whatever React mounts, re-runs or
// re-renders (strict mode runs an effect twice), and a second component asking for the same
// token gets the first one's answer. Only a failure to get any answer (the network, a 5xx)
// may be tried again, and it goes with the same Idempotency-Key, so a request that did
// reach Weft is answered from its outcome rather than run twice.
const verifications = new Map<string, Promise<Result>>();
const keys = new Map<string, string>();

function verifyOnce(token: string): Promise<Result> {
  let pending = verifications.get(token);
  if (!pending) {
    if (!keys.has(token)) keys.set(token, crypto.randomUUID());
    pending = (async (): Promise<Result> => {
      try {
        const weft = await browserWeft();
        await weft.api.POST('/v1/auth/email/verify', { body: { token }, headers: { 'Idempotency-Key': keys.get(token)! } });
        return 'verified';
      } catch (e) {
        // Unknown, expired, used (or not even shaped like a token): the same dead link.
        if (e instanceof WeftProblem && (e.code === 'invalid_verification_token' || e.errors.some((x) => x.field === 'token'))) return 'invalid';
        verifications.delete(token);
        return { error: problemMessage(e) };
      }
    })();
    verifications.set(token, pending);
  }
  return pending;
}

/**
 * `/account/verify-email?token=…`, where the confirmation e-mail's link leads: spends the
 * token (`POST /v1/auth/email/verify`) as the page opens. 204: confirmed. 422
 * `invalid_verification_token` (or no token): the link is dead; a signed-in shopper whose
 * address is still unconfirmed gets a button for a new one.
 */
export function VerifyEmail({ token }: { token: string | null }) {
  const [result, setResult] = useState<Result | null>(token ? null : 'invalid');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!token) return;
    let live = true;
    void verifyOnce(token).then((r) => {
      if (live) setResult(r);
    });
    return () => {
      live = false;
    };
  }, [token, attempt]);

  if (result === null) return <p role="status">Confirming your e-mail address…</p>;
  if (result === 'verified') {
    return (
      <Outcome tone="success" title="Your e-mail address is confirmed" testId="verify-done">
        <p>Thank you: we now know this address is yours, and that our messages about your orders reach you.</p>
        <p className="flex flex-wrap gap-x-6 gap-y-2">
          <Link href="/account" className="font-medium underline">Go to your account</Link>
          <Link href="/" className="underline">Continue shopping</Link>
        </p>
      </Outcome>
    );
  }
  if (result === 'invalid') return <ExpiredVerificationLink />;
  return (
    <Outcome tone="problem" title="We could not confirm your address" testId="verify-error">
      <p>{result.error}</p>
      <p>
        <button
          type="button"
          className="font-medium underline"
          onClick={() => {
            setResult(null);
            setAttempt((n) => n + 1);
          }}
        >
          Try again
        </button>
      </p>
    </Outcome>
  );
}

function ExpiredVerificationLink() {
  // Signed in: whether there is anything left to confirm, and for which address.
  const [me, setMe] = useState<Schemas['User'] | null | undefined>(undefined);
  useEffect(() => {
    void (async () => {
      const weft = await browserWeft();
      if (!(await weft.auth.isSignedIn())) return setMe(null);
      setMe((await weft.api.GET('/v1/me')).data ?? null);
    })().catch(() => setMe(null)); // a session that ended: as signed out
  }, []);

  return (
    // Nothing wrong for a shopper whose address is confirmed already (the link opened twice).
    <Outcome tone={me?.email_verified ? 'info' : 'problem'} title="This link has expired or was already used" testId="verify-expired">
      <p>A confirmation link works once, for 7 days, and only the latest one we sent works.</p>
      {me === undefined && <p role="status">Checking your account…</p>}
      {me?.email_verified && (
        <p data-testid="verify-already">
          Your e-mail address <strong>{me.email}</strong> is already confirmed: there is nothing more to do.{' '}
          <Link href="/account" className="font-medium underline">Go to your account</Link>
        </p>
      )}
      {me && !me.email_verified && (
        <>
          <p>Ask for a new link below, then open the latest e-mail we send you.</p>
          <SendVerificationLink email={me.email} label="Send a new link" />
        </>
      )}
      {me === null && (
        <p>
          If you already confirmed your address, there is nothing more to do. Otherwise,{' '}
          <Link href="/account" className="font-medium underline">sign in</Link> and ask for a new link from your account page.
        </p>
      )}
    </Outcome>
  );
}
