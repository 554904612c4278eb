import type { Metadata } from 'next';
import { connection } from 'next/server';
import { browserApiUrl, shopCurrencies } from '@/lib/config';
import { shopperCurrency } from '@/lib/currency-server';
import { apiQuery, parseListing, type RawQuery } from '@/lib/listing';
import { searchProducts } from '@/lib/weft-server';
import { Listing } from '@/components/Listing';
import { SearchBox } from '@/components/SearchBox';

interface Props {
  searchParams: Promise<RawQuery>;
}

export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  const { q } = parseListing(await searchParams);
  return { title: q ? `Search: ${q}` : 'All products', robots: { index: false, follow: true } };
}

export default async function SearchPage({ searchParams }: Props) {
  await connection();
  const state = parseListing(await searchParams);
  const results = await searchProducts(apiQuery(state, { currency: await shopperCurrency() }));
  return (
    <>
      <h1 className="text-2xl font-semibold tracking-tight">{state.q ? <>Results for “{state.q}”</> : 'All products'}</h1>
      <SearchBox initial={state.q ?? ''} />
      <div className="mt-6">
        <Listing results={results} state={state} basePath="/search" apiUrl={browserApiUrl()} currencies={shopCurrencies()} />
      </div>
    </>
  );
}
