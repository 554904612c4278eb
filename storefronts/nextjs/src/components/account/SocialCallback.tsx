'use client';
import { useEffect, useRef, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { browserWeft, tokens } from '@/lib/weft-browser';
import { problemMessage } from '@/lib/account';
import { useMergeGuestCart } from './useMergeGuestCart';
import { useCart } from '../CartProvider';

/**
 * The provider sent the browser back here with `code` and `state` (or `error`): Weft's
 * callback exchanges them for a session, which is kept like a password sign-in's.
 */
export function SocialCallback({ provider }: { provider: string }) {
  const router = useRouter();
  const mergeGuestCart = useMergeGuestCart();
  const { ready } = useCart(); // the guest cart (if any) has been read
  const [error, setError] = useState<string | null>(null);
  const once = useRef(false); // a code is good for one exchange

  useEffect(() => {
    if (!ready || once.current) return;
    once.current = true;
    void (async () => {
      const q = new URLSearchParams(window.location.search);
      const query = { code: q.get('code') ?? undefined, state: q.get('state') ?? undefined, error: q.get('error') ?? undefined };
      try {
        const weft = await browserWeft();
        const { data } = await weft.api.GET('/v1/auth/oauth/{provider}/callback', { params: { path: { provider }, query } });
        if (!data) throw new Error('no session');
        await tokens.set({
          access_token: data.access_token,
          refresh_token: data.refresh_token,
          expires_at: Date.now() + data.expires_in * 1000,
        });
        await mergeGuestCart();
        router.replace('/account');
      } catch (e) {
        setError(problemMessage(e));
      }
    })();
  }, [ready, provider, mergeGuestCart, router]);

  if (!error) return <p role="status">Signing you in…</p>;
  return (
    <>
      <p role="alert" className="text-red-800" data-testid="social-error">
        The sign-in did not complete: {error}
      </p>
      <p className="mt-4">
        <Link href="/account" className="underline">Back to sign in</Link>
      </p>
    </>
  );
}
