import type { Metadata } from 'next';
import { connection } from 'next/server';
import { Suspense } from 'react';
import { Confirmation } from '@/components/Confirmation';

export const metadata: Metadata = { title: 'Order confirmed', robots: { index: false } };

export default async function ConfirmationPage() {
  await connection(); // the header's categories are the running API's, not the build's
  return (
    <Suspense fallback={<p role="status">Loading your order…</p>}>
      <Confirmation />
    </Suspense>
  );
}
