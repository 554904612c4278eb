//! Money at its edges, through the real app: prices are bounded and every
//! amount is checked (an overflow is a 422 naming the field, never a wrong amount);
//! GraphQL carries amounts in a 64-bit scalar.

use serde_json::{Value, json};
use weft_sdk::types::AddItemRequest;
use weft_testkit::TestApp;

use crate::support::{enrolled_admin, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

weft_testkit::backend_tests!(
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
