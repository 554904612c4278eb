'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { Schemas } from '@weft/sdk';
import { problemText, when } from '@/lib/admin';
import { useSubmit } from '@/lib/useSubmit';
import { useAdmin } from './AdminGate';
import { h1, secondary, table } from './ui';

type AdminReview = Schemas['AdminReview'];

const FILTERS = [
  ['pending', 'Waiting for a decision'],
  ['reported', 'Reported by shoppers'],
  ['published', 'Published'],
  ['rejected', 'Rejected'],
] as const;

/** The moderation queue: publish or reject (with a reason the author sees) and answer in public. */
export function Reviews() {
  const { weft } = useAdmin();
  const [filter, setFilter] = useState<string>('pending');
  const [reviews, setReviews] = useState<AdminReview[] | null>(null);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  const [replies, setReplies] = useState<Record<string, string>>({});
  const { error, setError, submit } = useSubmit();

  useEffect(() => {
    setReviews(null);
    const query = filter === 'reported' ? { reported: true, limit: 100 } : { status: filter, limit: 100 };
    weft.api
      .GET('/v1/admin/reviews', { params: { query } })
      .then(({ data }) => setReviews(data!.data))
      .catch((e) => setError(problemText(e)));
  }, [weft, filter, setError]);

  async function decide(r: AdminReview, action: 'approve' | 'reject' | 'reply') {
    await submit(async () => {
      const path = { params: { path: { id: r.id } } };
      const { data } =
        action === 'approve'
          ? await weft.api.POST('/v1/admin/reviews/{id}/approve', path)
          : action === 'reject'
            ? await weft.api.POST('/v1/admin/reviews/{id}/reject', { ...path, body: { reason: reasons[r.id] ?? '' } })
            : await weft.api.POST('/v1/admin/reviews/{id}/reply', { ...path, body: { body: replies[r.id] ?? '' } });
      setReviews((rs) => rs?.map((x) => (x.id === r.id ? data! : x)) ?? null);
    });
  }

  return (
    <div>
      <h1 className={h1}>Reviews</h1>
      <label htmlFor="review-filter" className="font-medium">Show</label>{' '}
      <select id="review-filter" value={filter} onChange={(e) => setFilter(e.target.value)} className="rounded border border-neutral-500 px-2 py-1">
        {FILTERS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
      </select>
      {error && <p role="alert" className="mt-2 text-red-700">{error}</p>}
      {!reviews ? (
        <p role="status" className="mt-4">Loading reviews…</p>
      ) : reviews.length === 0 ? (
        <p className="mt-4">No reviews here.</p>
      ) : (
        <table className={`${table} mt-4`}>
          <caption className="sr-only">Reviews</caption>
          <thead><tr><th scope="col">Review</th><th scope="col">Product</th><th scope="col">Written</th><th scope="col">Status</th><th scope="col">Decide</th></tr></thead>
          <tbody>
            {reviews.map((r) => (
              <tr key={r.id} data-testid={`review-${r.id}`}>
                <td className="max-w-md">
                  <p><strong>{r.rating}/5 · {r.title}</strong></p>
                  <p className="whitespace-pre-line text-sm">{r.body}</p>
                  <p className="text-xs text-neutral-700">
                    {r.author_name}{r.verified_purchase ? ' · verified purchase' : ' · not a verified purchase'}
                    {r.report_count > 0 && ` · reported ${r.report_count}×`}
                    {r.moderation_note && ` · ${r.moderation_note}`}
                  </p>
                  {r.reply && <p className="mt-1 text-sm">Reply: {r.reply.body}</p>}
                </td>
                <td><Link className="underline" href={`/admin/products/${r.product_id}`}>{r.product_id}</Link></td>
                <td>{when(r.created_at)}</td>
                <td>{r.status}</td>
                <td>
                  <div className="flex flex-col gap-2">
                    {r.status !== 'published' && (
                      <button type="button" className={secondary} onClick={() => void decide(r, 'approve')}>Publish</button>
                    )}
                    {r.status !== 'rejected' && (
                      <div className="flex flex-wrap items-center gap-2">
                        <label className="text-sm">
                          <span className="sr-only">Why reject {r.title}</span>
                          <input placeholder="reason" value={reasons[r.id] ?? ''} onChange={(e) => setReasons({ ...reasons, [r.id]: e.target.value })} className="w-36 rounded border border-neutral-500 px-2 py-1" />
                        </label>
                        <button type="button" className={secondary} onClick={() => void decide(r, 'reject')}>Reject</button>
                      </div>
                    )}
                    <div className="flex flex-wrap items-center gap-2">
                      <label className="text-sm">
                        <span className="sr-only">Reply to {r.title}</span>
                        <input placeholder="public reply" value={replies[r.id] ?? ''} onChange={(e) => setReplies({ ...replies, [r.id]: e.target.value })} className="w-36 rounded border border-neutral-500 px-2 py-1" />
                      </label>
                      <button type="button" className={secondary} onClick={() => void decide(r, 'reply')}>Reply</button>
                    </div>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
