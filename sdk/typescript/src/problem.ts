/**
 * Every non-2xx answer of the API becomes a `WeftProblem`: an RFC 9457 problem
 * (`application/problem+json`, see docs/errors.md) read into a typed error. Branch on `code`,
 * which the server never renames; `detail` is for humans.
 */
/** `Retry-After` is either seconds or an HTTP date; answers seconds (≥ 0). */
export const parseRetryAfter = (v: string | null): number | undefined => {
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isInteger(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
};

export class WeftProblem extends Error {
  /** The HTTP status. */
  declare status: number;
  /** Stable snake_case code (`out_of_stock`, `validation_failed`, …). */
  declare code: string;
  declare title: string;
  declare detail?: string;
  /** Per-field errors (422): `field` is a path into the body or a parameter name. */
  declare errors: { field: string; message: string }[];
  /** The `X-Request-Id` to quote when reporting a problem. */
  declare requestId?: string;
  /** Seconds to wait, from `Retry-After` (429, some 503). */
  declare retryAfter?: number;

  constructor(p: {
    status: number;
    code: string;
    title: string;
    detail?: string;
    errors?: { field: string; message: string }[];
    requestId?: string;
    retryAfter?: number;
  }) {
    super(p.detail ? `${p.title}: ${p.detail}` : p.title);
    // `declare`d fields and one assign keep the bundle small
    Object.assign(this, { name: 'WeftProblem', errors: [] }, p);
  }

  /**
   * Reads an error answer. A body that is not a problem (a proxy's HTML page, plain text,
   * nothing) still gives a problem: code `http_<status>`, the text (shortened) as detail.
   */
  static async fromResponse(response: Response): Promise<WeftProblem> {
    let text = '';
    try {
      text = await response.text();
    } catch {
      // a body that cannot be read says nothing more than the status
    }
    let body: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
    } catch {
      // not JSON: handled below
    }
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const h = response.headers;
    return new WeftProblem({
      status: response.status,
      // RFC 6749 answers (`POST /v1/oauth/token`) carry `error` instead of `code`
      code: str(body?.code) ?? str(body?.error) ?? `http_${response.status}`,
      title: str(body?.title) ?? (response.statusText || `HTTP ${response.status}`),
      detail: str(body?.detail) ?? str(body?.error_description) ?? (body ? undefined : str(text.slice(0, 200))),
      errors: Array.isArray(body?.errors) ? (body.errors as WeftProblem['errors']) : [],
      requestId: str(body?.request_id) ?? h.get('x-request-id') ?? undefined,
      retryAfter: parseRetryAfter(h.get('retry-after')),
    });
  }
}
