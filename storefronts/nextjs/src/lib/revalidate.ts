import type { Weft } from '@weft/sdk';
import { tokens } from './weft-browser';

// Catalog writes made from the merchant area are shown in the shop at once: after each
// one that succeeds, the shop is asked to drop its cached catalog (POST /api/revalidate,
// with the admin's own token). A burst of writes (a product and its variants, a restock
// of many) makes one request.
const CATALOG_WRITE = /^\/v1\/admin\/(products|variants|categories|collections|inventory)(\/|$)/;
const followed = new WeakSet<Weft>();
let pending: ReturnType<typeof setTimeout> | null = null;

export function revalidateAfterCatalogWrites(weft: Weft): void {
  if (followed.has(weft)) return;
  followed.add(weft);
  weft.api.use({
    onResponse({ request, response }) {
      if (request.method === 'GET' || !response.ok || !CATALOG_WRITE.test(new URL(request.url).pathname)) return undefined;
      if (pending) clearTimeout(pending);
      pending = setTimeout(() => {
        pending = null;
        void Promise.resolve(tokens.get())
          .then((t) => {
            if (!t) return;
            // keepalive: the admin may navigate away right after saving.
            return fetch('/api/revalidate', { method: 'POST', headers: { authorization: `Bearer ${t.access_token}` }, keepalive: true });
          })
          .catch(() => {
            /* the shop's cache then expires on its own within a minute */
          });
      }, 250);
      return undefined;
    },
  });
}
