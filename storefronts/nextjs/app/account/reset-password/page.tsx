import type { Metadata } from 'next';
import { connection } from 'next/server';
import { ResetPassword } from '@/components/account/ResetPassword';

// The address holds a single-use token: not indexed, and never sent on as a referrer.
export const metadata: Metadata = { title: 'Choose a new password', robots: { index: false }, referrer: 'no-referrer' };

type Query = Promise<{ token?: string | string[] }>;

// Where the password reset e-mail's link leads (`<storefront_url>/account/reset-password?token=…`).
export default async function ResetPasswordPage({ searchParams }: { searchParams: Query }) {
  await connection();
  const { token: raw } = await searchParams;
  const token = typeof raw === 'string' && raw ? raw : null;
  return (
    <div className="max-w-md">
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Choose a new password</h1>
      {/* keyed: another link opened in place starts afresh */}
      <ResetPassword key={token ?? ''} token={token} />
    </div>
  );
}
