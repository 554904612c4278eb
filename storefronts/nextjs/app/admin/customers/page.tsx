import type { Metadata } from 'next';
import { Customers } from '@/components/admin/Customers';

export const metadata: Metadata = { title: 'Customers · Merchant area' };

export default function Page() {
  return <Customers />;
}
