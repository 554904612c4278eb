//! The whole cluster, end to end: a gateway and one process per service (two replicas of
//! the catalog and of checkout) on PostgreSQL, Redis and RabbitMQ, used only through the
//! gateway and the SDK, while a catalog replica and the inventory process are killed
//! with SIGKILL and restarted. Nothing that was answered 2xx is lost, no order is lost or
//! doubled, nothing is charged twice, and stock adds up. Only identity holds the signing
//! keys: the others verify tokens by its published keys and ask it about API keys, and
//! the gateway refuses a credential that does not check out. Every process exports its spans
//! to one collector, so the test also shows that a checkout is one trace across the
//! gateway, checkout, inventory, payments and orders processes, and that the restock
//! after a cancel joins the cancel's trace.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use weft_sdk::types::{
    AddItemRequest, CancelOrderRequest, CreateCartRequest, CreateCheckoutRequest,
    CreateCredentialRequest, ReviewRequest, UpdateCheckoutRequest, UpdateProductRequest,
};
use weft_testkit::{WeftProcess, in_ci};

use crate::processes::{SpanRow, bin, span_collector};
use crate::purchase::{complete, stock, variant};
use crate::support::{authed_at, registration};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn required(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(!in_ci(), "{name} is unset under CI=true");
            eprintln!("skipped: {name} unset (the whole-cluster test needs it)");
            None
        }
    }
}

/// A free port for a process whose address others need before it starts. Below Linux's
/// ephemeral range (32768 and up), so no outgoing connection or `--port 0` listener takes
/// it meanwhile.
fn free_port() -> u16 {
    let seed = uuid::Uuid::now_v7().as_u128();
    (0..1000u128)
        .map(|i| u16::try_from(20_000 + (seed + i * 7919) % 12_000).unwrap())
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port below the ephemeral range")
}

fn california() -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Market St", "city": "San Francisco",
           "region": "CA", "postal_code": "94105", "country": "US"})
}

