import Link from 'next/link';
import { connection } from 'next/server';
import { browserApiUrl, shopCurrencies } from '@/lib/config';
import { getCategoriesOrEmpty, getCollections, listProducts } from '@/lib/weft-server';
import { ProductCard, toCard } from '@/components/ProductCard';

export default async function Home() {
  await connection();
  const apiUrl = browserApiUrl();
  const currencies = shopCurrencies();
  const [categories, collections, newest] = await Promise.all([
    getCategoriesOrEmpty(),
    getCollections().catch(() => []),
    listProducts({ sort: 'newest', limit: 8 }),
  ]);
  const featured = await Promise.all(
    collections.slice(0, 3).map(async (c) => ({ c, products: (await listProducts({ collection: c.handle, limit: 4 })).data })),
  );

  return (
    <>
      <section aria-labelledby="hero" className="mb-10 rounded-lg bg-neutral-100 px-6 py-10">
        <h1 id="hero" className="text-3xl font-semibold tracking-tight">Clothing for every day</h1>
        <p className="mt-2 max-w-prose text-neutral-700">Tops, bottoms, dresses, outerwear, shoes and accessories for women, men and kids.</p>
        <ul className="mt-4 flex flex-wrap gap-3">
          {categories.map((c) => (
            <li key={c.id}>
              <Link href={`/categories/${c.handle}`} className="inline-block rounded bg-neutral-900 px-4 py-2 text-sm font-medium text-white hover:bg-neutral-700">
                Shop {c.name}
              </Link>
            </li>
          ))}
        </ul>
      </section>

      {featured
        .filter((f) => f.products.length > 0)
        .map(({ c, products }) => (
          <section key={c.id} aria-labelledby={`col-${c.id}`} className="mb-10">
            <div className="mb-3 flex items-baseline justify-between">
              <h2 id={`col-${c.id}`} className="text-xl font-semibold">{c.title}</h2>
              <Link href={`/search?collection=${encodeURIComponent(c.handle)}`} className="text-sm hover:underline">
                See all<span className="sr-only"> in {c.title}</span>
              </Link>
            </div>
            {c.description && <p className="mb-3 text-sm text-neutral-700">{c.description}</p>}
            <ul className="grid grid-cols-2 gap-4 md:grid-cols-4">
              {products.map((p) => (
                <ProductCard key={p.id} p={toCard(p)} apiUrl={apiUrl} currencies={currencies} />
              ))}
            </ul>
          </section>
        ))}

      <section aria-labelledby="new-arrivals" className="mb-10">
        <div className="mb-3 flex items-baseline justify-between">
          <h2 id="new-arrivals" className="text-xl font-semibold">New arrivals</h2>
          <Link href="/search?sort=newest" className="text-sm hover:underline">
            See all<span className="sr-only"> new arrivals</span>
          </Link>
        </div>
        <ul className="grid grid-cols-2 gap-4 md:grid-cols-4" data-testid="new-arrivals">
          {newest.data.map((p, i) => (
            <ProductCard key={p.id} p={toCard(p)} apiUrl={apiUrl} currencies={currencies} priority={i < 4} />
          ))}
        </ul>
      </section>
    </>
  );
}
