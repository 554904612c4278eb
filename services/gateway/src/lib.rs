//! The gateway: the front door of the cluster topology. It forwards a request to the
//! replicas configured for the longest matching path prefix and streams the answer back;
//! anything it has no upstream for is answered by the process itself.
//!
//! Prefixes are whole path segments: `products` (under `/v1/`) or an absolute path such as
//! `/.well-known/jwks.json`; `*` matches one segment, so `products` → catalog and
//! `products/*/reviews` → reviews can coexist.
//!
//! Each upstream is a pool of replicas, taken in turn. A replica that cannot be connected
//! to is skipped for a while (passive health) and the request goes to the next one: it
//! never reached the first, so even a `POST` is safe to send again. A pool whose requests
//! keep failing opens its circuit breaker: for a while every request is answered 503 at
//! once instead of waiting on a dead service, then one request probes it.
//!
//! Owns no tables. Invariants: the request id travels upstream in `X-Request-Id`; hop-by-hop
//! headers never cross; an unreachable upstream is a 502 problem, a slow one a 504, an
//! open breaker a 503; `/v1/internal/…` (process-to-process calls) is a 404 at the front
//! door.

pub mod cache;
pub mod graphql;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use poem::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use poem::{Body, Endpoint, Request, Response};
use weft_http::{ApiError, ClientIp, ServiceInfo};
use weft_kernel::ErrorKind;

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "gateway",
    description: "Routes requests to the service processes of a cluster.",
    migrations: &[],
    paths: &[],
    rest: None,
};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("upstream `{prefix}` has an invalid URL `{url}`")]
    BadUpstream { prefix: String, url: String },
    #[error("upstream `{prefix}` names no URL")]
    NoReplica { prefix: String },
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// How the gateway treats its upstreams.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// An upstream answer not begun by then is a 504.
    pub timeout: Duration,
    /// Consecutive failures of a pool that open its breaker.
    pub breaker_failures: u32,
    /// How long an open breaker answers 503 before one request probes the pool; also how
    /// long a replica that refused a connection is skipped.
    pub open_for: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            breaker_failures: 5,
            open_for: Duration::from_secs(10),
        }
    }
}

/// Milliseconds since the gateway was made: instants that fit in an atomic.
#[derive(Debug, Clone, Copy)]
struct Epoch(Instant);

impl Epoch {
    fn now(self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

#[derive(Debug)]
struct Replica {
    base: String,
    /// Skipped until then (ms since the epoch); 0: healthy.
    skip_until: AtomicU64,
}

/// One prefix's replicas, the turn, and the breaker.
#[derive(Debug)]
struct Pool {
    segments: Vec<String>,
    prefix: String,
    replicas: Vec<Replica>,
    turn: AtomicUsize,
    failures: AtomicU32,
    /// Open until then (ms since the epoch), once `failures` reached the threshold.
    open_until: AtomicU64,
    /// One request at a time probes a pool whose open period ended.
    probing: AtomicBool,
}

/// What the breaker lets through.
#[derive(Debug, PartialEq, Eq)]
enum Admission {
    Closed,
    Probe,
    Refused,
}

impl Pool {
    fn admit(&self, now: u64, threshold: u32) -> Admission {
        if self.failures.load(Ordering::Acquire) < threshold {
            return Admission::Closed;
        }
        if now < self.open_until.load(Ordering::Acquire) {
            return Admission::Refused;
        }
        if self
            .probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            Admission::Probe
        } else {
            Admission::Refused
        }
    }

    fn succeeded(&self) {
        self.failures.store(0, Ordering::Release);
        self.probing.store(false, Ordering::Release);
    }

    fn failed(&self, now: u64, policy: &Policy) {
        let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if failures >= policy.breaker_failures {
            let until = now + u64::try_from(policy.open_for.as_millis()).unwrap_or(u64::MAX);
            self.open_until.store(until, Ordering::Release);
            if failures == policy.breaker_failures {
                tracing::warn!(upstream = %self.prefix, "circuit breaker open");
            }
        }
        self.probing.store(false, Ordering::Release);
    }

    /// Replicas in this request's order: the next in turn first, those being skipped last.
    fn order(&self, now: u64) -> Vec<&Replica> {
        let start = self.turn.fetch_add(1, Ordering::Relaxed);
        let n = self.replicas.len();
        let mut order: Vec<&Replica> = (0..n).map(|i| &self.replicas[(start + i) % n]).collect();
        order.sort_by_key(|r| r.skip_until.load(Ordering::Acquire) > now);
        order
    }
}

/// Ends a probe however its request ends — an unreadable body, a client gone mid-way
/// (the future dropped) — not only by its outcome: a probe left running would keep the
/// breaker refusing for good.
struct ProbeGuard<'a>(Option<&'a Pool>);

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if let Some(pool) = self.0 {
            pool.probing.store(false, Ordering::Release);
        }
    }
}

