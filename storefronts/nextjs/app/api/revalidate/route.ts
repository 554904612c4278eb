import { timingSafeEqual } from 'node:crypto';
import { revalidatePath, revalidateTag } from 'next/cache';
import { serverApiUrl } from '@/lib/config';
import { CATALOG_TAG } from '@/lib/weft-server';

// POST /api/revalidate: the catalog changed, drop what the shop cached of it (Next's data
// cache and the regenerated pages) so the next visit of any catalog page asks Weft again.
// Allowed to a signed-in admin (the merchant area calls it after each catalog write, with
// the admin's own bearer token, checked against Weft) or to a holder of
// WEFT_REVALIDATE_SECRET (a deploy hook, an outbound webhook). Nothing is read from the body.
export async function POST(req: Request): Promise<Response> {
  const secret = process.env['WEFT_REVALIDATE_SECRET'];
  const given = req.headers.get('x-weft-revalidate-secret');
  const auth = req.headers.get('authorization');
  if (secret && given) {
    if (!sameSecret(secret, given)) return problem(403, 'forbidden', 'The revalidation secret is wrong.');
  } else if (auth?.startsWith('Bearer ')) {
    const me = await fetch(`${serverApiUrl()}/v1/me`, { headers: { authorization: auth }, cache: 'no-store' });
    if (me.status === 401) return problem(401, 'unauthorized', 'The token is not valid (expired or signed out).');
    if (!me.ok) return problem(502, 'upstream_error', `Weft answered ${me.status} when asked who the caller is.`);
    const who = (await me.json()) as { role?: string };
    if (who.role !== 'admin') return problem(403, 'forbidden', 'Only shop staff may revalidate the catalog.');
  } else {
    return problem(401, 'unauthorized', 'Send an admin bearer token or the X-Weft-Revalidate-Secret header.');
  }
  revalidateTag(CATALOG_TAG, { expire: 0 });
  revalidatePath('/', 'layout');
  return Response.json({ revalidated: true });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function problem(status: number, code: string, detail: string): Response {
  return Response.json(
    { type: `https://weft.dev/problems/${code}`, title: code.replaceAll('_', ' '), status, code, detail },
    { status, headers: { 'content-type': 'application/problem+json' } },
  );
}
