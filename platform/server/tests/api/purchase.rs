//! Completing checkouts through the SDK: a purchase becomes a paid order with its stock
//! committed and its cart closed; a declined card, 3-D Secure and a sold-out variant end
//! as the API promises; and under concurrency nothing is oversold or charged twice.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};
use weft_sdk::types::{
    AddItemRequest, CheckoutCompletion, CompleteCheckoutRequest, CreateCartRequest,
    CreateCheckoutRequest, CreateFulfillmentRequest, CreateProductRequest, SetStockRequest,
    UpdateCheckoutRequest,
};
use weft_testkit::TestApp;

use crate::support::{authed, customer, enrolled_admin, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// The shop's back office, signed in.
pub struct Shop {
    pub app: TestApp,
    pub admin: weft_sdk::Client,
}

pub async fn shop(app: TestApp) -> Shop {
    let (session, _, _) = enrolled_admin(&app, "buyer-admin@example.com").await;
    let admin = authed(&app, &session.access_token);
    Shop { app, admin }
}

/// A new product's variant priced 20.00 USD with `stock` units.
pub async fn variant(admin: &weft_sdk::Client, sku: &str, stock: i64) -> String {
    let product = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": format!("Linen Shirt {sku}"), "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": sku, "options": {"size": "M"},
                          "prices": [{"currency": "USD", "amount": 2000}]}]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    let id = product.variants[0].id.clone();
    admin
        .set_inventory()
        .variant_id(&id)
        .body(body::<SetStockRequest>(json!({"on_hand": stock})))
        .send()
        .await
        .unwrap();
    id
}

fn california() -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Market St", "city": "San Francisco",
           "region": "CA", "postal_code": "94105", "country": "US"})
}

/// A cart of `lines` and its checkout with e-mail, address and the standard method:
/// (cart id, checkout id).
pub async fn ready_checkout(client: &weft_sdk::Client, lines: &[(&str, i64)]) -> (String, String) {
    ready_checkout_at(client, client, lines).await
}

