import type { Metadata } from 'next';
import { connection } from 'next/server';
import { OrderDetail } from '@/components/account/OrderDetail';

export const metadata: Metadata = { title: 'Your order', robots: { index: false } };

export default async function OrderPage({ params }: { params: Promise<{ id: string }> }) {
  await connection(); // personal data: rendered in the browser, never cached
  const { id } = await params;
  return <OrderDetail id={id} />;
}
