//! `Idempotency-Key` over a real database (SQLite, and PostgreSQL when configured).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use poem::EndpointExt;
use poem::test::TestClient;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, OpenApiService};
use serde::Deserialize;
use weft_kernel::Clock;
use weft_storage::testing::TestDatabase;

use crate::{ApiError, ApiResult, HttpStack, Idempotency, JsonBody};

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
struct Charge {
    amount: i64,
    #[serde(default)]
    #[oai(default)]
    slow: bool,
    #[serde(default)]
    #[oai(default)]
    fail: bool,
}

#[derive(Debug, Object)]
struct Receipt {
    execution: usize,
    amount: i64,
}

#[derive(ApiResponse)]
enum Created {
    #[oai(status = 201)]
    Created(Json<Receipt>),
}

struct ChargeApi;

#[OpenApi]
impl ChargeApi {
    #[oai(path = "/v1/charges", method = "post", operation_id = "create_charge")]
    async fn create(
        &self,
        runs: Data<&Arc<AtomicUsize>>,
        body: JsonBody<Charge>,
    ) -> ApiResult<Created> {
        let execution = runs.fetch_add(1, Ordering::SeqCst) + 1;
        if body.0.slow {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        if body.0.fail {
            return Err(ApiError::internal(std::io::Error::other(
                "card network down",
            )));
        }
        if body.0.amount < 0 {
            return Err(ApiError::validation(vec![weft_kernel::FieldError::new(
                "amount",
                "must not be negative",
            )]));
        }
        Ok(Created::Created(Json(Receipt {
            execution,
            amount: body.0.amount,
        })))
    }
}

struct Harness {
    client: Client,
    runs: Arc<AtomicUsize>,
    idempotency: Idempotency,
    _database: TestDatabase,
}

async fn harness(database: TestDatabase) -> Harness {
    let db = database.open(8).await.unwrap();
    weft_storage::migrate::run(&db, &[&weft_storage::migrate::PLATFORM])
        .await
        .unwrap();
    let idempotency = Idempotency {
        clock: Clock::fixed(chrono::Utc::now()),
        ..Idempotency::new(db)
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let client = client_for(&idempotency, Arc::clone(&runs));
    Harness {
        client,
        runs,
        idempotency,
        _database: database,
    }
}

impl Harness {
    /// A second server on the same database (another process, or this one restarted).
    fn another_server(&self) -> Client {
        client_for(&self.idempotency, Arc::clone(&self.runs))
    }

    async fn post(&self, key: Option<&str>, body: &str) -> poem::test::TestResponse {
        post_with(&self.client, key, body).await
    }
}

type Client = TestClient<poem::endpoint::BoxEndpoint<'static, poem::Response>>;

fn client_for(idempotency: &Idempotency, runs: Arc<AtomicUsize>) -> Client {
    client_forwarding(idempotency, runs, None)
}

/// A server whose `forwards` paths go on to another process (a gateway's upstreams).
fn client_forwarding(
    idempotency: &Idempotency,
    runs: Arc<AtomicUsize>,
    forwards: Option<crate::stack::Serves>,
) -> Client {
    let stack = HttpStack {
        body_limit_bytes: 64 * 1024,
        large_bodies: Vec::new(),
        rate_limits: None,
        trust_forwarded_for: false,
        cors_origins: vec![],
        idempotency: Some(idempotency.clone()),
        authenticator: None,
        front_door: false,
        serves: None,
        forwards,
        refuse_bad_credentials: false,
    };
    let api =
        poem::IntoEndpoint::into_endpoint(OpenApiService::new(ChargeApi, "test", "1")).data(runs);
    TestClient::new(poem::EndpointExt::boxed(stack.wrap(api)))
}

async fn post_with(client: &Client, key: Option<&str>, body: &str) -> poem::test::TestResponse {
    let mut req = client
        .post("/v1/charges")
        .content_type("application/json")
        .body(body.to_owned());
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    req.send().await
}

async fn json(resp: poem::test::TestResponse) -> serde_json::Value {
    resp.0.into_body().into_json().await.unwrap()
}

macro_rules! on_every_database {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::harness(weft_storage::testing::TestDatabase::sqlite().unwrap()).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(url) = weft_storage::testing::postgres_admin_url() else { return };
                    let db = weft_storage::testing::TestDatabase::postgres(&url).await.unwrap();
                    super::$name(super::harness(db).await).await;
                }
            )*
        }
    };
}

on_every_database!(
    a_retry_gets_the_first_answer_and_the_handler_runs_once,
    the_same_key_with_another_body_is_refused,
    concurrent_retries_run_the_handler_exactly_once,
    a_server_error_releases_the_key_so_the_retry_runs,
    answers_survive_a_restart_and_expire_after_a_day,
    client_errors_are_remembered_too,
    requests_without_a_key_are_not_deduplicated,
    a_gateway_leaves_a_forwarded_requests_key_to_its_upstream,
);

