//! The middleware stack around every route, outermost first:
//!
//! 0. CORS (only when origins are configured): preflights are answered here, before any
//!    check below could refuse them, and every answer — a 401, 413 or 429 included —
//!    carries `Access-Control-Allow-Origin`, so a browser on the shop's origin reads the
//!    problem instead of a network error;
//! 1. request id — `X-Request-Id` propagated when sane, generated otherwise, echoed back;
//! 2. observe — a tracing span per request, one access-log line, RED metrics labelled by
//!    route template (never the raw path, so ids do not explode label cardinality);
//! 3. security headers;
//! 4. problems — any error or panic below becomes problem+json carrying the request id;
//! 5. authentication — the [`Authenticator`] names the caller, if any;
//! 6. rate limits per client IP, user and app (health and metrics exempt, so probes never
//!    get 429); then the route gate ([`crate::authz::check_route`]): `/v1/internal/…`,
//!    `/v1/admin/…`, `/v1/me…` and `/v1/orders…` refuse callers who could never be
//!    allowed (401/403) before any body is read;
//! 7. body limit — 413 on `Content-Length` alone, or once the streamed body passes it;
//! 8. `Idempotency-Key` for POSTs under `/v1`; then the routes.
//!
//! On the way out: an error answer without a body becomes problem+json, and personal
//! answers (credentials sent, or accounts, carts, checkouts, orders) get
//! `Cache-Control: no-store` unless the handler set a policy.

use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use poem::PathPattern;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::middleware::Cors;
use poem::{Body, Endpoint, EndpointExt, Request, Response};
use tracing::Instrument;
use weft_cache::RateDecision;
use weft_kernel::{ErrorKind, Problem};

use crate::error::{problem_response, render_error};
use crate::idempotency::Idempotency;
use crate::principal::{Authenticator, Principal};
use crate::rate_limit::RateLimits;

pub const REQUEST_ID: &str = "x-request-id";

/// The id of the current request, in request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The client address the rate limiter and logs use, in request extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// Whether a process serves a path; see [`HttpStack::serves`].
pub type Serves = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Settings of the stack, taken from `weft_config::Settings` by the server.
#[derive(Clone)]
pub struct HttpStack {
    pub body_limit_bytes: usize,
    /// Paths that take larger bodies (file uploads such as product imports): path → bytes.
    pub large_bodies: Vec<(&'static str, usize)>,
    pub rate_limits: Option<RateLimits>,
    pub trust_forwarded_for: bool,
    pub cors_origins: Vec<String>,
    /// `Idempotency-Key` handling for POSTs under `/v1` (off when `None`).
    pub idempotency: Option<Idempotency>,
    /// Resolves the caller before rate limiting (guests only when `None`).
    pub authenticator: Option<Arc<dyn Authenticator>>,
    /// This process is a cluster's front door (a gateway with upstreams): `/v1/internal/…`
    /// is a 404 here for everyone, before the route gate could answer 401/403 and so
    /// reveal that such paths exist.
    pub front_door: bool,
    /// Whether this process serves a path, for a process that hosts some services only:
    /// other services' paths are 404 before the route gate, which would otherwise answer
    /// 401/403 for routes that are not here. `None`: every path is served.
    pub serves: Option<Serves>,
    /// Paths this process forwards to another (a gateway's upstreams). Their
    /// `Idempotency-Key` is the upstream's to honour: it sees the same key, and claiming it
    /// here too (in a database the cluster shares) would answer the upstream "in use".
    pub forwards: Option<Serves>,
    /// A request to a forwarded path whose credential does not check out is refused
    /// here (401 `invalid_token`), for a front door that can check every credential
    /// (identity's keys by its JWKS, API keys by asking it).
    pub refuse_bad_credentials: bool,
}

impl std::fmt::Debug for HttpStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStack")
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("rate_limits", &self.rate_limits)
            .field("authenticates", &self.authenticator.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpStack {
    /// Wraps `routes` in the whole stack.
    pub fn wrap(&self, routes: impl Endpoint + 'static) -> Edge {
        let checked = Core {
            inner: Arc::new(routes.map_to_response().boxed()),
            stack: self.clone(),
        };
        let outer = match self.cors() {
            Some(cors) => checked.with(cors).map_to_response().boxed(),
            None => checked.boxed(),
        };
        Edge { outer }
    }

    fn cors(&self) -> Option<Cors> {
        if self.cors_origins.is_empty() {
            return None;
        }
        let mut cors = Cors::new()
            .allow_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
            .allow_headers([
                "authorization",
                "content-type",
                "idempotency-key",
                "x-api-key",
                REQUEST_ID,
            ])
            .expose_headers([REQUEST_ID, "retry-after", "idempotent-replayed", "etag"])
            .max_age(600);
        if !self.cors_origins.iter().any(|o| o == "*") {
            cors = cors.allow_origins(self.cors_origins.iter().map(String::as_str));
        }
        Some(cors)
    }
}

/// The routes inside the stack; see the module docs for the order of layers.
pub struct Edge {
    outer: poem::endpoint::BoxEndpoint<'static, Response>,
}

impl Endpoint for Edge {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        // Assigned here so that an origin CORS refuses gets a request id too (the core
        // keeps this one).
        let id = assign_request_id(&mut req);
        let mut resp = self.outer.get_response(req).await;
        if !resp.headers().contains_key(REQUEST_ID) {
            // Answered by CORS before the core: a preflight, or a refusal (poem's is a
            // plain-text 403), which becomes the problem for its status.
            if resp.status().is_client_error() {
                let mut problem = crate::error::problem_for_status(resp.status());
                problem.request_id = Some(id.clone());
                resp = problem_response(&problem);
            }
            security_headers(&mut resp);
            if let Ok(value) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert(REQUEST_ID, value);
            }
        }
        Ok(resp)
    }
}

