import { Dashboard } from '@/components/admin/Dashboard';

export default function Page() {
  return <Dashboard />;
}
