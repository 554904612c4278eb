import type { Metadata } from 'next';
import { connection } from 'next/server';
import { CheckoutFlow } from '@/components/CheckoutFlow';

export const metadata: Metadata = { title: 'Checkout', robots: { index: false } };

export default async function CheckoutPage() {
  await connection(); // the header's categories are the running API's, not the build's
  return (
    <>
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Checkout</h1>
      <CheckoutFlow />
    </>
  );
}
