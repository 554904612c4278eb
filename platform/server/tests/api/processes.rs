//! Tests about processes: the cluster topology's gateway in front of a service, recovery
//! after SIGKILL, and an orderly stop on SIGTERM. These run the real `weft` binary.

use std::path::Path;
use std::time::Duration;

use weft_testkit::WeftProcess;

pub(crate) fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_weft"))
}

/// `weft migrate` on the SQLite file under `data_dir` (of every service, or of one).
pub(crate) fn migrate(data_dir: &Path, service: Option<&str>) {
    let mut cmd = std::process::Command::new(bin());
    cmd.arg("migrate")
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL");
    if let Some(service) = service {
        cmd.args(["--service", service]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The tables of the SQLite file under `data_dir`, one name a line.
pub(crate) fn tables(data_dir: &Path) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(data_dir.join("weft.db"))
        .arg("SELECT name FROM sqlite_master WHERE type = 'table'")
        .output()
        .expect("sqlite3 is installed");
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn meta(base: &str) -> weft_sdk::types::Meta {
    weft_sdk::Client::new(base)
        .get_meta()
        .send()
        .await
        .expect("meta")
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_forwards_to_a_service_process_and_propagates_the_request_id() {
    let service_dir = tempfile::tempdir().unwrap();
    let gateway_dir = tempfile::tempdir().unwrap();
    let service = WeftProcess::serve(
        bin(),
        &["--data-dir", service_dir.path().to_str().unwrap()],
        &[],
    );
    migrate(gateway_dir.path(), Some("gateway"));
    let upstream = service.address();
    let gateway = WeftProcess::serve(
        bin(),
        &[
            "--service",
            "gateway",
            "--data-dir",
            gateway_dir.path().to_str().unwrap(),
        ],
        &[("WEFT_GATEWAY__UPSTREAMS__META", upstream.as_str())],
    );

    // The answer comes from the service process: it is the embedded one with its own id.
    let direct = meta(&service.address()).await;
    let via_gateway = meta(&gateway.address()).await;
    assert_eq!(via_gateway.instance_id, direct.instance_id);
    assert_eq!(via_gateway.topology, "embedded");

    // A client's request id reaches the service and comes back.
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("{}/v1/meta", gateway.address()))
        .header("x-request-id", "gw-propagation-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "gw-propagation-1");
    let line = service
        .wait_for_log("gw-propagation-1", Duration::from_secs(5))
        .expect("service logged the id");
    assert!(line.contains("/v1/meta"), "{line}");

    // Without one, the gateway's generated id is the one the service logs.
    let resp = http
        .get(format!("{}/v1/meta", gateway.address()))
        .send()
        .await
        .unwrap();
    let generated = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(
        service
            .wait_for_log(&generated, Duration::from_secs(5))
            .is_some(),
        "{generated} reached the service"
    );

    // Paths without an upstream are the gateway's own: its meta says cluster.
    let own = http
        .get(format!("{}/health/ready", gateway.address()))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let missing = http
        .get(format!("{}/v1/nothing", gateway.address()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // Cluster-internal endpoints are not at the front door: 404 to anyone, a guest or a
    // customer with a broken body included, never the 401/403 that says they exist.
    for (token, body) in [(None, "{"), (Some("Bearer not-a-token"), "[]")] {
        let mut req = http
            .post(format!("{}/v1/internal/holds", gateway.address()))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            req = req.header("authorization", token);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 404, "{token:?}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }

    // A dead upstream is a 502 problem, not a hang or a plain-text error.
    drop(service);
    let resp = http
        .get(format!("{}/v1/meta", gateway.address()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "upstream_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_spreads_requests_over_replicas_skips_a_killed_one_and_then_opens_its_breaker()
{
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut replicas: Vec<WeftProcess> = dirs
        .iter()
        .map(|d| WeftProcess::serve(bin(), &["--data-dir", d.path().to_str().unwrap()], &[]))
        .collect();
    let ids = [
        meta(&replicas[0].address()).await.instance_id,
        meta(&replicas[1].address()).await.instance_id,
    ];
    let gateway_dir = tempfile::tempdir().unwrap();
    migrate(gateway_dir.path(), Some("gateway"));
    let both = format!("{},{}", replicas[0].address(), replicas[1].address());
    let gateway = WeftProcess::serve(
        bin(),
        &[
            "--service",
            "gateway",
            "--data-dir",
            gateway_dir.path().to_str().unwrap(),
        ],
        &[
            ("WEFT_GATEWAY__UPSTREAMS__META", both.as_str()),
            // Every catalog path, demo pictures included, by the service's own list.
            ("WEFT_GATEWAY__SERVICES__CATALOG", both.as_str()),
            ("WEFT_GATEWAY__BREAKER_FAILURES", "3"),
            ("WEFT_GATEWAY__BREAKER_OPEN_SECONDS", "60"),
            ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
        ],
    );
    let front = gateway.address();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(meta(&front).await.instance_id);
    }
    assert_eq!(
        seen,
        [&ids[0], &ids[1], &ids[0], &ids[1]].map(String::clone),
        "in turn"
    );
    let http = reqwest::Client::new();
    for path in ["/v1/products?limit=1", "/media/demo/tee--red.svg"] {
        let resp = http.get(format!("{front}{path}")).send().await.unwrap();
        assert_ne!(resp.status(), 404, "{path} is forwarded");
    }

    // One replica dies: every request, a POST included, is answered by the other.
    replicas[0].kill();
    for _ in 0..6 {
        assert_eq!(meta(&front).await.instance_id, ids[1]);
    }
    for _ in 0..2 {
        // Refused by the live replica's catalog (a dead one would be a 502).
        let post = http
            .post(format!("{front}/v1/products"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 405);
    }
    // A service with no upstream is not the gateway's own either.
    let login = http
        .post(format!("{front}/v1/auth/login"))
        .json(&serde_json::json!({"email": "nobody@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 404);

    // Both dead: 502s until the breaker opens, then 503 at once with Retry-After.
    replicas[1].kill();
    for _ in 0..3 {
        let resp = http.get(format!("{front}/v1/meta")).send().await.unwrap();
        assert_eq!(resp.status(), 502);
    }
    let started = std::time::Instant::now();
    let resp = http.get(format!("{front}/v1/meta")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "upstream_unavailable");
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_process_serves_its_own_routes_only() {
    let dir = tempfile::tempdir().unwrap();
    migrate(dir.path(), Some("inventory"));
    let inventory = WeftProcess::serve(
        bin(),
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--service",
            "inventory",
        ],
        &[("WEFT_RATE_LIMIT_PER_MINUTE", "0")],
    );
    let http = reqwest::Client::new();
    let at = |path: &str| format!("{}{path}", inventory.address());
    let hosted = meta(&inventory.address()).await;
    assert_eq!(
        hosted
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        ["inventory"]
    );
    // Other services' routes are not mounted: 404 problems, to guests and to callers
    // with credentials alike, never an answer from this process's empty tables.
    for path in [
        "/v1/products",
        "/v1/products/prod_1",
        "/v1/search/products?q=tee",
        "/v1/carts/cart_1",
        "/v1/orders",
        "/v1/admin/orders",
        "/v1/internal/orders",
        "/media/demo/tee--red.svg",
    ] {
        for token in [None, Some("Bearer not-a-token")] {
            let mut req = http.get(at(path));
            if let Some(token) = token {
                req = req.header("authorization", token);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 404, "{path} {token:?}");
            assert_eq!(
                resp.headers()["content-type"],
                "application/problem+json",
                "{path}"
            );
        }
    }
    // GraphQL answers its own service's fields; another's, with no gateway route to
    // reach it, is an error, never an answer from this process's empty tables.
    let graphql: serde_json::Value = http
        .post(at("/graphql"))
        .json(&serde_json::json!({"query": "{ products(first: 1) { totalCount } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(graphql["data"], serde_json::Value::Null, "{graphql}");
    assert_eq!(
        graphql["errors"][0]["extensions"]["code"], "service_not_hosted",
        "{graphql}"
    );
    let graphql: serde_json::Value = http
        .post(at("/graphql"))
        .json(&serde_json::json!({"query": "{ meta { services { name } } products(first: 1) { totalCount } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        graphql["data"],
        serde_json::Value::Null,
        "products cannot be null: {graphql}"
    );
    assert_eq!(graphql["errors"][0]["path"][0], "products", "{graphql}");
    let malformed = http
        .post(at("/graphql"))
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let problem: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(problem["code"], "malformed_json", "{problem}");
    // Its own routes answer, and its internal ones refuse anyone without the
    // `internal` scope (before reading the body).
    let stock = http
        .get(at("/v1/inventory?variant_ids=nonsense"))
        .send()
        .await
        .unwrap();
    assert_eq!(stock.status(), 422, "mounted: {:?}", stock.text().await);
    for (credential, body) in [
        (None, "{"),
        (Some(("authorization", "Bearer not-a-token")), "[]"),
        (Some(("x-api-key", "wk_live_forged")), "{}"),
    ] {
        let mut req = http
            .post(at("/v1/internal/holds"))
            .header("content-type", "application/json")
            .body(body);
        if let Some((name, value)) = credential {
            req = req.header(name, value);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{credential:?}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
    }
    assert_eq!(
        http.get(at("/health/ready")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_with_sigkill_restarts_on_the_same_data_with_nothing_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let mut first = WeftProcess::serve(bin(), &["--data-dir", &data_dir], &[]);
    let before = meta(&first.address()).await;
    // Traffic in flight when the process dies.
    let http = reqwest::Client::new();
    let address = first.address();
    let load = tokio::spawn(async move {
        for _ in 0..200 {
            let _ = http.get(format!("{address}/health/ready")).send().await;
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    first.kill();
    let _ = load.await;
    assert!(dir.path().join("weft.db").exists());

    let second = WeftProcess::serve(bin(), &["--data-dir", &data_dir], &[]);
    let ready = reqwest::get(format!("{}/health/ready", second.address()))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let after = meta(&second.address()).await;
    assert_eq!(
        after.instance_id, before.instance_id,
        "the installation survived"
    );
    drop(second);

    let db = weft_storage::Db::sqlite(&dir.path().join("weft.db"), 1)
        .await
        .unwrap();
    assert_eq!(db.integrity_check().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut process = WeftProcess::serve(bin(), &["--data-dir", dir.path().to_str().unwrap()], &[]);
    assert_eq!(meta(&process.address()).await.name, "weft");
    let status = process.signal_and_wait(15);
    assert!(status.success(), "{status:?}");
    assert!(
        process
            .wait_for_log("weft stopped", Duration::from_secs(2))
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_shutdown_still_gets_its_answer() {
    let app = weft_testkit::spawn_app(weft_testkit::Backend::Sqlite)
        .await
        .unwrap();
    let url = app.url("/graphql");
    let http = app.http.clone();
    // A client still uploading its body when shutdown begins.
    let parts = [r#"{"query": "#, r#""{ meta { name } }""#, "}"];
    let slow_body = futures::stream::unfold(0usize, move |i| async move {
        if i >= parts.len() {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        Some((Ok::<_, std::io::Error>(parts[i].as_bytes().to_vec()), i + 1))
    });
    let in_flight = tokio::spawn(async move {
        http.post(url)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(slow_body))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let address = app.address.clone();
    app.stop().await.unwrap();

    let resp = in_flight
        .await
        .unwrap()
        .expect("the in-flight request was answered");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["data"]["meta"]["name"], "weft");
    assert!(
        reqwest::get(format!("{address}/health/live"))
            .await
            .is_err(),
        "no new connections after shutdown"
    );
}

/// A stand-in OTLP/HTTP collector: it records what arrives at `/v1/traces` and answers
/// 200 as a collector does; the assertion is on what weft sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_when_an_endpoint_is_configured() {
    let (endpoint, spans) = span_collector().await;
    let dir = tempfile::tempdir().unwrap();
    let mut process = WeftProcess::serve(
        bin(),
        &["--data-dir", dir.path().to_str().unwrap()],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())],
    );
    for _ in 0..3 {
        meta(&process.address()).await;
    }
    // Shutdown flushes the batch.
    assert!(process.signal_and_wait(15).success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let spans = spans.lock().unwrap().clone();
    // The collector decoded them as OTLP protobuf.
    let requests = spans.iter().filter(|s| s.4 == "request").count();
    assert!(requests >= 3, "{spans:#?}");
}

/// One exported span: (service.name, trace id, span id, parent span id, name), ids in hex.
pub(crate) type SpanRow = (String, String, String, String, String);

/// An OTLP/HTTP collector that decodes what it receives into [`SpanRow`]s.
pub(crate) async fn span_collector() -> (String, std::sync::Arc<std::sync::Mutex<Vec<SpanRow>>>) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    use poem::listener::{Acceptor, Listener};
    use prost::Message as _;
    let spans = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = spans.clone();
    let hex = |bytes: &[u8]| {
        use std::fmt::Write as _;
        bytes.iter().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    };
    let route = poem::Route::new().at(
        "/v1/traces",
        poem::post(poem::endpoint::make(move |req: poem::Request| {
            let sink = sink.clone();
            async move {
                let body = req.into_body().into_vec().await.unwrap_or_default();
                let export = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
                for resource in export.resource_spans {
                    let service = resource
                        .resource
                        .iter()
                        .flat_map(|r| &r.attributes)
                        .find(|kv| kv.key == "service.name")
                        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                            Value::StringValue(s) => Some(s.clone()),
                            _ => None,
                        })
                        .unwrap_or_default();
                    for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
                        sink.lock().unwrap().push((
                            service.clone(),
                            hex(&span.trace_id),
                            hex(&span.span_id),
                            hex(&span.parent_span_id),
                            span.name,
                        ));
                    }
                }
                poem::Response::builder()
                    .content_type("application/x-protobuf")
                    .finish()
            }
        })),
    );
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(route));
    (format!("http://127.0.0.1:{port}"), spans)
}

/// A request through the gateway is one trace: the client's `traceparent` is continued by
/// the gateway's request span, whose context the gateway passes on, so the service
/// process's request span is its child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_through_the_gateway_is_one_trace_across_processes() {
    let (endpoint, spans) = span_collector().await;
    let otlp = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())];
    let shop_dir = tempfile::tempdir().unwrap();
    let mut shop = WeftProcess::serve(
        bin(),
        &["--data-dir", shop_dir.path().to_str().unwrap()],
        &otlp,
    );
    let gateway_dir = tempfile::tempdir().unwrap();
    migrate(gateway_dir.path(), Some("gateway"));
    let upstream = shop.address();
    let mut gateway = WeftProcess::serve(
        bin(),
        &[
            "--service",
            "gateway",
            "--data-dir",
            gateway_dir.path().to_str().unwrap(),
        ],
        &[
            otlp[0],
            ("WEFT_GATEWAY__SERVICES__CATALOG", upstream.as_str()),
            ("WEFT_GATEWAY__SERVICES__CART", upstream.as_str()),
        ],
    );
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let http = reqwest::Client::new();
    let listed = http
        .get(format!("{}/v1/products?limit=1", gateway.address()))
        .header("traceparent", format!("00-{trace_id}-{client_span}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let other = http
        .post(format!("{}/v1/carts", gateway.address()))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 201);
    // A write's events carry its trace: the consumers that apply them continue it.
    let admin = crate::support::enrolled_admin_at(
        &shop.address(),
        shop_dir.path(),
        "trace-admin@example.com",
    )
    .await;
    let write_trace = "0af7651916cd43dd8448eb211c80319c";
    let created = http
        .post(format!("{}/v1/admin/products", shop.address()))
        .bearer_auth(&admin.access_token)
        .header(
            "traceparent",
            format!("00-{write_trace}-b7ad6b7169203331-01"),
        )
        .json(&serde_json::json!({
            "title": "Traced Tee", "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": "TRACE-M", "options": {"size": "M"},
                          "prices": [{"currency": "USD", "amount": 1500}]}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    // Until the catalog's consumers have applied it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = http
            .get(format!("{}/metrics", shop.address()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let applied = metrics.lines().any(|l| {
            l.starts_with("bus_events_handled_total{")
                && l.contains("catalog-cache")
                && l.contains("applied")
        });
        if applied || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Shutdown flushes each process's batch.
    assert!(gateway.signal_and_wait(15).success());
    assert!(shop.signal_and_wait(15).success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let spans = spans.lock().unwrap().clone();
    let in_trace: Vec<&SpanRow> = spans.iter().filter(|s| s.1 == trace_id).collect();
    let front = in_trace
        .iter()
        .find(|s| s.0 == "weft-gateway" && s.4 == "request")
        .unwrap_or_else(|| panic!("no gateway span in the client's trace: {spans:#?}"));
    assert_eq!(
        front.3, client_span,
        "the gateway continues the client's span"
    );
    let served = in_trace
        .iter()
        .find(|s| s.0 != "weft-gateway" && s.4 == "request")
        .unwrap_or_else(|| panic!("no service span in the client's trace: {spans:#?}"));
    assert_eq!(
        served.3, front.2,
        "the service's span is the gateway's child"
    );
    let consumed: Vec<&SpanRow> = spans
        .iter()
        .filter(|s| s.1 == write_trace && s.4 == "consume")
        .collect();
    assert!(
        !consumed.is_empty(),
        "no consumer span in the write's trace: {spans:#?}"
    );
    // The cart request without a traceparent is a trace of its own, across both too.
    let roots: Vec<&SpanRow> = spans
        .iter()
        .filter(|s| s.0 == "weft-gateway" && s.1 != trace_id && s.3.chars().all(|c| c == '0'))
        .collect();
    assert!(
        roots.iter().any(|root| spans
            .iter()
            .any(|s| s.0 != "weft-gateway" && s.1 == root.1 && s.3 == root.2)),
        "{spans:#?}"
    );
}

/// A cart process of a cluster on a database of its own: it prices lines and checks
/// stock by asking the catalog and inventory of another process over HTTP (with an API
/// key), never their tables; a peer that goes away is a clean 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cart_process_prices_lines_through_its_peers_over_http() {
    use serde_json::json;
    let shop = weft_testkit::spawn_app(weft_testkit::Backend::Sqlite)
        .await
        .unwrap();
    let (session, _, _) = crate::support::enrolled_admin(&shop, "peers@example.com").await;
    let admin = crate::support::authed(&shop, &session.access_token);
    let product = admin
        .create_product()
        .body(
            serde_json::from_value::<weft_sdk::types::CreateProductRequest>(json!({
                "title": "Peer Tee", "brand": "Plain", "status": "active",
                "options": [{"name": "size", "values": ["M"]}],
                "variants": [{"sku": "PEER-M", "options": {"size": "M"},
                              "prices": [{"currency": "USD", "amount": 2500}]}]
            }))
            .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    let variant = product.variants[0].id.clone();
    admin
        .set_inventory()
        .variant_id(&variant)
        .body(
            serde_json::from_value::<weft_sdk::types::SetStockRequest>(json!({"on_hand": 3}))
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let key = admin
        .create_api_key()
        .body(weft_sdk::types::CreateCredentialRequest {
            name: "cart service".into(),
            scopes: vec!["catalog:read".into()],
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .key;

    let dir = tempfile::tempdir().unwrap();
    migrate(dir.path(), Some("cart"));
    // Without the peers' addresses a cart process refuses to start, naming the setting.
    let refused = std::process::Command::new(bin())
        .args(["serve", "--port", "0", "--service", "cart", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr).to_string()
        + &String::from_utf8_lossy(&refused.stdout);
    assert!(said.contains("peers.catalog"), "{said}");
    let cart_process = WeftProcess::serve(
        bin(),
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--service",
            "cart",
        ],
        &[
            ("WEFT_PEERS__CATALOG", shop.address.as_str()),
            ("WEFT_PEERS__INVENTORY", shop.address.as_str()),
            ("WEFT_PEERS__API_KEY", key.as_str()),
            ("WEFT_PEERS__TIMEOUT_SECONDS", "2"),
            ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
        ],
    );
    let carts = weft_sdk::Client::new(&cart_process.address());
    let cart = carts
        .create_cart()
        .body(serde_json::from_value::<weft_sdk::types::CreateCartRequest>(json!({})).unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    let filled = carts
        .add_cart_item()
        .id(&cart.id)
        .body(
            serde_json::from_value::<weft_sdk::types::AddItemRequest>(
                json!({"variant_id": variant, "quantity": 2}),
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(filled.items[0].title, "Peer Tee");
    assert_eq!(filled.subtotal.amount, 5000);
    let p = crate::support::problem_of(
        carts
            .add_cart_item()
            .id(&cart.id)
            .body(
                serde_json::from_value::<weft_sdk::types::AddItemRequest>(
                    json!({"variant_id": variant, "quantity": 2}),
                )
                .unwrap(),
            )
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (409, "out_of_stock"),
        "3 on hand"
    );

    // A price change in the catalog shows at the cart's next read.
    admin
        .update_variant()
        .id(&variant)
        .body(
            serde_json::from_value::<weft_sdk::types::UpdateVariantRequest>(
                json!({"prices": [{"currency": "USD", "amount": 2000}]}),
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let read = carts
        .get_cart()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.subtotal.amount, 4000);

    // The cart process's database holds carts, not the catalog.
    let tables = tables(dir.path());
    assert!(tables.contains("cart_carts"), "{tables}");
    assert!(
        !tables.contains("catalog_"),
        "no catalog tables in the cart's database: {tables}"
    );

    // The peers go away: reads fail cleanly, within the timeout and its retries.
    shop.stop().await.unwrap();
    let started = std::time::Instant::now();
    let p = crate::support::problem_of(carts.get_cart().id(&cart.id).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (503, "upstream_unavailable"));
    assert!(p.detail.contains("catalog"), "{}", p.detail);
    assert!(started.elapsed() < Duration::from_secs(10));
}
