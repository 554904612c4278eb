import type { Metadata } from 'next';
import { Orders } from '@/components/admin/Orders';

export const metadata: Metadata = { title: 'Orders · Merchant area' };

export default function Page() {
  return <Orders />;
}
