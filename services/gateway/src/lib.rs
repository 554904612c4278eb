//! The gateway: the front door of the cluster topology. It forwards a `/v1/...` request
//! to the upstream configured for the longest matching path prefix and streams the answer
//! back; anything it has no upstream for is answered by the process itself.
//!
//! Prefixes are path segments after `/v1/`, and `*` matches one segment, so
//! `products` → catalog and `products/*/reviews` → reviews can coexist.
//!
//! Owns no tables. Invariants: the request id travels upstream in `X-Request-Id`; hop-by-hop
//! headers never cross; an unreachable upstream is a 502 problem, a slow one a 504;
//! `/v1/internal/…` (process-to-process calls) is a 404 at the front door.

use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use poem::http::{HeaderMap, HeaderName, header};
use poem::{Body, Endpoint, Request, Response};
use weft_http::{ApiError, ClientIp, ServiceInfo};
use weft_kernel::ErrorKind;

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "gateway",
    description: "Routes /v1 requests to the service processes of a cluster.",
    migrations: &[],
};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("upstream `{prefix}` has an invalid URL `{url}`")]
    BadUpstream { prefix: String, url: String },
    #[error("could not build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

#[derive(Debug)]
struct Upstream {
    segments: Vec<String>,
    base: String,
}

/// The routing table and the HTTP client that forwards through it.
#[derive(Debug, Clone)]
pub struct Gateway {
    upstreams: Arc<Vec<Upstream>>,
    client: reqwest::Client,
}

impl Gateway {
    /// `upstreams` maps a prefix (`products`, `products/*/reviews`) to a base URL.
    pub fn new<'a>(
        upstreams: impl IntoIterator<Item = (&'a String, &'a String)>,
        timeout: Duration,
    ) -> Result<Self, GatewayError> {
        let mut table = Vec::new();
        for (prefix, url) in upstreams {
            let base = url.trim_end_matches('/').to_owned();
            if reqwest::Url::parse(&base).is_err() {
                return Err(GatewayError::BadUpstream {
                    prefix: prefix.clone(),
                    url: url.clone(),
                });
            }
            let segments = prefix
                .trim_matches('/')
                .split('/')
                .map(str::to_owned)
                .collect();
            table.push(Upstream { segments, base });
        }
        // Longest prefix first, so the most specific route wins.
        table.sort_by_key(|u| std::cmp::Reverse(u.segments.len()));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_mins(1))
            .build()?;
        Ok(Self {
            upstreams: Arc::new(table),
            client,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.upstreams.is_empty()
    }

    /// The base URL serving `path`, if any upstream claims it.
    fn upstream_for(&self, path: &str) -> Option<&str> {
        let rest = path.strip_prefix("/v1/")?;
        let segments: Vec<&str> = rest.split('/').collect();
        self.upstreams
            .iter()
            .find(|u| {
                u.segments.len() <= segments.len()
                    && u.segments
                        .iter()
                        .zip(&segments)
                        .all(|(want, got)| want == "*" || want == got)
            })
            .map(|u| u.base.as_str())
    }

    /// Puts the gateway in front of `local`: claimed paths are forwarded, the rest served here.
    pub fn in_front_of<E: Endpoint>(self, local: E) -> GatewayEndpoint<E> {
        GatewayEndpoint {
            gateway: self,
            local,
        }
    }

    async fn forward(&self, base: &str, mut req: Request) -> Result<Response, ApiError> {
        let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let url = format!("{base}{path_and_query}");
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
        let body = req.take_body().into_bytes().await.map_err(|e| {
            ApiError::new(
                ErrorKind::BadRequest,
                "bad_request",
                format!("unreadable body: {e}"),
            )
        })?;
        let upstream = self
            .client
            .request(req.method().clone(), &url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|err| upstream_error(base, &err))?;

        let mut resp = Response::builder().status(upstream.status());
        for (name, value) in &strip_hop_by_hop(upstream.headers()) {
            resp = resp.header(name, value);
        }
        let stream = upstream.bytes_stream().map_err(std::io::Error::other);
        Ok(resp.body(Body::from_bytes_stream(stream)))
    }
}

fn upstream_error(base: &str, err: &reqwest::Error) -> ApiError {
    tracing::warn!(upstream = base, error = %err, "upstream request failed");
    if err.is_timeout() {
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
        match self.gateway.upstream_for(path) {
            Some(base) => {
                let base = base.to_owned();
                Ok(self.gateway.forward(&base, req).await?)
            }
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

    fn gateway(routes: &[(&str, &str)]) -> Gateway {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let map: BTreeMap<String, String> = routes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Gateway::new(&map, Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn the_longest_matching_prefix_wins_and_star_matches_one_segment() {
        let g = gateway(&[
            ("products", "http://catalog:8002"),
            ("products/*/reviews", "http://reviews:8009/"),
            ("carts", "http://cart:8003"),
        ]);
        assert_eq!(g.upstream_for("/v1/products"), Some("http://catalog:8002"));
        assert_eq!(
            g.upstream_for("/v1/products/prod_1/recommendations"),
            Some("http://catalog:8002")
        );
        assert_eq!(
            g.upstream_for("/v1/products/prod_1/reviews"),
            Some("http://reviews:8009")
        );
        assert_eq!(
            g.upstream_for("/v1/carts/cart_1/items"),
            Some("http://cart:8003")
        );
        assert_eq!(g.upstream_for("/v1/productsx"), None, "whole segments only");
        assert_eq!(g.upstream_for("/v1/orders"), None);
        assert_eq!(
            g.upstream_for("/health/ready"),
            None,
            "only /v1 is forwarded"
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
    fn an_invalid_upstream_url_is_refused() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let map = BTreeMap::from([("products".to_owned(), "not a url".to_owned())]);
        assert!(matches!(
            Gateway::new(&map, Duration::from_secs(1)),
            Err(GatewayError::BadUpstream { .. })
        ));
    }
}
