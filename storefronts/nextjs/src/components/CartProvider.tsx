'use client';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { WeftProblem, type Schemas } from '@weft/sdk';
import { currentCurrency, subscribeCurrency } from '@/lib/currency';
import { browserWeft } from '@/lib/weft-browser';

export type Cart = Schemas['Cart'];

const CART_KEY = 'weft.cart_id';

interface CartContext {
  cart: Cart | null;
  /** False until the stored cart (if any) has been read. */
  ready: boolean;
  addItem(variantId: string, quantity: number): Promise<Cart>;
  setQuantity(itemId: string, quantity: number): Promise<Cart>;
  removeItem(itemId: string): Promise<Cart>;
  applyCode(code: string): Promise<Cart>;
  removeCode(code: string): Promise<Cart>;
  /** Where the cart ships and how (`null` clears): sets the tax rate and the methods offered. */
  ship(change: Schemas['UpdateCartRequest']): Promise<Cart>;
  shippingMethods(): Promise<Schemas['ShippingMethodDto'][]>;
  /** Called once the cart became an order: the next add starts a new cart. */
  forget(): void;
  /** Makes another cart the shopper's (the customer's cart a guest cart was merged into). */
  adopt(cart: Cart): void;
  /** The cart drawer (see CartDrawer). */
  drawerOpen: boolean;
  openDrawer(): void;
  closeDrawer(): void;
}

const Ctx = createContext<CartContext | null>(null);

export function useCart(): CartContext {
  const c = useContext(Ctx);
  if (!c) throw new Error('useCart outside <CartProvider>');
  return c;
}

function storedId(): string | null {
  try {
    return localStorage.getItem(CART_KEY);
  } catch {
    return null;
  }
}

function storeId(id: string | null) {
  try {
    if (id) localStorage.setItem(CART_KEY, id);
    else localStorage.removeItem(CART_KEY);
  } catch {
    /* private mode: the cart lives as long as the page */
  }
}

/**
 * The shopper's cart, client-side: its id is kept in localStorage, every change goes to
 * Weft (which prices it), and the cart's live WebSocket (`watchCart`) brings changes made
 * in another tab or device.
 */