/// The routing table and the HTTP client that forwards through it.
#[derive(Debug, Clone)]
pub struct Gateway {
    pools: Arc<Vec<Pool>>,
    client: reqwest::Client,
    policy: Policy,
    epoch: Epoch,
    cache: Option<Arc<cache::AnswerCache>>,
}

/// `products` → `["v1", "products"]`; `/.well-known/jwks.json` → as written.
fn segments_of(prefix: &str) -> Vec<String> {
    let absolute = match prefix.strip_prefix('/') {
        Some(path) => path.to_owned(),
        None => format!("v1/{}", prefix.trim_matches('/')),
    };
    absolute
        .trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

impl Gateway {
    /// `upstreams` maps a prefix (`products`, `products/*/reviews`, `/.well-known/jwks.json`)
    /// to its replicas' base URLs, separated by commas.
    pub fn new<'a>(
        upstreams: impl IntoIterator<Item = (&'a String, &'a String)>,
        policy: Policy,
    ) -> Result<Self, GatewayError> {
        let mut pools = Vec::new();
        for (prefix, urls) in upstreams {
            let mut replicas = Vec::new();
            for url in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
                let base = url.trim_end_matches('/').to_owned();
                if reqwest::Url::parse(&base).is_err() {
                    return Err(GatewayError::BadUpstream {
                        prefix: prefix.clone(),
                        url: url.to_owned(),
                    });
                }
                replicas.push(Replica {
                    base,
                    skip_until: AtomicU64::new(0),
                });
            }
            if replicas.is_empty() {
                return Err(GatewayError::NoReplica {
                    prefix: prefix.clone(),
                });
            }
            pools.push(Pool {
                segments: segments_of(prefix),
                prefix: prefix.clone(),
                replicas,
                turn: AtomicUsize::new(0),
                failures: AtomicU32::new(0),
                open_until: AtomicU64::new(0),
                probing: AtomicBool::new(false),
            });
        }
        // Longest prefix first, so the most specific route wins.
        pools.sort_by_key(|p| std::cmp::Reverse(p.segments.len()));
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(Duration::from_secs(2).min(policy.timeout))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_mins(1))
            .build()?;
        Ok(Self {
            pools: Arc::new(pools),
            client,
            policy,
            epoch: Epoch(Instant::now()),
            cache: None,
        })
    }

    /// Keeps guests' answers that services mark as shareable ([`cache`]).
    #[must_use]
    pub fn with_cache(mut self, cache: Arc<cache::AnswerCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.pools.is_empty()
    }

    /// Whether `path` is forwarded to an upstream.
    pub fn forwards(&self, path: &str) -> bool {
        self.pool_for(path).is_some()
    }

    /// The pool serving `path`, if any upstream claims it.
    fn pool_for(&self, path: &str) -> Option<&Pool> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.pools.iter().find(|p| {
            p.segments.len() <= segments.len()
                && p.segments
                    .iter()
                    .zip(&segments)
                    .all(|(want, got)| want == "*" || want == got)
        })
    }

    /// Sends `req` (a WebSocket too), at its path (`uri()`), to the replicas serving `route`:
    /// how a request that no prefix claims (GraphQL) reaches the process that answers it.
    /// `None` when no upstream serves `route`.
    pub async fn forward_to(&self, route: &str, req: Request) -> Option<poem::Result<Response>> {
        let pool = self.pool_for(route)?;
        Some(if is_websocket(&req) {
            self.forward_websocket(pool, req).await
        } else {
            self.forward(pool, req).await.map_err(Into::into)
        })
    }

    /// Puts the gateway in front of `local`: claimed paths are forwarded, the rest served here.
    pub fn in_front_of<E: Endpoint>(self, local: E) -> GatewayEndpoint<E> {
        GatewayEndpoint {
            gateway: self,
            local,
        }
    }

    async fn forward(&self, pool: &Pool, mut req: Request) -> Result<Response, ApiError> {
        // A kept answer is served even while the upstream's breaker is open.
        let ticket = match self.cache.as_ref() {
            Some(cache) => match cache.lookup(&req).await {
                Some(Ok(kept)) => return Ok(kept),
                Some(Err(ticket)) => Some((Arc::clone(cache), ticket)),
                None => None,
            },
            None => None,
        };
        let now = self.epoch.now();
        let admission = pool.admit(now, self.policy.breaker_failures);
        if admission == Admission::Refused {
            metrics::counter!("gateway_breaker_refusals_total", "upstream" => pool.prefix.clone())
                .increment(1);
            return Err(self.refusal());
        }
        let _probe = ProbeGuard((admission == Admission::Probe).then_some(pool));
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let mut headers = forwarded_headers(&req);
        if ticket.is_some() {
            // Asked whole, so what is kept is the whole answer; the cache answers the
            // client's condition.
            headers.remove(header::IF_NONE_MATCH);
        }
        let client_headers = req.headers().clone();
        // Bodies are bounded by the HTTP stack; held whole so another replica can get it.
        let body = req.take_body().into_bytes().await.map_err(|e| {
            ApiError::new(
                ErrorKind::BadRequest,
                "bad_request",
                format!("unreadable body: {e}"),
            )
        })?;
        let method = req.method().clone();
        let safe = matches!(
            method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
        );
        let mut last_err = None;
        for replica in pool.order(now) {
            let sent = self
                .client
                .request(method.clone(), format!("{}{path_and_query}", replica.base))
                .headers(headers.clone())
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(upstream) => {
                    if matches!(
                        upstream.status(),
                        StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT
                    ) {
                        pool.failed(self.epoch.now(), &self.policy);
                    } else {
                        pool.succeeded();
                    }
                    if let Some((cache, ticket)) = ticket {
                        return cache
                            .keep(ticket, &client_headers, upstream)
                            .await
                            .map_err(|e| upstream_error(Some(&e)));
                    }
                    return Ok(relay(upstream));
                }
                Err(err) => {
                    tracing::warn!(upstream = %replica.base, error = %err, "upstream request failed");
                    let unreached = err.is_connect();
                    if unreached {
                        // Skipped for a while; the next replica gets this request.
                        let until = self.epoch.now()
                            + u64::try_from(self.policy.open_for.as_millis()).unwrap_or(0);
                        replica.skip_until.store(until, Ordering::Release);
                    }
                    let retry = unreached || (safe && !err.is_timeout());
                    last_err = Some(err);
                    if !retry {
                        break;
                    }
                }
            }
        }
        pool.failed(self.epoch.now(), &self.policy);
        Err(upstream_error(last_err.as_ref()))
    }
}

