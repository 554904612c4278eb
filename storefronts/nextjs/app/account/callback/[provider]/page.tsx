import type { Metadata } from 'next';
import { connection } from 'next/server';
import { SocialCallback } from '@/components/account/SocialCallback';

export const metadata: Metadata = { title: 'Signing in', robots: { index: false } };

// Where a social provider sends the browser back when Weft's `redirect_url` points at the shop.
export default async function CallbackPage({ params }: { params: Promise<{ provider: string }> }) {
  await connection();
  const { provider } = await params;
  return (
    <>
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Signing in</h1>
      <SocialCallback provider={provider} />
    </>
  );
}
