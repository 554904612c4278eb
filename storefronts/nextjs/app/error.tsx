'use client';
import Link from 'next/link';

/** A page whose data could not be read (Weft unreachable, or answering 5xx). */
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="py-16 text-center" role="alert">
      <h1 className="text-2xl font-semibold">The shop could not load this page</h1>
      <p className="mt-2 text-neutral-700">This is usually brief. Please try again in a moment.</p>
      <div className="mt-6 flex justify-center gap-3">
        <button type="button" onClick={reset} className="rounded bg-neutral-900 px-4 py-2 text-sm font-medium text-white hover:bg-neutral-700">
          Try again
        </button>
        <Link href="/" className="rounded border border-neutral-400 px-4 py-2 text-sm font-medium hover:bg-neutral-100">
          Home
        </Link>
      </div>
    </div>
  );
}
