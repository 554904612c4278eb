import type { Metadata } from 'next';
import { Inventory } from '@/components/admin/Inventory';

export const metadata: Metadata = { title: 'Inventory · Merchant area' };

export default function Page() {
  return <Inventory />;
}