/// Everything inside CORS.
struct Core {
    inner: Arc<poem::endpoint::BoxEndpoint<'static, Response>>,
    stack: HttpStack,
}

impl Endpoint for Core {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let id = assign_request_id(&mut req);
        let ip = client_ip(&req, self.stack.trust_forwarded_for);
        req.set_data(ClientIp(ip));

        let method = req.method().clone();
        let span = tracing::info_span!(
            "request",
            request_id = %id,
            method = %method,
            path = %req.uri().path(),
            status = tracing::field::Empty,
        );
        // A caller's trace (the gateway, another process) goes on in this one.
        if let Some(traceparent) = req
            .headers()
            .get(weft_telemetry::trace_context::HEADER)
            .and_then(|v| v.to_str().ok())
        {
            weft_telemetry::trace_context::continue_from(&span, traceparent);
        }
        let started = Instant::now();
        let personal = is_personal(&req);
        let mut resp = self.guarded(req, &id).instrument(span.clone()).await;
        if method != Method::HEAD {
            problem_for_bare_error(&mut resp, &id);
        }
        if personal && !resp.headers().contains_key(header::CACHE_CONTROL) {
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        security_headers(&mut resp);
        if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
            // The body was not read to its end, so this connection cannot carry another
            // request; say so, or a client's pool reuses it and fails its next request.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(REQUEST_ID, value);
        }
        observe(&span, &method, &resp, started.elapsed());
        Ok(resp)
    }
}

