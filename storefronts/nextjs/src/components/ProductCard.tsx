import Link from 'next/link';
import { imageSrc } from '@/lib/images';
import { PriceRange } from './Price';

export interface CardProduct {
  handle: string;
  title: string;
  brand: string;
  image?: { url: string; alt?: string } | null;
  price_ranges: { currency: string; min: { amount: number; currency: string }; max: { amount: number; currency: string } }[];
  in_stock: boolean;
  /** Search highlights: HTML-escaped by Weft, with matching words in <em>. */
  highlights?: Record<string, string>;
}

export function ProductCard({ p, apiUrl, currencies, priority = false }: { p: CardProduct; apiUrl: string; currencies: string[]; priority?: boolean }) {
  const src = p.image ? imageSrc(p.image.url, apiUrl) : null;
  const titleHl = p.highlights?.title;
  return (
    <li className="group" data-testid="product-card">
      <Link href={`/products/${p.handle}`} className="block">
        <div className="aspect-[4/5] overflow-hidden rounded bg-neutral-100">
          {src && (
            // eslint-disable-next-line @next/next/no-img-element -- Weft serves its own SVGs; no optimiser needed
            <img
              src={src}
              alt={p.image?.alt || p.title}
              width={400}
              height={500}
              loading={priority ? 'eager' : 'lazy'}
              fetchPriority={priority ? 'high' : undefined}
              className="h-full w-full object-cover transition group-hover:opacity-90"
            />
          )}
        </div>
        <h3 className="mt-2 text-sm font-medium">
          {titleHl ? <span className="hl" dangerouslySetInnerHTML={{ __html: titleHl }} /> : p.title}
        </h3>
      </Link>
      <p className="text-xs text-neutral-700">{p.brand}</p>
      <p className="text-sm">
        <PriceRange ranges={p.price_ranges} currencies={currencies} />
        {!p.in_stock && <span className="ml-2 text-xs font-medium text-red-800">Sold out</span>}
      </p>
      {p.highlights?.description && (
        <p className="hl mt-1 line-clamp-2 text-xs text-neutral-700" dangerouslySetInnerHTML={{ __html: p.highlights.description }} />
      )}
    </li>
  );
}

/** A product (full shape) as a card. */
export function toCard(p: {
  handle: string;
  title: string;
  brand: string;
  images: { url: string; alt?: string }[];
  price_ranges: CardProduct['price_ranges'];
  in_stock: boolean;
}): CardProduct {
  return { handle: p.handle, title: p.title, brand: p.brand, image: p.images[0] ?? null, price_ranges: p.price_ranges, in_stock: p.in_stock };
}
