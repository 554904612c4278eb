import type { MetadataRoute } from 'next';
import { connection } from 'next/server';
import { siteUrl } from '@/lib/config';
import { flatten } from '@/lib/categories';
import { getCategories, weft } from '@/lib/weft-server';

/** Every category and every product on sale, walked page by page with the SDK's cursor iterator. */
export default async function sitemap(): Promise<MetadataRoute.Sitemap> {
  await connection();
  const origin = siteUrl();
  const entries: MetadataRoute.Sitemap = [{ url: `${origin}/`, changeFrequency: 'daily', priority: 1 }];
  for (const c of flatten(await getCategories())) {
    entries.push({ url: `${origin}/categories/${c.handle}`, changeFrequency: 'daily', priority: 0.8 });
  }
  for await (const p of weft().pages('/v1/products', { params: { query: { limit: 100 } } })) {
    entries.push({ url: `${origin}/products/${p.handle}`, lastModified: p.updated_at, changeFrequency: 'weekly', priority: 0.6 });
  }
  return entries;
}
