import type { Metadata } from 'next';
import { ProductForm } from '@/components/admin/ProductForm';

export const metadata: Metadata = { title: 'New product · Merchant area' };

export default function Page() {
  return <ProductForm />;
}