/// Whether `req` asks to become a WebSocket.
fn is_websocket(req: &Request) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

impl Gateway {
    /// A WebSocket (the live cart) through the gateway: the upstream connection is made
    /// first, so a refusal there (401, 404) reaches the client as that answer; then the
    /// client's socket is upgraded and every message is passed on both ways until either
    /// side closes.
    async fn forward_websocket(&self, pool: &Pool, req: Request) -> poem::Result<Response> {
        use poem::FromRequest as _;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let now = self.epoch.now();
        let admission = pool.admit(now, self.policy.breaker_failures);
        if admission == Admission::Refused {
            return Err(self.refusal().into());
        }
        let _probe = ProbeGuard((admission == Admission::Probe).then_some(pool));
        let ws = poem::web::websocket::WebSocket::from_request_without_body(&req).await?;
        let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let mut headers = forwarded_headers(&req);
        // The client's handshake is the gateway's to answer; upstream gets its own, with
        // the subprotocols the client offered (GraphQL's), and the one upstream picks is
        // the one the client gets.
        let handshake: Vec<HeaderName> = headers
            .keys()
            .filter(|name| {
                name.as_str().starts_with("sec-websocket-")
                    && *name != header::SEC_WEBSOCKET_PROTOCOL
            })
            .cloned()
            .collect();
        for name in handshake {
            headers.remove(name);
        }
        for replica in pool.order(now) {
            let ws_base = replica.base.replacen("http", "ws", 1);
            let mut upstream_req = format!("{ws_base}{path_and_query}")
                .into_client_request()
                .map_err(ApiError::internal)?;
            upstream_req.headers_mut().extend(headers.clone());
            let connected = tokio::time::timeout(
                self.policy.timeout,
                tokio_tungstenite::connect_async(upstream_req),
            )
            .await;
            match connected {
                Ok(Ok((upstream, answer))) => {
                    pool.succeeded();
                    let chosen = answer
                        .headers()
                        .get(header::SEC_WEBSOCKET_PROTOCOL)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    return Ok(poem::IntoResponse::into_response(
                        ws.protocols(chosen)
                            .on_upgrade(move |client| pump(client, upstream)),
                    ));
                }
                // The upstream answered without upgrading: its answer is the client's.
                Ok(Err(tokio_tungstenite::tungstenite::Error::Http(refused))) => {
                    pool.succeeded();
                    let (parts, body) = refused.into_parts();
                    let mut resp = Response::builder().status(parts.status);
                    for (name, value) in &strip_hop_by_hop(&parts.headers) {
                        resp = resp.header(name, value);
                    }
                    return Ok(resp.body(body.unwrap_or_default()));
                }
                Ok(Err(err)) => {
                    tracing::warn!(upstream = %replica.base, error = %err, "upstream WebSocket failed");
                    if matches!(err, tokio_tungstenite::tungstenite::Error::Io(_)) {
                        let until = self.epoch.now()
                            + u64::try_from(self.policy.open_for.as_millis()).unwrap_or(0);
                        replica.skip_until.store(until, Ordering::Release);
                    }
                }
                Err(_) => {
                    tracing::warn!(upstream = %replica.base, "upstream WebSocket timed out");
                }
            }
        }
        pool.failed(self.epoch.now(), &self.policy);
        Err(upstream_error(None).into())
    }

