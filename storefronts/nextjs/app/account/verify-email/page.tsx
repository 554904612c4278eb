import type { Metadata } from 'next';
import { connection } from 'next/server';
import { VerifyEmail } from '@/components/account/VerifyEmail';

// The address holds a single-use token: not indexed, and never sent on as a referrer.
export const metadata: Metadata = { title: 'Confirm your e-mail address', robots: { index: false }, referrer: 'no-referrer' };

type Query = Promise<{ token?: string | string[] }>;

// Where the confirmation e-mail's link leads (`<storefront_url>/account/verify-email?token=…`).
export default async function VerifyEmailPage({ searchParams }: { searchParams: Query }) {
  await connection();
  const { token: raw } = await searchParams;
  const token = typeof raw === 'string' && raw ? raw : null;
  return (
    <div className="max-w-md">
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Confirm your e-mail address</h1>
      {/* keyed: another link opened in place starts afresh */}
      <VerifyEmail key={token ?? ''} token={token} />
    </div>
  );
}
