import type { Metadata } from 'next';
import { Webhooks } from '@/components/admin/Webhooks';

export const metadata: Metadata = { title: 'Webhooks · Merchant area' };

export default function Page() {
  return <Webhooks />;
}
