//! The catalog follows inventory: a variant's `stock_status`, a product's `in_stock` and
//! the `in_stock` filters of the listing and of search change within moments of a stock
//! change, through inventory's `StockStatusChanged` events.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use weft_sdk::types::{CreateProductRequest, ReservationRequest, SetStockRequest};
use weft_testkit::TestApp;

use crate::support::{authed, enrolled_admin, sqlite_app_in};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

weft_testkit::backend_tests!(the_catalog_follows_stock);

/// Polls `GET path` until `check` holds (5 s at most); returns how long it took.
async fn until(app: &TestApp, path: &str, check: impl Fn(&Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let answer: Value = app
            .http
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if check(&answer) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} never matched; last: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn ids(page: &Value, key: &str) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[key].as_str().unwrap().to_owned())
        .collect()
}

async fn the_catalog_follows_stock(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "stock-follow@example.com").await;
    let admin = authed(&app, &session.access_token);
    let product = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": "Stockable Hoodie", "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": ["M", "L"]}],
            "variants": [
                {"sku": "HOOD-M", "options": {"size": "M"}, "prices": [{"currency": "USD", "amount": 5000}]},
                {"sku": "HOOD-L", "options": {"size": "L"}, "prices": [{"currency": "USD", "amount": 5000}]}
            ]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    let (m, l) = (
        product.variants[0].id.clone(),
        product.variants[1].id.clone(),
    );
    let detail = format!("/v1/products/{}", product.id);
    let status_of = |p: &Value, id: &str| -> String {
        p["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .unwrap()["stock_status"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Never stocked: out of stock, and listed only as such.
    let fresh: Value = app
        .http
        .get(app.url(&detail))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fresh["in_stock"], false);
    assert_eq!(status_of(&fresh, &m), "out_of_stock");
    let out = until(&app, "/v1/products?in_stock=false", |p| {
        ids(p, "id").contains(&product.id)
    })
    .await;
    assert!(out < Duration::from_secs(5));
    let listed: Value = app
        .http
        .get(app.url("/v1/products?in_stock=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!ids(&listed, "id").contains(&product.id));

    // Stock arrives for M: the product is in stock everywhere within moments.
    admin
        .set_inventory()
        .variant_id(&m)
        .body(body::<SetStockRequest>(
            json!({"on_hand": 5, "low_stock_threshold": 2}),
        ))
        .send()
        .await
        .unwrap();
    let took = until(&app, &detail, |p| p["in_stock"] == true).await;
    eprintln!("stock change → product page: {took:?}");
    let page: Value = app
        .http
        .get(app.url(&detail))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (status_of(&page, &m).as_str(), status_of(&page, &l).as_str()),
        ("in_stock", "out_of_stock")
    );
    until(&app, "/v1/products?in_stock=true", |p| {
        ids(p, "id").contains(&product.id)
    })
    .await;
    let took = until(&app, "/v1/search/products?q=stockable&in_stock=true", |p| {
        ids(p, "id").contains(&product.id) && p["data"][0]["in_stock"] == true
    })
    .await;
    eprintln!("stock change → search: {took:?}");
    let none: Value = app
        .http
        .get(app.url("/v1/search/products?q=stockable&in_stock=false"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ids(&none, "id").is_empty(), "{none}");

    // Reservations take it low, then out: it leaves the in-stock listing.
    admin
        .create_reservation()
        .body(body::<ReservationRequest>(
            json!({"variant_id": m, "quantity": 3, "reference": "chk_1"}),
        ))
        .send()
        .await
        .unwrap();
    until(&app, &detail, |p| status_of(p, &m) == "low_stock").await;
    admin
        .create_reservation()
        .body(body::<ReservationRequest>(
            json!({"variant_id": m, "quantity": 2, "reference": "chk_2"}),
        ))
        .send()
        .await
        .unwrap();
    until(&app, &detail, |p| {
        p["in_stock"] == false && status_of(p, &m) == "out_of_stock"
    })
    .await;
    until(&app, "/v1/products?in_stock=true", |p| {
        !ids(p, "id").contains(&product.id)
    })
    .await;
    until(
        &app,
        "/v1/search/products?q=stockable&in_stock=false",
        |p| ids(p, "id").contains(&product.id),
    )
    .await;

    // L sells on backorder: the product can be bought again.
    admin
        .set_inventory()
        .variant_id(&l)
        .body(body::<SetStockRequest>(
            json!({"on_hand": 0, "allow_backorder": true}),
        ))
        .send()
        .await
        .unwrap();
    until(&app, &detail, |p| {
        p["in_stock"] == true && status_of(p, &l) == "backorder"
    })
    .await;

    // GraphQL shows the same.
    let answer: Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({"query": format!(
            "{{ product(id: \"{}\") {{ inStock variants {{ sku stockStatus }} }} }}", product.id
        )}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["product"]["inStock"], true, "{answer}");

    // A filter that is not a boolean is refused, naming it.
    for path in [
        "/v1/products?in_stock=maybe",
        "/v1/search/products?in_stock=1x",
    ] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 422, "{path}");
    }
}

/// Stock counted before inventory announced statuses (an upgraded shop) reaches the
/// catalog at the next start: inventory announces every status it never did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_from_before_the_announcements_reaches_the_catalog_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let first = sqlite_app_in(&data_dir).await;
    let (session, _, _) = enrolled_admin(&first, "upgrade@example.com").await;
    let admin = authed(&first, &session.access_token);
    let product = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": "Old Stock Coat", "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": "OLD-M", "options": {"size": "M"},
                          "prices": [{"currency": "USD", "amount": 9000}]}]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    admin
        .set_inventory()
        .variant_id(&product.variants[0].id)
        .body(body::<SetStockRequest>(json!({"on_hand": 4})))
        .send()
        .await
        .unwrap();
    let detail = format!("/v1/products/{}", product.id);
    until(&first, &detail, |p| p["in_stock"] == true).await;
    // As the database of a shop from before: stock counted, nothing announced.
    crate::support::execute_sql(&first, "DELETE FROM catalog_variant_stock").await;
    crate::support::execute_sql(&first, "UPDATE inventory_items SET status_version = 0").await;
    first.stop().await.unwrap();
    let (second, _moved) = crate::support::restarted_sqlite(&data_dir).await;
    until(&second, &detail, |p| {
        p["in_stock"] == true && p["variants"][0]["stock_status"] == "in_stock"
    })
    .await;
    second.stop().await.unwrap();
}
