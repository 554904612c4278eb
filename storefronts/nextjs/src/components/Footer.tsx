import Link from 'next/link';

export function Footer() {
  return (
    <footer className="mt-16 border-t border-neutral-200 bg-neutral-50">
      <div className="mx-auto flex max-w-6xl flex-wrap justify-between gap-4 px-4 py-8 text-sm text-neutral-700">
        <p>Weft reference storefront. Payments are tokenised: no card number ever reaches the shop.</p>
        <nav aria-label="Footer">
          <ul className="flex gap-4">
            <li><Link href="/search" className="hover:underline">All products</Link></li>
            <li><Link href="/cart" className="hover:underline">Cart</Link></li>
            <li><a href="/sitemap.xml" className="hover:underline">Sitemap</a></li>
          </ul>
        </nav>
      </div>
    </footer>
  );
}