impl Core {
    /// Problems and panics: whatever happens below becomes a response.
    async fn guarded(&self, req: Request, id: &str) -> Response {
        match AssertUnwindSafe(self.limited(req)).catch_unwind().await {
            Ok(Ok(resp)) => resp,
            Ok(Err(err)) => render_error(&err, Some(id)),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_owned());
                tracing::error!(panic = %message, "handler panicked");
                let mut problem = Problem::new(
                    ErrorKind::Internal,
                    "internal_error",
                    "The server could not complete the request. Quote the request id when reporting it.",
                );
                problem.request_id = Some(id.to_owned());
                problem_response(&problem)
            }
        }
    }

    /// Rate limit, then body limit, then the routes.
    async fn limited(&self, mut req: Request) -> poem::Result<Response> {
        if req.uri().to_string().len() > MAX_URI_BYTES {
            let mut problem = crate::error::problem_for_status(StatusCode::URI_TOO_LONG);
            problem.request_id = req.data::<RequestId>().map(|r| r.0.clone());
            return Ok(problem_response(&problem));
        }
        if let Some(mut problem) = nul_in_target(req.uri()) {
            problem.request_id = req.data::<RequestId>().map(|r| r.0.clone());
            return Ok(problem_response(&problem));
        }
        let principal = match &self.stack.authenticator {
            Some(authenticator) => authenticator.principal(&req).await,
            None => None,
        };
        match principal {
            Some(principal) => req.set_data(principal),
            // At a cluster's front door a credential that does not check out goes no
            // further: the services behind it never see a forged or expired token.
            // Sign-in paths keep taking requests that carry a stale one.
            None if self.stack.refuse_bad_credentials
                && carries_credential(&req)
                && !req.uri().path().starts_with("/v1/auth/")
                && !req.uri().path().starts_with("/v1/oauth/")
                && self
                    .stack
                    .forwards
                    .as_ref()
                    .is_some_and(|forwards| forwards(req.uri().path())) =>
            {
                return Err(crate::ApiError::new(
                    weft_kernel::ErrorKind::Unauthenticated,
                    "invalid_token",
                    "the access token or API key is not valid: expired, revoked or not ours",
                )
                .into());
            }
            None => {}
        }
        if let Some(limits) = &self.stack.rate_limits
            && !exempt_from_rate_limit(req.uri().path())
            && let RateDecision::Limited { retry_after: wait } = limits
                .check(
                    req.data::<ClientIp>().and_then(|c| c.0),
                    req.data::<Principal>(),
                )
                .await
        {
            let retry_after = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
            let mut problem = Problem::new(
                ErrorKind::TooManyRequests,
                "rate_limited",
                format!("Too many requests from this client; retry in {retry_after} s."),
            );
            problem.request_id = req.data::<RequestId>().map(|r| r.0.clone());
            let mut resp = problem_response(&problem);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return Ok(resp);
        }
        // Internal, back-office and personal routes are closed to callers who could never
        // be allowed before any body is read, so they get 401/403 whatever they send;
        // the exact checks (scopes, MFA) stay with the endpoints.
        if self.stack.front_door && crate::authz::is_internal(req.uri().path()) {
            return Err(crate::ApiError::not_found(
                "cluster-internal endpoints are not served through the gateway",
            )
            .into());
        }
        if let Some(serves) = &self.stack.serves
            && !serves(req.uri().path())
        {
            return Err(crate::ApiError::not_found("this process does not serve that path").into());
        }
        if let Err(denied) = crate::authz::check_route(req.uri().path(), req.data::<Principal>()) {
            return Err(crate::ApiError::from(denied).into());
        }
        let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
        if !reads.contains(req.method())
            && let Err(denied) =
                crate::authz::check_write_route(req.uri().path(), req.data::<Principal>())
        {
            return Err(crate::ApiError::from(denied).into());
        }
        let limit = self
            .stack
            .large_bodies
            .iter()
            .find(|(path, _)| req.uri().path() == *path)
            .map_or(self.stack.body_limit_bytes, |(_, limit)| *limit);
        limit_body(&mut req, limit).await?;
        let forwarded = self
            .stack
            .forwards
            .as_ref()
            .is_some_and(|forwards| forwards(req.uri().path()));
        match &self.stack.idempotency {
            Some(idempotency) if Idempotency::applies(&req) && !forwarded => {
                idempotency.run(req, Arc::clone(&self.inner)).await
            }
            _ => self.inner.call(req).await,
        }
    }
}

/// Whether the request carries an access token or API key (valid or not).
fn carries_credential(req: &Request) -> bool {
    req.headers().contains_key(header::AUTHORIZATION) || req.headers().contains_key("x-api-key")
}

/// The longest request target served (what common proxies accept). Longer ones get a
/// 414 problem here; past 64 KiB the HTTP/1 parser itself answers a bare 414 before any
/// request reaches the stack.
const MAX_URI_BYTES: usize = 8 * 1024;

/// Every error a client sees is problem+json: an error answer that has no body (a bare
/// status from a handler, such as a missing `/media` file, or from poem) gets the
/// problem for its status, with the request id; its headers (`Allow`, `Retry-After`…)
/// stay.
fn problem_for_bare_error(resp: &mut Response, request_id: &str) {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error())
        || resp.headers().contains_key(header::CONTENT_TYPE)
    {
        return;
    }
    let body = resp.take_body();
    if !body.is_empty() {
        resp.set_body(body);
        return;
    }
    let mut problem = crate::error::problem_for_status(status);
    problem.request_id = Some(request_id.to_owned());
    let rendered = problem_response(&problem);
    let (parts, body) = rendered.into_parts();
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, content_type.clone());
    }
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp.set_body(body);
}

/// Routes whose answers belong to one person or one cart, credentials or not: accounts
/// and tokens, carts (a guest's cart id is its only key) and checkouts, orders.
const PERSONAL_ROUTES: &[&str] = &[
    "/v1/auth",
    "/v1/oauth",
    "/v1/me",
    "/v1/carts",
    "/v1/checkouts",
    "/v1/orders",
];

