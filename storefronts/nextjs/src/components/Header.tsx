import Link from 'next/link';
import { getCategoriesOrEmpty } from '@/lib/weft-server';
import { shopCurrencies } from '@/lib/config';
import { CartCount } from './CartCount';
import { CurrencySelect } from './CurrencySelect';
import { StaffLink } from './StaffLink';

export async function Header() {
  const tree = await getCategoriesOrEmpty();
  return (
    <header className="border-b border-neutral-200">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-4 px-4 py-3">
        <Link href="/" className="text-xl font-semibold tracking-tight" aria-label="Weft, home">
          Weft<span aria-hidden="true" className="text-blue-700">.</span>
        </Link>
        <form action="/search" method="get" role="search" aria-label="Site search" className="order-3 flex w-full gap-2 sm:order-none sm:ml-auto sm:w-auto">
          <label htmlFor="site-search" className="sr-only">
            Search products
          </label>
          <input
            id="site-search"
            name="q"
            type="search"
            placeholder="Search products"
            autoComplete="off"
            className="w-full rounded border border-neutral-400 px-3 py-1.5 text-sm sm:w-64"
          />
          <button type="submit" className="rounded bg-neutral-900 px-3 py-1.5 text-sm font-medium text-white hover:bg-neutral-700">
            Search
          </button>
        </form>
        <Link href="/account" className="text-sm font-medium hover:underline">
          Account
        </Link>
        <StaffLink />
        <CurrencySelect currencies={shopCurrencies()} />
        <CartCount />
      </div>
      <nav aria-label="Categories" className="border-t border-neutral-100">
        <ul className="mx-auto flex max-w-6xl flex-wrap gap-x-6 gap-y-1 px-4 py-2 text-sm">
          {tree.map((c) => (
            <li key={c.id}>
              <Link href={`/categories/${c.handle}`} className="font-medium hover:underline">
                {c.name}
              </Link>
            </li>
          ))}
          <li>
            <Link href="/search" className="font-medium hover:underline">
              Shop all
            </Link>
          </li>
        </ul>
      </nav>
    </header>
  );
}
