import { serverApiUrl } from '@/lib/config';

// Product images are served by Weft under /media/… (the demo's SVGs, or a merchant's
// files). Serving them from the storefront's own origin keeps pages free of a second
// origin (no CORS, no extra connection) and lets browsers cache them for a day.
export async function GET(_req: Request, ctx: { params: Promise<{ path: string[] }> }) {
  const { path } = await ctx.params;
  if (path.some((seg) => seg === '..' || seg.includes('/'))) {
    return new Response('Not found', { status: 404 });
  }
  const upstream = await fetch(`${serverApiUrl()}/media/${path.map(encodeURIComponent).join('/')}`, {
    next: { revalidate: 86400 },
  });
  if (!upstream.ok) return new Response('Not found', { status: upstream.status === 404 ? 404 : 502 });
  const headers = new Headers();
  headers.set('Content-Type', upstream.headers.get('Content-Type') ?? 'application/octet-stream');
  headers.set('Cache-Control', 'public, max-age=86400, stale-while-revalidate=604800');
  headers.set('X-Content-Type-Options', 'nosniff');
  headers.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  return new Response(await upstream.arrayBuffer(), { headers });
}