/// Whether no shared cache may keep the answer (`Cache-Control: no-store` unless the
/// handler chose a policy): any request carrying credentials — what it gets back is
/// this caller's — and the personal routes. Guests' catalog reads keep their caching.
fn is_personal(req: &Request) -> bool {
    let path = req.uri().path();
    req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().contains_key("x-api-key")
        || PERSONAL_ROUTES.iter().any(|route| {
            path.strip_prefix(route)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
}

/// A NUL character in the path (404: no resource is named that way) or in a query
/// parameter (422 naming it): PostgreSQL text cannot hold one, so none reaches a handler.
fn nul_in_target(uri: &poem::http::Uri) -> Option<Problem> {
    let has_nul = |s: &str| percent_encoding::percent_decode_str(s).any(|b| b == 0);
    if has_nul(uri.path()) {
        return Some(crate::error::problem_for_status(StatusCode::NOT_FOUND));
    }
    let errors: Vec<weft_kernel::FieldError> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| has_nul(pair))
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            let name = percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .replace('\0', "\\0");
            weft_kernel::FieldError::new(name, "must not contain a NUL character (U+0000)")
        })
        .collect();
    (!errors.is_empty()).then(|| crate::ApiError::validation(errors).problem())
}

/// Takes a sane incoming `X-Request-Id` or makes one, and puts it where handlers, logs
/// and the gateway (which forwards headers as they stand) will find it.
fn assign_request_id(req: &mut Request) -> String {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| valid_request_id(v))
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_owned);
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(REQUEST_ID, value);
    }
    req.set_data(RequestId(id.clone()));
    id
}

fn valid_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn client_ip(req: &Request, trust_xff: bool) -> Option<IpAddr> {
    if trust_xff
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    req.remote_addr()
        .as_socket_addr()
        .map(std::net::SocketAddr::ip)
}

fn observe(span: &tracing::Span, method: &poem::http::Method, resp: &Response, elapsed: Duration) {
    let status = resp.status().as_u16();
    let route = resp
        .data::<PathPattern>()
        .map(|p| p.0.to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "unmatched".to_owned());
    span.record("status", status);
    span.in_scope(|| {
        tracing::info!(route = %route, latency_ms = elapsed.as_secs_f64() * 1000.0, "request finished");
    });
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
}

fn security_headers(resp: &mut Response) {
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = resp.headers_mut();
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // The API answers JSON and must never render; the two HTML pages (API reference and
    // GraphiQL) load only their own, locally served assets.
    let csp = if is_html {
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    headers.insert("content-security-policy", HeaderValue::from_static(csp));
}

fn exempt_from_rate_limit(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// Buffers the body, refusing it (413) past `limit` bytes: at once on `Content-Length`,
/// or after reading `limit + 1` bytes of a body that did not declare its length.
async fn limit_body(req: &mut Request, limit: usize) -> poem::Result<()> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiErrorTooLarge(limit).into());
    }
    // Reads without a declared body skip the buffering (the hot path). Writes are always
    // read through the limit: an HTTP/2 body need not declare its length.
    let bodyless_read = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && declared.is_none()
        && !req.headers().contains_key(header::TRANSFER_ENCODING);
    if declared == Some(0) || bodyless_read {
        return Ok(());
    }
    let mut reader = req.take_body().into_async_read();
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| usize::try_from(n).unwrap_or(0)));
    if let Err(err) = (&mut reader)
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .await
    {
        return Err(poem::Error::from_string(
            format!("could not read the request body: {err}"),
            StatusCode::BAD_REQUEST,
        ));
    }
    if buf.len() > limit {
        // Read a little more, briefly, so a client that is nearly done sending sees our
        // 413 rather than a reset connection; a large body is cut off regardless.
        let mut rest = (&mut reader).take(DRAIN_BYTES);
        let mut sink = tokio::io::sink();
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            tokio::io::copy(&mut rest, &mut sink),
        )
        .await;
        return Err(ApiErrorTooLarge(limit).into());
    }
    req.set_body(Body::from(buf));
    Ok(())
}

/// 413 as an [`crate::ApiError`], carrying the limit in its detail.
struct ApiErrorTooLarge(usize);

impl From<ApiErrorTooLarge> for poem::Error {
    fn from(e: ApiErrorTooLarge) -> Self {
        crate::ApiError::new(
            ErrorKind::PayloadTooLarge,
            "payload_too_large",
            format!("The request body is larger than the {} byte limit.", e.0),
        )
        .into()
    }
}

/// How much of an oversized body is read and discarded before answering 413.
const DRAIN_BYTES: u64 = 256 * 1024;

use tokio::io::AsyncReadExt as _;