export function CartProvider({ children }: { children: ReactNode }) {
  const [cart, setCart] = useState<Cart | null>(null);
  const [cartId, setCartId] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const openDrawer = useCallback(() => setDrawerOpen(true), []);
  const closeDrawer = useCallback(() => setDrawerOpen(false), []);
  const creating = useRef<Promise<string> | null>(null);
  // The shopper's currency ('' until hydrated): new carts are made in it, and a cart in
  // another one (the shopper switched, here or in another tab) is re-priced in it.
  const currency = useSyncExternalStore(subscribeCurrency, () => currentCurrency(''), () => '');
  const repricing = useRef<string | null>(null);

  // Read the stored cart once; a cart that is gone (expired, ordered) is forgotten.
  const load = useCallback(async (id: string | null) => {
    if (!id) {
      setCart(null);
      setCartId(null);
      setReady(true);
      return;
    }
    try {
      const weft = await browserWeft();
      const { data } = await weft.api.GET('/v1/carts/{id}', { params: { path: { id } } });
      setCart(data ?? null);
      setCartId(id);
    } catch (e) {
      if (e instanceof WeftProblem && e.status === 404) {
        storeId(null);
        setCart(null);
        setCartId(null);
      }
    } finally {
      setReady(true);
    }
  }, []);

  useEffect(() => {
    void load(storedId());
    // Another tab made or dropped a cart.
    const onStorage = (ev: StorageEvent) => {
      if (ev.key === CART_KEY) void load(ev.newValue);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [load]);

  // Follow the cart live while we have one.
  useEffect(() => {
    if (!cartId) return;
    let stop: (() => void) | null = null;
    let cancelled = false;
    void browserWeft().then((weft) => {
      if (cancelled) return;
      // A state read before a change we already hold may arrive after it: keep the newer.
      stop = weft.watchCart(cartId, (c) => setCart((cur) => (cur && cur.id === c.id && cur.updated_at > c.updated_at ? cur : c)), {
        onError: () => {
          /* the SDK reconnects with backoff; a cart that is gone is noticed on the next read */
        },
      });
    });
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [cartId]);

  useEffect(() => {
    if (!cart || !currency || cart.currency === currency || repricing.current === `${cart.id}:${currency}`) return;
    repricing.current = `${cart.id}:${currency}`;
    const id = cart.id;
    void browserWeft()
      .then((weft) => weft.api.PATCH('/v1/carts/{id}', { params: { path: { id } }, body: { currency } }))
      .then(({ data }) => {
        if (data) setCart((cur) => (cur && cur.id === data.id ? data : cur));
      })
      .catch(() => {
        /* a cart that became an order meanwhile: the next read forgets it */
      })
      .finally(() => {
        repricing.current = null;
      });
  }, [cart, currency]);

  const ensureCart = useCallback(async (): Promise<string> => {
    if (cartId) return cartId;
    if (!creating.current) {
      creating.current = (async () => {
        const weft = await browserWeft();
        const { data } = await weft.api.POST('/v1/carts', { body: { currency: currentCurrency('') || undefined } });
        if (!data) throw new Error('the cart was not created');
        storeId(data.id);
        setCart(data);
        setCartId(data.id);
        return data.id;
      })().finally(() => {
        creating.current = null;
      });
    }
    return creating.current;
  }, [cartId]);

  const value = useMemo<CartContext>(() => {
    const done = (c: Cart | undefined): Cart => {
      if (!c) throw new Error('Weft answered no cart');
      setCart(c);
      return c;
    };
    return {
      cart,
      ready,
      drawerOpen,
      openDrawer,
      closeDrawer,
      async addItem(variantId, quantity) {
        const weft = await browserWeft();
        let id = await ensureCart();
        try {
          const { data } = await weft.api.POST('/v1/carts/{id}/items', {
            params: { path: { id } },
            body: { variant_id: variantId, quantity },
          });
          return done(data);
        } catch (e) {
          // The stored cart expired or became an order meanwhile: start a new one once.
          if (e instanceof WeftProblem && e.status === 404 && e.code === 'cart_not_found') {
            storeId(null);
            setCartId(null);
            const weft2 = await browserWeft();
            const created = await weft2.api.POST('/v1/carts', { body: { currency: currentCurrency('') || undefined } });
            if (!created.data) throw e;
            id = created.data.id;
            storeId(id);
            setCartId(id);
            const { data } = await weft2.api.POST('/v1/carts/{id}/items', {
              params: { path: { id } },
              body: { variant_id: variantId, quantity },
            });
            return done(data);
          }
          throw e;
        }
      },
      async setQuantity(itemId, quantity) {
        const weft = await browserWeft();
        const id = await ensureCart();
        const { data } = await weft.api.PATCH('/v1/carts/{id}/items/{item_id}', {
          params: { path: { id, item_id: itemId } },
          body: { quantity },
        });
        return done(data);
      },
      async removeItem(itemId) {
        const weft = await browserWeft();
        const id = await ensureCart();
        const { data } = await weft.api.DELETE('/v1/carts/{id}/items/{item_id}', {
          params: { path: { id, item_id: itemId } },
        });
        return done(data);
      },
      async applyCode(code) {
        const weft = await browserWeft();
        const id = await ensureCart();
        const { data } = await weft.api.POST('/v1/carts/{id}/promotions', {
          params: { path: { id } },
          body: { code },
        });
        return done(data);
      },
      async removeCode(code) {
        const weft = await browserWeft();
        const id = await ensureCart();
        const { data } = await weft.api.DELETE('/v1/carts/{id}/promotions/{code}', {
          params: { path: { id, code } },
        });
        return done(data);
      },
      async ship(change) {
        const weft = await browserWeft();
        const id = await ensureCart();
        const { data } = await weft.api.PATCH('/v1/carts/{id}', { params: { path: { id } }, body: change });
        return done(data);
      },
      async shippingMethods() {
        const weft = await browserWeft();
        const id = await ensureCart();
        const { data } = await weft.api.GET('/v1/carts/{id}/shipping-methods', { params: { path: { id } } });
        return data?.data ?? [];
      },
      forget() {
        storeId(null);
        setCart(null);
        setCartId(null);
      },
      adopt(c) {
        storeId(c.id);
        setCart(c);
        setCartId(c.id);
      },
    };
  }, [cart, ready, ensureCart, drawerOpen, openDrawer, closeDrawer]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
