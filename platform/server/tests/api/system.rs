use weft_sdk::types::{CheckStatus, ReadinessStatus};
use weft_testkit::{Backend, TestApp, backend_tests};

backend_tests!(
    meta_reports_version_topology_and_hosted_services,
    ready_reports_each_dependency_as_up,
    graphql_meta_answers_the_same_as_rest,
    every_answer_carries_security_headers_and_a_request_id,
    metrics_count_requests_by_route_template,
    metrics_send_one_content_type,
    personal_answers_are_never_stored_and_public_reads_keep_their_caching,
);

async fn meta_reports_version_topology_and_hosted_services(app: TestApp) {
    let meta = app
        .client
        .get_meta()
        .send()
        .await
        .expect("meta")
        .into_inner();
    assert_eq!(meta.name, "weft");
    assert_eq!(meta.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(meta.api_version, "v1");
    assert_eq!(meta.topology, "embedded");
    let expected_db = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(meta.database, expected_db);
    assert!(
        meta.services.iter().any(|s| s.name == "gateway"),
        "{:?}",
        meta.services
    );
    assert_eq!(meta.instance_id.len(), 32, "{}", meta.instance_id);
    let expected_cache = match app.backend {
        Backend::Postgres if app.settings.redis_url.is_some() => "redis",
        _ => "memory",
    };
    assert_eq!(
        (meta.cache.as_str(), meta.events.as_str()),
        (expected_cache, "memory"),
        "SQLite runs everything in-process; PostgreSQL tests add Redis when it is configured"
    );
}

async fn ready_reports_each_dependency_as_up(app: TestApp) {
    let live = app
        .client
        .get_health_live()
        .send()
        .await
        .expect("live")
        .into_inner();
    assert_eq!(live.status, CheckStatus::Up);
    let ready = app
        .client
        .get_health_ready()
        .send()
        .await
        .expect("ready")
        .into_inner();
    assert_eq!(ready.status, ReadinessStatus::Up);
    let names: Vec<(&str, &str, bool)> = ready
        .checks
        .iter()
        .map(|c| (c.name.as_str(), c.backend.as_str(), c.required))
        .collect();
    // Each check names what backs it, as the settings chose.
    let s = &app.settings;
    let database = if s.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let cache = if s.redis_url.is_some() {
        "redis"
    } else {
        "memory"
    };
    let events = if s.amqp_url.is_some() {
        "rabbitmq"
    } else {
        "in-process"
    };
    let search = if s.elasticsearch_url.is_some() {
        "elasticsearch"
    } else {
        "tantivy"
    };
    assert_eq!(
        names,
        [
            ("database", database, true),
            ("cache", cache, false),
            ("events", events, false),
            ("search", search, false)
        ]
    );
    assert!(
        ready
            .checks
            .iter()
            .all(|c| c.status == CheckStatus::Up && c.detail.is_none())
    );
}

async fn graphql_meta_answers_the_same_as_rest(app: TestApp) {
    let rest = app
        .client
        .get_meta()
        .send()
        .await
        .expect("meta")
        .into_inner();
    let answer: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(&serde_json::json!({ "query": "{ meta { name version topology instanceId services { name } } }" }))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json");
    let meta = &answer["data"]["meta"];
    assert_eq!(meta["version"], rest.version, "{answer}");
    assert_eq!(meta["instanceId"], rest.instance_id, "{answer}");
    assert_eq!(meta["topology"], "embedded");
}

async fn every_answer_carries_security_headers_and_a_request_id(app: TestApp) {
    for path in ["/v1/meta", "/health/ready", "/no/such/route"] {
        let resp = app.http.get(app.url(path)).send().await.expect("request");
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("content-security-policy"), "{path}");
        assert_eq!(h["x-request-id"].len(), 32, "{path}: a generated id");
    }
    // A client's own id comes back, so it can correlate its logs with ours.
    let resp = app
        .http
        .get(app.url("/v1/meta"))
        .header("x-request-id", "storefront-42.a")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.headers()["x-request-id"], "storefront-42.a");
    // An id that could inject into logs or headers is replaced, not echoed.
    let hostile = "x".repeat(129);
    let resp = app
        .http
        .get(app.url("/v1/meta"))
        .header("x-request-id", &hostile)
        .send()
        .await
        .expect("request");
    assert_ne!(resp.headers()["x-request-id"], hostile.as_str());
    let resp = app
        .http
        .get(app.url("/v1/meta"))
        .header("x-request-id", "a b\"c")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.headers()["x-request-id"].len(), 32);
}

async fn metrics_count_requests_by_route_template(app: TestApp) {
    app.client.get_meta().send().await.expect("meta");
    let _ = app
        .http
        .get(app.url("/v1/products/prod_does_not_exist"))
        .send()
        .await;
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains("route=\"/v1/meta\"")
            && l.contains("status=\"200\"")),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "latency histogram: {text}"
    );
    assert!(
        text.contains("route=\"unmatched\""),
        "unknown paths share one label: {text}"
    );
    assert!(
        !text.contains("prod_does_not_exist"),
        "raw paths never become labels"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_answers_503_naming_the_database_when_it_goes_away() {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let Some(admin_url) = weft_testkit::postgres_admin_url() else {
        return;
    };
    let app = weft_testkit::spawn_app(Backend::Postgres).await.unwrap();
    assert_eq!(
        app.client.get_health_ready().send().await.unwrap().status(),
        200
    );

    // Take the database away under the running app: its connections die, new ones fail.
    let name = app
        .settings
        .database_url
        .as_deref()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let mut admin = AsyncPgConnection::establish(&admin_url).await.unwrap();
    diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();

    let resp = app.http.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "down");
    assert_eq!(body["checks"][0]["name"], "database");
    assert_eq!(body["checks"][0]["required"], true);
    assert_eq!(body["checks"][0]["status"], "down");
    assert!(
        !body.to_string().contains(&name),
        "no connection details leak: {body}"
    );
    // Liveness is about the process, which is fine.
    assert_eq!(
        app.http
            .get(app.url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn metrics_send_one_content_type(app: TestApp) {
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    let types: Vec<&str> = resp
        .headers()
        .get_all("content-type")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(types, ["text/plain; version=0.0.4; charset=utf-8"]);
}

async fn personal_answers_are_never_stored_and_public_reads_keep_their_caching(app: TestApp) {
    let shopper = crate::support::customer(&app, "private@example.com").await;
    let cart: serde_json::Value = app
        .http
        .post(app.url("/v1/carts"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cart_path = format!("/v1/carts/{}", cart["id"].as_str().unwrap());
    let personal = [
        ("a customer's account", "/v1/me", true),
        ("a customer's addresses", "/v1/me/addresses", true),
        ("a customer's orders", "/v1/orders", true),
        ("a missing order of a customer", "/v1/orders/ord_0", true),
        ("a guest's cart", cart_path.as_str(), false),
    ];
    for (case, path, signed_in) in personal {
        let mut request = app.http.get(app.url(path));
        if signed_in {
            request = request.bearer_auth(&shopper.access_token);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(
            resp.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{case}: {path} → {}",
            resp.status()
        );
    }
    // Sign-up answers tokens: never stored either (the sign-up above was one; again raw).
    let resp = app
        .http
        .post(app.url("/v1/auth/login"))
        .json(
            &serde_json::json!({"email": "private@example.com", "password": "linen-and-wool-2026"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store", "tokens");

    // A guest's catalog read is the shop's, not a person's: no no-store.
    let resp = app
        .http
        .get(app.url("/v1/products?limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_ne!(
        resp.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store"),
        "public catalog reads"
    );
}
