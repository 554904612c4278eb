'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { WeftProblem } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { buttonClass, problemMessage } from '@/lib/account';
import { useSubmit } from '@/lib/useSubmit';
import { Outcome } from './Outcome';
import { NOTIFICATIONS_HREF } from './Notifications';

/**
 * `/account/unsubscribe?token=…`, where the footer link of a marketing e-mail leads. Opening
 * the page changes nothing (link scanners and mail previews open links; RFC 8058: a GET
 * must not unsubscribe): it asks, and the button sends
 * `POST /v1/notifications/unsubscribe?token=…` (no sign-in: the token is the proof; 204,
 * and twice is fine). 422 `invalid_unsubscribe_token` (forged or altered), or no token:
 * "This link is not valid", with the way to the account's settings.
 */
export function Unsubscribe({ token, shopName }: { token: string | null; shopName: string }) {
  const [state, setState] = useState<'ask' | 'done' | 'invalid'>(token ? 'ask' : 'invalid');
  const { busy, error, submit } = useSubmit({ describe: problemMessage });

  if (state === 'invalid') return <InvalidLink />;
  if (state === 'done') return <Unsubscribed />;
  return (
    <form
      aria-labelledby="unsubscribe-question"
      className="space-y-4"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(async () => {
          const weft = await browserWeft();
          try {
            await weft.api.POST('/v1/notifications/unsubscribe', { params: { query: { token: token! } } });
          } catch (e) {
            if (e instanceof WeftProblem && (e.code === 'invalid_unsubscribe_token' || e.errors.some((x) => x.field === 'token'))) {
              return setState('invalid');
            }
            throw e;
          }
          setState('done');
        });
      }}
    >
      <h2 id="unsubscribe-question" className="text-lg font-semibold">
        Unsubscribe from marketing e-mails from {shopName}?
      </h2>
      <p className="text-neutral-700">
        You will no longer get our news and reminders, such as a cart you left. E-mails about your orders and your account still come.
      </p>
      {error && (
        <p role="alert" className="rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800" data-testid="unsubscribe-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy} className={buttonClass}>Unsubscribe</button>
    </form>
  );
}

/** Whether someone is signed in in this browser (`undefined` while asking). */
function useSignedIn(): boolean | undefined {
  const [signedIn, setSignedIn] = useState<boolean | undefined>(undefined);
  useEffect(() => {
    void browserWeft()
      .then((weft) => weft.auth.isSignedIn())
      .then(setSignedIn, () => setSignedIn(false));
  }, []);
  return signedIn;
}

function Unsubscribed() {
  const signedIn = useSignedIn();
  return (
    <Outcome tone="success" title="You are unsubscribed" testId="unsubscribe-done">
      <p>You are unsubscribed. Order and account e-mails still come.</p>
      {signedIn === true && (
        <p>
          <Link href={NOTIFICATIONS_HREF} className="font-medium underline">Your notification settings</Link>
        </p>
      )}
      {signedIn === false && (
        <p>
          Changed your mind?{' '}
          <Link href={NOTIFICATIONS_HREF} className="font-medium underline">Sign in</Link> and turn news back on under Notifications.
        </p>
      )}
    </Outcome>
  );
}

function InvalidLink() {
  return (
    <Outcome tone="problem" title="This link is not valid" testId="unsubscribe-invalid">
      <p>It may have been cut short or changed on its way. Open the link from the e-mail again, or choose which e-mails you get in your account.</p>
      <p>
        <Link href={NOTIFICATIONS_HREF} className="font-medium underline">Your notification settings</Link>
      </p>
    </Outcome>
  );
}