    fn refusal(&self) -> ApiError {
        let mut refused = ApiError::new(
            ErrorKind::Unavailable,
            "upstream_unavailable",
            "The service is failing; the gateway stopped sending it requests for a moment.",
        );
        refused.retry_after = Some(self.policy.open_for);
        refused
    }
}

/// Passes messages between the client's socket and the upstream's until one side closes
/// (its close frame is passed on) or fails.
async fn pump<S>(
    client: poem::web::websocket::WebSocketStream,
    upstream: tokio_tungstenite::WebSocketStream<S>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures::{SinkExt as _, StreamExt as _};
    use poem::web::websocket::Message as Client;
    use tokio_tungstenite::tungstenite::Message as Upstream;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    let (mut client_tx, mut client_rx) = client.split();
    let (mut upstream_tx, mut upstream_rx) = upstream.split();
    let down = async {
        while let Some(Ok(message)) = upstream_rx.next().await {
            let message = match message {
                Upstream::Text(text) => Client::Text(text.to_string()),
                Upstream::Binary(bytes) => Client::Binary(bytes.to_vec()),
                Upstream::Ping(bytes) => Client::Ping(bytes.to_vec()),
                Upstream::Pong(bytes) => Client::Pong(bytes.to_vec()),
                Upstream::Close(frame) => {
                    Client::Close(frame.map(|f| (u16::from(f.code).into(), f.reason.to_string())))
                }
                Upstream::Frame(_) => continue,
            };
            let closing = matches!(message, Client::Close(_));
            if client_tx.send(message).await.is_err() || closing {
                return;
            }
        }
        // The upstream went away without a close frame: the client's socket still closes
        // properly.
        let _ = client_tx.send(Client::Close(None)).await;
    };
    let up = async {
        while let Some(Ok(message)) = client_rx.next().await {
            let message = match message {
                Client::Text(text) => Upstream::text(text),
                Client::Binary(bytes) => Upstream::binary(bytes),
                Client::Ping(bytes) => Upstream::Ping(bytes.into()),
                Client::Pong(bytes) => Upstream::Pong(bytes.into()),
                Client::Close(frame) => Upstream::Close(frame.map(|(code, reason)| CloseFrame {
                    code: u16::from(code).into(),
                    reason: reason.into(),
                })),
            };
            // After a close the loop reads on: that read sends the answering close
            // the client waits for, then ends.
            if upstream_tx.send(message).await.is_err() {
                break;
            }
        }
    };
    // The upstream ending (its close passed on) ends the pair; the client's side ending
    // (its close answered) leaves the upstream a moment to end too.
    tokio::select! {
        () = down => {},
        () = async {
            up.await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        } => {},
    }
}

