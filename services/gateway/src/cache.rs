//! The gateway's answer cache: a guest's `GET` whose answer the service marked with
//! `Weft-Gateway-Cache: max-age=N` is kept here, as the bytes that went out, for the
//! shorter of N and the configured limit, so a popular page costs one lookup at the front
//! door and no hop. The header is for the gateway alone and never reaches the client,
//! whose caches (browsers, CDNs) follow `Cache-Control` as the service wrote it.
//!
//! Entries are keyed under a generation that [`AnswerCache::purge`] moves, retiring them
//! all at once. The service sends a purge (over the bus's live fanout) once a change has
//! committed; the generation is read before the request is forwarded, so an answer
//! fetched before a purge can only land under the old one. A purge that is lost (a
//! broker restart) leaves answers at most their `max-age` old.
//!
//! Never kept: answers to requests with credentials (`Authorization`, `X-Api-Key`,
//! `Cookie`, `?access_token=`) or `Cache-Control: no-cache`, and answers other than a 200
//! with an `ETag`, or marked `private`/`no-store`, encoded, or varying on a header.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use poem::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use poem::{Request, Response};
use serde::{Deserialize, Serialize};
use weft_cache::CacheStore as _;
use weft_cache::memory::MemoryStore;

/// The header a service marks a shareable answer with (`max-age=N`); never relayed to
/// clients.
pub use weft_http::conditional::GATEWAY_CACHE;
/// Answers larger than this are relayed but not kept.
const MAX_KEPT_BYTES: usize = 2 * 1024 * 1024;

/// See the module docs.
pub struct AnswerCache {
    store: MemoryStore,
    generation: AtomicU64,
    max_ttl: Duration,
}

impl std::fmt::Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerCache")
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .field("max_ttl", &self.max_ttl)
            .finish_non_exhaustive()
    }
}

/// What is kept next to the body.
#[derive(Debug, Serialize, Deserialize)]
struct Head {
    etag: String,
    cache_control: String,
    content_type: String,
    /// When it was kept (seconds since the epoch), for `Age`.
    stored_at: u64,
}

/// A lookup's key, taken before the request is forwarded (see the module docs).
pub struct Ticket(String);

impl AnswerCache {
    /// Keeps answers for at most `max_ttl`, in at most about `max_bytes`.
    pub fn new(max_ttl: Duration, max_bytes: u64) -> Self {
        Self {
            store: MemoryStore::new(max_bytes),
            generation: AtomicU64::new(0),
            max_ttl,
        }
    }

    /// Retires every kept answer.
    pub fn purge(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        metrics::counter!("gateway_cache_purges_total").increment(1);
    }

    /// Whether `req` may be answered from, and its answer kept in, the cache: a guest's
    /// `GET` that does not ask to bypass caches.
    fn eligible(req: &Request) -> bool {
        let headers = req.headers();
        let bypass = |name: header::HeaderName| {
            headers
                .get_all(name)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.contains("no-cache")))
        };
        req.method() == Method::GET
            && !headers.contains_key(header::AUTHORIZATION)
            && !headers.contains_key("x-api-key")
            && !headers.contains_key(header::COOKIE)
            && !req
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|p| p.starts_with("access_token=")))
            && !bypass(header::CACHE_CONTROL)
            && !bypass(header::PRAGMA)
    }

    /// The kept answer to `req`, or the ticket to keep the upstream's under; `None` for
    /// a request the cache does not serve.
    pub async fn lookup(&self, req: &Request) -> Option<Result<Response, Ticket>> {
        if !Self::eligible(req) {
            return None;
        }
        let what = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let key = format!("{}:{what}", self.generation.load(Ordering::Acquire));
        if let Ok(Some(bytes)) = self.store.get(&key).await
            && let Some((head, body)) = weft_http::conditional::decode_kept(&bytes)
        {
            metrics::counter!("gateway_cache_total", "result" => "hit").increment(1);
            return Some(Ok(replay(req.headers(), &head, body, "HIT")));
        }
        metrics::counter!("gateway_cache_total", "result" => "miss").increment(1);
        Some(Err(Ticket(key)))
    }

    /// Keeps the upstream's answer when it may be kept, and answers the client: a 304
    /// when its `If-None-Match` names the answer's `ETag`. The upstream was asked without
    /// the client's condition, so what is kept is the whole answer.
    pub async fn keep(
        &self,
        ticket: Ticket,
        client: &HeaderMap,
        upstream: reqwest::Response,
    ) -> Result<Response, reqwest::Error> {
        let headers = upstream.headers();
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let ttl = text(GATEWAY_CACHE)
            .as_deref()
            .and_then(max_age)
            .map(|age| age.min(self.max_ttl));
        let cache_control = text(header::CACHE_CONTROL.as_str()).unwrap_or_default();
        let shareable = upstream.status() == StatusCode::OK
            && !cache_control.contains("private")
            && !cache_control.contains("no-store")
            && !headers.contains_key(header::CONTENT_ENCODING)
            && !headers.contains_key(header::SET_COOKIE)
            && headers.get_all(header::VARY).iter().all(|v| {
                v.to_str()
                    .is_ok_and(|v| v.trim().eq_ignore_ascii_case("accept-encoding"))
            });
        let (Some(ttl), Some(etag), true) = (ttl.filter(|t| !t.is_zero()), text("etag"), shareable)
        else {
            return Ok(crate::relay(upstream));
        };
        let head = Head {
            etag,
            cache_control,
            content_type: text(header::CONTENT_TYPE.as_str())
                .unwrap_or_else(|| "application/json".to_owned()),
            stored_at: now(),
        };
        let body = upstream.bytes().await?;
        if body.len() <= MAX_KEPT_BYTES
            && let Some(entry) = weft_http::conditional::encode_kept(&head, &body)
            && let Err(err) = self.store.set(&ticket.0, entry, ttl).await
        {
            tracing::debug!(error = %err, "answer not kept");
        }
        Ok(replay(client, &head, &body, "MISS"))
    }
}

