import type { Metadata } from 'next';
import { connection } from 'next/server';
import { AccountArea } from '@/components/account/AccountArea';

export const metadata: Metadata = { title: 'Your account', robots: { index: false } };

export default async function AccountPage() {
  await connection(); // the header's categories are the running API's, not the build's
  return (
    <>
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Your account</h1>
      <AccountArea />
    </>
  );
}
