import 'server-only';
import { cookies, headers } from 'next/headers';
import { shopCurrencies } from './config';
import { CURRENCY_COOKIE, pickCurrency } from './currency';

/** The shopper's currency on a page rendered for them: their cookie, else their language. */
export async function shopperCurrency(): Promise<string> {
  const [jar, h] = await Promise.all([cookies(), headers()]);
  return pickCurrency(shopCurrencies(), jar.get(CURRENCY_COOKIE)?.value, h.get('accept-language') ?? undefined);
}
