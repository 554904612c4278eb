import type { Metadata } from 'next';
import { OrderDetail } from '@/components/admin/OrderDetail';

export const metadata: Metadata = { title: 'Order · Merchant area' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <OrderDetail id={id} />;
}
