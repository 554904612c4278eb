//! The stack end to end over a small test API (poem's in-memory client): how handler
//! errors, panics, bad parameters, bad bodies and wrong content types reach a client.

use poem::http::StatusCode;
use poem::test::TestClient;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, OpenApiService};
use serde::Deserialize;
use weft_kernel::{ErrorKind, define_id};

use crate::{ApiError, ApiResult, HttpStack, JsonBody};

define_id!(WidgetId, "wid", "A widget of the test API.");

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWidget {
    name: String,
    quantity: i64,
}

#[derive(Debug, Object)]
struct Widget {
    id: WidgetId,
    name: String,
}

struct TestApi;

#[OpenApi]
impl TestApi {
    #[oai(path = "/v1/widgets", method = "post", operation_id = "create_widget")]
    async fn create(&self, body: JsonBody<NewWidget>) -> ApiResult<Json<Widget>> {
        if body.0.quantity < 1 {
            return Err(ApiError::validation(vec![weft_kernel::FieldError::new(
                "quantity",
                "must be at least 1",
            )]));
        }
        Ok(Json(Widget {
            id: weft_kernel::id::PrefixedId::generate(),
            name: body.0.name,
        }))
    }

    #[oai(path = "/v1/widgets/:id", method = "get", operation_id = "get_widget")]
    async fn get(&self, id: Path<WidgetId>) -> ApiResult<Json<Widget>> {
        Err(ApiError::not_found(format!("No widget {}.", id.0)))
    }

    #[oai(path = "/v1/widgets", method = "get", operation_id = "list_widgets")]
    async fn list(&self, limit: Query<Option<u32>>) -> ApiResult<Json<Vec<Widget>>> {
        let _ = limit;
        Ok(Json(vec![]))
    }

    #[oai(path = "/v1/explode", method = "get", operation_id = "explode")]
    async fn explode(&self) -> ApiResult<Json<Widget>> {
        panic!("secret internal state: password=hunter2");
    }

    #[oai(path = "/v1/database", method = "get", operation_id = "database")]
    async fn database(&self) -> ApiResult<Json<Widget>> {
        Err(ApiError::internal(std::io::Error::other(
            "relation \"users\" does not exist",
        )))
    }
}

fn client() -> TestClient<crate::stack::Edge> {
    let stack = HttpStack {
        body_limit_bytes: 1024,
        rate_limits: None,
        trust_forwarded_for: false,
        cors_origins: vec!["https://shop.example.com".to_owned()],
        idempotency: None,
        authenticator: None,
    };
    TestClient::new(
        stack.wrap(poem::IntoEndpoint::into_endpoint(OpenApiService::new(
            TestApi, "test", "1",
        ))),
    )
}

async fn problem(resp: poem::test::TestResponse) -> serde_json::Value {
    resp.assert_content_type("application/problem+json");
    resp.0.into_body().into_json().await.expect("json problem")
}

