import type { Metadata } from 'next';
import { connection } from 'next/server';
import { ForgotPassword } from '@/components/account/ForgotPassword';

export const metadata: Metadata = { title: 'Forgot your password?', robots: { index: false } };

// Asks Weft to e-mail a reset link; the link leads to /account/reset-password.
export default async function ForgotPasswordPage() {
  await connection(); // the header's categories are the running API's, not the build's
  return (
    <div className="max-w-md">
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Forgot your password?</h1>
      <ForgotPassword />
    </div>
  );
}