/// [`ready_checkout`] with the cart made at `carts` and the checkout at `checkouts`
/// (a cluster's cart and checkout processes).
pub async fn ready_checkout_at(
    carts: &weft_sdk::Client,
    checkouts: &weft_sdk::Client,
    lines: &[(&str, i64)],
) -> (String, String) {
    let cart = carts
        .create_cart()
        .body(body::<CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    for (variant, quantity) in lines {
        carts
            .add_cart_item()
            .id(&cart)
            .body(body::<AddItemRequest>(
                json!({"variant_id": variant, "quantity": quantity}),
            ))
            .send()
            .await
            .unwrap();
    }
    let checkout = checkouts
        .create_checkout()
        .body(body::<CreateCheckoutRequest>(json!({"cart_id": cart})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    let ready = checkouts
        .update_checkout()
        .id(&checkout)
        .body(body::<UpdateCheckoutRequest>(json!({
            "email": "ada@example.com", "shipping_address": california(),
            "shipping_method_id": "standard"
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(ready.missing.is_empty(), "{:?}", ready.missing);
    (cart, checkout)
}

pub type Completion =
    Result<weft_sdk::ResponseValue<CheckoutCompletion>, weft_sdk::Error<weft_sdk::types::Problem>>;

pub async fn complete(
    client: &weft_sdk::Client,
    checkout: &str,
    token: &str,
    key: &str,
) -> Completion {
    client
        .complete_checkout()
        .id(checkout)
        .idempotency_key(key)
        .body(body::<CompleteCheckoutRequest>(
            json!({"payment": {"provider": "test", "token": token}}),
        ))
        .send()
        .await
}

fn key() -> String {
    format!("key-{}", uuid::Uuid::now_v7().simple())
}

pub async fn stock(client: &weft_sdk::Client, variant: &str) -> (i64, i64) {
    let s = client
        .get_inventory()
        .variant_id(variant)
        .send()
        .await
        .unwrap()
        .into_inner();
    (s.on_hand, s.reserved)
}

weft_testkit::backend_tests!(
    a_purchase_becomes_a_paid_order_with_its_stock_committed_and_its_cart_closed,
    a_declined_card_releases_the_stock_keeps_the_cart_and_another_card_can_pay,
    three_d_secure_holds_the_stock_until_the_customer_confirms,
    a_sold_out_variant_is_a_clean_409_with_nothing_charged,
    completing_refuses_what_it_cannot_use,
    customers_see_their_own_orders_and_only_theirs,
    five_hundred_buyers_of_the_last_ten_units_make_ten_orders,
    twenty_retries_with_one_key_make_one_order_and_one_charge,
    graphql_completes_checkouts_and_lists_a_customers_orders,
    an_erased_customer_s_orders_keep_their_amounts_but_no_contact_details,
);

async fn a_purchase_becomes_a_paid_order_with_its_stock_committed_and_its_cart_closed(
    app: TestApp,
) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "PUR-1", 5).await;
    let trousers = variant(&shop.admin, "PUR-2", 3).await;
    let guest = &shop.app.client;
    let (cart, checkout) = ready_checkout(guest, &[(&shirt, 2), (&trousers, 1)]).await;
    let before = guest
        .get_checkout()
        .id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner();

    let answer = complete(guest, &checkout, "tok_visa", &key())
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let done = answer.into_inner();
    assert_eq!(done.status, "completed");
    let order = done.order.unwrap();
    assert!(order.id.starts_with("ord_"), "{}", order.id);
    assert_eq!(order.status, "paid");
    assert_eq!(order.checkout_id, checkout);
    assert_eq!(order.total.amount, before.summary.total.amount);
    assert_eq!(order.subtotal.amount, 6000);
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.shipping_method_id.as_deref(), Some("standard"));
    assert_eq!(
        order
            .shipping_address
            .as_ref()
            .map(|a| a.postal_code.clone()),
        Some(Some("94105".to_owned()))
    );

    // Stock left the shelf; nothing is held any more.
    assert_eq!(stock(guest, &shirt).await, (3, 0));
    assert_eq!(stock(guest, &trousers).await, (2, 0));
    // The cart is closed; the checkout remembers what was bought.
    let p = problem_of(guest.get_cart().id(&cart).send().await).await;
    assert_eq!(p.status, 404);
    let after = guest
        .get_checkout()
        .id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.status, "completed");
    assert_eq!(after.order_id.as_deref(), Some(order.id.as_str()));
    assert_eq!(after.summary.total.amount, order.total.amount);

    // The payment was captured once, for the order, and the log says how.
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
            payment.status.as_str(),
            payment.captured,
            payment.order_id.as_deref()
        ),
        ("captured", order.total.amount, Some(order.id.as_str()))
    );
    let kinds: Vec<&str> = payment
        .transactions
        .iter()
        .map(|t| t.kind.as_str())
        .collect();
    assert_eq!(kinds, ["authorize", "capture"]);
    assert!(
        payment
            .provider_ref
            .as_deref()
            .unwrap()
            .starts_with("pi_test_")
    );
    assert_eq!(order.payment_id.as_deref(), Some(payment.id.as_str()));

    // Completing again (another key) answers the same order; nothing more is charged.
    let again = complete(guest, &checkout, "tok_visa", &key())
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.into_inner().order.unwrap().id, order.id);
    let admin_view = shop
        .admin
        .admin_get_order()
        .id(&order.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(admin_view.history.len(), 1);
    assert_eq!(
        (
            admin_view.history[0].from.as_str(),
            admin_view.history[0].to.as_str()
        ),
        ("pending", "paid")
    );
    assert_eq!(admin_view.history[0].actor, "system");

    // The back office ships it, then it arrives.
    let shipped = shop
        .admin
        .fulfill_order()
        .id(&order.id)
        .body(body::<CreateFulfillmentRequest>(
            json!({"tracking_number": "1Z999AA10123456784", "carrier": "ups"}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(shipped.status(), 201);
    assert_eq!(shipped.into_inner().status, "fulfilled");
    let p = problem_of(
        shop.admin
            .fulfill_order()
            .id(&order.id)
            .body(body::<CreateFulfillmentRequest>(json!({})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "illegal_transition"));
    let delivered = shop
        .admin
        .deliver_order()
        .id(&order.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(delivered.status, "delivered");
    let moves: Vec<(&str, &str)> = delivered
        .history
        .iter()
        .map(|h| (h.transition.as_str(), h.actor.as_str()))
        .collect();
    assert_eq!(moves[1].0, "fulfilled");
    assert!(moves[1].1.starts_with("user:usr_"), "{moves:?}");
    assert_eq!(
        delivered.history[1].detail["tracking_number"],
        "1Z999AA10123456784"
    );
}

async fn a_declined_card_releases_the_stock_keeps_the_cart_and_another_card_can_pay(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "DEC-1", 4).await;
    let guest = &shop.app.client;
    let (cart, checkout) = ready_checkout(guest, &[(&shirt, 2)]).await;

    for (token, decline) in [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_insufficientFunds", "insufficient_funds"),
    ] {
        let p = problem_of(complete(guest, &checkout, token, &key()).await).await;
        assert_eq!(
            (p.status, p.code.as_str()),
            (402, "payment_declined"),
            "{token}"
        );
        assert!(p.detail.contains(decline), "{token}: {}", p.detail);
        assert_eq!(
            stock(guest, &shirt).await,
            (4, 0),
            "{token}: the hold went back"
        );
        let kept = guest
            .get_cart()
            .id(&cart)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(kept.items.len(), 1, "the cart is kept");
    }
    let log = shop
        .admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|p| p.status == "declined" && p.captured == 0)
    );
    assert_eq!(
        log.iter()
            .map(|p| p.decline_code.clone().unwrap())
            .collect::<Vec<_>>(),
        ["insufficient_funds", "card_declined"],
        "newest first"
    );
    let orders = shop.admin.list_orders().send().await.unwrap().into_inner();
    assert!(orders.data.is_empty(), "no order for a declined card");

    // Another card on the same checkout pays.
    let paid = complete(guest, &checkout, "tok_visa", &key())
        .await
        .unwrap();
    assert_eq!(paid.status(), 201);
    assert_eq!(paid.into_inner().order.unwrap().status, "paid");
    assert_eq!(stock(guest, &shirt).await, (2, 0));
}

async fn three_d_secure_holds_the_stock_until_the_customer_confirms(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "3DS-1", 3).await;
    let guest = &shop.app.client;
    let (_, checkout) = ready_checkout(guest, &[(&shirt, 1)]).await;

    let p = problem_of(guest.confirm_checkout().id(&checkout).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (409, "checkout_not_started"));

    let waiting = complete(guest, &checkout, "tok_threeDSecureRequired", &key())
        .await
        .unwrap();
    assert_eq!(waiting.status(), 200);
    let waiting = waiting.into_inner();
    assert_eq!(waiting.status, "requires_action");
    assert!(waiting.order.is_none());
    let action = waiting.next_action.unwrap();
    assert_eq!(action["type"], "redirect_to_url", "{action}");
    assert!(action["redirect_to_url"]["url"].is_string());
    assert_eq!(
        stock(guest, &shirt).await,
        (3, 1),
        "held while the customer acts"
    );

    // Asking again before the customer acted answers the same challenge.
    let still = complete(guest, &checkout, "tok_threeDSecureRequired", &key())
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
    assert_eq!(still.into_inner().payment_id, waiting.payment_id);

    let confirmed = guest.confirm_checkout().id(&checkout).send().await.unwrap();
    assert_eq!(confirmed.status(), 201);
    let order = confirmed.into_inner().order.unwrap();
    assert_eq!(order.status, "paid");
    assert_eq!(stock(guest, &shirt).await, (2, 0));
    let payment = shop
        .admin
        .get_payment()
        .id(waiting.payment_id.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    let kinds: Vec<&str> = payment
        .transactions
        .iter()
        .map(|t| t.kind.as_str())
        .collect();
    assert_eq!(kinds, ["authorize", "confirm", "capture"]);
}

async fn a_sold_out_variant_is_a_clean_409_with_nothing_charged(app: TestApp) {
    let shop = shop(app).await;
    let last = variant(&shop.admin, "OOS-1", 1).await;
    let other = variant(&shop.admin, "OOS-2", 5).await;
    let guest = &shop.app.client;
    let (_, first) = ready_checkout(guest, &[(&last, 1)]).await;
    let (_, second) = ready_checkout(guest, &[(&other, 2), (&last, 1)]).await;
    assert_eq!(
        complete(guest, &first, "tok_visa", &key())
            .await
            .unwrap()
            .status(),
        201
    );
    let p = problem_of(complete(guest, &second, "tok_visa", &key()).await).await;
    assert_eq!((p.status, p.code.as_str()), (409, "out_of_stock"));
    assert_eq!(
        stock(guest, &other).await,
        (5, 0),
        "the other line's hold went back"
    );
    let payments = shop
        .admin
        .list_payments()
        .checkout_id(&second)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(payments.data.is_empty(), "no payment was even attempted");
}

async fn completing_refuses_what_it_cannot_use(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "BAD-1", 5).await;
    let guest = &shop.app.client;
    let (_, checkout) = ready_checkout(guest, &[(&shirt, 1)]).await;
    let url = shop.app.url(&format!("/v1/checkouts/{checkout}/complete"));
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        ("no key", None, json!({"payment": {"provider": "test", "token": "tok_visa"}}).to_string(), 400, "idempotency_key_required"),
        ("unknown provider", Some("k1"), json!({"payment": {"provider": "cash", "token": "tok_visa"}}).to_string(), 422, "validation_failed"),
        ("empty token", Some("k2"), json!({"payment": {"provider": "test", "token": " "}}).to_string(), 422, "validation_failed"),
        ("card number", Some("k3"), json!({"payment": {"provider": "test", "token": "tok_visa", "card_number": "4242424242424242"}}).to_string(), 422, "validation_failed"),
        ("malformed", Some("k4"), "{\"payment\":".to_owned(), 400, "malformed_json"),
        ("wrong type", Some("k5"), json!({"payment": "tok_visa"}).to_string(), 422, "validation_failed"),
        ("unknown test token", Some("k6"), json!({"payment": {"provider": "test", "token": "tok_nope"}}).to_string(), 402, "payment_failed"),
    ];
    for (case, key, payload, status, code) in cases {
        let mut req = shop
            .app
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(payload);
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        let answer = req.send().await.unwrap();
        assert_eq!(answer.status(), status, "{case}");
        let problem: Value = answer.json().await.unwrap();
        assert_eq!(problem["code"], code, "{case}: {problem}");
    }
    assert_eq!(
        stock(guest, &shirt).await,
        (5, 0),
        "nothing held by refused requests"
    );
    let p = problem_of(complete(guest, "chk_nope", "tok_visa", &key()).await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "checkout_not_found"));

    // A checkout without an address cannot be completed; the answer names what is missing.
    let cart = guest
        .create_cart()
        .body(body::<CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    guest
        .add_cart_item()
        .id(&cart)
        .body(body::<AddItemRequest>(
            json!({"variant_id": shirt, "quantity": 1}),
        ))
        .send()
        .await
        .unwrap();
    let bare = guest
        .create_checkout()
        .body(body::<CreateCheckoutRequest>(json!({"cart_id": cart})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    let p = problem_of(complete(guest, &bare, "tok_visa", &key()).await).await;
    assert_eq!(p.status, 422);
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email", "shipping_address"]);
}

async fn customers_see_their_own_orders_and_only_theirs(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "MINE-1", 5).await;
    let ada = customer(&shop.app, "ada@example.com").await;
    let bob = customer(&shop.app, "bob@example.com").await;
    let ada_client = authed(&shop.app, &ada.access_token);
    let bob_client = authed(&shop.app, &bob.access_token);
    let (_, checkout) = ready_checkout(&ada_client, &[(&shirt, 1)]).await;

    // Another customer cannot see or complete Ada's checkout.
    let p = problem_of(complete(&bob_client, &checkout, "tok_visa", &key()).await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "checkout_not_found"));
    let order = complete(&ada_client, &checkout, "tok_visa", &key())
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    assert_eq!(order.customer_id.as_deref(), Some(ada.user.id.as_str()));

    let mine = ada_client
        .list_my_orders()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mine.data.len(), 1);
    assert_eq!(mine.data[0].id, order.id);
    assert_eq!(mine.data[0].lines.len(), 1);
    let seen = ada_client
        .get_order()
        .id(&order.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.history.len(), 1);
    assert!(
        bob_client
            .list_my_orders()
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .is_empty()
    );
    let p = problem_of(bob_client.get_order().id(&order.id).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "order_not_found"));
    let p = problem_of(shop.app.client.list_my_orders().send().await).await;
    assert_eq!(p.status, 401);
    let p = problem_of(ada_client.list_orders().send().await).await;
    assert_eq!(p.status, 403, "the back office list is not a customer's");
    let p = problem_of(ada_client.list_payments().send().await).await;
    assert_eq!(p.status, 403);
    let p = problem_of(ada_client.list_my_orders().status("shipped").send().await).await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "status"));

    let paid = shop
        .admin
        .list_orders()
        .status("paid")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paid.data.len(), 1);
    let none = shop
        .admin
        .list_orders()
        .status("delivered")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(none.data.is_empty());
}

