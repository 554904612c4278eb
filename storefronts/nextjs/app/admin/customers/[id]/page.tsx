import type { Metadata } from 'next';
import { CustomerDetail } from '@/components/admin/CustomerDetail';

export const metadata: Metadata = { title: 'Customer · Merchant area' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <CustomerDetail id={id} />;
}
