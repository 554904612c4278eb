import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { connection } from 'next/server';
import { browserApiUrl, shopCurrencies } from '@/lib/config';
import { shopperCurrency } from '@/lib/currency-server';
import { findCategory } from '@/lib/categories';
import { apiQuery, parseListing, toQuery, type RawQuery } from '@/lib/listing';
import { getCategoriesOrEmpty, getCategory, searchProducts } from '@/lib/weft-server';
import { Listing } from '@/components/Listing';

interface Props {
  params: Promise<{ handle: string }>;
  searchParams: Promise<RawQuery>;
}

export async function generateMetadata({ params, searchParams }: Props): Promise<Metadata> {
  const { handle } = await params;
  const category = await getCategory(handle);
  if (!category) return { title: 'Category not found' };
  const state = parseListing(await searchParams);
  const filtered = toQuery({ ...state, sort: undefined, cursor: undefined, prev: undefined }) !== '';
  return {
    title: category.name,
    description: category.description || `Shop ${category.name} at Weft.`,
    alternates: { canonical: `/categories/${category.handle}` },
    // Filtered and paged variants of a listing are not separate pages for search engines.
    robots: filtered || state.cursor ? { index: false, follow: true } : undefined,
    openGraph: { title: category.name, url: `/categories/${category.handle}` },
  };
}

export default async function CategoryPage({ params, searchParams }: Props) {
  await connection();
  const { handle } = await params;
  const state = parseListing(await searchParams);
  const [tree, category] = await Promise.all([getCategoriesOrEmpty(), getCategory(handle)]);
  if (!category) notFound();
  // Price facets and the price sort are in the shopper's currency.
  const results = await searchProducts(apiQuery(state, { category: category.handle, currency: await shopperCurrency() }));
  const trail = findCategory(tree, category.handle)?.trail ?? [];

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-neutral-700">
        <ol className="flex flex-wrap gap-1">
          <li><Link href="/" className="hover:underline">Home</Link> /</li>
          {trail.map((c) => (
            <li key={c.id}>
              <Link href={`/categories/${c.handle}`} className="hover:underline">{c.name}</Link> /
            </li>
          ))}
          <li aria-current="page">{category.name}</li>
        </ol>
      </nav>
      <h1 className="text-2xl font-semibold tracking-tight">{category.name}</h1>
      {category.description && <p className="mt-1 max-w-prose text-neutral-700">{category.description}</p>}
      {category.children.length > 0 && (
        <ul className="mt-3 flex flex-wrap gap-2 text-sm" aria-label={`Inside ${category.name}`}>
          {category.children.map((c) => (
            <li key={c.id}>
              <Link href={`/categories/${c.handle}`} className="inline-block rounded-full border border-neutral-400 px-3 py-1 hover:bg-neutral-100">
                {c.name}
              </Link>
            </li>
          ))}
        </ul>
      )}
      <div className="mt-6">
        <Listing results={results} state={state} basePath={`/categories/${category.handle}`} apiUrl={browserApiUrl()} currencies={shopCurrencies()} />
      </div>
    </>
  );
}