/// A client sending `traceparent` with every request: (client, trace id).
fn traced(address: &str, token: Option<&str>) -> (weft_sdk::Client, String) {
    let trace = uuid::Uuid::now_v7().simple().to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "traceparent",
        format!("00-{trace}-00f067aa0ba902b7-01").parse().unwrap(),
    );
    if let Some(token) = token {
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    (weft_sdk::Client::new_with_client(address, http), trace)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The socket's next JSON message, within 10 s.
async fn heard(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Writes every process's log to a directory of its own and says where: a cluster's
/// failure is read across processes.
fn keep_logs(processes: &[(&str, &WeftProcess)]) -> String {
    let dir = std::env::temp_dir().join(format!("weft-cluster-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, process) in processes {
        let path = dir.join(format!("{name}-{}.log", process.port));
        std::fs::write(path, process.logs().join("\n")).unwrap();
    }
    format!("process logs in {}", dir.display())
}

/// What a buyer under chaos got for one purchase.
#[derive(Debug)]
struct Attempt {
    checkout: String,
    key: String,
    /// The order a 2xx completion answered, if one did.
    order: Option<String>,
}

/// One guest purchase of one unit through `front`; `None` when the cart or checkout could
/// not be made (a peer down), the attempt otherwise, answered or not.
async fn buy(front: &weft_sdk::Client, variant: &str) -> Option<Attempt> {
    let cart = front
        .create_cart()
        .body(body::<CreateCartRequest>(json!({})))
        .send()
        .await
        .ok()?
        .into_inner()
        .id;
    front
        .add_cart_item()
        .id(&cart)
        .body(body::<AddItemRequest>(
            json!({"variant_id": variant, "quantity": 1}),
        ))
        .send()
        .await
        .ok()?;
    let checkout = front
        .create_checkout()
        .body(body::<CreateCheckoutRequest>(json!({"cart_id": cart})))
        .send()
        .await
        .ok()?
        .into_inner()
        .id;
    front
        .update_checkout()
        .id(&checkout)
        .body(body::<UpdateCheckoutRequest>(json!({
            "email": "chaos@example.com", "shipping_address": california(),
            "shipping_method_id": "standard"
        })))
        .send()
        .await
        .ok()?;
    let key = format!("chaos-{checkout}");
    let order = match complete(front, &checkout, "tok_visa", &key).await {
        Ok(done) => Some(done.into_inner().order.expect("a 2xx has its order").id),
        Err(_) => None,
    };
    Some(Attempt {
        checkout,
        key,
        order,
    })
}

/// Asks again, with the same key, until the completion has its final answer: the order,
/// or a refusal that will not change (sold out, for one).
async fn settle(front: &weft_sdk::Client, attempt: &Attempt) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match complete(front, &attempt.checkout, "tok_visa", &attempt.key).await {
            Ok(done) => return Some(done.into_inner().order.expect("its order").id),
            Err(weft_sdk::Error::ErrorResponse(p))
                if p.status().as_u16() < 500
                    && !["checkout_in_progress", "idempotency_key_in_use"]
                        .contains(&p.code.as_str()) =>
            {
                return None;
            }
            Err(err) => {
                assert!(
                    Instant::now() < deadline,
                    "{} never settled: {err:?}",
                    attempt.checkout
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Every order of the shop, through the back office.
async fn all_orders(admin: &weft_sdk::Client) -> Vec<weft_sdk::types::Order> {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = admin.list_orders().limit(100);
        if let Some(c) = &cursor {
            req = req.cursor(c);
        }
        let page = req.send().await.unwrap().into_inner();
        orders.extend(page.data);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return orders,
        }
    }
}

/// The admin made by `weft admin create` on the cluster's database, signed in and
/// enrolled in TOTP at `address`: its access token.
async fn admin_token(address: &str, env: &[(&str, &str)]) -> String {
    let (email, password) = ("cluster-admin@example.com", "tailor-made-2026!");
    let out = std::process::Command::new(bin())
        .args(["admin", "create", "--email", email])
        .envs(env.iter().copied())
        .env("WEFT_ADMIN_PASSWORD", password)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::support::enrol(&weft_sdk::Client::new(address), address, email, password)
        .await
        .0
        .access_token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one story, told in order
async fn the_whole_cluster_sells_through_its_gateway_while_processes_are_killed() {
    let Some(admin_url) = weft_testkit::postgres_admin_url() else {
        return;
    };
    let (Some(redis), Some(amqp)) = (
        required("WEFT_TEST_REDIS_URL"),
        required("WEFT_TEST_AMQP_URL"),
    ) else {
        return;
    };
    let database = weft_storage::testing::TestDatabase::postgres(&admin_url)
        .await
        .unwrap();
    let database_url = database.url().unwrap().to_owned();
    let namespace = format!("wc{}", uuid::Uuid::now_v7().simple());
    let keys = tempfile::tempdir().unwrap();
    let keys_dir = keys.path().to_str().unwrap().to_owned();
    let (collector, spans) = span_collector().await;
    let shared: Vec<(&str, &str)> = vec![
        ("WEFT_DATABASE_URL", &database_url),
        ("WEFT_REDIS_URL", &redis),
        ("WEFT_AMQP_URL", &amqp),
        ("WEFT_NAMESPACE", &namespace),
        ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector),
        // Sent within moments: a process killed later must have exported its spans.
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
    ];
    let out = std::process::Command::new(bin())
        .arg("migrate")
        .envs(shared.iter().copied())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let dirs: Vec<tempfile::TempDir> = (0..13).map(|_| tempfile::tempdir().unwrap()).collect();
    let dir = |i: usize| dirs[i].path().to_str().unwrap().to_owned();
    let start = |service: &str, i: usize, extra: &[(&str, &str)]| {
        let mut env = shared.clone();
        env.extend_from_slice(extra);
        WeftProcess::serve(bin(), &["--service", service, "--data-dir", &dir(i)], &env)
    };

    // Identity first: the cluster's API key is made through it.
    // Only identity has the signing keys: the other processes verify its tokens by the
    // keys it publishes, and ask it about API keys (`peers.identity`).
    let signing = [("WEFT_KEYS_DIR", keys_dir.as_str())];
    let identity = start("identity", 0, &signing);
    let token = admin_token(&identity.address(), &[shared.as_slice(), &signing].concat()).await;
    let internal = authed_at(&identity.address(), &token)
        .create_api_key()
        .body(CreateCredentialRequest {
            name: "cluster".into(),
            scopes: vec!["internal".into(), "catalog:read".into()],
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .key;
    let identity_at = identity.address();
    let members = [
        ("WEFT_PEERS__IDENTITY", identity_at.as_str()),
        ("WEFT_PEERS__API_KEY", internal.as_str()),
    ];
    let member = |service: &str, i: usize, extra: &[(&str, &str)]| {
        start(service, i, &[members.as_slice(), extra].concat())
    };
    let gateway_port = free_port();
    let front_door = format!("http://127.0.0.1:{gateway_port}");
    // Catalog processes show products' reviews through the front door.
    let to_reviews = [("WEFT_PEERS__REVIEWS", front_door.as_str())];
    let mut catalogs = [
        member("catalog", 1, &to_reviews),
        member("catalog", 2, &to_reviews),
    ];
    let mut inventory = member("inventory", 3, &[]);
    let payments = member("payments", 4, &[]);
    let order_process = member(
        "orders",
        5,
        &[("WEFT_PEERS__PAYMENTS", payments.address().as_str())],
    );
    let inventory_at = inventory.address();
    // The cart reads the catalog through the front door, which spreads over its replicas.
    let cart = member(
        "cart",
        6,
        &[
            ("WEFT_PEERS__CATALOG", front_door.as_str()),
            ("WEFT_PEERS__INVENTORY", inventory_at.as_str()),
        ],
    );
    let checkout_peers = [
        ("WEFT_PEERS__CART", cart.address().as_str()),
        ("WEFT_PEERS__INVENTORY", inventory_at.as_str()),
        ("WEFT_PEERS__PAYMENTS", payments.address().as_str()),
        ("WEFT_PEERS__ORDERS", order_process.address().as_str()),
        ("WEFT_CHECKOUT__RECOVERY_INTERVAL_SECONDS", "1"),
        ("WEFT_CHECKOUT__SAGA_LEASE_SECONDS", "5"),
    ]
    .map(|(k, v)| (k, v.to_owned()));
    let checkout_env: Vec<(&str, &str)> = checkout_peers
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let checkouts = [
        member("checkout", 7, &checkout_env),
        member("checkout", 8, &checkout_env),
    ];
    // Reviews resolve products through the front door, as the cart does.
    let reviews = member(
        "reviews",
        10,
        &[("WEFT_PEERS__CATALOG", front_door.as_str())],
    );
    // Webhooks deliver to this test's receiver, on 127.0.0.1 over plain HTTP.
    let webhooks = member(
        "webhooks",
        11,
        &[
            ("WEFT_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
            ("WEFT_WEBHOOKS__REQUIRE_HTTPS", "false"),
        ],
    );
    // Notifications e-mail a real SMTP server (aiosmtpd) this test starts.
    let sink = match crate::notifications::python() {
        Some(python) => {
            let mut sink = crate::notifications::SmtpSink::stopped(python);
            sink.start(0).await;
            Some(sink)
        }
        None => None,
    };
    let smtp_port = sink
        .as_ref()
        .map(|s| s.port.to_string())
        .unwrap_or_default();
    // It fetches the invoices it attaches to confirmations from the orders process.
    let orders_at = order_process.address();
    let smtp = [
        ("WEFT_NOTIFICATIONS__EMAIL_TRANSPORT", "smtp"),
        ("WEFT_NOTIFICATIONS__SMTP_HOST", "127.0.0.1"),
        ("WEFT_NOTIFICATIONS__SMTP_PORT", smtp_port.as_str()),
        ("WEFT_NOTIFICATIONS__SMTP_SECURITY", "none"),
        ("WEFT_PEERS__ORDERS", orders_at.as_str()),
    ];
    let notifications = member(
        "notifications",
        12,
        if sink.is_some() { &smtp } else { &smtp[4..] },
    );
    let replicas =
        |ps: &[&WeftProcess]| ps.iter().map(|p| p.address()).collect::<Vec<_>>().join(",");
    let routes = [
        ("WEFT_GATEWAY__SERVICES__IDENTITY", identity.address()),
        (
            "WEFT_GATEWAY__SERVICES__CATALOG",
            replicas(&[&catalogs[0], &catalogs[1]]),
        ),
        ("WEFT_GATEWAY__SERVICES__INVENTORY", inventory.address()),
        ("WEFT_GATEWAY__SERVICES__CART", cart.address()),
        ("WEFT_GATEWAY__SERVICES__PAYMENTS", payments.address()),
        ("WEFT_GATEWAY__SERVICES__ORDERS", order_process.address()),
        ("WEFT_GATEWAY__SERVICES__REVIEWS", reviews.address()),
        ("WEFT_GATEWAY__SERVICES__WEBHOOKS", webhooks.address()),
        (
            "WEFT_GATEWAY__SERVICES__NOTIFICATIONS",
            notifications.address(),
        ),
        (
            "WEFT_GATEWAY__SERVICES__CHECKOUT",
            replicas(&[&checkouts[0], &checkouts[1]]),
        ),
        ("WEFT_GATEWAY__BREAKER_OPEN_SECONDS", "2".to_owned()),
        // Debug builds beside other tests on two cores: a slow answer is not this
        // test's subject.
        ("WEFT_GATEWAY__TIMEOUT_SECONDS", "30".to_owned()),
    ];
    let mut gateway_env = [shared.as_slice(), &members].concat();
    gateway_env.extend(routes.iter().map(|(k, v)| (*k, v.as_str())));
    let gateway = WeftProcess::serve_on(
        bin(),
        gateway_port,
        &["--service", "gateway", "--data-dir", &dir(9)],
        &gateway_env,
    );
    assert_eq!(gateway.address(), front_door);

    // From here on, only the front door.
    let front = weft_sdk::Client::new(&front_door);
    // A token that does not check out is refused there: no service sees the request.
    let http = reqwest::Client::new();
    for (header, value) in [
        (
            "authorization",
            "Bearer eyJhbGciOiJFZERTQSIsImtpZCI6Im5vcGUifQ.e30.c2ln",
        ),
        ("x-api-key", "wk_live_forged"),
    ] {
        let refused = http
            .get(format!(
                "{front_door}/v1/carts/cart_01a2497f710f74df8d4bf77d2e3c3e26"
            ))
            .header(header, value)
            .header("x-request-id", format!("edge-{header}"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401, "{header}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_token");
        assert!(
            cart.wait_for_log(&format!("edge-{header}"), Duration::from_millis(300))
                .is_none(),
            "the cart process saw it"
        );
    }
    let admin = authed_at(&front_door, &token);
    let shirt = variant(&admin, "CLUSTER-LINEN", 200).await;
    // The shop's fulfilment system hears of orders through a webhook.
    let receiver = crate::webhooks::Receiver::start(&[]).await;
    let hook = admin
        .create_webhook()
        .body(body::<weft_sdk::types::CreateWebhookRequest>(
            json!({"url": receiver.url, "events": ["order.created"]}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();

    // The gateway keeps a guest's catalog answer, and lets it go the moment the catalog
    // changes (a purge over the broker), long before the answer would expire.
    let guest = reqwest::Client::new();
    let listing = format!("{front_door}/v1/products?brand=Plain");
    let first = guest.get(&listing).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["x-cache"], "MISS");
    assert!(
        first.headers().get("weft-gateway-cache").is_none(),
        "the gateway's marking never reaches a client"
    );
    let mut etag = first.headers()["etag"].clone();
    let mut listed: Value = first.json().await.unwrap();
    let product_id = listed["data"][0]["id"].as_str().unwrap().to_owned();
    // Asked again until kept: the stock just set reaches the catalog a moment later, and
    // its purge may retire what was kept first.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = guest.get(&listing).send().await.unwrap();
        let outcome = again.headers()["x-cache"].to_str().unwrap().to_owned();
        let again_etag = again.headers()["etag"].clone();
        let body: Value = again.json().await.unwrap();
        if outcome == "HIT" {
            assert_eq!(again_etag, etag, "a kept answer is the one last fetched");
            assert_eq!(body, listed);
            break;
        }
        assert!(Instant::now() < deadline, "never kept");
        (etag, listed) = (again_etag, body);
    }
    // A client holding the answer gets a 304 (once stock events stop changing it).
    loop {
        let unchanged = guest
            .get(&listing)
            .header("if-none-match", etag.clone())
            .send()
            .await
            .unwrap();
        if unchanged.status() == 304 {
            break;
        }
        assert_eq!(unchanged.status(), 200);
        assert_ne!(
            unchanged.headers()["etag"],
            etag,
            "a 200 only for a changed answer"
        );
        assert!(Instant::now() < deadline, "never a 304");
        etag = unchanged.headers()["etag"].clone();
    }
    let with_token = http.get(&listing).bearer_auth(&token).send().await.unwrap();
    assert!(
        with_token.headers().get("x-cache").is_none(),
        "staff are never served kept answers"
    );
    admin
        .update_product()
        .id(&product_id)
        .body(body::<UpdateProductRequest>(
            json!({"title": "Linen Shirt CLUSTER-LINEN, renamed"}),
        ))
        .send()
        .await
        .unwrap();
    let changed_at = Instant::now();
    loop {
        let now: Value = guest
            .get(&listing)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if now["data"][0]["title"] == "Linen Shirt CLUSTER-LINEN, renamed" {
            break;
        }
        assert!(
            changed_at.elapsed() < Duration::from_secs(10),
            "the gateway still answers the old title: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A customer registers, browses and searches (the replicas' own indexes both).
    let ada = front
        .register()
        .body(registration("ada-cluster@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let listed = front
        .list_products()
        .limit(5)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed
            .data
            .iter()
            .any(|p| p.title.contains("CLUSTER-LINEN"))
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut found_in_a_row = 0;
    while found_in_a_row < 4 {
        let hits = front
            .search_products()
            .q("linen")
            .send()
            .await
            .unwrap()
            .into_inner();
        if hits.data.iter().any(|h| h.title.contains("CLUSTER-LINEN")) {
            found_in_a_row += 1;
        } else {
            found_in_a_row = 0;
            assert!(Instant::now() < deadline, "search never found it: {hits:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // Ada watches her cart live, through the gateway.
    let ada_client = authed_at(&front_door, &ada.access_token);
    let ada_cart = ada_client
        .create_cart()
        .body(body::<CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    let live = format!(
        "{}/v1/carts/{ada_cart}/live?access_token={}",
        front_door.replacen("http://", "ws://", 1),
        ada.access_token
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(live).await.unwrap();
    assert_eq!(heard(&mut socket).await["item_count"], 0);
    let (ada_adding, add_trace) = traced(&front_door, Some(&ada.access_token));
    ada_adding
        .add_cart_item()
        .id(&ada_cart)
        .body(body::<AddItemRequest>(
            json!({"variant_id": shirt, "quantity": 2}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(heard(&mut socket).await["item_count"], 2);

    // GraphQL through the front door: one document over fields of three processes
    // (the gateway's own `meta`, the catalog's, the cart's), split and merged; a
    // mutation of one service goes there whole; the cart's subscription crosses the
    // gateway's WebSocket and hears it.
    let graphql = |body: Value| {
        let (url, token) = (format!("{front_door}/graphql"), ada.access_token.clone());
        async move {
            let resp = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let across = graphql(json!({
        "query": "query Shop($cart: String!, $n: Int!) { meta { topology } products(first: $n) { nodes { variants { id } } } cart(id: $cart) { itemCount } }",
        "variables": {"cart": ada_cart, "n": 2}
    }))
    .await;
    assert!(across.get("errors").is_none(), "{across}");
    assert_eq!(across["data"]["meta"]["topology"], "cluster", "{across}");
    assert_eq!(
        across["data"]["products"]["nodes"][0]["variants"][0]["id"], shirt,
        "{across}"
    );
    assert_eq!(across["data"]["cart"]["itemCount"], 2, "{across}");
    let mut request = format!(
        "{}/graphql/ws?access_token={}",
        front_door.replacen("http://", "ws://", 1),
        ada.access_token
    )
    .into_client_request()
    .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut watching, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({"type": "connection_init"});
    watching
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    assert_eq!(heard(&mut watching).await["type"], "connection_ack");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
        "query": format!("subscription {{ cart(id: \"{ada_cart}\") {{ itemCount }} }}")
    }});
    watching
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    let now = heard(&mut watching).await;
    assert_eq!(now["payload"]["data"]["cart"]["itemCount"], 2, "{now}");
    let added = graphql(json!({
        "query": "mutation Add($cart: String!, $variant: String!) { addCartItem(cartId: $cart, variantId: $variant, quantity: 1) { itemCount items { id } } }",
        "variables": {"cart": ada_cart, "variant": shirt}
    }))
    .await;
    assert_eq!(added["data"]["addCartItem"]["itemCount"], 3, "{added}");
    let next = heard(&mut watching).await;
    assert_eq!(next["payload"]["data"]["cart"]["itemCount"], 3, "{next}");
    assert_eq!(heard(&mut socket).await["item_count"], 3);
    // Back to the two she pays for.
    let cart_line = added["data"]["addCartItem"]["items"][0]["id"].clone();
    let back = graphql(json!({
        "query": "mutation Back($cart: String!, $line: String!) { updateCartItem(cartId: $cart, itemId: $line, quantity: 2) { itemCount } }",
        "variables": {"cart": ada_cart, "line": cart_line}
    }))
    .await;
    assert_eq!(back["data"]["updateCartItem"]["itemCount"], 2, "{back}");
    assert_eq!(
        heard(&mut watching).await["payload"]["data"]["cart"]["itemCount"],
        2
    );
    assert_eq!(heard(&mut socket).await["item_count"], 2);

    // She pays with 3-D Secure: held while she confirms, then a paid order.
    let checkout = ada_client
        .create_checkout()
        .body(body::<CreateCheckoutRequest>(json!({"cart_id": ada_cart})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    ada_client
        .update_checkout()
        .id(&checkout)
        .body(body::<UpdateCheckoutRequest>(json!({
            "email": "ada-cluster@example.com", "shipping_address": california(),
            "shipping_method_id": "standard"
        })))
        .send()
        .await
        .unwrap();
    let (ada_traced, purchase_trace) = traced(&front_door, Some(&ada.access_token));
    let waiting = complete(
        &ada_traced,
        &checkout,
        "tok_threeDSecureRequired",
        "ada-3ds",
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(waiting.status, "requires_action");
    assert_eq!(stock(&front, &shirt).await, (200, 2), "held while she acts");
    let confirmed = ada_traced
        .confirm_checkout()
        .id(&checkout)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 201);
    let ada_order = confirmed.into_inner().order.unwrap();
    assert_eq!(ada_order.status, "paid");
    assert_eq!(stock(&front, &shirt).await, (198, 0));
    // The webhooks process hears of her order over the broker and delivers it, signed.
    let delivered = receiver
        .wait_for(1, |r| r.json()["data"]["order_id"] == ada_order.id.as_str())
        .await;
    let event = weft_sdk::webhooks::verify(
        &hook.secret,
        delivered[0].header(weft_sdk::webhooks::SIGNATURE_HEADER),
        &delivered[0].body,
        Duration::from_mins(5),
    )
    .unwrap();
    assert_eq!(event.event_type, "order.created");
    assert_eq!(event.data["email"], "ada-cluster@example.com");
    // The notifications process hears of it too, and e-mails her the confirmation.
    if let Some(sink) = &sink {
        let mails = sink
            .wait_for(1, |m| {
                m.to() == ["ada-cluster@example.com"] && m.subject().contains(&ada_order.id)
            })
            .await;
        assert!(mails[0].text().contains(&ada_order.id));
        // With her invoice, fetched from the orders process over HTTP.
        let (filename, pdf) = mails[0].attachment("application/pdf");
        assert_eq!(filename, format!("invoice-{}.pdf", ada_order.id));
        assert!(pdf.starts_with(b"%PDF-"), "{:?}", &pdf[..pdf.len().min(16)]);
    }

    // She reviews the shirt through the front door: the reviews process hears of her
    // order over the broker, resolves the product through the gateway, and the catalog
    // replicas follow her rating.
    let review = body::<ReviewRequest>(
        json!({"rating": 4, "title": "Crisp linen", "body": "True to size."}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let written = loop {
        match ada_client
            .create_review()
            .id(&product_id)
            .body(review.clone())
            .send()
            .await
        {
            Ok(written) => break written.into_inner(),
            Err(e) => {
                assert!(Instant::now() < deadline, "no review: {e:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert!(written.verified_purchase);
    assert_eq!(written.status, "published");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = front.get_product().id(&product_id).send().await.unwrap();
        if shown.rating_count == 1 {
            assert_eq!(shown.rating_average, Some(4.0));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the catalog never heard the rating"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = front
        .list_product_reviews()
        .id(&product_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.data[0].title, "Crisp linen");
    // GraphQL's `Product` carries them too: the catalog process asks reviews for them.
    let shown: Value = reqwest::Client::new()
        .post(format!("{front_door}/graphql"))
        .json(&json!({
            "query": "query($id: String!) { product(id: $id) { ratingCount \
                      ratingSummary { average } reviews(first: 5) { nodes { title verifiedPurchase } } } }",
            "variables": {"id": product_id}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(shown["errors"].is_null(), "{shown}");
    assert_eq!(shown["data"]["product"]["ratingSummary"]["average"], 4.0);
    assert_eq!(
        shown["data"]["product"]["reviews"]["nodes"][0]["title"],
        "Crisp linen"
    );

    // She changes her mind: cancelled, refunded in full, and the units go back.
    let (ada_cancelling, cancel_trace) = traced(&front_door, Some(&ada.access_token));
    let cancelled = ada_cancelling
        .cancel_my_order()
        .id(&ada_order.id)
        .body(body::<CancelOrderRequest>(
            json!({"reason": "changed my mind"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(cancelled.refunded.amount, ada_order.total.amount);
    let deadline = Instant::now() + Duration::from_secs(20);
    while stock(&front, &shirt).await != (200, 0) {
        assert!(Instant::now() < deadline, "the restock never came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Chaos: buyers and browsers through the front door while a catalog replica and the
    // inventory process are killed and restarted.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Browsers ask past the gateway's kept answers, so every read reaches a replica.
    let uncached = {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("cache-control", "no-cache".parse().unwrap());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        weft_sdk::Client::new_with_client(&front_door, http)
    };
    let browsers: Vec<_> = (0..2)
        .map(|_| {
            let (front, stop) = (uncached.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0u32, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match front.list_products().limit(20).send().await {
                        Ok(_) => ok += 1,
                        Err(err) => failed.push(format!("{err:?}")),
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    let buyers: Vec<_> = (0..4)
        .map(|_| {
            let (front, stop, shirt) = (front.clone(), stop.clone(), shirt.clone());
            tokio::spawn(async move {
                let mut attempts = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if let Some(attempt) = buy(&front, &shirt).await {
                        attempts.push(attempt);
                    }
                }
                attempts
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    catalogs[0].kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    inventory.kill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    catalogs[0].restart();
    inventory.restart();
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut browsed = 0;
    for browser in browsers {
        let (ok, failed) = browser.await.unwrap();
        // A replica's death costs no read: the gateway asks the other one.
        assert!(failed.is_empty(), "catalog reads failed: {failed:#?}");
        browsed += ok;
    }
    let mut attempts = Vec::new();
    for buyer in buyers {
        attempts.extend(buyer.await.unwrap());
    }
    let answered: Vec<&Attempt> = attempts.iter().filter(|a| a.order.is_some()).collect();
    assert!(browsed > 0 && !answered.is_empty(), "{attempts:#?}");

    // Every purchase settles: a 2xx keeps its order, the others end one way or the other.
    let mut settled: BTreeMap<String, Option<String>> = BTreeMap::new();
    for attempt in &attempts {
        let order = settle(&front, attempt).await;
        if let Some(first) = &attempt.order {
            assert_eq!(order.as_ref(), Some(first), "a 2xx's order changed");
        }
        settled.insert(attempt.checkout.clone(), order);
    }
    let orders = all_orders(&admin).await;
    let logs = || {
        keep_logs(&[
            ("gateway", &gateway),
            ("identity", &identity),
            ("catalog", &catalogs[0]),
            ("catalog", &catalogs[1]),
            ("inventory", &inventory),
            ("payments", &payments),
            ("orders", &order_process),
            ("reviews", &reviews),
            ("webhooks", &webhooks),
            ("notifications", &notifications),
            ("cart", &cart),
            ("checkout", &checkouts[0]),
            ("checkout", &checkouts[1]),
        ])
    };
    let mut per_checkout: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for order in &orders {
        per_checkout
            .entry(order.checkout_id.as_str())
            .or_default()
            .push(order.id.as_str());
    }
    for (checkout, order) in &settled {
        let made: Vec<&str> = per_checkout
            .get(checkout.as_str())
            .cloned()
            .unwrap_or_default();
        let answered: Vec<&str> = order.iter().map(String::as_str).collect();
        assert!(
            made == answered,
            "{checkout}: orders {made:?}, answered {answered:?}; {}",
            logs()
        );
        // Charged once, and only for an order.
        let payments = admin
            .list_payments()
            .checkout_id(checkout)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data;
        let captured = payments.iter().filter(|p| p.status == "captured").count();
        assert!(
            captured == usize::from(order.is_some()),
            "{checkout}: {payments:?}, order {:?}; {}",
            orders
                .iter()
                .find(|o| &o.checkout_id == checkout)
                .map(|o| (&o.status, &o.history)),
            logs()
        );
    }
    let sold = orders
        .iter()
        .filter(|o| o.status == "paid")
        .map(|o| o.lines.iter().map(|l| l.quantity).sum::<i64>())
        .sum::<i64>();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = stock(&front, &shirt).await;
        if now == (200 - sold, 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "stock {now:?}, expected {} on hand and nothing held after {sold} sold",
            200 - sold
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "whole cluster: {browsed} catalog reads during the kills, all 2xx; {} purchases \
         tried, {} answered 2xx at once, {} orders after settling, {sold} units sold",
        attempts.len(),
        answered.len(),
        settled.values().filter(|o| o.is_some()).count(),
    );
    let distinct: BTreeSet<&str> = orders.iter().map(|o| o.checkout_id.as_str()).collect();
    assert_eq!(distinct.len(), orders.len(), "one order per checkout");

    // Every process flushes its spans as it stops.
    let mut everyone = vec![gateway, identity, payments, order_process, cart];
    everyone.extend(catalogs);
    everyone.extend(checkouts);
    everyone.push(inventory);
    for process in &mut everyone {
        assert!(process.signal_and_wait(15).success());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let spans = spans.lock().unwrap().clone();
    let services_in = |trace: &str, name: Option<&str>| -> BTreeSet<String> {
        spans
            .iter()
            .filter(|s: &&SpanRow| s.1 == trace && name.is_none_or(|n| s.4 == n))
            .map(|s| s.0.clone())
            .collect()
    };
    let purchase = services_in(&purchase_trace, None);
    for service in [
        "weft-gateway",
        "weft-checkout",
        "weft-inventory",
        "weft-payments",
        "weft-orders",
    ] {
        assert!(purchase.contains(service), "{service} not in {purchase:?}");
    }
    // The cart reads the catalog through the public SDK: that call carries the trace too.
    let add = services_in(&add_trace, None);
    for service in ["weft-gateway", "weft-cart", "weft-catalog"] {
        assert!(add.contains(service), "{service} not in {add:?}");
    }
    let restock = services_in(&cancel_trace, Some("consume"));
    assert!(
        restock.contains("weft-inventory"),
        "the restock is not in the cancel's trace: {restock:?}"
    );
}
