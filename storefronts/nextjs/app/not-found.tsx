import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="py-16 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="mt-2 text-neutral-700">That page does not exist, or the product is no longer for sale.</p>
      <p className="mt-6">
        <Link href="/search" className="rounded bg-neutral-900 px-4 py-2 text-sm font-medium text-white hover:bg-neutral-700">
          Browse all products
        </Link>
      </p>
    </div>
  );
}
