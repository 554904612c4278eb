import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { browserApiUrl, shopCurrencies, siteUrl } from '@/lib/config';
import { findCategory } from '@/lib/categories';
import { imageSrc } from '@/lib/images';
import { toMajor } from '@/lib/money';
import { purchasable } from '@/lib/stock';
import { getCategoriesOrEmpty, getProduct, getRecommendations, getReviews } from '@/lib/weft-server';
import { ProductCard, toCard } from '@/components/ProductCard';
import { Reviews } from '@/components/Reviews';
import { VariantPicker } from '@/components/VariantPicker';

// Rendered on first request, then served from the cache and rebuilt in the background
// at most once a minute (incremental static regeneration).
export const revalidate = 60;
export const dynamicParams = true;
export function generateStaticParams() {
  return [];
}

interface Props {
  params: Promise<{ handle: string }>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { handle } = await params;
  const p = await getProduct(handle);
  if (!p) return { title: 'Product not found' };
  const description = p.seo_description || p.description.slice(0, 160);
  const image = p.images[0];
  const usd = p.price_ranges.find((r) => r.currency === 'USD') ?? p.price_ranges[0];
  return {
    title: p.seo_title || p.title,
    description,
    alternates: { canonical: `/products/${p.handle}` },
    openGraph: {
      type: 'website',
      title: p.title,
      description,
      url: `/products/${p.handle}`,
      images: image ? [{ url: imageSrc(image.url, browserApiUrl()), alt: image.alt || p.title }] : undefined,
    },
    other: usd
      ? { 'product:price:amount': toMajor(usd.min.amount), 'product:price:currency': usd.currency, 'product:brand': p.brand }
      : undefined,
  };
}

export default async function ProductPage({ params }: Props) {
  const { handle } = await params;
  const product = await getProduct(handle);
  if (!product) notFound();
  const [tree, recommendations, { reviews, summary }] = await Promise.all([
    getCategoriesOrEmpty(),
    getRecommendations(product.id, 4),
    getReviews(product.id),
  ]);
  const apiUrl = browserApiUrl();
  const found = product.category_id ? findCategoryById(tree, product.category_id) : null;
  const origin = siteUrl();
  const currencies = shopCurrencies();

  const jsonLd = {
    '@context': 'https://schema.org',
    '@type': 'Product',
    name: product.title,
    description: product.description,
    brand: { '@type': 'Brand', name: product.brand },
    image: product.images.map((i) => absolute(imageSrc(i.url, apiUrl), origin)),
    sku: product.variants[0]?.sku,
    url: `${origin}/products/${product.handle}`,
    // Search engines show stars for products with reviews.
    aggregateRating:
      summary && summary.count > 0
        ? { '@type': 'AggregateRating', ratingValue: summary.average, reviewCount: summary.count, bestRating: 5, worstRating: 1 }
        : undefined,
    offers: product.variants.flatMap((v) =>
      v.prices
        .filter((pr) => currencies.includes(pr.currency))
        .map((pr) => ({
          '@type': 'Offer',
          sku: v.sku,
          price: toMajor(pr.amount),
          priceCurrency: pr.currency,
          availability: purchasable(v.stock_status) ? (v.stock_status === 'backorder' ? 'https://schema.org/BackOrder' : 'https://schema.org/InStock') : 'https://schema.org/OutOfStock',
          url: `${origin}/products/${product.handle}`,
        })),
    ),
  };

  return (
    <>
      <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: JSON.stringify(jsonLd).replace(/</g, '\\u003c') }} />
      <nav aria-label="Breadcrumb" className="mb-4 text-sm text-neutral-700">
        <ol className="flex flex-wrap gap-1">
          <li><Link href="/" className="hover:underline">Home</Link> /</li>
          {found &&
            [...found.trail, found.category].map((c) => (
              <li key={c.id}>
                <Link href={`/categories/${c.handle}`} className="hover:underline">{c.name}</Link> /
              </li>
            ))}
          <li aria-current="page">{product.title}</li>
        </ol>
      </nav>
      <VariantPicker product={product} apiUrl={apiUrl} currencies={currencies} />
      <section aria-labelledby="details" className="mt-10 max-w-prose">
        <h2 id="details" className="text-lg font-semibold">Details</h2>
        <p className="mt-2 whitespace-pre-line">{product.description}</p>
        <dl className="mt-4 grid grid-cols-[8rem_1fr] gap-y-1 text-sm">
          {product.material && (<><dt className="font-medium">Material</dt><dd>{product.material}</dd></>)}
          {product.fit && (<><dt className="font-medium">Fit</dt><dd>{product.fit}</dd></>)}
          {product.care && (<><dt className="font-medium">Care</dt><dd>{product.care}</dd></>)}
        </dl>
      </section>
      <Reviews summary={summary} reviews={reviews} />
      {recommendations.length > 0 && (
        <section aria-labelledby="recs" className="mt-12">
          <h2 id="recs" className="mb-3 text-lg font-semibold">You may also like</h2>
          <ul className="grid grid-cols-2 gap-4 md:grid-cols-4" data-testid="recommendations">
            {recommendations.map((p) => (
              <ProductCard key={p.id} p={toCard(p)} apiUrl={apiUrl} currencies={currencies} />
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function findCategoryById(tree: Parameters<typeof findCategory>[0], id: string) {
  const walk = (nodes: typeof tree, trail: typeof tree): ReturnType<typeof findCategory> => {
    for (const c of nodes) {
      if (c.id === id) return { category: c, trail };
      const f = walk(c.children, [...trail, c]);
      if (f) return f;
    }
    return null;
  };
  return walk(tree, []);
}

function absolute(url: string, origin: string): string {
  return /^https?:\/\//.test(url) ? url : `${origin}${url}`;
}
