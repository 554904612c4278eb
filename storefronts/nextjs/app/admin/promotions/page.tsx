import type { Metadata } from 'next';
import { Promotions } from '@/components/admin/Promotions';

export const metadata: Metadata = { title: 'Promotions · Merchant area' };

export default function Page() {
  return <Promotions />;
}
