import type { Metadata } from 'next';
import { connection } from 'next/server';
import { CartView } from '@/components/CartView';

export const metadata: Metadata = { title: 'Your cart', robots: { index: false } };

export default async function CartPage() {
  await connection(); // the header's categories are the running API's, not the build's
  return (
    <>
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Your cart</h1>
      <CartView />
    </>
  );
}
