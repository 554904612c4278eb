//! Money at its edges, through the real app: an order whose total is 0 is placed,
//! cancelled and refused refunds without any gateway; prices are bounded and every
//! amount is checked (an overflow is a 422 naming the field, never a wrong amount);
//! GraphQL carries amounts in a 64-bit scalar.

use serde_json::{Value, json};
use weft_sdk::types::{
    AddItemRequest, ApplyCodeRequest, CancelOrderRequest, CreatePromotionRequest,
    CreateRefundRequest,
};
use weft_testkit::TestApp;

use crate::after_sale::eventually;
use crate::purchase::{complete, ready_checkout, shop, stock, variant};
use crate::support::{enrolled_admin, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn key() -> String {
    format!("key-{}", uuid::Uuid::now_v7().simple())
}

weft_testkit::backend_tests!(
    an_order_whose_total_is_zero_is_paid_without_a_charge_and_cancels_without_a_refund,
    graphql_carries_amounts_above_two_to_the_31st_exactly_in_a_64_bit_scalar,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_prices_are_bounded_and_a_cart_out_of_range_is_refused_naming_the_field() {
    prices_are_bounded_and_a_cart_out_of_range_is_refused_naming_the_field(
        weft_testkit::Backend::Sqlite,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_prices_are_bounded_and_a_cart_out_of_range_is_refused_naming_the_field() {
    prices_are_bounded_and_a_cart_out_of_range_is_refused_naming_the_field(
        weft_testkit::Backend::Postgres,
    )
    .await;
}

/// Completes `checkout` with `payload` as the raw body: (status, body).
async fn complete_raw(app: &TestApp, checkout: &str, payload: &Value) -> (u16, Value) {
    let answer = app
        .http
        .post(app.url(&format!("/v1/checkouts/{checkout}/complete")))
        .header("idempotency-key", key())
        .json(payload)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

async fn an_order_whose_total_is_zero_is_paid_without_a_charge_and_cancels_without_a_refund(
    app: TestApp,
) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "FREE-1", 10).await;
    for spec in [
        json!({"code": "ALLOFF", "kind": "percentage", "percentage": 100, "combinable": true}),
        json!({"code": "SHIPFREE", "kind": "free_shipping", "combinable": true}),
    ] {
        shop.admin
            .create_promotion()
            .body(body::<CreatePromotionRequest>(spec))
            .send()
            .await
            .unwrap();
    }
    let ada = &shop.app.client;
    let free_checkout = async |codes: &[&str]| {
        let (cart, checkout) = ready_checkout(ada, &[(&shirt, 2)]).await;
        for code in codes {
            ada.apply_cart_promotion()
                .id(&cart)
                .body(body::<ApplyCodeRequest>(json!({ "code": code })))
                .send()
                .await
                .unwrap();
        }
        checkout
    };

    // Above 0, a completion without a payment is refused before anything is held.
    let paying = free_checkout(&["ALLOFF"]).await;
    let (status, problem) = complete_raw(&shop.app, &paying, &json!({})).await;
    assert_eq!(
        (status, &problem["code"], &problem["errors"]),
        (
            422,
            &json!("validation_failed"),
            &json!([{"field": "payment", "message": "is required: the total is above 0"}])
        ),
        "{problem}"
    );
    assert_eq!(stock(ada, &shirt).await, (10, 0));

    // 100 % off and free shipping: a total of 0, placed without a payment.
    let checkout = free_checkout(&["ALLOFF", "SHIPFREE"]).await;
    let view = ada
        .get_checkout()
        .id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (view.summary.subtotal.amount, view.summary.total.amount),
        (4000, 0)
    );
    let (status, answer) = complete_raw(&shop.app, &checkout, &json!({})).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["order"]["status"], "paid");
    assert_eq!(answer["order"]["total"]["amount"], 0);
    let order_id = answer["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(stock(ada, &shirt).await, (8, 0), "stock committed");

    // The payments log says so: provider `none`, 0 captured, no gateway reference.
    let payments = shop
        .admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(payments.len(), 1);
    let payment = &payments[0];
    assert_eq!(
        (
            payment.provider.as_str(),
            payment.status.as_str(),
            payment.amount,
            payment.captured,
            payment.order_id.as_deref()
        ),
        ("none", "captured", 0, 0, Some(order_id.as_str()))
    );
    let kinds: Vec<(&str, i64)> = payment
        .transactions
        .iter()
        .map(|t| (t.kind.as_str(), t.amount))
        .collect();
    assert_eq!(kinds, [("authorize", 0), ("capture", 0)]);

    // Nothing was paid, so nothing can be refunded.
    let p = problem_of(
        shop.admin
            .refund_order()
            .id(&order_id)
            .idempotency_key(key())
            .body(body::<CreateRefundRequest>(
                json!({"amount": 1, "reason": "goodwill"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (
            p.status,
            p.code.as_str(),
            p.errors.len(),
            p.errors[0].field.as_str()
        ),
        (422, "validation_failed", 1, "amount")
    );

    // Cancelling restocks and gives nothing back: no refund is asked of anyone.
    let cancelled = shop
        .admin
        .cancel_order()
        .id(&order_id)
        .body(body::<CancelOrderRequest>(
            json!({"reason": "changed my mind"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(cancelled.refunded.amount, 0);
    // Units go back on the shelf through events.
    eventually("the restock", || async {
        stock(ada, &shirt).await == (10, 0)
    })
    .await;
    let payment = shop
        .admin
        .get_payment()
        .id(&payment.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!((payment.status.as_str(), payment.refunded), ("captured", 0));
    assert_eq!(payment.transactions.len(), 2, "no refund transaction");

    // A zero order with a payment named is placed the same way: the card is not used.
    let checkout = free_checkout(&["ALLOFF", "SHIPFREE"]).await;
    let order = complete(ada, &checkout, "tok_visa", &key())
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!((order.status.as_str(), order.total.amount), ("paid", 0));
    let payments = shop
        .admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(
        (payments[0].provider.as_str(), payments[0].amount),
        ("none", 0)
    );
}

/// The largest price the catalog takes (`weft_kernel::MAX_PRICE`): 10^12 minor units.
const MAX_PRICE: i64 = 1_000_000_000_000;

/// Sends `payload` to `path` as the admin `token`: (status, body).
async fn admin_send(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    payload: &Value,
) -> (u16, Value) {
    let answer = app
        .http
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(payload)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

fn product_priced(sku: &str, amount: i64) -> Value {
    json!({
        "title": format!("Gold Coat {sku}"), "brand": "Plain", "status": "active",
        "options": [{"name": "size", "values": ["M"]}],
        "variants": [{"sku": sku, "options": {"size": "M"},
                      "prices": [{"currency": "USD", "amount": amount}]}]
    })
}

fn field_errors(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A shop whose carts take up to a million units a line, so that only the amounts
/// can stop a cart.
async fn prices_are_bounded_and_a_cart_out_of_range_is_refused_naming_the_field(
    backend: weft_testkit::Backend,
) {
    let Some(app) = weft_testkit::spawn_app_with(backend, |s| {
        s.cart.max_quantity = 1_000_000;
    })
    .await
    else {
        return;
    };
    let (session, _, _) = enrolled_admin(&app, "bounds@example.com").await;
    let token = session.access_token.clone();
    let bound = format!("must be at most {MAX_PRICE} (minor units)");

    // i64::MAX, and one above the bound, are refused naming the field.
    for amount in [i64::MAX, MAX_PRICE + 1] {
        let (status, problem) = admin_send(
            &app,
            &token,
            reqwest::Method::POST,
            "/v1/admin/products",
            &product_priced(&format!("BIG-{amount}"), amount),
        )
        .await;
        assert_eq!(
            (status, problem["code"].as_str(), field_errors(&problem)),
            (
                422,
                Some("validation_failed"),
                vec![("variants[0].prices[0].amount".to_owned(), bound.clone())]
            ),
            "{amount}: {problem}"
        );
    }
    // The bound itself is a price.
    let (status, product) = admin_send(
        &app,
        &token,
        reqwest::Method::POST,
        "/v1/admin/products",
        &product_priced("GOLD-1", MAX_PRICE),
    )
    .await;
    assert_eq!(status, 201, "{product}");
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    // An update past it is refused the same way.
    let (status, problem) = admin_send(
        &app,
        &token,
        reqwest::Method::PATCH,
        &format!("/v1/admin/variants/{variant}"),
        &json!({"prices": [{"currency": "USD", "amount": i64::MAX}]}),
    )
    .await;
    assert_eq!(
        (status, field_errors(&problem)),
        (422, vec![("prices[0].amount".to_owned(), bound.clone())]),
        "{problem}"
    );
    let (status, _) = admin_send(
        &app,
        &token,
        reqwest::Method::PUT,
        &format!("/v1/admin/inventory/{variant}"),
        &json!({"on_hand": 100_000}),
    )
    .await;
    assert_eq!(status, 200);

    // 10^12 × 10,000 is past 2^53 − 1: refused naming `quantity`, the cart unchanged.
    let guest = &app.client;
    let cart = guest
        .create_cart()
        .body(body::<weft_sdk::types::CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner();
    let add = |quantity: i64| {
        guest
            .add_cart_item()
            .id(&cart.id)
            .body(body::<AddItemRequest>(
                json!({"variant_id": variant, "quantity": quantity}),
            ))
            .send()
    };
    let one = add(1).await.unwrap().into_inner();
    assert_eq!(one.subtotal.amount, MAX_PRICE);
    let out_of_range = (
        422,
        "amount_out_of_range".to_owned(),
        vec![(
            "quantity".to_owned(),
            "makes a total beyond 9007199254740991 minor units, more than can be charged"
                .to_owned(),
        )],
    );
    let p = problem_of(add(9_999).await).await;
    let fields = |p: &weft_sdk::types::Problem| {
        p.errors
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!((p.status, p.code.clone(), fields(&p)), out_of_range);
    let p = problem_of(
        guest
            .update_cart_item()
            .id(&cart.id)
            .item_id(&one.items[0].id)
            .body(body::<weft_sdk::types::UpdateItemRequest>(
                json!({"quantity": 10_000}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.clone(), fields(&p)), out_of_range);
    let after = guest
        .get_cart()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            after.items[0].quantity,
            after.subtotal.amount,
            after.total.amount
        ),
        (1, MAX_PRICE, one.total.amount),
        "the cart is as it was"
    );
    // Within range, big amounts are exact: 9,000 units.
    let big = add(8_999).await.unwrap().into_inner();
    assert_eq!(big.subtotal.amount, 9_000 * MAX_PRICE);
}

/// Amounts past 2^31 read exactly, typed by the `MinorUnits` scalar (GraphQL's `Int` is
/// 32-bit by the spec).
async fn graphql_carries_amounts_above_two_to_the_31st_exactly_in_a_64_bit_scalar(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "scalar@example.com").await;
    let price: i64 = 5_000_000_001;
    let (status, product) = admin_send(
        &app,
        &session.access_token,
        reqwest::Method::POST,
        "/v1/admin/products",
        &product_priced("WIDE-1", price),
    )
    .await;
    assert_eq!(status, 201, "{product}");
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    admin_send(
        &app,
        &session.access_token,
        reqwest::Method::PUT,
        &format!("/v1/admin/inventory/{variant}"),
        &json!({"on_hand": 10}),
    )
    .await;
    let cart = app
        .client
        .create_cart()
        .body(body::<weft_sdk::types::CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner();
    let graphql = async |query: String| -> Value {
        app.http
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let added = graphql(format!(
        "mutation {{ addCartItem(cartId: \"{}\", variantId: \"{variant}\", quantity: 2) \
         {{ subtotal items {{ quantity unitPrice lineTotal }} }} }}",
        cart.id
    ))
    .await;
    assert_eq!(
        added["data"]["addCartItem"],
        json!({"subtotal": 2 * price,
               "items": [{"quantity": 2, "unitPrice": price, "lineTotal": 2 * price}]}),
        "{added}"
    );
    let read = graphql(format!(
        "{{ product(id: \"{}\") {{ variants {{ prices {{ amount }} }} }} }}",
        product["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(
        read["data"]["product"]["variants"][0]["prices"][0]["amount"],
        json!(price),
        "{read}"
    );
    // The schema says so: money is `MinorUnits`, other 64-bit values `Long`.
    let typed = graphql(
        "{ __type(name: \"Cart\") { fields { name type { name ofType { name } } } } }".to_owned(),
    )
    .await;
    let type_of = |field: &str| {
        typed["data"]["__type"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == field)
            .map(|f| f["type"]["ofType"]["name"].clone())
            .unwrap()
    };
    assert_eq!(type_of("total"), json!("MinorUnits"), "{typed}");
    assert_eq!(type_of("itemCount"), json!("Long"), "{typed}");
}