/// The request's headers as sent upstream: no hop-by-hop ones, and who asked.
fn forwarded_headers(req: &Request) -> HeaderMap {
    let mut headers = strip_hop_by_hop(req.headers());
    headers.remove(header::HOST);
    if let Some(ClientIp(Some(ip))) = req.data::<ClientIp>().copied() {
        let forwarded = match req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
            Some(prior) => format!("{prior}, {ip}"),
            None => ip.to_string(),
        };
        if let Ok(value) = forwarded.parse() {
            headers.insert("x-forwarded-for", value);
        }
    }
    if let Some(host) = req.headers().get(header::HOST) {
        headers.insert("x-forwarded-host", host.clone());
    }
    // The service's spans are children of the gateway's request span.
    if let Some(value) = weft_telemetry::trace_context::current().and_then(|t| t.parse().ok()) {
        headers.insert(weft_telemetry::trace_context::HEADER, value);
    }
    headers
}

/// The upstream's answer, streamed back (without the gateway's own `Weft-Gateway-Cache`).
fn relay(upstream: reqwest::Response) -> Response {
    let mut resp = Response::builder().status(upstream.status());
    let mut headers = strip_hop_by_hop(upstream.headers());
    headers.remove(cache::GATEWAY_CACHE);
    for (name, value) in &headers {
        resp = resp.header(name, value);
    }
    let stream = upstream.bytes_stream().map_err(std::io::Error::other);
    resp.body(Body::from_bytes_stream(stream))
}

fn upstream_error(err: Option<&reqwest::Error>) -> ApiError {
    if err.is_some_and(reqwest::Error::is_timeout) {
        ApiError::new(
            ErrorKind::GatewayTimeout,
            "upstream_timeout",
            "The service did not answer in time.",
        )
    } else {
        ApiError::new(
            ErrorKind::BadGateway,
            "upstream_unavailable",
            "The service is unreachable.",
        )
    }
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for name in HOP_BY_HOP {
        out.remove(HeaderName::from_static(name));
    }
    // Content-Length is recomputed for the body we send or stream.
    out.remove(header::CONTENT_LENGTH);
    out
}

/// See [`Gateway::in_front_of`].
pub struct GatewayEndpoint<E> {
    gateway: Gateway,
    local: E,
}

