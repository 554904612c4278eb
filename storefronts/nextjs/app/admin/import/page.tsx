import type { Metadata } from 'next';
import { ProductImport } from '@/components/admin/ProductImport';

export const metadata: Metadata = { title: 'Import · Merchant area' };

export default function Page() {
  return <ProductImport />;
}
