/**
 * `watchCart`: the live cart (`GET /v1/carts/{id}/live`, docs/cart.md). The server sends the
 * cart at once and after every change, and closes with 1000 when the cart is gone (merged,
 * expired, deleted). Anything else that ends the socket is reconnected with backoff.
 */
import { WeftProblem } from './problem.js';

/** What the SDK needs of a WebSocket: the browser's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  // `any` events: each implementation has its own event classes, and all carry these fields
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  close(code?: number): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WatchCartOptions {
  /** A message that is not a cart, or a connection problem; the watch goes on unless it ended (`status` < 500 problems end it). */
  onError?: (error: unknown) => void;
  /** The cart is gone (merged into a customer's cart, expired, deleted): the watch has ended. */
  onClose?: () => void;
}

export interface LiveDeps {
  baseUrl: string;
  WebSocket?: WebSocketConstructor;
  accessToken(): Promise<string | null>;
  /** Reads the cart over REST, to learn why a socket could not open. */
  check(cartId: string): Promise<unknown>;
}

const MAX_DELAY_MS = 30_000;

export function watchCart<Cart>(
  deps: LiveDeps,
  cartId: string,
  onCart: (cart: Cart) => void,
  opts: WatchCartOptions = {},
): () => void {
  let stopped = false;
  let socket: WebSocketLike | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close(1000);
    socket = null;
  };
  const fail = (e: unknown) => {
    stop();
    opts.onError?.(e);
  };

  async function connect() {
    if (stopped) return;
    const WS = deps.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) return fail(new Error('No WebSocket: pass createWeft({ WebSocket })'));
    let token: string | null;
    try {
      token = await deps.accessToken();
    } catch (e) {
      return fail(e); // the session ended while refreshing
    }
    if (stopped) return;
    // browsers cannot set headers on a WebSocket: the API takes the token in the query on upgrades
    const url = `${deps.baseUrl.replace(/^http/, 'ws')}/v1/carts/${encodeURIComponent(cartId)}/live${
      token ? `?access_token=${encodeURIComponent(token)}` : ''
    }`;
    let opened = false;
    const s = new WS(url);
    socket = s;
    s.onopen = () => {
      opened = true;
    };
    s.onmessage = (ev: { data: unknown }) => {
      failures = 0;
      let cart: Cart;
      try {
        cart = JSON.parse(String(ev.data)) as Cart;
      } catch (e) {
        return opts.onError?.(e);
      }
      if (!stopped) onCart(cart);
    };
    s.onerror = () => {
      // a close event always follows; it decides
    };
    s.onclose = (ev: { code?: number }) => {
      if (socket !== s || stopped) return;
      socket = null;
      if (ev.code === 1000) {
        stopped = true;
        opts.onClose?.();
        return;
      }
      void reconnect(opened);
    };
  }

  async function reconnect(wasOpen: boolean) {
    if (!wasOpen) {
      // refused before the upgrade: the API says why over REST. A cart this caller may not
      // see (404) or a session that ended (401) will not get better by retrying.
      try {
        await deps.check(cartId);
      } catch (e) {
        if (e instanceof WeftProblem && e.status < 500 && e.status !== 429) return fail(e);
        opts.onError?.(e);
      }
      if (stopped) return;
    }
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** failures++) * (0.75 + Math.random() / 2);
    timer = setTimeout(() => void connect(), delay);
  }

  void connect();
  return stop;
}