/// The upstream claims the key in the database the cluster shares; a gateway claiming it
/// first would have the upstream answer "in use" to the very request it forwarded.
async fn a_gateway_leaves_a_forwarded_requests_key_to_its_upstream(h: Harness) {
    let forwards: crate::stack::Serves = Arc::new(|path: &str| path.starts_with("/v1/charges"));
    let gateway = client_forwarding(&h.idempotency, Arc::clone(&h.runs), Some(forwards));
    for _ in 0..2 {
        let resp = post_with(&gateway, Some("key-fwd"), r#"{"amount": 5}"#).await;
        resp.assert_status(poem::http::StatusCode::CREATED);
        assert!(resp.0.headers().get("idempotent-replayed").is_none());
    }
    assert_eq!(h.runs.load(Ordering::SeqCst), 2, "both went on");
    // Nothing was claimed here: the upstream's first run of the key is a first run.
    let upstream = h.post(Some("key-fwd"), r#"{"amount": 5}"#).await;
    upstream.assert_status(poem::http::StatusCode::CREATED);
    assert!(upstream.0.headers().get("idempotent-replayed").is_none());
}

async fn a_retry_gets_the_first_answer_and_the_handler_runs_once(h: Harness) {
    let first = h.post(Some("key-1"), r#"{"amount": 1999}"#).await;
    first.assert_status(poem::http::StatusCode::CREATED);
    assert!(first.0.headers().get("idempotent-replayed").is_none());
    let first = json(first).await;
    let retry = h.post(Some("key-1"), r#"{"amount": 1999}"#).await;
    retry.assert_status(poem::http::StatusCode::CREATED);
    retry.assert_header("idempotent-replayed", "true");
    retry.assert_content_type("application/json; charset=utf-8");
    assert_eq!(json(retry).await, first);
    assert_eq!(h.runs.load(Ordering::SeqCst), 1);
}

async fn the_same_key_with_another_body_is_refused(h: Harness) {
    h.post(Some("key-2"), r#"{"amount": 1}"#)
        .await
        .assert_status(poem::http::StatusCode::CREATED);
    let resp = h.post(Some("key-2"), r#"{"amount": 2}"#).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    resp.assert_content_type("application/problem+json");
    assert_eq!(json(resp).await["code"], "idempotency_key_reused");
    assert_eq!(h.runs.load(Ordering::SeqCst), 1);
}

async fn concurrent_retries_run_the_handler_exactly_once(h: Harness) {
    let h = Arc::new(h);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let h = Arc::clone(&h);
            tokio::spawn(async move {
                let resp = h
                    .post(Some("key-concurrent"), r#"{"amount": 500, "slow": true}"#)
                    .await;
                let status = resp.0.status().as_u16();
                (status, json(resp).await)
            })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created.push(body),
            409 => assert_eq!(body["code"], "idempotency_key_in_use"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        h.runs.load(Ordering::SeqCst),
        1,
        "the handler body ran exactly once"
    );
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|b| b == &created[0]),
        "every success is the same answer"
    );
    // Once finished, a retry replays.
    let resp = h
        .post(Some("key-concurrent"), r#"{"amount": 500, "slow": true}"#)
        .await;
    resp.assert_header("idempotent-replayed", "true");
}

async fn a_server_error_releases_the_key_so_the_retry_runs(h: Harness) {
    let resp = h
        .post(Some("key-500"), r#"{"amount": 5, "fail": true}"#)
        .await;
    resp.assert_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR);
    let resp = h
        .post(Some("key-500"), r#"{"amount": 5, "fail": true}"#)
        .await;
    resp.assert_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR);
    assert!(resp.0.headers().get("idempotent-replayed").is_none());
    assert_eq!(h.runs.load(Ordering::SeqCst), 2, "the retry ran again");
}

async fn answers_survive_a_restart_and_expire_after_a_day(h: Harness) {
    h.post(Some("key-restart"), r#"{"amount": 7}"#)
        .await
        .assert_status(poem::http::StatusCode::CREATED);
    let restarted = h.another_server();
    let resp = post_with(&restarted, Some("key-restart"), r#"{"amount": 7}"#).await;
    resp.assert_header("idempotent-replayed", "true");
    assert_eq!(h.runs.load(Ordering::SeqCst), 1);

    h.idempotency
        .clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    let resp = h.post(Some("key-restart"), r#"{"amount": 7}"#).await;
    resp.assert_status(poem::http::StatusCode::CREATED);
    assert!(
        resp.0.headers().get("idempotent-replayed").is_none(),
        "24 h later the key is new"
    );
    assert_eq!(h.runs.load(Ordering::SeqCst), 2);
    h.idempotency.clock.advance(chrono::Duration::hours(25));
    assert_eq!(
        h.idempotency.sweep().await.unwrap(),
        1,
        "expired records are swept"
    );
}

async fn client_errors_are_remembered_too(h: Harness) {
    let resp = h.post(Some("key-422"), r#"{"amount": -1}"#).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    let resp = h.post(Some("key-422"), r#"{"amount": -1}"#).await;
    resp.assert_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY);
    resp.assert_header("idempotent-replayed", "true");
    assert_eq!(h.runs.load(Ordering::SeqCst), 1);
}

async fn requests_without_a_key_are_not_deduplicated(h: Harness) {
    h.post(None, r#"{"amount": 1}"#)
        .await
        .assert_status(poem::http::StatusCode::CREATED);
    h.post(None, r#"{"amount": 1}"#)
        .await
        .assert_status(poem::http::StatusCode::CREATED);
    assert_eq!(h.runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn malformed_keys_are_400() {
    let h = harness(TestDatabase::sqlite().unwrap()).await;
    let long = "k".repeat(256);
    for (case, key) in [
        ("empty", ""),
        ("too long", long.as_str()),
        ("space", "a b"),
        ("non-ascii", "clé"),
    ] {
        let resp = h
            .client
            .post("/v1/charges")
            .content_type("application/json")
            .header("idempotency-key", key)
            .body(r#"{"amount": 1}"#)
            .send()
            .await;
        resp.assert_status(poem::http::StatusCode::BAD_REQUEST);
        assert_eq!(
            json(resp).await["code"],
            "invalid_idempotency_key",
            "{case}"
        );
    }
    assert_eq!(h.runs.load(Ordering::SeqCst), 0);
    let ok = "k".repeat(255);
    h.post(Some(&ok), r#"{"amount": 1}"#)
        .await
        .assert_status(poem::http::StatusCode::CREATED);
}
