/**
 * Where a browser loads a product image from. Weft's own files (`/media/…`) are served
 * through the storefront's /media route; absolute URLs are used as they are; any other
 * path is on the API's origin.
 */
export function imageSrc(url: string, apiUrl: string): string {
  if (/^https?:\/\//.test(url) || url.startsWith('/media/')) return url;
  return `${apiUrl}${url.startsWith('/') ? '' : '/'}${url}`;
}
