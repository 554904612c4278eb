// The shopper's currency. The shop's currencies are a run-time setting (WEFT_CURRENCIES,
// default "USD,EUR"; the first is the default). The choice lives in a cookie so server
// pages that are rendered per request (listings: price facets and sorting) can use it,
// and in `<html data-currency>` so pages cached for everyone (product pages) can carry
// every currency's price and let CSS show the chosen one, with no flash of the wrong one.

export const CURRENCY_COOKIE = 'weft_currency';
const STORAGE_KEY = 'weft.currency';

/** Countries whose shoppers get EUR first when the shop sells in it (before they choose). */
const EURO_COUNTRIES = ['AT', 'BE', 'CY', 'DE', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PT', 'SI', 'SK'];

/** `"usd, eur"` → `["USD", "EUR"]`: ISO 4217 codes only, each once, never empty. */
export function parseCurrencies(setting: string | undefined): string[] {
  const list = (setting ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s, i, all) => /^[A-Z]{3}$/.test(s) && all.indexOf(s) === i);
  return list.length > 0 ? list : ['USD', 'EUR'];
}

/**
 * The currency to use: the shopper's choice if the shop sells in it, else EUR for a
 * shopper whose language names a euro country, else the shop's first.
 */
export function pickCurrency(currencies: string[], chosen: string | undefined, language: string | undefined): string {
  if (chosen && currencies.includes(chosen)) return chosen;
  const region = language?.split(',')[0]?.split(';')[0]?.trim().split('-')[1]?.toUpperCase();
  if (region && EURO_COUNTRIES.includes(region) && currencies.includes('EUR')) return 'EUR';
  return currencies[0]!;
}

/** CSS that hides every `[data-cur]` price but the chosen currency's. */
export function currencyCss(currencies: string[]): string {
  const hide = currencies.map((c) => `html[data-currency="${c}"] [data-cur]:not([data-cur="${c}"])`);
  hide.push(`html:not([data-currency]) [data-cur]:not([data-cur="${currencies[0]}"])`);
  return `${hide.join(',')}{display:none!important}`;
}

/**
 * Runs in <head> before the body paints: reads the cookie (or the browser's language on
 * a first visit, then remembers it) and sets `<html data-currency>`.
 */
export function currencyBootScript(currencies: string[]): string {
  return `(function(){try{var L=${JSON.stringify(currencies)},E=${JSON.stringify(EURO_COUNTRIES)};var m=document.cookie.match(/(?:^|; )${CURRENCY_COOKIE}=([A-Z]{3})/),c=m&&m[1];if(!c||L.indexOf(c)<0){var r=((navigator.language||'').split('-')[1]||'').toUpperCase();c=E.indexOf(r)>=0&&L.indexOf('EUR')>=0?'EUR':L[0];document.cookie='${CURRENCY_COOKIE}='+c+';path=/;max-age=31536000;samesite=lax'}document.documentElement.setAttribute('data-currency',c)}catch(e){}})()`;
}

// The browser's side: the chosen currency as a store React can subscribe to.

const listeners = new Set<() => void>();

/** The currency `<html data-currency>` names (set by the boot script), or `fallback`. */
export function currentCurrency(fallback = 'USD'): string {
  if (typeof document === 'undefined') return fallback;
  return document.documentElement.dataset['currency'] ?? fallback;
}

/** Makes `currency` the shopper's, in this tab (at once) and in their other tabs. */
export function chooseCurrency(currency: string): void {
  apply(currency);
  try {
    localStorage.setItem(STORAGE_KEY, currency);
  } catch {
    /* private mode: the cookie still carries it */
  }
}

function apply(currency: string) {
  document.cookie = `${CURRENCY_COOKIE}=${currency};path=/;max-age=31536000;samesite=lax`;
  document.documentElement.dataset['currency'] = currency;
  for (const l of listeners) l();
}

export function subscribeCurrency(listener: () => void): () => void {
  listeners.add(listener);
  const onStorage = (e: StorageEvent) => {
    if (e.key === STORAGE_KEY && e.newValue && e.newValue !== currentCurrency()) apply(e.newValue);
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}