async fn five_hundred_buyers_of_the_last_ten_units_make_ten_orders(app: TestApp) {
    let shop = shop(app).await;
    let last = variant(&shop.admin, "LAST-10", 10).await;
    let guest = shop.app.client.clone();
    // 500 carts, each with one of the ten units, made a few at a time.
    let checkouts: Vec<String> = futures::stream::iter(0..500)
        .map(|_| {
            let (guest, last) = (guest.clone(), last.clone());
            async move { ready_checkout(&guest, &[(&last, 1)]).await.1 }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let answers = futures::future::join_all(checkouts.iter().map(|checkout| {
        let guest = guest.clone();
        async move { complete(&guest, checkout, "tok_visa", &key()).await }
    }))
    .await;
    let mut orders = std::collections::BTreeSet::new();
    let mut sold_out = 0;
    for answer in answers {
        match answer {
            Ok(done) => {
                assert_eq!(done.status(), 201);
                orders.insert(done.into_inner().order.unwrap().id);
            }
            Err(weft_sdk::Error::ErrorResponse(p)) => {
                assert_eq!((p.status, p.code.as_str()), (409, "out_of_stock"), "{p:?}");
                sold_out += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((orders.len(), sold_out), (10, 490));
    assert_eq!(stock(&guest, &last).await, (0, 0), "sold out, nothing held");

    // Exactly ten payments, each captured for one of the ten orders.
    let mut captured = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = shop.admin.list_payments().limit(100);
        if let Some(c) = &cursor {
            req = req.cursor(c);
        }
        let page = req.send().await.unwrap().into_inner();
        captured.extend(page.data);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(captured.len(), 10, "no payment without an order");
    for p in &captured {
        assert_eq!(p.status, "captured");
        assert!(orders.contains(p.order_id.as_deref().unwrap()));
    }
    let listed = shop
        .admin
        .list_orders()
        .limit(100)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.data.len(), 10);
}

async fn twenty_retries_with_one_key_make_one_order_and_one_charge(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "RETRY-1", 5).await;
    let guest = shop.app.client.clone();
    let (_, checkout) = ready_checkout(&guest, &[(&shirt, 1)]).await;
    let one_key = key();

    let answers = futures::future::join_all((0..20).map(|_| {
        let (guest, checkout, one_key) = (guest.clone(), checkout.clone(), one_key.clone());
        async move { complete(&guest, &checkout, "tok_visa", &one_key).await }
    }))
    .await;
    let mut orders = std::collections::BTreeSet::new();
    for answer in answers {
        match answer {
            Ok(done) => {
                orders.insert(done.into_inner().order.unwrap().id);
            }
            // Arrived while the first was running: the client retries later.
            Err(weft_sdk::Error::ErrorResponse(p)) => {
                assert_eq!((p.status, p.code.as_str()), (409, "idempotency_key_in_use"));
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    // A late retry gets the first answer again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let replay = complete(&guest, &checkout, "tok_visa", &one_key)
        .await
        .unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    orders.insert(replay.into_inner().order.unwrap().id);
    assert_eq!(orders.len(), 1, "one order: {orders:?}");

    // Twenty more with twenty keys: still the one order.
    let answers = futures::future::join_all((0..20).map(|_| {
        let (guest, checkout) = (guest.clone(), checkout.clone());
        async move { complete(&guest, &checkout, "tok_visa", &key()).await }
    }))
    .await;
    for answer in answers {
        match answer {
            Ok(done) => {
                orders.insert(done.into_inner().order.unwrap().id);
            }
            Err(weft_sdk::Error::ErrorResponse(p)) => {
                assert_eq!((p.status, p.code.as_str()), (409, "checkout_in_progress"));
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(orders.len(), 1);
    let payments = shop
        .admin
        .list_payments()
        .checkout_id(&checkout)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(payments.len(), 1, "one payment");
    let captures = payments[0]
        .transactions
        .iter()
        .filter(|t| t.kind == "capture")
        .count();
    assert_eq!(captures, 1, "one charge");
    assert_eq!(stock(&guest, &shirt).await, (4, 0));
}

async fn graphql_completes_checkouts_and_lists_a_customers_orders(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "GQL-1", 3).await;
    let ada = customer(&shop.app, "ada@example.com").await;
    let client = authed(&shop.app, &ada.access_token);
    let (_, declined) = ready_checkout(&client, &[(&shirt, 1)]).await;
    let gql = |query: String, token: Option<String>| {
        let http = shop.app.http.clone();
        let url = shop.app.url("/graphql");
        async move {
            let mut req = http.post(url).json(&json!({ "query": query }));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let token = Some(ada.access_token.clone());
    let refused = gql(
        format!("mutation {{ completeCheckout(id: \"{declined}\", provider: \"test\", token: \"tok_chargeDeclined\") {{ status }} }}"),
        token.clone(),
    )
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "payment_declined",
        "{refused}"
    );
    assert_eq!(stock(&client, &shirt).await, (3, 0));

    let done = gql(
        format!("mutation {{ completeCheckout(id: \"{declined}\", provider: \"test\", token: \"tok_visa\") {{ status order {{ id status total lines {{ sku quantity }} }} }} }}"),
        token.clone(),
    )
    .await;
    let order = &done["data"]["completeCheckout"]["order"];
    assert_eq!(
        done["data"]["completeCheckout"]["status"], "completed",
        "{done}"
    );
    assert_eq!(order["status"], "paid");
    assert_eq!(order["lines"][0]["sku"], "GQL-1");
    let id = order["id"].as_str().unwrap().to_owned();

    let listed = gql(
        "{ orders { nodes { id status } nextCursor } }".to_owned(),
        token.clone(),
    )
    .await;
    assert_eq!(
        listed["data"]["orders"]["nodes"][0]["id"],
        id.as_str(),
        "{listed}"
    );
    let one = gql(
        format!("{{ order(id: \"{id}\") {{ total paymentId }} }}"),
        token,
    )
    .await;
    assert!(
        one["data"]["order"]["paymentId"]
            .as_str()
            .unwrap()
            .starts_with("pay_"),
        "{one}"
    );
    let bob = customer(&shop.app, "bob@example.com").await;
    let theirs = gql(
        format!("{{ order(id: \"{id}\") {{ id }} }}"),
        Some(bob.access_token),
    )
    .await;
    assert_eq!(theirs["data"]["order"], Value::Null, "{theirs}");
    let guest = gql("{ orders { nodes { id } } }".to_owned(), None).await;
    assert_eq!(
        guest["errors"][0]["extensions"]["code"], "unauthenticated",
        "{guest}"
    );
}

/// An erasure reaches orders: the customer's orders keep what the books need (amounts,
/// lines, history) and lose their e-mail address and postal addresses; another
/// customer's orders are untouched.
async fn an_erased_customer_s_orders_keep_their_amounts_but_no_contact_details(app: TestApp) {
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "GONE-1", 5).await;
    let mut orders = Vec::new();
    let mut sessions = Vec::new();
    for email in ["leaving@example.com", "staying@example.com"] {
        let who = customer(&shop.app, email).await;
        let client = authed(&shop.app, &who.access_token);
        let (_, checkout) = ready_checkout(&client, &[(&shirt, 1)]).await;
        let order = complete(&client, &checkout, "tok_visa", &key())
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        assert!(order.shipping_address.is_some());
        orders.push(order);
        sessions.push(client);
    }
    sessions[0].delete_me().send().await.unwrap();

    let (gone, kept) = (&orders[0], &orders[1]);
    let mut seen = None;
    for _ in 0..200 {
        let o = shop
            .admin
            .admin_get_order()
            .id(&gone.id)
            .send()
            .await
            .unwrap()
            .into_inner();
        if o.email.ends_with("@erased.invalid") {
            seen = Some(o);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the erasure reached orders within 10 s");
    assert_eq!(seen.shipping_address, None);
    assert_eq!(seen.billing_address, None);
    assert_eq!(seen.total, gone.total, "the amounts stay");
    assert_eq!(seen.lines.len(), 1);
    assert_eq!(seen.customer_id, gone.customer_id);
    let other = shop
        .admin
        .admin_get_order()
        .id(&kept.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(other.email, "ada@example.com");
    assert!(other.shipping_address.is_some());
    let stored = crate::support::stored_strings(
        &shop.app,
        &format!(
            "SELECT COALESCE(shipping_address, '') || email AS v FROM orders_orders WHERE id = '{}'",
            gone.id
        ),
    )
    .await;
    assert!(
        !stored[0].contains("Market St") && !stored[0].contains("ada@example.com"),
        "{stored:?}"
    );
}
