import type { RatingSummary, Review } from '@/lib/weft-server';

const FIT: Record<string, string> = {
  runs_small: 'Runs small',
  true_to_size: 'True to size',
  runs_large: 'Runs large',
};

/** "★★★★☆" for screens; the text beside it says the number for everyone. */
function Stars({ rating }: { rating: number }) {
  const full = Math.round(rating);
  return (
    <span aria-hidden="true" className="tracking-tight text-amber-700">
      {'★'.repeat(full)}
      <span className="text-neutral-500">{'★'.repeat(5 - full)}</span>
    </span>
  );
}

/** How the reviews' sizes came out: the share of each answer, clothing shoppers' first question. */
function fitShares(reviews: Review[]): [string, number][] {
  const answered = reviews.filter((r) => r.size_fit);
  if (answered.length === 0) return [];
  return Object.entries(FIT).map(([key, label]) => [
    label,
    Math.round((answered.filter((r) => r.size_fit === key).length / answered.length) * 100),
  ]);
}

/** A product's rating summary and its most helpful published reviews. */
export function Reviews({ summary, reviews }: { summary: RatingSummary | null; reviews: Review[] }) {
  const count = summary?.count ?? 0;
  const bars: [number, number][] = summary
    ? [
        [5, summary.distribution.five],
        [4, summary.distribution.four],
        [3, summary.distribution.three],
        [2, summary.distribution.two],
        [1, summary.distribution.one],
      ]
    : [];
  const fit = fitShares(reviews);
  return (
    <section aria-labelledby="reviews" className="mt-12 max-w-3xl" data-testid="reviews">
      <h2 id="reviews" className="text-lg font-semibold">Reviews</h2>
      {count === 0 || !summary ? (
        <p className="mt-2 text-sm text-neutral-700">No reviews yet. Customers who buy it can review it from their account.</p>
      ) : (
        <>
          <div className="mt-3 flex flex-wrap items-start gap-8">
            <p className="text-sm" data-testid="rating-summary">
              <span className="text-3xl font-semibold">{summary.average?.toFixed(1)}</span>{' '}
              <Stars rating={summary.average ?? 0} />{' '}
              <span>
                {summary.average?.toFixed(1)} out of 5, from {count} {count === 1 ? 'review' : 'reviews'}
              </span>
            </p>
            <table className="text-sm" aria-label="Ratings by stars">
              <tbody>
                {bars.map(([stars, n]) => (
                  <tr key={stars}>
                    <th scope="row" className="pr-2 text-left font-normal">{stars} {stars === 1 ? 'star' : 'stars'}</th>
                    <td className="w-32">
                      <div className="h-2 rounded bg-neutral-200">
                        <div className="h-2 rounded bg-amber-700" style={{ width: `${count ? (n / count) * 100 : 0}%` }} />
                      </div>
                    </td>
                    <td className="pl-2 tabular-nums">{n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {fit.length > 0 && (
              <dl className="text-sm" aria-label="Fit">
                {fit.map(([label, share]) => (
                  <div key={label} className="flex gap-2">
                    <dt>{label}</dt>
                    <dd className="tabular-nums">{share}%</dd>
                  </div>
                ))}
              </dl>
            )}
          </div>
          <ul className="mt-6 space-y-6">
            {reviews.map((r) => (
              <li key={r.id} className="border-t border-neutral-200 pt-4" data-testid="review">
                <p className="text-sm">
                  <Stars rating={r.rating} /> <span className="sr-only">{r.rating} out of 5 stars</span>{' '}
                  <strong className="font-semibold">{r.title}</strong>
                </p>
                <p className="mt-1 text-xs text-neutral-700">
                  {r.author_name}
                  {r.verified_purchase && <span className="ml-2 rounded bg-green-100 px-1 text-green-900">Verified purchase</span>}
                  {r.size_fit && <span className="ml-2">{FIT[r.size_fit] ?? r.size_fit}</span>}
                  <span className="ml-2">{new Date(r.created_at).toLocaleDateString('en-US', { dateStyle: 'medium' })}</span>
                </p>
                <p className="mt-2 whitespace-pre-line text-sm">{r.body}</p>
                {r.reply && (
                  <blockquote className="mt-2 border-l-2 border-neutral-300 pl-3 text-sm text-neutral-700">
                    <p className="font-medium">Reply from the shop</p>
                    <p className="whitespace-pre-line">{r.reply.body}</p>
                  </blockquote>
                )}
                {r.helpful_count > 0 && (
                  <p className="mt-1 text-xs text-neutral-700">
                    {r.helpful_count} {r.helpful_count === 1 ? 'person' : 'people'} found this helpful
                  </p>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
