'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import { browserWeft } from '@/lib/weft-browser';

/** "Merchant area" in the header, for signed-in staff only (asked of Weft: GET /v1/me). */
export function StaffLink() {
  const [staff, setStaff] = useState(false);
  useEffect(() => {
    (async () => {
      const weft = await browserWeft();
      if (!(await weft.auth.isSignedIn())) return;
      const { data } = await weft.api.GET('/v1/me');
      setStaff(data?.role === 'admin');
    })().catch(() => setStaff(false));
  }, []);
  if (!staff) return null;
  return (
    <Link href="/admin" className="text-sm font-medium hover:underline">
      Merchant area
    </Link>
  );
}