impl<E: Endpoint> Endpoint for GatewayEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let path = req.uri().path();
        if !self.gateway.is_empty() && (path == "/v1/internal" || path.starts_with("/v1/internal/"))
        {
            // Processes call each other's `/v1/internal/…` directly; the front door
            // neither forwards nor serves them, whatever key comes with the request.
            return Err(ApiError::not_found(
                "cluster-internal endpoints are not served through the gateway",
            )
            .into());
        }
        match self.gateway.pool_for(path) {
            Some(pool) if is_websocket(&req) => self.gateway.forward_websocket(pool, req).await,
            Some(pool) => Ok(self.gateway.forward(pool, req).await?),
            None => Ok(poem::IntoResponse::into_response(
                self.local.call(req).await?,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn gateway_with(routes: &[(&str, &str)], policy: Policy) -> Gateway {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let map: BTreeMap<String, String> = routes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Gateway::new(&map, policy).unwrap()
    }

    fn gateway(routes: &[(&str, &str)]) -> Gateway {
        gateway_with(routes, Policy::default())
    }

    fn base_for(g: &Gateway, path: &str) -> Option<String> {
        g.pool_for(path).map(|p| p.replicas[0].base.clone())
    }

    #[test]
    fn the_longest_matching_prefix_wins_and_star_matches_one_segment() {
        let g = gateway(&[
            ("products", "http://catalog:8002"),
            ("products/*/reviews", "http://reviews:8009/"),
            ("carts", "http://cart:8003"),
            ("/.well-known/jwks.json", "http://identity:8001"),
        ]);
        let at = |path| base_for(&g, path);
        assert_eq!(at("/v1/products").as_deref(), Some("http://catalog:8002"));
        assert_eq!(
            at("/v1/products/prod_1/recommendations").as_deref(),
            Some("http://catalog:8002")
        );
        assert_eq!(
            at("/v1/products/prod_1/reviews").as_deref(),
            Some("http://reviews:8009")
        );
        assert_eq!(
            at("/v1/carts/cart_1/items").as_deref(),
            Some("http://cart:8003")
        );
        assert_eq!(
            at("/.well-known/jwks.json").as_deref(),
            Some("http://identity:8001")
        );
        assert_eq!(at("/v1/productsx"), None, "whole segments only");
        assert_eq!(at("/v1/orders"), None);
        assert_eq!(at("/products"), None, "bare prefixes are under /v1");
        assert_eq!(at("/health/ready"), None);
    }

    #[test]
    fn replicas_take_turns_and_one_that_refused_a_connection_goes_last() {
        let g = gateway(&[("products", "http://a:1, http://b:1,http://c:1")]);
        let pool = g.pool_for("/v1/products").unwrap();
        let firsts: Vec<&str> = (0..6).map(|_| pool.order(0)[0].base.as_str()).collect();
        assert_eq!(
            firsts,
            [
                "http://a:1",
                "http://b:1",
                "http://c:1",
                "http://a:1",
                "http://b:1",
                "http://c:1"
            ]
        );
        pool.replicas[1].skip_until.store(1_000, Ordering::Release);
        for _ in 0..3 {
            let order = pool.order(500);
            assert_eq!(order.len(), 3);
            assert_eq!(order[2].base, "http://b:1", "skipped until 1000");
        }
        assert!(
            (0..3).any(|_| pool.order(1_000)[0].base == "http://b:1"),
            "back in turn once its time is up"
        );
    }

    #[test]
    fn the_breaker_opens_after_consecutive_failures_and_lets_one_probe_through_later() {
        let policy = Policy {
            breaker_failures: 3,
            open_for: Duration::from_millis(100),
            ..Policy::default()
        };
        let g = gateway_with(&[("products", "http://a:1")], policy);
        let pool = g.pool_for("/v1/products").unwrap();
        for now in 0..2 {
            pool.failed(now, &policy);
            assert_eq!(pool.admit(now, 3), Admission::Closed);
        }
        pool.succeeded();
        for _ in 0..2 {
            pool.failed(10, &policy);
        }
        assert_eq!(pool.admit(10, 3), Admission::Closed, "the success reset it");
        pool.failed(10, &policy);
        assert_eq!(pool.admit(10, 3), Admission::Refused, "open");
        assert_eq!(pool.admit(109, 3), Admission::Refused, "still open");
        assert_eq!(pool.admit(110, 3), Admission::Probe, "one probe");
        assert_eq!(pool.admit(111, 3), Admission::Refused, "while it runs");
        pool.failed(120, &policy);
        assert_eq!(pool.admit(121, 3), Admission::Refused, "the probe failed");
        assert_eq!(pool.admit(220, 3), Admission::Probe);
        pool.succeeded();
        assert_eq!(pool.admit(221, 3), Admission::Closed, "the probe succeeded");
    }

    #[test]
    fn a_probe_that_ends_without_an_outcome_lets_the_next_one_through() {
        let policy = Policy {
            breaker_failures: 1,
            open_for: Duration::from_millis(10),
            ..Policy::default()
        };
        let g = gateway_with(&[("products", "http://a:1")], policy);
        let pool = g.pool_for("/v1/products").unwrap();
        pool.failed(0, &policy);
        assert_eq!(pool.admit(10, 1), Admission::Probe);
        {
            // Its request dies (an unreadable body, the client gone) before any answer.
            let _probe = ProbeGuard(Some(pool));
        }
        assert_eq!(pool.admit(11, 1), Admission::Probe, "not stuck refusing");
    }

    #[tokio::test]
    async fn a_dead_replica_is_skipped_and_a_dead_pool_is_refused_at_once_while_open() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let live = poem::listener::TcpListener::bind("127.0.0.1:0");
        let acceptor = poem::listener::Listener::into_acceptor(live).await.unwrap();
        let port = poem::listener::Acceptor::local_addr(&acceptor)[0]
            .as_socket_addr()
            .unwrap()
            .port();
        tokio::spawn(
            poem::Server::new_with_acceptor(acceptor)
                .run(poem::endpoint::make_sync(|_| "from the live replica")),
        );
        // A port nothing listens on: connections are refused.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_port = dead.local_addr().unwrap().port();
        drop(dead);
        let policy = Policy {
            breaker_failures: 2,
            open_for: Duration::from_mins(1),
            ..Policy::default()
        };
        let front = gateway_with(
            &[
                (
                    "products",
                    &format!("http://127.0.0.1:{dead_port},http://127.0.0.1:{port}"),
                ),
                ("orders", &format!("http://127.0.0.1:{dead_port}")),
            ],
            policy,
        )
        .in_front_of(poem::endpoint::make_sync(|_| "served here"));
        let call = |method: Method, path: &'static str| {
            front.call(
                Request::builder()
                    .method(method)
                    .uri(poem::http::Uri::from_static(path))
                    .body("{}"),
            )
        };
        // Even a POST goes to the next replica when the first refused the connection.
        for method in [Method::POST, Method::GET, Method::GET] {
            let resp = call(method.clone(), "/v1/products").await.unwrap();
            assert_eq!(resp.status(), 200, "{method}");
            assert_eq!(
                resp.into_body().into_string().await.unwrap(),
                "from the live replica"
            );
        }
        // A pool with no live replica: 502 twice, then the breaker answers 503 at once.
        for _ in 0..2 {
            let err = call(Method::GET, "/v1/orders").await.unwrap_err();
            assert_eq!(err.status(), 502);
        }
        let started = Instant::now();
        let err = call(Method::GET, "/v1/orders").await.unwrap_err();
        assert_eq!(err.status(), 503);
        assert!(started.elapsed() < Duration::from_millis(50));
        // The other pool is not affected.
        assert_eq!(
            call(Method::GET, "/v1/products").await.unwrap().status(),
            200
        );
    }

    #[tokio::test]
    async fn the_front_door_neither_forwards_nor_serves_internal_endpoints() {
        let front = gateway(&[
            ("internal", "http://cart:8003"),
            ("carts", "http://cart:8003"),
        ])
        .in_front_of(poem::endpoint::make_sync(|_| "served here"));
        for path in [
            "/v1/internal/holds",
            "/v1/internal",
            "/v1/internal/carts/cart_1",
        ] {
            let req = Request::builder()
                .uri(poem::http::Uri::from_static(path))
                .finish();
            let err = front.call(req).await.unwrap_err();
            assert_eq!(err.status(), 404, "{path}");
        }
        let req = Request::builder()
            .uri(poem::http::Uri::from_static("/v1/internalx"))
            .finish();
        assert_eq!(
            front.call(req).await.unwrap().status(),
            200,
            "whole segments only"
        );
    }

    #[test]
    fn an_invalid_or_empty_upstream_is_refused() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        for (urls, bad) in [
            ("not a url", true),
            ("http://a:1, not a url", true),
            (" , ", false),
        ] {
            let map = BTreeMap::from([("products".to_owned(), urls.to_owned())]);
            let err = Gateway::new(&map, Policy::default()).unwrap_err();
            assert_eq!(
                matches!(err, GatewayError::BadUpstream { .. }),
                bad,
                "{urls}: {err}"
            );
        }
    }
}
