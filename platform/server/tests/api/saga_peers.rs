//! A cluster's checkout completing purchases through its peers over HTTP: a checkout
//! process on a database of its own reaches carts, inventory and payments in one
//! process and orders in another (`/v1/internal/…`, an API key with the `internal`
//! scope), and that orders process gives money back through payments over HTTP too.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_sdk::types::{CreateCartRequest, CreateCredentialRequest, CreateRefundRequest};
use weft_testkit::WeftProcess;

use crate::processes::{bin, migrate, tables};
use crate::purchase::{complete, ready_checkout_at, stock};
use crate::support::{authed, authed_at, enrolled_admin, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn key() -> String {
    format!("key-{}", uuid::Uuid::now_v7().simple())
}

/// A guest cart of `quantity` units at the shop and its checkout, made ready at the
/// checkout process, which prices shipping through the cart over HTTP:
/// (cart id, checkout id).
async fn ready(
    shop: &weft_sdk::Client,
    checkouts: &weft_sdk::Client,
    variant: &str,
    quantity: i64,
) -> (String, String) {
    let (cart, checkout) = ready_checkout_at(shop, checkouts, &[(variant, quantity)]).await;
    let methods = checkouts
        .list_checkout_shipping_methods()
        .id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert!(methods.iter().any(|m| m.id == "standard"), "{methods:?}");
    (cart, checkout)
}

fn credential(scopes: &[&str]) -> CreateCredentialRequest {
    CreateCredentialRequest {
        name: "peer".into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// A shop process with every service, its back office signed in, a tee with `stock`
/// units, and an API key with the `internal` scope for the cluster's processes.
struct Setup {
    shop: weft_testkit::TestApp,
    admin: weft_sdk::Client,
    /// The admin's access token.
    admin_token: String,
    tee: String,
    internal: String,
}

async fn setup(stock: i64) -> Setup {
    let shop = weft_testkit::spawn_app(weft_testkit::Backend::Sqlite)
        .await
        .unwrap();
    let (session, _, _) = enrolled_admin(&shop, "saga-peers@example.com").await;
    let admin = authed(&shop, &session.access_token);
    let product = admin
        .create_product()
        .body(body::<weft_sdk::types::CreateProductRequest>(json!({
            "title": "Cluster Tee", "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": "CLU-M", "options": {"size": "M"},
                          "prices": [{"currency": "USD", "amount": 2500}]}]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    let tee = product.variants[0].id.clone();
    admin
        .set_inventory()
        .variant_id(&tee)
        .body(body::<weft_sdk::types::SetStockRequest>(
            json!({"on_hand": stock}),
        ))
        .send()
        .await
        .unwrap();
    let internal = admin
        .create_api_key()
        .body(credential(&["internal"]))
        .send()
        .await
        .unwrap()
        .into_inner()
        .key;
    Setup {
        shop,
        admin,
        admin_token: session.access_token,
        tee,
        internal,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_process_completes_purchases_through_its_peers_over_http() {
    let Setup {
        shop,
        admin,
        admin_token,
        tee,
        internal,
    } = setup(6).await;
    let reader = admin
        .create_api_key()
        .body(credential(&["catalog:read"]))
        .send()
        .await
        .unwrap()
        .into_inner()
        .key;

    // The internal endpoints answer a key with `internal` only: not a guest, not an
    // admin by hand, not an app with other scopes.
    let guest_cart = shop
        .client
        .create_cart()
        .body(body::<CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    // Through the cluster's own client (the SDK has no internal endpoints).
    let peer_with = |header: Option<(&str, &str)>| {
        let headers = header
            .map(|(name, value)| (name.parse().unwrap(), value.parse().unwrap()))
            .into_iter()
            .collect();
        weft_peer_client::Client::new_with_client(
            &shop.address,
            reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
        )
    };
    let refusal = |r: Result<_, weft_peer_client::Error<weft_peer_client::types::Problem>>| match r
    {
        Err(weft_peer_client::Error::ErrorResponse(p)) => (p.status, p.code.clone()),
        other => panic!("expected a problem, got {other:?}"),
    };
    let bearer = format!("Bearer {admin_token}");
    let cases = [
        (None, 401, "unauthenticated"),
        (Some(("authorization", bearer.as_str())), 403, "forbidden"),
        (Some(("x-api-key", reader.as_str())), 403, "missing_scope"),
    ];
    for (header, status, code) in cases {
        let answer = peer_with(header)
            .internal_get_cart()
            .id(&guest_cart)
            .send()
            .await;
        assert_eq!(refusal(answer), (status, code.to_owned()), "{header:?}");
    }
    let peer = peer_with(Some(("x-api-key", internal.as_str())));
    assert_eq!(
        peer.internal_get_cart()
            .id(&guest_cart)
            .send()
            .await
            .unwrap()
            .into_inner()
            .id,
        guest_cart
    );
    // Bad bodies are refused whole, nothing held.
    let bad = reqwest::Client::new()
        .post(format!("{}/v1/internal/holds", shop.address))
        .header("x-api-key", &internal)
        .json(&json!({"reference": "att_x", "lines": [{"variant_id": tee, "quantity": 1}], "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(stock(&shop.client, &tee).await, (6, 0));

    // An orders process on its own database, giving money back through payments here.
    let orders_dir = tempfile::tempdir().unwrap();
    migrate(orders_dir.path(), None);
    // A cluster's processes read one identity store (its PostgreSQL); each process here
    // has a SQLite file of its own, so the peers' key is copied where the orders
    // process checks keys.
    let copied = std::process::Command::new("sqlite3")
        .arg(orders_dir.path().join("weft.db"))
        .arg(format!(
            "ATTACH '{}' AS shop; INSERT INTO identity_api_keys \
             SELECT * FROM shop.identity_api_keys WHERE scopes LIKE '%internal%';",
            shop.settings.sqlite_path().display()
        ))
        .output()
        .unwrap();
    assert!(copied.status.success(), "{copied:?}");
    let peers = [
        ("WEFT_PEERS__API_KEY", internal.as_str()),
        ("WEFT_PEERS__TIMEOUT_SECONDS", "2"),
        ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
    ];
    let mut env = peers.to_vec();
    env.push(("WEFT_PEERS__PAYMENTS", shop.address.as_str()));
    // Sign-in is identity's, at the shop; the orders process verifies the shop's tokens
    // with the shop's keys, as a cluster's processes share identity's.
    let keys_dir = shop.settings.keys_dir();
    env.push(("WEFT_KEYS_DIR", keys_dir.to_str().unwrap()));
    let orders_process = WeftProcess::serve(
        bin(),
        &[
            "--data-dir",
            orders_dir.path().to_str().unwrap(),
            "--service",
            "orders",
        ],
        &env,
    );
    let orders_address = orders_process.address();

    // A checkout process on a database of its own; without its peers' URLs it refuses
    // to start, naming the setting.
    let checkout_dir = tempfile::tempdir().unwrap();
    migrate(checkout_dir.path(), Some("checkout"));
    let refused = std::process::Command::new(bin())
        .args([
            "serve",
            "--port",
            "0",
            "--service",
            "checkout",
            "--data-dir",
        ])
        .arg(checkout_dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr).to_string()
        + &String::from_utf8_lossy(&refused.stdout);
    assert!(said.contains("peers.cart"), "{said}");
    let mut env = peers.to_vec();
    env.extend([
        ("WEFT_PEERS__CART", shop.address.as_str()),
        ("WEFT_PEERS__INVENTORY", shop.address.as_str()),
        ("WEFT_PEERS__PAYMENTS", shop.address.as_str()),
        ("WEFT_PEERS__ORDERS", orders_address.as_str()),
    ]);
    let checkout_process = WeftProcess::serve(
        bin(),
        &[
            "--data-dir",
            checkout_dir.path().to_str().unwrap(),
            "--service",
            "checkout",
        ],
        &env,
    );
    let checkouts = weft_sdk::Client::new(&checkout_process.address());

    // A purchase: held, charged, ordered and closed, each through its peer.
    let (cart, checkout) = ready(&shop.client, &checkouts, &tee, 2).await;
    let key_1 = key();
    let done = complete(&checkouts, &checkout, "tok_visa", &key_1)
        .await
        .unwrap();
    assert_eq!(done.status(), 201);
    let order = done.into_inner().order.unwrap();
    assert_eq!(order.status, "paid");
    assert_eq!(
        order.total.amount,
        order.subtotal.amount + order.shipping.amount + order.tax.amount - order.discounts.amount
    );
    assert_eq!(order.subtotal.amount, 5000);
    assert_eq!(order.lines[0].sku.as_deref(), Some("CLU-M"));
    assert_eq!(
        order.shipping_address.as_ref().map(|a| a.city.as_str()),
        Some("San Francisco")
    );
    assert!(
        order.history.iter().any(|h| h.transition == "paid"),
        "{:?}",
        order.history
    );
    assert_eq!(
        stock(&shop.client, &tee).await,
        (4, 0),
        "committed at the shop"
    );
    let p = problem_of(shop.client.get_cart().id(&cart).send().await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (404, "cart_not_found"),
        "closed"
    );
    let payments = admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (
            payments[0].status.as_str(),
            payments[0].captured,
            payments[0].order_id.as_deref()
        ),
        ("captured", order.total.amount, Some(order.id.as_str()))
    );
    // The same completion again answers the same order, charged once.
    let again = complete(&checkouts, &checkout, "tok_visa", &key_1)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.order.unwrap().id, order.id);

    // The order lives in the orders process's database; the checkout's holds checkouts.
    let orders_admin = authed_at(&orders_address, &admin_token);
    let stored = orders_admin
        .admin_get_order()
        .id(&order.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stored.status.as_str(), stored.payment_id.as_deref()),
        ("paid", Some(payments[0].id.as_str()))
    );
    let checkout_tables = tables(checkout_dir.path());
    assert!(checkout_tables.contains("checkout_"), "{checkout_tables}");
    for other in ["orders_", "payments_", "inventory_", "cart_"] {
        assert!(
            !checkout_tables.contains(other),
            "no {other} tables in the checkout's database: {checkout_tables}"
        );
    }

    // The orders process refunds through payments over HTTP, once per key.
    let refund_key = key();
    for _ in 0..2 {
        let refund = orders_admin
            .refund_order()
            .id(&order.id)
            .idempotency_key(&refund_key)
            .body(body::<CreateRefundRequest>(
                json!({"amount": 700, "reason": "a loose thread"}),
            ))
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (refund.refund.amount, refund.refund.status.as_str()),
            (700, "succeeded")
        );
    }
    let payment = admin
        .get_payment()
        .id(&payments[0].id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (payment.status.as_str(), payment.refunded),
        ("partially_refunded", 700)
    );

    // A declined card: the hold at the shop is released, the cart kept.
    let (cart, checkout) = ready(&shop.client, &checkouts, &tee, 1).await;
    let p = problem_of(complete(&checkouts, &checkout, "tok_chargeDeclined", &key()).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (402, "payment_declined"),
        "{}",
        p.detail
    );
    assert_eq!(stock(&shop.client, &tee).await, (4, 0), "released");
    assert!(
        shop.client.get_cart().id(&cart).send().await.is_ok(),
        "kept"
    );

    // 3-D Secure: held while the customer acts, then ordered on confirm.
    let waiting = complete(&checkouts, &checkout, "tok_threeDSecureRequired", &key())
        .await
        .unwrap();
    assert_eq!(waiting.status(), 200);
    let waiting = waiting.into_inner();
    assert_eq!(waiting.status, "requires_action");
    assert!(waiting.next_action.is_some());
    assert_eq!(stock(&shop.client, &tee).await, (4, 1), "held");
    let confirmed = checkouts
        .confirm_checkout()
        .id(&checkout)
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 201);
    assert_eq!(confirmed.into_inner().order.unwrap().status, "paid");
    assert_eq!(stock(&shop.client, &tee).await, (3, 0));

    // Sold out: a clean 409, nothing charged.
    let (_, checkout) = ready(&shop.client, &checkouts, &tee, 3).await;
    admin
        .set_inventory()
        .variant_id(&tee)
        .body(body::<weft_sdk::types::SetStockRequest>(
            json!({"on_hand": 1}),
        ))
        .send()
        .await
        .unwrap();
    let p = problem_of(complete(&checkouts, &checkout, "tok_visa", &key()).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (409, "out_of_stock"),
        "{}",
        p.detail
    );
    let charged = admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert!(charged.iter().all(|p| p.captured == 0), "{charged:?}");

    // A total of 0 (100 % off, free shipping) through the peers: the codes the order was
    // priced with are counted over HTTP, no `payment` is needed, and payments records
    // it under `none` without a gateway.
    for spec in [
        json!({"code": "PEERFREE", "kind": "percentage", "percentage": 100, "combinable": true}),
        json!({"code": "PEERSHIP", "kind": "free_shipping", "combinable": true}),
    ] {
        admin
            .create_promotion()
            .body(body::<weft_sdk::types::CreatePromotionRequest>(spec))
            .send()
            .await
            .unwrap();
    }
    let (cart, checkout) = ready(&shop.client, &checkouts, &tee, 1).await;
    for code in ["PEERFREE", "PEERSHIP"] {
        shop.client
            .apply_cart_promotion()
            .id(&cart)
            .body(body::<weft_sdk::types::ApplyCodeRequest>(
                json!({ "code": code }),
            ))
            .send()
            .await
            .unwrap();
    }
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/v1/checkouts/{checkout}/complete",
            checkout_process.address()
        ))
        .header("idempotency-key", key())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let free: Value = answer.json().await.unwrap();
    assert_eq!(
        (&free["order"]["status"], &free["order"]["total"]["amount"]),
        (&json!("paid"), &json!(0)),
        "{free}"
    );
    let payment = &admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data[0];
    assert_eq!(
        (
            payment.provider.as_str(),
            payment.status.as_str(),
            payment.amount
        ),
        ("none", "captured", 0)
    );
    let used: Vec<i64> = admin
        .list_promotions()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
        .iter()
        .map(|p| p.times_used)
        .collect();
    assert_eq!(used, [1, 1], "both codes counted through the peers");

    // The shop goes away: completing fails cleanly, within the timeout and retries.
    admin
        .set_inventory()
        .variant_id(&tee)
        .body(body::<weft_sdk::types::SetStockRequest>(
            json!({"on_hand": 5}),
        ))
        .send()
        .await
        .unwrap();
    let (_, checkout) = ready(&shop.client, &checkouts, &tee, 1).await;
    shop.stop().await.unwrap();
    let started = Instant::now();
    let p = problem_of(complete(&checkouts, &checkout, "tok_visa", &key()).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (503, "upstream_unavailable"),
        "{}",
        p.detail
    );
    assert!(p.detail.contains("payments"), "{}", p.detail);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A checkout process SIGKILLed in the middle of a purchase, then started again on its
/// database: its recovery finishes the purchase through its peers when the order was
/// made (paid, stock committed, charged once), and undoes it when it was not (the hold
/// released, nothing charged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_process_killed_mid_purchase_settles_it_through_its_peers_after_a_restart() {
    let Setup {
        shop,
        admin,
        tee,
        internal,
        ..
    } = setup(10).await;
    let dir = tempfile::tempdir().unwrap();
    migrate(dir.path(), Some("checkout"));
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let env = [
        ("WEFT_PEERS__CART", shop.address.as_str()),
        ("WEFT_PEERS__INVENTORY", shop.address.as_str()),
        ("WEFT_PEERS__PAYMENTS", shop.address.as_str()),
        ("WEFT_PEERS__ORDERS", shop.address.as_str()),
        ("WEFT_PEERS__API_KEY", internal.as_str()),
        ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
        // Longer than killing a paused process takes.
        ("WEFT_CHECKOUT__SAGA_LEASE_SECONDS", "3"),
        ("WEFT_CHECKOUT__RECOVERY_INTERVAL_SECONDS", "1"),
    ];
    let mut on_hand = 10;
    // Before the order (undone) and after it (finished).
    for (step, finished) in [("authorize_payment", false), ("capture_payment", true)] {
        let mut paused = env.to_vec();
        paused.push(("WEFT_CHECKOUT__PAUSE_BEFORE_STEP", step));
        let mut doomed = WeftProcess::serve(
            bin(),
            &["--data-dir", &data_dir, "--service", "checkout"],
            &paused,
        );
        let checkouts = weft_sdk::Client::new(&doomed.address());
        let (_, checkout) = ready(&shop.client, &checkouts, &tee, 2).await;
        let waiting = {
            let (checkouts, checkout) = (checkouts.clone(), checkout.clone());
            tokio::spawn(async move { complete(&checkouts, &checkout, "tok_visa", &key()).await })
        };
        assert!(
            doomed
                .wait_for_log("paused before step", Duration::from_secs(20))
                .is_some(),
            "{step}: the saga did not reach the step"
        );
        assert_eq!(
            stock(&shop.client, &tee).await,
            (on_hand, 2),
            "{step}: held"
        );
        doomed.kill();
        assert!(
            waiting.await.unwrap().is_err(),
            "{step}: the request died with it"
        );

        let restarted = WeftProcess::serve(
            bin(),
            &["--data-dir", &data_dir, "--service", "checkout"],
            &env,
        );
        let expected = if finished {
            (on_hand - 2, 0)
        } else {
            (on_hand, 0)
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while stock(&shop.client, &tee).await != expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(stock(&shop.client, &tee).await, expected, "{step}");
        // The payment settles with the stock: wait for the last step too.
        let deadline = Instant::now() + Duration::from_secs(30);
        let payments = loop {
            let payments = admin
                .list_payments()
                .checkout_id(&checkout)
                .send()
                .await
                .unwrap()
                .into_inner()
                .data;
            let settled = payments.iter().all(|p| p.status != "authorized");
            if settled || Instant::now() > deadline {
                break payments;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let checkouts = weft_sdk::Client::new(&restarted.address());
        if finished {
            on_hand -= 2;
            assert_eq!(payments.len(), 1, "{step}: {payments:?}");
            assert_eq!(payments[0].status, "captured", "{step}");
            let order_id = payments[0].order_id.clone().unwrap();
            // Asking again (any key) answers the order the recovery finished.
            let again = complete(&checkouts, &checkout, "tok_visa", &key())
                .await
                .unwrap();
            let order = again.into_inner().order.unwrap();
            assert_eq!(
                (order.id.as_str(), order.status.as_str()),
                (order_id.as_str(), "paid")
            );
        } else {
            assert!(
                payments.iter().all(|p| p.captured == 0),
                "{step}: nothing charged: {payments:?}"
            );
        }
    }
}

/// Thirty buyers of the last five units at once, through a checkout process whose every
/// call to inventory and payments crosses HTTP (and may be retried): five orders, the
/// rest clean 409s, nothing left held, five captures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_buyers_of_five_units_through_a_checkout_process_make_five_orders() {
    let Setup {
        shop,
        admin,
        tee,
        internal,
        ..
    } = setup(5).await;
    let dir = tempfile::tempdir().unwrap();
    migrate(dir.path(), Some("checkout"));
    let process = WeftProcess::serve(
        bin(),
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--service",
            "checkout",
        ],
        &[
            ("WEFT_PEERS__CART", shop.address.as_str()),
            ("WEFT_PEERS__INVENTORY", shop.address.as_str()),
            ("WEFT_PEERS__PAYMENTS", shop.address.as_str()),
            ("WEFT_PEERS__ORDERS", shop.address.as_str()),
            ("WEFT_PEERS__API_KEY", internal.as_str()),
            ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
        ],
    );
    let checkouts = weft_sdk::Client::new(&process.address());
    let mut ready_ones = Vec::new();
    for _ in 0..30 {
        ready_ones.push(ready(&shop.client, &checkouts, &tee, 1).await.1);
    }
    let answers = futures::future::join_all(ready_ones.iter().map(|checkout| {
        let checkouts = checkouts.clone();
        async move {
            match complete(&checkouts, checkout, "tok_visa", &key()).await {
                Ok(done) => (done.status().as_u16(), String::new()),
                Err(weft_sdk::Error::ErrorResponse(p)) => (p.status, p.into_inner().code),
                Err(other) => (0, other.to_string()),
            }
        }
    }))
    .await;
    let made = answers.iter().filter(|(s, _)| *s == 201).count();
    let sold_out = answers
        .iter()
        .filter(|(s, c)| *s == 409 && c == "out_of_stock")
        .count();
    assert_eq!((made, sold_out), (5, 25), "{answers:?}");
    assert_eq!(stock(&shop.client, &tee).await, (0, 0));
    let mut captured = 0;
    for checkout in &ready_ones {
        let payments = admin
            .list_payments()
            .checkout_id(checkout)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data;
        captured += payments.iter().filter(|p| p.captured > 0).count();
    }
    assert_eq!(captured, 5, "one capture per order");
}
