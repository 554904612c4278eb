import type { MetadataRoute } from 'next';
import { connection } from 'next/server';
import { siteUrl } from '@/lib/config';

export default async function robots(): Promise<MetadataRoute.Robots> {
  await connection(); // the site's address is the running server's
  return {
    rules: [{ userAgent: '*', allow: '/', disallow: ['/cart', '/checkout', '/search?'] }],
    sitemap: `${siteUrl()}/sitemap.xml`,
  };
}
