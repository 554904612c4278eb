'use client';
import { useEffect, useRef } from 'react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { formatMoney } from '@/lib/money';
import { CartLines } from './CartLines';
import { useCart } from './CartProvider';

/**
 * The cart as a side drawer: opens after "Add to cart" and from the header's cart button.
 * A modal <dialog>: the browser traps focus in it, Escape closes it, and focus returns
 * to what opened it. Its lines are rendered only while open, so the cart page never has
 * two copies of them.
 */
export function CartDrawer() {
  const { cart, drawerOpen, closeDrawer } = useCart();
  const ref = useRef<HTMLDialogElement>(null);
  const pathname = usePathname();

  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (drawerOpen && !d.open) d.showModal();
    if (!drawerOpen && d.open) d.close();
  }, [drawerOpen]);

  // Following a link inside it (or the back button) leaves it closed on the next page.
  useEffect(() => closeDrawer(), [pathname, closeDrawer]);

  const count = cart?.item_count ?? 0;
  return (
    <dialog
      ref={ref}
      aria-labelledby="drawer-heading"
      onClose={closeDrawer}
      // A click on the backdrop (the dialog element itself, outside its panel) closes it.
      onClick={(e) => {
        if (e.target === e.currentTarget) closeDrawer();
      }}
      className="fixed inset-y-0 right-0 left-auto m-0 h-full max-h-none w-full max-w-md bg-white p-0 shadow-xl backdrop:bg-black/40"
      data-testid="cart-drawer"
    >
      {drawerOpen && (
        <div className="flex h-full flex-col">
          <div className="flex items-center justify-between border-b border-neutral-200 px-5 py-4">
            <h2 id="drawer-heading" className="text-lg font-semibold">
              Your cart <span className="text-sm font-normal text-neutral-700">({count === 1 ? '1 item' : `${count} items`})</span>
            </h2>
            <button type="button" onClick={closeDrawer} className="rounded px-2 py-1 text-sm underline" aria-label="Close cart">
              Close
            </button>
          </div>
          <div className="flex-1 overflow-y-auto px-5">
            {!cart || cart.items.length === 0 ? <p className="py-6">Your cart is empty.</p> : <CartLines cart={cart} compact onNavigate={closeDrawer} />}
          </div>
          {cart && cart.items.length > 0 && (
            <div className="space-y-3 border-t border-neutral-200 px-5 py-4">
              {cart.discounts.amount > 0 && (
                <p className="flex justify-between text-sm text-green-800">
                  <span>Discounts</span>
                  <span>−{formatMoney(cart.discounts)}</span>
                </p>
              )}
              <p className="flex justify-between font-medium">
                <span>Subtotal</span>
                <span data-testid="drawer-subtotal">{formatMoney({ amount: cart.subtotal.amount - cart.discounts.amount, currency: cart.subtotal.currency })}</span>
              </p>
              <p className="text-sm text-neutral-700">Shipping and tax are worked out at checkout.</p>
              <div className="flex gap-3">
                <Link href="/cart" className="flex-1 rounded border border-neutral-900 px-4 py-2.5 text-center font-medium hover:bg-neutral-100">
                  View cart
                </Link>
                <Link href="/checkout" className="flex-1 rounded bg-neutral-900 px-4 py-2.5 text-center font-medium text-white hover:bg-neutral-700">
                  Check out
                </Link>
              </div>
              <button type="button" onClick={closeDrawer} className="w-full text-center text-sm underline">
                Continue shopping
              </button>
            </div>
          )}
        </div>
      )}
    </dialog>
  );
}
