import type { Metadata } from 'next';
import { Returns } from '@/components/admin/Returns';

export const metadata: Metadata = { title: 'Returns · Merchant area' };

export default function Page() {
  return <Returns />;
}
