import type { Metadata } from 'next';
import { Apps } from '@/components/admin/Apps';

export const metadata: Metadata = { title: 'Apps and keys · Merchant area' };

export default function Page() {
  return <Apps />;
}
