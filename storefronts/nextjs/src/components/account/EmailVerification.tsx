'use client';
import { useState } from 'react';
import { WeftProblem } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { problemMessage, secondaryButtonClass } from '@/lib/account';
import { useSubmit } from '@/lib/useSubmit';

/**
 * "Send a confirmation link" for the signed-in shopper: `POST /v1/me/email/verification`
 * (202: a new link is on its way and the earlier one stops working; 409 `already_verified`:
 * nothing to confirm; 429 `email_throttled`: how long to wait).
 */
export function SendVerificationLink({ email, label = 'Send a confirmation link' }: { email: string; label?: string }) {
  const [outcome, setOutcome] = useState<'sent' | 'already' | null>(null);
  const { busy, error, submit } = useSubmit({ describe: problemMessage });
  return (
    <div className="space-y-3">
      {/* Present from the start, so the outcome is announced when it appears. */}
      <div aria-live="polite">
        {outcome === 'sent' && (
          <p className="text-sm" data-testid="verification-sent">
            We sent a new link to <strong>{email}</strong>. It works once, for 7 days; earlier links no longer work.
          </p>
        )}
        {outcome === 'already' && (
          <p className="text-sm" data-testid="verification-already">
            Your e-mail address is already confirmed. There is nothing more to do.
          </p>
        )}
      </div>
      {error && (
        <p role="alert" className="text-sm text-red-800" data-testid="verification-error">
          {error}
        </p>
      )}
      {outcome !== 'already' && (
        <button
          type="button"
          disabled={busy}
          className={secondaryButtonClass}
          onClick={() =>
            void submit(async () => {
              setOutcome(null);
              const weft = await browserWeft();
              try {
                await weft.api.POST('/v1/me/email/verification');
                setOutcome('sent');
              } catch (e) {
                if (e instanceof WeftProblem && e.code === 'already_verified') return setOutcome('already');
                throw e;
              }
            })
          }
        >
          {outcome === 'sent' ? 'Send another link' : label}
        </button>
      )}
    </div>
  );
}

/** On the account page while the signed-in shopper's address is not confirmed yet. */
export function EmailVerificationNotice({ email }: { email: string }) {
  return (
    <section aria-labelledby="verify-heading" className="rounded border border-amber-300 bg-amber-50 p-4" data-testid="verify-notice">
      <h2 id="verify-heading" className="font-semibold text-amber-950">Please confirm your e-mail address</h2>
      <p className="mt-1 mb-3 text-sm text-amber-950">
        We sent a link to <strong>{email}</strong> when you created your account. Open it to confirm that the address is yours.
        Nothing arrived, or the link expired? Ask for a new one.
      </p>
      <SendVerificationLink email={email} />
    </section>
  );
}
