/**
 * Receiving Weft's webhooks: check that a delivery is Weft's and recent, then read it.
 *
 * Every delivery is a `POST` whose `Weft-Signature` header is `t=<unix seconds>,v1=<hex>`
 * (two `v1` while the endpoint's secret is being rotated): each `v1` is the lower-case hex
 * HMAC-SHA256 of `"{t}.{raw body}"`, keyed with the endpoint's secret (`whsec_…`, the whole
 * string). Verify the raw body before parsing it, then de-duplicate by the event's `id`,
 * which every delivery of one event shares. Web Crypto only: Node 20+, Deno, Bun, edge
 * runtimes and browsers alike.
 */

/** The header carrying the signature. */
export const SIGNATURE_HEADER = 'Weft-Signature';

/** A delivered event. */
export interface WebhookEvent<T = Record<string, unknown>> {
  /** `evt_…`: the same in every delivery of this event (retries, redeliveries). */
  id: string;
  /** `order.created`, `user.erased`, `webhook.test`, … */
  type: string;
  created_at: string;
  /** The event's payload, as documented for its type. */
  data: T;
}

/** Why a delivery was refused; answer it with a 400. */
export class WebhookSignatureError extends Error {
  constructor(
    readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch' | 'body',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookSignatureError';
  }
}

export interface VerifyOptions {
  /** Allowed difference between the signature's time and now, in seconds (300). */
  toleranceSeconds?: number;
  /** Now, in unix seconds (for tests). */
  now?: number;
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compares without stopping at the first difference, so timing tells nothing. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Verifies a delivery's `Weft-Signature` (`header`) against its raw body with the endpoint's
 * `secret`, and reads the event. Throws {@link WebhookSignatureError} when it is not Weft's,
 * not recent, or not an event.
 */
export async function verifyWebhook<T = Record<string, unknown>>(
  secret: string,
  header: string | null | undefined,
  rawBody: string | Uint8Array,
  options: VerifyOptions = {},
): Promise<WebhookEvent<T>> {
  if (!header) throw new WebhookSignatureError('missing', 'no Weft-Signature header');
  let signedAt: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't' && /^\d+$/.test(value)) signedAt = Number(value);
    else if (key === 'v1') signatures.push(value);
  }
  if (signedAt === undefined || signatures.length === 0) {
    throw new WebhookSignatureError('malformed', 'Weft-Signature has no timestamp or no v1 signature');
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - signedAt) > (options.toleranceSeconds ?? 300)) {
    throw new WebhookSignatureError('stale', 'Weft-Signature was made too long ago (or in the future)');
  }
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const prefix = encoder.encode(`${signedAt}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const expected = hex(await crypto.subtle.sign('HMAC', key, signed));
  // Check every candidate, so how many there are and which matched stays hidden.
  const matched = signatures.map((s) => sameText(s, expected)).includes(true);
  if (!matched) {
    throw new WebhookSignatureError('mismatch', 'no signature matches the body: another secret, or a changed body');
  }
  try {
    return JSON.parse(new TextDecoder().decode(body)) as WebhookEvent<T>;
  } catch (e) {
    throw new WebhookSignatureError('body', `the body is not a Weft event: ${String(e)}`);
  }
}
