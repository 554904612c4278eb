//! `Idempotency-Key` on every mutating POST under `/v1`, as Stripe does it: the first
//! answer (status and body) is stored for 24 hours under (principal, key), and a retry of
//! the same request gets that answer again with `Idempotent-Replayed: true`, without the
//! handler running a second time.
//!
//! - the same key with a different request → 422 `idempotency_key_reused`;
//! - a retry while the first is still running → 409 `idempotency_key_in_use`;
//! - a malformed key (empty, over 255 characters, not visible ASCII) → 400;
//! - a first run that fails on the server side (5xx, panic) or answers "try again"
//!   (`Retry-After`: a 409 `checkout_in_progress`, a 429) releases the key, so the retry
//!   runs; any other answer, 4xx included, is what every retry gets.
//!
//! The handler runs in its own task: a client that disconnects mid-request cannot cancel
//! it between its commit and the recording of its answer.

use std::sync::Arc;
use std::time::Duration;

use poem::endpoint::BoxEndpoint;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, Request, Response};
use sha2::{Digest, Sha256};
use weft_kernel::{Clock, ErrorKind};
use weft_storage::Db;
use weft_storage::idempotency::{self, Claim, KeyedRequest, StoredResponse};

use crate::ApiError;
use crate::principal::Principal;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// The idempotency layer's storage and timings.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub db: Db,
    pub clock: Clock,
    /// How long answers are kept (24 h).
    pub retention: Duration,
    /// How long a first run holds its key before a crashed run's key may be taken over.
    pub lock_for: Duration,
}

impl Idempotency {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            clock: Clock::system(),
            retention: Duration::from_hours(24),
            lock_for: Duration::from_mins(1),
        }
    }

    /// Whether `req` is subject to idempotency handling.
    pub(crate) fn applies(req: &Request) -> bool {
        req.method() == Method::POST
            && req.uri().path().starts_with("/v1/")
            && req.headers().contains_key(IDEMPOTENCY_KEY)
    }

    /// Runs `req` through `inner` at most once per key.
    pub(crate) async fn run(
        &self,
        mut req: Request,
        inner: Arc<BoxEndpoint<'static, Response>>,
    ) -> poem::Result<Response> {
        let key = parse_key(req.headers().get(IDEMPOTENCY_KEY))?;
        let body = req.take_body().into_vec().await?;
        let keyed = KeyedRequest {
            principal: req
                .data::<Principal>()
                .map_or_else(|| "anonymous".to_owned(), |p| p.id.clone()),
            key,
            method: req.method().to_string(),
            path: req
                .uri()
                .path_and_query()
                .map_or_else(String::new, ToString::to_string),
            hash: request_hash(
                req.method(),
                req.uri().path_and_query().map_or("", |pq| pq.as_str()),
                &body,
            ),
        };
        req.set_body(Body::from(body));

        let now = self.clock.now();
        let at =
            |d: Duration| (now + chrono::Duration::from_std(d).unwrap_or_default()).naive_utc();
        let claim = idempotency::claim(
            &self.db,
            &keyed,
            now.naive_utc(),
            at(self.lock_for),
            at(self.retention),
        )
        .await
        .map_err(ApiError::from)?;
        match claim {
            Claim::Acquired => self.first_run(req, inner, keyed).await,
            Claim::InProgress => Err(ApiError::new(
                ErrorKind::Conflict,
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            )
            .into()),
            Claim::Mismatch => Err(ApiError::new(
                ErrorKind::Invalid,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request.",
            )
            .into()),
            Claim::Completed(stored) => {
                metrics::counter!("idempotent_replays_total").increment(1);
                Ok(replay(stored))
            }
        }
    }

    async fn first_run(
        &self,
        req: Request,
        inner: Arc<BoxEndpoint<'static, Response>>,
        keyed: KeyedRequest,
    ) -> poem::Result<Response> {
        let request_id = req.data::<crate::RequestId>().map(|r| r.0.clone());
        let outcome = tokio::spawn(async move {
            let resp = match inner.call(req).await {
                Ok(resp) => resp,
                // Rendered here, not at the edge, because this answer is what gets stored.
                Err(err) => crate::error::render_error(&err, request_id.as_deref()),
            };
            let status = resp.status();
            let content_type = resp.content_type().map(str::to_owned);
            let (parts, body) = resp.into_parts();
            let bytes = body.into_vec().await;
            (parts, status, content_type, bytes)
        })
        .await;
        let (parts, status, content_type, bytes) = match outcome {
            Ok((parts, status, content_type, Ok(bytes))) => (parts, status, content_type, bytes),
            Ok((_, _, _, Err(err))) => {
                self.release(&keyed).await;
                return Err(ApiError::internal(std::io::Error::other(err.to_string())).into());
            }
            Err(join) => {
                self.release(&keyed).await;
                tracing::error!(error = %join, "handler panicked under an idempotency key");
                return Err(ApiError::internal(std::io::Error::other("handler panicked")).into());
            }
        };
        // An answer that says "try again" (a 5xx, or `Retry-After` on a 409 or 429) is not
        // the request's outcome: the key is released so the retry runs.
        if status.is_server_error() || parts.headers.contains_key(poem::http::header::RETRY_AFTER) {
            self.release(&keyed).await;
        } else {
            let stored = StoredResponse {
                status: status.as_u16(),
                content_type,
                body: bytes.clone(),
            };
            if let Err(err) = idempotency::complete(&self.db, &keyed, &stored).await {
                // The work is done; the client gets its answer. A retry finds the key
                // locked until the lock lapses, then runs again — logged loudly here.
                tracing::error!(error = %err, key = %keyed.key, "could not record an idempotent answer");
            }
        }
        Ok(Response::from_parts(parts, Body::from(bytes)))
    }

    async fn release(&self, keyed: &KeyedRequest) {
        if let Err(err) = idempotency::release(&self.db, keyed).await {
            tracing::warn!(error = %err, key = %keyed.key, "could not release an idempotency key");
        }
    }

    /// Deletes expired records; the server runs this periodically.
    pub async fn sweep(&self) -> Result<usize, weft_storage::StorageError> {
        idempotency::delete_expired(&self.db, self.clock.now().naive_utc()).await
    }
}

fn parse_key(value: Option<&HeaderValue>) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorKind::BadRequest,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
        )
    };
    let key = value.and_then(|v| v.to_str().ok()).ok_or_else(invalid)?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

fn request_hash(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(path_and_query.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

fn replay(stored: StoredResponse) -> Response {
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK))
        .header(REPLAYED, "true");
    if let Some(ct) = stored.content_type {
        resp = resp.header(header::CONTENT_TYPE, ct);
    }
    resp.body(stored.body)
}
