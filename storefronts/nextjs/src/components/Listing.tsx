import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { formatMoney } from '@/lib/money';
import { nextPage, previousPage, SORTS, toQuery, withFilter, type ListingState } from '@/lib/listing';
import { ProductCard } from './ProductCard';
import { SortSelect } from './SortSelect';

type Results = Schemas['SearchResults'];

interface Props {
  results: Results;
  state: ListingState;
  /** The page's path without query: /categories/women or /search. */
  basePath: string;
  apiUrl: string;
  /** The shop's currencies: each card carries all, the page's CSS shows the shopper's. */
  currencies: string[];
}

/** A product listing with its facets, sort and cursor pages; every control is a link. */
export function Listing({ results, state, basePath, apiUrl, currencies }: Props) {
  const href = (s: ListingState) => `${basePath}${toQuery(s)}`;
  const prev = previousPage(state);
  const sortHrefs = Object.fromEntries(SORTS.map((s) => [s.value, href(withFilter(state, { sort: s.value }))]));
  const active: { label: string; clear: ListingState }[] = [];
  if (state.size) active.push({ label: `Size ${state.size}`, clear: withFilter(state, { size: undefined }) });
  if (state.color) active.push({ label: `Colour ${state.color}`, clear: withFilter(state, { color: undefined }) });
  if (state.brand) active.push({ label: state.brand, clear: withFilter(state, { brand: undefined }) });
  if (state.min_price !== undefined || state.max_price !== undefined)
    active.push({ label: priceLabel(state.min_price, state.max_price), clear: withFilter(state, { min_price: undefined, max_price: undefined }) });
  if (state.in_stock) active.push({ label: 'In stock', clear: withFilter(state, { in_stock: undefined }) });

  return (
    <div className="grid gap-8 md:grid-cols-[14rem_1fr]">
      <aside aria-label="Filters" className="text-sm">
        <h2 className="mb-2 text-base font-semibold">Filter</h2>
        <FacetGroup title="Size" values={sortSizes(results.facets.size)} selected={state.size} linkFor={(v) => href(withFilter(state, { size: state.size === v ? undefined : v }))} />
        <FacetGroup title="Colour" values={results.facets.color} selected={state.color} linkFor={(v) => href(withFilter(state, { color: state.color === v ? undefined : v }))} />
        <FacetGroup title="Brand" values={results.facets.brand} selected={state.brand} linkFor={(v) => href(withFilter(state, { brand: state.brand === v ? undefined : v }))} />
        <fieldset className="mb-4">
          <legend className="mb-1 font-medium">Price</legend>
          <ul className="space-y-1">
            {results.facets.price.filter((b) => b.count > 0 || (state.min_price === b.from.amount)).map((b) => {
              const min = b.from.amount;
              const max = b.to?.amount;
              const selected = state.min_price === min && state.max_price === max;
              return (
                <li key={min}>
                  <Link
                    href={href(withFilter(state, selected ? { min_price: undefined, max_price: undefined } : { min_price: min, max_price: max }))}
                    className={`hover:underline ${selected ? 'font-semibold' : ''}`}
                    aria-current={selected ? 'true' : undefined}
                  >
                    {priceLabel(min, max, b.from.currency)} <span className="text-neutral-700">({b.count})</span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </fieldset>
        <p className="mb-4">
          <Link
            href={href(withFilter(state, { in_stock: state.in_stock ? undefined : true }))}
            className={`hover:underline ${state.in_stock ? 'font-semibold' : ''}`}
            aria-current={state.in_stock ? 'true' : undefined}
          >
            {state.in_stock ? '✓ ' : ''}In stock only
          </Link>
        </p>
      </aside>
      <section aria-labelledby="results-heading">
        <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
          <h2 id="results-heading" className="text-sm text-neutral-700" aria-live="polite">
            {results.total === 1 ? '1 product' : `${results.total} products`}
          </h2>
          <SortSelect value={state.sort ?? 'relevance'} hrefFor={sortHrefs} />
        </div>
        {active.length > 0 && (
          <ul className="mb-4 flex flex-wrap gap-2 text-sm" aria-label="Active filters">
            {active.map((a) => (
              <li key={a.label}>
                <Link href={href(a.clear)} className="rounded-full border border-neutral-400 px-3 py-0.5 hover:bg-neutral-100">
                  {a.label} <span aria-hidden="true">×</span>
                  <span className="sr-only">(remove filter)</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
        {results.data.length === 0 ? (
          <p>No products match. Try removing a filter.</p>
        ) : (
          <ul className="grid grid-cols-2 gap-x-4 gap-y-8 lg:grid-cols-3" data-testid="results">
            {results.data.map((hit, i) => (
              <ProductCard key={hit.id} p={{ ...hit, highlights: hit.highlights as Record<string, string> }} apiUrl={apiUrl} currencies={currencies} priority={i < 3} />
            ))}
          </ul>
        )}
        <nav aria-label="Pages" className="mt-8 flex justify-between text-sm">
          {prev ? (
            <Link href={href(prev)} rel="prev" className="rounded border border-neutral-400 px-3 py-1 hover:bg-neutral-100">
              ← Previous page
            </Link>
          ) : (
            <span />
          )}
          {results.next_cursor ? (
            <Link href={href(nextPage(state, results.next_cursor))} rel="next" className="rounded border border-neutral-400 px-3 py-1 hover:bg-neutral-100">
              Next page →
            </Link>
          ) : null}
        </nav>
      </section>
    </div>
  );
}

function FacetGroup({ title, values, selected, linkFor }: { title: string; values: Schemas['FacetValue'][]; selected?: string; linkFor: (v: string) => string }) {
  if (values.length === 0) return null;
  return (
    <fieldset className="mb-4">
      <legend className="mb-1 font-medium">{title}</legend>
      <ul className="flex flex-wrap gap-1.5">
        {values.map((v) => {
          const on = selected === v.value;
          return (
            <li key={v.value}>
              <Link
                href={linkFor(v.value)}
                aria-current={on ? 'true' : undefined}
                className={`inline-block rounded border px-2 py-0.5 ${on ? 'border-neutral-900 bg-neutral-900 text-white' : 'border-neutral-400 hover:bg-neutral-100'}`}
              >
                {v.label ?? v.value} <span className={on ? 'text-neutral-200' : 'text-neutral-700'}>({v.count})</span>
              </Link>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}

const SIZE_ORDER = ['XXS', 'XS', 'S', 'M', 'L', 'XL', 'XXL', '3XL'];

/** Sizes in the order people read them (XS before S before M), numeric sizes by number. */
function sortSizes(values: Schemas['FacetValue'][]): Schemas['FacetValue'][] {
  const rank = (v: string) => {
    const i = SIZE_ORDER.indexOf(v.toUpperCase());
    if (i >= 0) return i;
    const n = parseFloat(v);
    return Number.isFinite(n) ? 100 + n : 10_000;
  };
  return [...values].sort((a, b) => rank(a.value) - rank(b.value) || a.value.localeCompare(b.value));
}

function priceLabel(min?: number, max?: number | null, currency = 'USD'): string {
  const f = (a: number) => formatMoney({ amount: a, currency });
  if (min !== undefined && max != null) return `${f(min)} – ${f(max)}`;
  if (min !== undefined) return `${f(min)} and over`;
  if (max != null) return `Under ${f(max)}`;
  return 'Any price';
}
