'use client';
import Link from 'next/link';
import { useCart } from './CartProvider';

export function CartCount() {
  const { cart, openDrawer } = useCart();
  const count = cart?.item_count ?? 0;
  return (
    // A link to the cart page without JavaScript (or with a modifier key); the drawer with it.
    <Link
      href="/cart"
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        openDrawer();
      }}
      className="rounded px-2 py-1 text-sm font-medium hover:bg-neutral-100" data-testid="cart-link">
      Cart <span className="ml-1 inline-block min-w-6 rounded-full bg-neutral-900 px-2 text-center text-white" data-testid="cart-count">{count}</span>
      <span className="sr-only"> ({count === 1 ? '1 item' : `${count} items`})</span>
    </Link>
  );
}
