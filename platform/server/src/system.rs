//! Endpoints every process serves about itself: `/v1/meta`, `/health/live`,
//! `/health/ready`. State reaches handlers as poem data ([`SystemState`]), so the API
//! value itself is a unit struct the spec exporter can build without a database.

use std::sync::Arc;
use std::time::Instant;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use weft_bus::Bus;
use weft_cache::Cache;
use weft_http::ApiResult;
use weft_storage::Db;

#[derive(Tags)]
enum Tag {
    /// What this process is and whether it can serve.
    System,
}

/// Facts fixed at start-up, shared by REST and GraphQL.
#[derive(Debug, Clone, Object, async_graphql::SimpleObject)]
#[graphql(name = "Meta")]
pub struct Meta {
    /// Always `weft`.
    pub name: String,
    /// Version of the running binary.
    pub version: String,
    /// The REST API version served under `/v1`.
    pub api_version: String,
    /// `embedded` (every service in this process) or `cluster` (one service per process).
    pub topology: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// `memory` (in-process) or `redis`.
    pub cache: String,
    /// How events travel: `memory` (in-process) or `amqp` (RabbitMQ).
    pub events: String,
    /// Stable id of this installation, kept in its database.
    pub instance_id: String,
    /// Whether this process was started with `--demo`.
    pub demo: bool,
    /// The services this process hosts.
    pub services: Vec<ServiceMeta>,
}

#[derive(Debug, Clone, Object, async_graphql::SimpleObject)]
#[graphql(name = "ServiceMeta")]
pub struct ServiceMeta {
    pub name: String,
    pub description: String,
}

/// What handlers need: the meta facts and the dependencies to probe.
#[derive(Debug, Clone)]
pub struct SystemState {
    pub meta: Arc<Meta>,
    pub db: Db,
    pub cache: Cache,
    pub bus: Bus,
    /// The product search index, when this process hosts the catalog (`None` inside:
    /// it could not be opened and the process started degraded).
    pub search: Option<Option<Arc<dyn weft_search::SearchIndex>>>,
    /// What the settings put behind search (`tantivy` or `elasticsearch`), named by the
    /// readiness check even when the index could not be opened.
    pub search_backend: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum CheckStatus {
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ReadinessStatus {
    /// Every dependency answers.
    Up,
    /// An optional dependency (cache, message broker, search) is down; the process still
    /// serves, reading through to the database and keeping events in the outbox (search
    /// answers 503).
    Degraded,
    /// A required dependency (the database) is down.
    Down,
}

#[derive(Debug, Clone, Object)]
pub struct Check {
    /// The dependency: `database`, `cache`, `events` or `search` (processes hosting the
    /// catalog).
    pub name: String,
    /// What backs it: `sqlite` or `postgres` (database), `memory` or `redis` (cache),
    /// `in-process` or `rabbitmq` (events), `tantivy` or `elasticsearch` (search).
    pub backend: String,
    pub status: CheckStatus,
    /// Whether the process can serve without it.
    pub required: bool,
    /// Round-trip time of the probe.
    pub latency_ms: f64,
    /// Why it is down; absent when up.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct Readiness {
    pub status: ReadinessStatus,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Object)]
pub struct Liveness {
    pub status: CheckStatus,
}

#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// Every dependency answered.
    #[oai(status = 200)]
    Ready(Json<Readiness>),
    /// At least one dependency is down; the body says which.
    #[oai(status = 503)]
    NotReady(Json<Readiness>),
}

/// `/v1/meta` and the health probes.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemApi;

#[OpenApi(tag = "Tag::System")]
impl SystemApi {
    /// Version, topology and hosted services of this process.
    #[oai(path = "/v1/meta", method = "get", operation_id = "get_meta")]
    async fn meta(&self, state: Data<&SystemState>) -> ApiResult<Json<Meta>> {
        Ok(Json(state.meta.as_ref().clone()))
    }

    /// Liveness: the process is up and serving HTTP.
    #[oai(
        path = "/health/live",
        method = "get",
        operation_id = "get_health_live"
    )]
    async fn live(&self) -> Json<Liveness> {
        Json(Liveness {
            status: CheckStatus::Up,
        })
    }

    /// Readiness: 200 while the database answers (`degraded` if the cache or the message
    /// broker does not), 503 when the database does not.
    #[oai(
        path = "/health/ready",
        method = "get",
        operation_id = "get_health_ready"
    )]
    async fn ready(&self, state: Data<&SystemState>) -> ReadyResponse {
        let events_backend = match state.bus.transport().name() {
            "amqp" => "rabbitmq",
            _ => "in-process",
        };
        let (database, cache, events) = tokio::join!(
            probe(
                ("database", state.db.backend().as_str()),
                true,
                state.db.ping()
            ),
            probe(("cache", state.cache.backend()), false, state.cache.ping()),
            probe(
                ("events", events_backend),
                false,
                state.bus.transport().health()
            ),
        );
        let mut checks = vec![database, cache, events];
        if let Some(search) = &state.search {
            let ping = async {
                match search {
                    Some(index) => index.ping().await.map_err(|e| e.to_string()),
                    None => Err("no search index could be opened at start".to_owned()),
                }
            };
            checks.push(probe(("search", state.search_backend), false, ping).await);
        }
        let status = if checks
            .iter()
            .any(|c| c.required && c.status == CheckStatus::Down)
        {
            ReadinessStatus::Down
        } else if checks.iter().any(|c| c.status == CheckStatus::Down) {
            ReadinessStatus::Degraded
        } else {
            ReadinessStatus::Up
        };
        let readiness = Readiness { status, checks };
        match status {
            ReadinessStatus::Down => ReadyResponse::NotReady(Json(readiness)),
            ReadinessStatus::Up | ReadinessStatus::Degraded => {
                ReadyResponse::Ready(Json(readiness))
            }
        }
    }
}

/// Probes one dependency with a 2 s bound. The cause of a failure goes to the log; the
/// answer stays generic so no connection detail reaches a client.
async fn probe<E: std::fmt::Display>(
    (name, backend): (&str, &str),
    required: bool,
    check: impl std::future::Future<Output = Result<(), E>>,
) -> Check {
    let started = Instant::now();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(2), check).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, detail) = match outcome {
        Ok(Ok(())) => (CheckStatus::Up, None),
        Ok(Err(err)) => {
            tracing::warn!(dependency = name, error = %err, "readiness check failed");
            (CheckStatus::Down, Some("not answering".to_owned()))
        }
        Err(_) => {
            tracing::warn!(dependency = name, "readiness check timed out");
            (CheckStatus::Down, Some("no answer within 2 s".to_owned()))
        }
    };
    Check {
        name: name.to_owned(),
        backend: backend.to_owned(),
        status,
        required,
        latency_ms,
        detail,
    }
}
