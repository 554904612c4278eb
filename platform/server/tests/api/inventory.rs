//! Inventory through the SDK: admins set stock per location, anyone reads it, checkouts
//! hold it with reservations that are committed, released or expire — and 200 buyers of
//! the last 10 units get exactly 10 reservations, on SQLite and PostgreSQL.

use std::time::Duration;

use serde_json::json;
use weft_sdk::types::{LocationRequest, ReservationRequest, RestockRequest, SetStockRequest};
use weft_testkit::{TestApp, backend_tests};

use crate::support::{authed, customer, enrolled_admin, problem_of, stored_strings};

backend_tests!(
    admins_stock_variants_per_location_and_anyone_reads_it,
    two_hundred_buyers_of_ten_units_get_exactly_ten_reservations,
    reservations_are_committed_released_or_given_back,
);

fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// A well-formed variant id (inventory keeps no copy of the catalog).
fn variant(n: u8) -> String {
    format!("var_{n:02x}{}", "0".repeat(30))
}

async fn admins_stock_variants_per_location_and_anyone_reads_it(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "stock@example.com").await;
    let admin = authed(&app, &session.access_token);
    let tee = variant(1);

    // Never stocked: nothing available.
    let stock = app
        .client
        .get_inventory()
        .variant_id(&tee)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stock.on_hand, stock.available), (0, 0));
    assert_eq!(stock.stock_status, "out_of_stock");

    let stock = admin
        .set_inventory()
        .variant_id(&tee)
        .body(body::<SetStockRequest>(
            json!({"on_hand": 12, "low_stock_threshold": 5}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stock.on_hand, stock.reserved, stock.available),
        (12, 0, 12)
    );
    assert_eq!(stock.stock_status, "in_stock");
    let east = admin
        .create_location()
        .body(body::<LocationRequest>(
            json!({"code": "East-1", "name": "East warehouse"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(east.code, "east-1");
    let stock = admin
        .set_inventory()
        .variant_id(&tee)
        .body(body::<SetStockRequest>(
            json!({"on_hand": 3, "location_id": "east-1"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stock.on_hand, 15, "summed over locations");
    assert_eq!(stock.locations.len(), 2);
    let locations = admin
        .list_locations()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(locations.len(), 2);
    assert!(locations[0].is_default, "the default first");

    // Falling to the threshold sends InventoryLow, once per crossing.
    admin
        .set_inventory()
        .variant_id(&tee)
        .body(body::<SetStockRequest>(json!({"on_hand": 1})))
        .send()
        .await
        .unwrap();
    let stock = admin
        .set_inventory()
        .variant_id(&tee)
        .body(body::<SetStockRequest>(json!({"on_hand": 0})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stock.available, stock.stock_status.as_str()),
        (3, "low_stock")
    );
    let low = stored_strings(
        &app,
        "SELECT aggregate_id AS v FROM platform_outbox WHERE event_type = 'inventory.low'",
    )
    .await;
    assert_eq!(
        low,
        std::slice::from_ref(&tee),
        "one event for one crossing"
    );
    let listed = admin
        .list_inventory()
        .low_stock(true)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].variant_id, tee);
    let all = admin.list_inventory().send().await.unwrap().into_inner();
    assert_eq!(all.data.len(), 1);

    // Back above the threshold clears the flag.
    admin
        .restock_inventory()
        .variant_id(&tee)
        .body(body::<RestockRequest>(json!({"quantity": 10})))
        .send()
        .await
        .unwrap();
    let listed = admin
        .list_inventory()
        .low_stock(true)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(listed.data.is_empty());

    // GraphQL reads the same.
    let answer: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({"query": format!("{{ inventory(variantId: \"{tee}\") {{ available stockStatus }} }}")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["inventory"]["available"], 13, "{answer}");

    // Bad input: nothing changes.
    for (payload, field) in [
        (json!({"on_hand": -1}), "on_hand"),
        (json!({"on_hand": 1_000_000_000_001_i64}), "on_hand"),
        (
            json!({"on_hand": 1, "low_stock_threshold": -3}),
            "low_stock_threshold",
        ),
        (json!({"on_hand": 1, "colour": "red"}), "colour"),
        (json!({"on_hand": "ten"}), "on_hand"),
    ] {
        let resp = app
            .http
            .put(app.url(&format!("/v1/admin/inventory/{tee}")))
            .bearer_auth(&session.access_token)
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{payload}");
        let problem: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let problem = problem_of(
        admin
            .set_inventory()
            .variant_id(&tee)
            .body(body::<SetStockRequest>(
                json!({"on_hand": 1, "location_id": "nowhere"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.code, "location_not_found");
    let problem = problem_of(app.client.get_inventory().variant_id("prod_1").send().await).await;
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (404, "variant_not_found")
    );
    let problem = problem_of(
        admin
            .create_location()
            .body(body::<LocationRequest>(
                json!({"code": "EAST-1", "name": "Again"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.code, "location_code_taken");
    let stock = app
        .client
        .get_inventory()
        .variant_id(&tee)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stock.available, 13, "refused changes changed nothing");

    // Only staff: guests 401, customers 403.
    let shopper = customer(&app, "shopper@example.com").await;
    let as_customer = authed(&app, &shopper.access_token);
    let problem = problem_of(
        as_customer
            .set_inventory()
            .variant_id(&tee)
            .body(body::<SetStockRequest>(json!({"on_hand": 99})))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.status, 403);
    let problem = problem_of(
        app.client
            .create_reservation()
            .body(body::<ReservationRequest>(
                json!({"variant_id": tee, "quantity": 1, "reference": "chk_x"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.status, 401);
}

async fn two_hundred_buyers_of_ten_units_get_exactly_ten_reservations(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "rush@example.com").await;
    let admin = authed(&app, &session.access_token);
    let hoodie = variant(2);
    admin
        .create_location()
        .body(body::<LocationRequest>(
            json!({"code": "east", "name": "East"}),
        ))
        .send()
        .await
        .unwrap();
    // Six at the default location, four in the east: ten in all.
    for (on_hand, location) in [(6, None), (4, Some("east"))] {
        admin
            .set_inventory()
            .variant_id(&hoodie)
            .body(body::<SetStockRequest>(
                json!({"on_hand": on_hand, "location_id": location}),
            ))
            .send()
            .await
            .unwrap();
    }
    let buyers = (0..200).map(|i| {
        let admin = admin.clone();
        let hoodie = hoodie.clone();
        tokio::spawn(async move {
            admin
                .create_reservation()
                .body(body::<ReservationRequest>(
                    json!({"variant_id": hoodie, "quantity": 1, "reference": format!("chk_{i}")}),
                ))
                .send()
                .await
        })
    });
    let mut held = 0;
    let mut refused = 0;
    for outcome in futures::future::join_all(buyers).await {
        match outcome.unwrap() {
            Ok(r) => {
                assert_eq!(r.status(), 201);
                held += 1;
            }
            Err(weft_sdk::Error::ErrorResponse(p)) => {
                assert_eq!(p.status(), 409);
                assert_eq!(p.into_inner().code, "out_of_stock");
                refused += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((held, refused), (10, 190), "on {:?}", app.backend);
    let stock = app
        .client
        .get_inventory()
        .variant_id(&hoodie)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stock.on_hand, stock.reserved, stock.available),
        (10, 10, 0)
    );
    assert!(
        stock.locations.iter().all(|l| l.available == 0),
        "{stock:?}"
    );
    let rows = stored_strings(
        &app,
        "SELECT id AS v FROM inventory_reservations WHERE status = 'active'",
    )
    .await;
    assert_eq!(rows.len(), 10, "one row per held unit, none half-written");
}

async fn reservations_are_committed_released_or_given_back(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "holds@example.com").await;
    let admin = authed(&app, &session.access_token);
    let jeans = variant(3);
    admin
        .set_inventory()
        .variant_id(&jeans)
        .body(body::<SetStockRequest>(json!({"on_hand": 10})))
        .send()
        .await
        .unwrap();
    let reserve = async |quantity: i64, ttl: Option<u64>| {
        admin
            .create_reservation()
            .body(body::<ReservationRequest>(json!({
                "variant_id": jeans, "quantity": quantity, "reference": "chk_1", "ttl_seconds": ttl
            })))
            .send()
            .await
    };
    let available = async || {
        app.client
            .get_inventory()
            .variant_id(&jeans)
            .send()
            .await
            .unwrap()
            .into_inner()
            .available
    };

    let held = reserve(3, None).await.unwrap().into_inner();
    assert_eq!(held.status, "active");
    let ttl = held.expires_at - held.created_at;
    assert_eq!(ttl.num_seconds(), 900, "15 minutes by default");
    assert_eq!(available().await, 7);
    // A retried reservation (a checkout step run again) is the same one, held once.
    let again = reserve(3, None).await.unwrap().into_inner();
    assert_eq!(again.id, held.id);
    assert_eq!(available().await, 7);
    let problem = problem_of(reserve(4, None).await).await;
    assert_eq!(
        (problem.status, problem.errors[0].field.as_str()),
        (422, "reference"),
        "the same reference for another quantity"
    );
    let released = admin
        .release_reservation()
        .id(&held.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(released.status, "released");
    assert_eq!(available().await, 10);
    let problem = problem_of(admin.commit_reservation().id(&held.id).send().await).await;
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (409, "reservation_not_active")
    );

    let sold = reserve(2, None).await.unwrap().into_inner();
    admin
        .commit_reservation()
        .id(&sold.id)
        .send()
        .await
        .unwrap();
    let stock = app
        .client
        .get_inventory()
        .variant_id(&jeans)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stock.on_hand, stock.reserved, stock.available),
        (8, 0, 8),
        "sold"
    );
    let problem = problem_of(admin.release_reservation().id(&sold.id).send().await).await;
    assert_eq!(
        problem.code, "reservation_not_active",
        "a sale is not undone by a release"
    );

    // More than there is: 409 with nothing held.
    let problem = problem_of(reserve(9, None).await).await;
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (409, "out_of_stock")
    );
    assert_eq!(available().await, 8);
    for (quantity, ttl, field) in [
        (0, None, "quantity"),
        (-1, None, "quantity"),
        (1, Some(0), "ttl_seconds"),
    ] {
        let problem = problem_of(reserve(quantity, ttl).await).await;
        assert_eq!(problem.errors[0].field, field);
    }
    let problem = problem_of(admin.get_reservation().id("res_nope").send().await).await;
    assert_eq!(problem.code, "reservation_not_found");

    // A reservation nobody finishes goes back on sale when its time runs out.
    let abandoned = reserve(5, Some(1)).await.unwrap().into_inner();
    assert_eq!(available().await, 3);
    let mut status = String::new();
    for _ in 0..100 {
        status = admin
            .get_reservation()
            .id(&abandoned.id)
            .send()
            .await
            .unwrap()
            .into_inner()
            .status;
        if status == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "expired");
    assert_eq!(available().await, 8);

    // Backorders sell past zero.
    admin
        .set_inventory()
        .variant_id(&jeans)
        .body(body::<SetStockRequest>(
            json!({"on_hand": 8, "allow_backorder": true}),
        ))
        .send()
        .await
        .unwrap();
    reserve(10, None).await.unwrap();
    let stock = app
        .client
        .get_inventory()
        .variant_id(&jeans)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stock.available, stock.stock_status.as_str()),
        (-2, "backorder")
    );
}
