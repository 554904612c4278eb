//! Checkouts through the SDK: made from a cart, given an e-mail, validated addresses and a
//! shipping method, with a summary the cart service prices for that destination — and
//! every bad input refused, naming the field.

use serde_json::{Value, json};
use weft_sdk::types::{
    AddItemRequest, CreateCartRequest, CreateCheckoutRequest, CreateProductRequest,
    SetStockRequest, UpdateCheckoutRequest,
};
use weft_testkit::{Backend, TestApp};

use crate::support::{authed, customer, enrolled_admin, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_checkout_collects_what_an_order_needs() {
    a_checkout_collects_what_an_order_needs(shop(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_checkout_collects_what_an_order_needs() {
    if let Some(app) = shop(Backend::Postgres).await {
        a_checkout_collects_what_an_order_needs(app).await;
    }
}

async fn shop(backend: Backend) -> Option<TestApp> {
    weft_testkit::spawn_app_with(backend, |s| {
        s.tax.rates.insert("US-CA".into(), 725);
    })
    .await
}

fn california() -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Market St", "city": "San Francisco",
           "region": "CA", "postal_code": "94105", "country": "US"})
}

async fn a_checkout_collects_what_an_order_needs(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "checkout@example.com").await;
    let admin = authed(&app, &session.access_token);
    let product = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": "Checkout Tee", "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": "CHK-M", "options": {"size": "M"},
                          "prices": [{"currency": "USD", "amount": 2000}]}]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    let variant = product.variants[0].id.clone();
    admin
        .set_inventory()
        .variant_id(&variant)
        .body(body::<SetStockRequest>(json!({"on_hand": 10})))
        .send()
        .await
        .unwrap();
    let guest = &app.client;
    let new_cart = |client: weft_sdk::Client| async move {
        client
            .create_cart()
            .body(body::<CreateCartRequest>(json!({})))
            .send()
            .await
            .unwrap()
            .into_inner()
            .id
    };
    let empty = new_cart(guest.clone()).await;
    let p = problem_of(
        guest
            .create_checkout()
            .body(body::<CreateCheckoutRequest>(json!({"cart_id": empty})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "cart_empty"));
    let p = problem_of(
        guest
            .create_checkout()
            .body(body::<CreateCheckoutRequest>(
                json!({"cart_id": "cart_nope"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "cart_not_found"));

    let cart = new_cart(guest.clone()).await;
    guest
        .add_cart_item()
        .id(&cart)
        .body(body::<AddItemRequest>(
            json!({"variant_id": variant, "quantity": 2}),
        ))
        .send()
        .await
        .unwrap();
    let created = guest
        .create_checkout()
        .body(body::<CreateCheckoutRequest>(json!({"cart_id": cart})))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let checkout = created.into_inner();
    assert!(checkout.id.starts_with("chk_"));
    assert_eq!(
        checkout.missing,
        ["email", "shipping_address", "shipping_method_id"]
    );
    assert_eq!(checkout.summary.total.amount, 4000);

    // Bad input names its field; nothing is changed by a refused request.
    for (patch, field) in [
        (json!({"email": "not-an-email"}), "email"),
        (
            json!({"shipping_address": {"name": "A", "line1": "1 St", "city": "X", "region": "CA", "postal_code": "ABCDE", "country": "US"}}),
            "shipping_address.postal_code",
        ),
        (
            json!({"shipping_address": {"name": "A", "line1": "", "city": "X", "postal_code": "10115", "country": "DE"}}),
            "shipping_address.line1",
        ),
        (
            json!({"shipping_address": {"name": "A", "line1": "1 St", "city": "X", "country": "XX"}}),
            "shipping_address.country",
        ),
        (
            json!({"billing_address": {"name": "A", "line1": "1 St", "city": "X", "postal_code": "1", "country": "GB"}}),
            "billing_address.postal_code",
        ),
        (
            json!({"shipping_method_id": "teleport"}),
            "shipping_method_id",
        ),
        (json!({"coupon": "X"}), "coupon"),
    ] {
        let answer = app
            .http
            .patch(app.url(&format!("/v1/checkouts/{}", checkout.id)))
            .json(&patch)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 422, "{patch}");
        let problem: Value = answer.json().await.unwrap();
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{patch} → {problem}"
        );
    }
    let unchanged = guest
        .get_checkout()
        .id(&checkout.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(unchanged.missing.len(), 3);

    // E-mail and a Californian address: the cart's tax follows the destination.
    let shipped = guest
        .update_checkout()
        .id(&checkout.id)
        .body(body::<UpdateCheckoutRequest>(json!({
            "email": "  Ada@Example.COM ", "shipping_address": california()
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shipped.email.as_deref(), Some("ada@example.com"));
    assert_eq!(shipped.summary.tax.amount, 290, "7.25% of 40.00");
    assert_eq!(
        shipped.billing_address, shipped.shipping_address,
        "billing follows shipping"
    );
    assert_eq!(shipped.missing, ["shipping_method_id"]);
    let methods = guest
        .list_checkout_shipping_methods()
        .id(&checkout.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = methods.data.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        ["standard", "express"],
        "cheapest first; express is US only"
    );
    let ready = guest
        .update_checkout()
        .id(&checkout.id)
        .body(body::<UpdateCheckoutRequest>(
            json!({"shipping_method_id": "express"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(ready.missing.is_empty());
    assert_eq!(ready.summary.shipping.amount, 1500);
    assert_eq!(ready.summary.total.amount, 4000 + 1500 + 290);

    // Moving abroad: express is not offered in Germany, so it ships nothing until a
    // method offered there is chosen; a separate billing address is kept.
    let abroad = guest
        .update_checkout()
        .id(&checkout.id)
        .body(body::<UpdateCheckoutRequest>(json!({
            "shipping_address": {"name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "DE"},
            "billing_address": california()
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(abroad.missing, ["shipping_method_id"]);
    assert_eq!(abroad.summary.tax.amount, 0, "no rate for DE in this shop");
    assert_eq!(abroad.billing_address.as_ref().unwrap().country, "US");

    // GraphQL reads and changes the same checkout, with the same refusals.
    let gql = |query: String| {
        let http = app.http.clone();
        let url = app.url("/graphql");
        async move {
            http.post(url)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let read = gql(format!(
        "{{ checkout(id: \"{}\") {{ email missing total currency billingAddress }} }}",
        checkout.id
    ))
    .await;
    assert_eq!(
        read["data"]["checkout"]["email"], "ada@example.com",
        "{read}"
    );
    assert_eq!(
        read["data"]["checkout"]["billingAddress"]["country"], "US",
        "{read}"
    );
    let changed = gql(format!(
        "mutation {{ updateCheckout(id: \"{}\", shippingMethodId: \"standard\") {{ missing shipping }} }}",
        checkout.id
    ))
    .await;
    assert_eq!(
        changed["data"]["updateCheckout"]["missing"],
        json!([]),
        "{changed}"
    );
    let refused = gql(format!(
        "mutation {{ updateCheckout(id: \"{}\", email: \"nope\") {{ email }} }}",
        checkout.id
    ))
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "validation_failed",
        "{refused}"
    );

    // A customer's checkout is theirs alone.
    let buyer = customer(&app, "checkout-buyer@example.com").await;
    let buyer_client = authed(&app, &buyer.access_token);
    let own_cart = new_cart(buyer_client.clone()).await;
    buyer_client
        .add_cart_item()
        .id(&own_cart)
        .body(body::<AddItemRequest>(
            json!({"variant_id": variant, "quantity": 1}),
        ))
        .send()
        .await
        .unwrap();
    let p = problem_of(
        guest
            .create_checkout()
            .body(body::<CreateCheckoutRequest>(json!({"cart_id": own_cart})))
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 404, "a guest cannot check out a customer's cart");
    let theirs = buyer_client
        .create_checkout()
        .body(body::<CreateCheckoutRequest>(json!({"cart_id": own_cart})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(theirs.customer_id.as_deref(), Some(buyer.user.id.as_str()));
    let other = customer(&app, "someone-else@example.com").await;
    for client in [guest.clone(), authed(&app, &other.access_token)] {
        let p = problem_of(client.get_checkout().id(&theirs.id).send().await).await;
        assert_eq!((p.status, p.code.as_str()), (404, "checkout_not_found"));
    }
}
