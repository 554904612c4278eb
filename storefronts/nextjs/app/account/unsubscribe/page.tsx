import type { Metadata } from 'next';
import { connection } from 'next/server';
import { Unsubscribe } from '@/components/account/Unsubscribe';
import { SHOP_NAME } from '@/lib/config';

// The address holds the customer's unsubscribe token: not indexed, and never sent on as a referrer.
export const metadata: Metadata = { title: 'Unsubscribe', robots: { index: false }, referrer: 'no-referrer' };

type Query = Promise<{ token?: string | string[] }>;

// Where a marketing e-mail's footer link leads (`<storefront_url>/account/unsubscribe?token=…`).
// Opening it changes nothing: the shopper confirms with a button (see Unsubscribe).
export default async function UnsubscribePage({ searchParams }: { searchParams: Query }) {
  await connection();
  const { token: raw } = await searchParams;
  const token = typeof raw === 'string' && raw ? raw : null;
  return (
    <div className="max-w-md">
      <h1 className="mb-6 text-2xl font-semibold tracking-tight">Unsubscribe</h1>
      {/* keyed: another link opened in place starts afresh */}
      <Unsubscribe key={token ?? ''} token={token} shopName={SHOP_NAME} />
    </div>
  );
}
