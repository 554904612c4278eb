//! Whole answers to guests' catalog reads, cached as the bytes that went out: a hit costs
//! one cache read and no database, JSON or hashing work. Keys carry the catalog's cache
//! generation, so any catalog change retires every cached answer at once (see
//! `service`). Requests with credentials pass through: an admin may see drafts, and
//! their answers are private.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};
use serde::{Deserialize, Serialize};

use crate::service::CatalogService;

/// The public read paths whose answers are cached.
const PREFIXES: &[&str] = &[
    "/v1/products",
    "/v1/categories",
    "/v1/collections",
    "/v1/search",
];
/// Larger answers are served but not cached.
const MAX_CACHED_BYTES: usize = 2 * 1024 * 1024;

/// What is kept next to the body.
#[derive(Debug, Serialize, Deserialize)]
struct Head {
    etag: String,
    cache_control: String,
    content_type: String,
}

/// Wraps the catalog's routes; see the module docs. The [`CatalogService`] comes with
/// the request (the process's data); how long answers live is its
/// [`CacheTtls::answer`](crate::service::CacheTtls).
pub struct PublicReads<E> {
    inner: E,
}

impl<E> PublicReads<E> {
    pub fn new(inner: E) -> Self {
        Self { inner }
    }
}

/// Searches (`/v1/search/…`, `?q=`, `sort=relevance`) follow the search index, which
/// trails catalog writes by a moment: their answers are keyed under the index's state too.
fn searches(req: &Request) -> bool {
    req.uri().path().starts_with("/v1/search/")
        || req.uri().query().is_some_and(|query| {
            query.split('&').any(|pair| {
                pair.strip_prefix("q=").is_some_and(|v| !v.is_empty()) || pair == "sort=relevance"
            })
        })
}

fn cacheable(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == Method::GET
        && PREFIXES
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")))
        && !req.headers().contains_key(header::AUTHORIZATION)
        && !req.headers().contains_key("x-api-key")
}

/// Marks a guest's answer as one a gateway may keep for `ttl`
/// ([`weft_http::conditional::GATEWAY_CACHE`]).
fn shareable(resp: &mut Response, head: &Head, ttl: std::time::Duration) {
    if head.cache_control.starts_with("public")
        && let Ok(v) = HeaderValue::from_str(&format!("max-age={}", ttl.as_secs()))
    {
        resp.headers_mut()
            .insert(weft_http::conditional::GATEWAY_CACHE, v);
    }
}

fn replay(req: &Request, head: &Head, body: &[u8]) -> Response {
    let not_modified = weft_http::conditional::not_modified(req, &head.etag);
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
        (header::ETAG, &head.etag),
        (header::CACHE_CONTROL, &head.cache_control),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    resp
}

impl<E: Endpoint> Endpoint for PublicReads<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let catalog = match req.data::<CatalogService>() {
            Some(catalog) if cacheable(&req) => catalog.clone(),
            _ => return self.inner.call(req).await.map(IntoResponse::into_response),
        };
        let what = if searches(&req) {
            // An index that cannot say its state (Elasticsearch, in another process) is
            // not cached here.
            let Some(generation) = catalog.search_generation() else {
                return self.inner.call(req).await.map(IntoResponse::into_response);
            };
            format!("{}#index@{generation}", req.uri())
        } else {
            req.uri().to_string()
        };
        let key = catalog.answer_key(&what).await;
        let store = catalog.cache_store();
        if let Ok(Some(bytes)) = store.get(&key).await
            && let Some((head, body)) = weft_http::conditional::decode_kept(&bytes)
        {
            metrics::counter!("catalog_answer_cache_total", "result" => "hit").increment(1);
            let mut resp = replay(&req, &head, body);
            shareable(&mut resp, &head, catalog.answer_ttl());
            return Ok(resp);
        }
        metrics::counter!("catalog_answer_cache_total", "result" => "miss").increment(1);
        // Asked without a condition, so the stored answer is the whole one.
        let condition = req.headers().get(header::IF_NONE_MATCH).cloned();
        let mut plain = req;
        plain.headers_mut().remove(header::IF_NONE_MATCH);
        let resp = self.inner.call(plain).await?.into_response();
        if resp.status() != StatusCode::OK {
            return Ok(resp);
        }
        let header_of = |name: header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (Some(etag), Some(cache_control)) =
            (header_of(header::ETAG), header_of(header::CACHE_CONTROL))
        else {
            return Ok(resp);
        };
        let head = Head {
            etag,
            cache_control,
            content_type: header_of(header::CONTENT_TYPE)
                .unwrap_or_else(|| "application/json; charset=utf-8".to_owned()),
        };
        let body = resp.into_body().into_bytes().await?;
        if body.len() <= MAX_CACHED_BYTES
            && let Some(entry) = weft_http::conditional::encode_kept(&head, &body)
            && let Err(err) = store.set(&key, entry, catalog.answer_ttl()).await
        {
            tracing::debug!(error = %err, "catalog answer not cached");
        }
        let mut req_for_replay = Request::default();
        if let Some(condition) = condition {
            req_for_replay
                .headers_mut()
                .insert(header::IF_NONE_MATCH, condition);
        }
        let mut resp = replay(&req_for_replay, &head, &body);
        shareable(&mut resp, &head, catalog.answer_ttl());
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entries_round_trip_and_only_guest_catalog_reads_are_cached() {
        let head = Head {
            etag: "\"e\"".into(),
            cache_control: "public, no-cache".into(),
            content_type: "application/json".into(),
        };
        let entry = weft_http::conditional::encode_kept(&head, b"{\"data\":[]}\n").unwrap();
        let (back, body): (Head, &[u8]) = weft_http::conditional::decode_kept(&entry).unwrap();
        assert_eq!(
            (back.etag.as_str(), body),
            ("\"e\"", &b"{\"data\":[]}\n"[..])
        );
        let get = |path: &str| Request::builder().uri_str(path).finish();
        assert!(cacheable(&get("/v1/products?size=M")));
        assert!(cacheable(&get("/v1/categories/women")));
        assert!(!cacheable(&get("/v1/productsx")));
        assert!(!cacheable(&get("/v1/admin/products")));
        assert!(cacheable(&get("/v1/search/products?q=jaket")));
        assert!(searches(&get("/v1/search/products")));
        assert!(searches(&get("/v1/products?size=M&q=wool")));
        assert!(searches(&get("/v1/products?sort=relevance")));
        assert!(!searches(&get("/v1/products?q=")));
        assert!(!searches(&get("/v1/products?sort=newest")));
        let with_token = Request::builder()
            .uri_str("/v1/products")
            .header(header::AUTHORIZATION, "Bearer x")
            .finish();
        assert!(!cacheable(&with_token));
        let post = Request::builder()
            .method(Method::POST)
            .uri_str("/v1/products")
            .finish();
        assert!(!cacheable(&post));
    }
}
