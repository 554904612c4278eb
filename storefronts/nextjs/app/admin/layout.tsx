import type { Metadata } from 'next';
import { AdminGate } from '@/components/admin/AdminGate';

// The server renders no merchant data: only the gate, which checks the caller in the
// browser (GET /v1/me, role admin) before any admin screen mounts.
export const metadata: Metadata = {
  title: 'Merchant area',
  robots: { index: false, follow: false },
};

export default function AdminLayout({ children }: { children: React.ReactNode }) {
  return <AdminGate>{children}</AdminGate>;
}
