import { createWeft, localStorageStorage, type Weft } from '@weft/sdk';

// The browser's Weft client. Its address is asked of the storefront once
// (/weft-config.json reads the server's environment at run time), so the same build
// works against any API.
let client: Promise<Weft> | null = null;
/** Where the session's tokens live (the SDK refreshes them there). */
export const TOKENS_KEY = 'weft.tokens';
export const tokens = localStorageStorage(TOKENS_KEY);

export function browserWeft(): Promise<Weft> {
  if (!client) {
    client = fetch('/weft-config.json', { cache: 'no-store' })
      .then((r) => {
        if (!r.ok) throw new Error(`weft-config.json answered ${r.status}`);
        return r.json() as Promise<{ apiUrl: string }>;
      })
      .then(({ apiUrl }) => createWeft({ baseUrl: apiUrl, storage: tokens }))
      .catch((e) => {
        client = null; // ask again next time rather than keep a failure
        throw e;
      });
  }
  return client;
}
