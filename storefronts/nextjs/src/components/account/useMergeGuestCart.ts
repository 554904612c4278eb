'use client';
import { useCallback } from 'react';
import { WeftProblem } from '@weft/sdk';
import { browserWeft } from '@/lib/weft-browser';
import { problemMessage } from '@/lib/account';
import { useCart } from '../CartProvider';

/**
 * Right after a sign-in: moves the cart filled as a guest into the customer's cart
 * (`POST /v1/carts/{guest_cart_id}/merge`, docs/cart.md) and keeps that cart's id.
 * Answers a message when the cart could not be moved, else null.
 */
export function useMergeGuestCart(): () => Promise<string | null> {
  const { cart, adopt, forget } = useCart();
  return useCallback(async () => {
    if (!cart || cart.customer_id || cart.items.length === 0) return null;
    const weft = await browserWeft();
    try {
      const { data } = await weft.api.POST('/v1/carts/{id}/merge', { params: { path: { id: cart.id } } });
      if (data) adopt(data);
      return null;
    } catch (e) {
      // Already merged elsewhere or expired: the account's cart stands.
      if (e instanceof WeftProblem && e.status === 404) {
        forget();
        return null;
      }
      return `Your cart could not be moved into your account: ${problemMessage(e)}`;
    }
  }, [cart, adopt, forget]);
}