#[tokio::test]
async fn a_body_with_a_wrong_field_names_the_field() {
    let cases = [
        (
            "unknown field",
            r#"{"name":"a","quantity":1,"price":5}"#,
            422,
            "validation_failed",
            Some("price"),
        ),
        (
            "wrong type",
            r#"{"name":"a","quantity":"lots"}"#,
            422,
            "validation_failed",
            Some("quantity"),
        ),
        (
            "rule in the handler",
            r#"{"name":"a","quantity":0}"#,
            422,
            "validation_failed",
            Some("quantity"),
        ),
        ("malformed", r#"{"name":"a","#, 400, "malformed_json", None),
    ];
    for (case, body, status, code, field) in cases {
        let resp = client()
            .post("/v1/widgets")
            .content_type("application/json")
            .body(body)
            .send()
            .await;
        assert_eq!(resp.0.status().as_u16(), status, "{case}");
        let p = problem(resp).await;
        assert_eq!(p["code"], code, "{case}: {p}");
        assert_eq!(p["errors"][0]["field"].as_str(), field, "{case}: {p}");
    }
}

#[tokio::test]
async fn a_valid_body_is_accepted_and_the_wrong_content_type_is_415() {
    let ok = client()
        .post("/v1/widgets")
        .content_type("application/json; charset=utf-8")
        .body(r#"{"name":"a","quantity":1}"#)
        .send()
        .await;
    ok.assert_status_is_ok();
    let resp = client()
        .post("/v1/widgets")
        .content_type("text/plain")
        .body(r#"{"name":"a","quantity":1}"#)
        .send()
        .await;
    resp.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(problem(resp).await["code"], "unsupported_media_type");
    let resp = client()
        .post("/v1/widgets")
        .body(r#"{"name":"a","quantity":1}"#)
        .send()
        .await;
    resp.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn an_id_of_the_wrong_type_is_404_and_a_bad_query_parameter_is_422() {
    for bad in [
        "prod_01936f0e8c8a7b1c9d2e3f4a5b6c7d8e",
        "wid_123",
        "%27%20OR%201%3D1",
    ] {
        let resp = client().get(format!("/v1/widgets/{bad}")).send().await;
        resp.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(problem(resp).await["code"], "not_found", "{bad}");
    }
    let resp = client()
        .get("/v1/widgets")
        .query("limit", &"ten")
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    assert_eq!(p["errors"][0]["field"], "limit", "{p}");
}

#[tokio::test]
async fn a_panic_is_a_generic_500_that_leaks_nothing() {
    let resp = client().get("/v1/explode").send().await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let p = problem(resp).await;
    assert_eq!(p["code"], "internal_error");
    assert!(!p.to_string().contains("hunter2"), "{p}");
    assert!(p["request_id"].is_string());
    // The server keeps serving after a panic.
    client()
        .get("/v1/widgets")
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn an_internal_error_hides_its_cause() {
    let resp = client().get("/v1/database").send().await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let p = problem(resp).await;
    assert!(!p.to_string().contains("relation"), "{p}");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let resp = client()
        .options("/v1/widgets")
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_header("access-control-allow-origin", "https://shop.example.com");
    let resp = client()
        .options("/v1/widgets")
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_ne!(resp.0.status(), StatusCode::OK);
    assert!(
        resp.0
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[test]
fn every_error_kind_maps_to_its_status() {
    assert_eq!(
        ApiError::new(ErrorKind::Conflict, "out_of_stock", "x")
            .problem()
            .status,
        409
    );
    assert_eq!(
        ApiError::new(ErrorKind::PaymentRequired, "payment_declined", "x")
            .problem()
            .status,
        402
    );
}

mod idempotency {
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
        let stack = HttpStack {
            body_limit_bytes: 64 * 1024,
            rate_limits: None,
            trust_forwarded_for: false,
            cors_origins: vec![],
            idempotency: Some(idempotency.clone()),
            authenticator: None,
        };
        let api = poem::IntoEndpoint::into_endpoint(OpenApiService::new(ChargeApi, "test", "1"))
            .data(runs);
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
    );

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
}

mod budgets {
    //! Per-IP, per-user and per-app budgets, with a stand-in authenticator (identity's
    //! real one plugs into the same hook).

    use std::sync::Arc;

    use poem::http::StatusCode;
    use poem::test::TestClient;
    use weft_cache::memory::MemoryStore;
    use weft_cache::{Cache, Ttls};

    use crate::rate_limit::{Budgets, RateLimits};
    use crate::{Authenticator, HttpStack, Principal, PrincipalKind};

    /// Trusts an `x-test-principal: usr_1` header: a test double for token checking.
    struct HeaderAuthenticator;

    #[async_trait::async_trait]
    impl Authenticator for HeaderAuthenticator {
        async fn principal(&self, req: &poem::Request) -> Option<Principal> {
            let id = req
                .headers()
                .get("x-test-principal")?
                .to_str()
                .ok()?
                .to_owned();
            let kind = if id.starts_with("app_") {
                PrincipalKind::App
            } else {
                PrincipalKind::User
            };
            Some(Principal { id, kind })
        }
    }

    fn client(budgets: Budgets) -> TestClient<crate::stack::Edge> {
        let cache = Cache::new(Arc::new(MemoryStore::new(1000)), Ttls::default());
        let stack = HttpStack {
            body_limit_bytes: 1024,
            rate_limits: RateLimits::new(cache, budgets),
            // The in-memory client has no socket address; the test names the client IP.
            trust_forwarded_for: true,
            cors_origins: vec![],
            idempotency: None,
            authenticator: Some(Arc::new(HeaderAuthenticator)),
        };
        let ok = poem::endpoint::make_sync(|_| "ok");
        TestClient::new(stack.wrap(poem::Route::new().at("/v1/things", poem::get(ok))))
    }

    async fn status(
        client: &TestClient<crate::stack::Edge>,
        principal: Option<&str>,
    ) -> StatusCode {
        let mut req = client
            .get("/v1/things")
            .header("x-forwarded-for", "203.0.113.7");
        if let Some(p) = principal {
            req = req.header("x-test-principal", p);
        }
        req.send().await.0.status()
    }

    #[tokio::test]
    async fn a_user_over_budget_is_refused_while_others_on_the_same_ip_are_not() {
        let c = client(Budgets {
            per_ip: 100,
            per_user: 2,
            per_app: 3,
        });
        assert_eq!(status(&c, Some("usr_a")).await, StatusCode::OK);
        assert_eq!(status(&c, Some("usr_a")).await, StatusCode::OK);
        assert_eq!(
            status(&c, Some("usr_a")).await,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            status(&c, Some("usr_b")).await,
            StatusCode::OK,
            "each user has a budget"
        );
        assert_eq!(
            status(&c, None).await,
            StatusCode::OK,
            "guests count only against the IP"
        );
        for _ in 0..3 {
            assert_eq!(
                status(&c, Some("app_x")).await,
                StatusCode::OK,
                "apps have their own, larger budget"
            );
        }
        assert_eq!(
            status(&c, Some("app_x")).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    #[tokio::test]
    async fn the_ip_budget_still_caps_every_caller_behind_it() {
        let c = client(Budgets {
            per_ip: 3,
            per_user: 100,
            per_app: 100,
        });
        for user in ["usr_a", "usr_b", "usr_c"] {
            assert_eq!(status(&c, Some(user)).await, StatusCode::OK);
        }
        assert_eq!(
            status(&c, Some("usr_d")).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
