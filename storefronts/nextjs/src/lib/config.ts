// Where Weft answers. Read at run time (never inlined at build), so one build can be
// started against any API: the server uses WEFT_API_URL, browsers are told
// NEXT_PUBLIC_WEFT_API_URL (falling back to WEFT_API_URL) through /weft-config.json.
import { parseCurrencies } from './currency';

const env = process.env;

export function serverApiUrl(): string {
  return trimSlash(env['WEFT_API_URL'] ?? env['NEXT_PUBLIC_' + 'WEFT_API_URL'] ?? 'http://127.0.0.1:8000');
}

export function browserApiUrl(): string {
  return trimSlash(env['NEXT_PUBLIC_' + 'WEFT_API_URL'] ?? env['WEFT_API_URL'] ?? 'http://127.0.0.1:8000');
}

/** The storefront's own public origin, for canonical URLs, Open Graph and the sitemap. */
export function siteUrl(): string {
  return trimSlash(env['WEFT_SITE_URL'] ?? 'http://localhost:3000');
}

/** The currencies the shop sells in, the default first (`WEFT_CURRENCIES`, "USD,EUR"). */
export function shopCurrencies(): string[] {
  return parseCurrencies(env['WEFT_CURRENCIES']);
}

/** The shop's name as shoppers read it (Weft's `notifications.shop_name` signs its e-mails
 *  with the same; the header and page titles say it too). */
export const SHOP_NAME = 'Weft';

/** Seconds a catalog answer is reused before it is asked for again. */
export const CATALOG_REVALIDATE_SECONDS = 60;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