/// `max-age=N` of a `Weft-Gateway-Cache` value.
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|d| {
        d.trim()
            .strip_prefix("max-age=")
            .and_then(|n| n.trim().parse().ok())
            .map(Duration::from_secs)
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A kept answer for a client with these headers: 304 when its condition holds.
fn replay(client: &HeaderMap, head: &Head, body: &[u8], outcome: &'static str) -> Response {
    let not_modified = client
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == head.etag || tag.trim() == "*")
        });
    let mut resp = if not_modified {
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .finish()
    } else {
        Response::builder()
            .status(StatusCode::OK)
            .content_type(head.content_type.as_str())
            .body(body.to_vec())
    };
    let headers = resp.headers_mut();
    for (name, value) in [
        (header::ETAG, head.etag.clone()),
        (header::CACHE_CONTROL, head.cache_control.clone()),
        (
            header::AGE,
            now().saturating_sub(head.stored_at).to_string(),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    headers.insert("x-cache", HeaderValue::from_static(outcome));
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_a_guest_s_plain_get_is_served_from_the_cache() {
        let get = |uri: &str| Request::builder().uri_str(uri).finish();
        assert!(AnswerCache::eligible(&get("/v1/products?size=M")));
        assert!(!AnswerCache::eligible(&get(
            "/v1/carts/c/live?access_token=t"
        )));
        for (name, value) in [
            ("authorization", "Bearer t"),
            ("x-api-key", "k"),
            ("cookie", "s=1"),
            ("cache-control", "no-cache"),
            ("pragma", "no-cache"),
        ] {
            let req = Request::builder()
                .uri_str("/v1/products")
                .header(name, value)
                .finish();
            assert!(!AnswerCache::eligible(&req), "{name}");
        }
        let post = Request::builder()
            .method(Method::POST)
            .uri_str("/v1/products")
            .finish();
        assert!(!AnswerCache::eligible(&post));
        assert_eq!(max_age("max-age=300"), Some(Duration::from_mins(5)));
        assert_eq!(max_age("a, max-age = 5"), None);
        assert_eq!(max_age("a, max-age=5"), Some(Duration::from_secs(5)));
    }

    #[tokio::test]
    async fn a_purge_retires_every_kept_answer() {
        let cache = AnswerCache::new(Duration::from_mins(5), 1 << 20);
        let req = Request::builder().uri_str("/v1/products").finish();
        let Some(Err(Ticket(key))) = cache.lookup(&req).await else {
            unreachable!("an empty cache misses")
        };
        let head = Head {
            etag: "\"e\"".into(),
            cache_control: "public, no-cache".into(),
            content_type: "application/json".into(),
            stored_at: now(),
        };
        cache
            .store
            .set(
                &key,
                weft_http::conditional::encode_kept(&head, b"[]").unwrap(),
                Duration::from_mins(1),
            )
            .await
            .unwrap();
        let Some(Ok(hit)) = cache.lookup(&req).await else {
            unreachable!("kept")
        };
        assert_eq!(hit.headers()["x-cache"], "HIT");
        let conditional = Request::builder()
            .uri_str("/v1/products")
            .header("if-none-match", "\"e\"")
            .finish();
        let Some(Ok(not_modified)) = cache.lookup(&conditional).await else {
            unreachable!("kept")
        };
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        cache.purge();
        assert!(matches!(cache.lookup(&req).await, Some(Err(_))));
    }
}
