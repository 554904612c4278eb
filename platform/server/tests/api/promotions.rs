//! Promotion codes through the SDK: the merchant's CRUD with its validation, carts
//! applying codes (percentage, fixed, free shipping; minimums, dates, scopes through the
//! category tree and collections, combination), every refusal with its code, and uses
//! counted once per order and never past a limit however many orders race.

use serde_json::json;
use weft_sdk::types::{
    AddItemRequest, ApplyCodeRequest, CategoryRequest, CollectionRequest, CreateCartRequest,
    CreateProductRequest, CreatePromotionRequest, RedeemRequest, SetStockRequest,
    UpdateCartRequest, UpdatePromotionRequest,
};
use weft_testkit::{Backend, TestApp};

use crate::support::{authed, customer, enrolled_admin, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_merchants_run_codes_and_carts_apply_them() {
    let app = weft_testkit::spawn_app(Backend::Sqlite).await.unwrap();
    Box::pin(merchants_run_codes_and_carts_apply_them(app)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_merchants_run_codes_and_carts_apply_them() {
    if let Some(app) = weft_testkit::spawn_app(Backend::Postgres).await {
        Box::pin(merchants_run_codes_and_carts_apply_them(app)).await;
    }
}

weft_testkit::backend_tests!(
    a_code_used_up_by_someone_else_neither_counts_nor_blocks_the_order,
    redeeming_the_codes_an_order_was_priced_with_is_all_or_none,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_uses_are_counted_once_per_order_and_never_past_a_limit() {
    uses_are_counted_once_per_order_and_never_past_a_limit(
        weft_testkit::spawn_app(Backend::Sqlite).await.unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_uses_are_counted_once_per_order_and_never_past_a_limit() {
    if let Some(app) = weft_testkit::spawn_app(Backend::Postgres).await {
        uses_are_counted_once_per_order_and_never_past_a_limit(app).await;
    }
}

/// An active product with one variant at `usd` cents, stocked 50, in `category`.
async fn product(
    admin: &weft_sdk::Client,
    sku: &str,
    usd: i64,
    category: Option<&str>,
) -> (String, String) {
    let p = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": sku, "brand": "Plain", "status": "active", "category_id": category,
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": sku, "options": {"size": "M"},
                          "prices": [{"currency": "USD", "amount": usd}]}]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    let variant = p.variants[0].id.clone();
    admin
        .set_inventory()
        .variant_id(&variant)
        .body(body::<SetStockRequest>(json!({"on_hand": 50})))
        .send()
        .await
        .unwrap();
    (p.id, variant)
}

async fn promotion(
    admin: &weft_sdk::Client,
    spec: serde_json::Value,
) -> weft_sdk::types::Promotion {
    admin
        .create_promotion()
        .body(body::<CreatePromotionRequest>(spec))
        .send()
        .await
        .unwrap()
        .into_inner()
}

async fn cart_with(client: &weft_sdk::Client, lines: &[(&str, i64)]) -> weft_sdk::types::Cart {
    let mut cart = client
        .create_cart()
        .body(body::<CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap()
        .into_inner();
    for (variant, quantity) in lines {
        cart = client
            .add_cart_item()
            .id(&cart.id)
            .body(body::<AddItemRequest>(
                json!({"variant_id": variant, "quantity": quantity}),
            ))
            .send()
            .await
            .unwrap()
            .into_inner();
    }
    cart
}

async fn apply(
    client: &weft_sdk::Client,
    cart: &str,
    code: &str,
) -> Result<weft_sdk::types::Cart, weft_sdk::Error<weft_sdk::types::Problem>> {
    client
        .apply_cart_promotion()
        .id(cart)
        .body(body::<ApplyCodeRequest>(json!({ "code": code })))
        .send()
        .await
        .map(weft_sdk::ResponseValue::into_inner)
}

async fn merchants_run_codes_and_carts_apply_them(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "promos@example.com").await;
    let admin = authed(&app, &session.access_token);
    let tops = admin
        .create_category()
        .body(body::<CategoryRequest>(json!({"name": "Tops"})))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    let tees = admin
        .create_category()
        .body(body::<CategoryRequest>(
            json!({"name": "Tees", "parent_id": tops}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    let (_, tee) = product(&admin, "TEE", 4000, Some(&tees)).await;
    let (scarf_product, scarf) = product(&admin, "SCARF", 2000, None).await;
    let sale = admin
        .create_collection()
        .body(body::<CollectionRequest>(
            json!({"title": "Sale", "product_ids": [scarf_product]}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id;
    let day = chrono::Duration::days(1);
    let now = chrono::Utc::now();
    let save10 = promotion(
        &admin,
        json!({"code": "save10", "kind": "percentage", "percentage": 10,
        "description": "10% off from $50", "minimum_subtotal": {"USD": 5000}}),
    )
    .await;
    assert_eq!(
        (save10.code.as_str(), save10.times_used, save10.active),
        ("SAVE10", 0, true)
    );
    promotion(
        &admin,
        json!({"code": "TOPS5", "kind": "fixed_amount", "amounts": {"USD": 500},
        "scope": "categories", "scope_ids": [tops]}),
    )
    .await;
    promotion(
        &admin,
        json!({"code": "SALE50", "kind": "percentage", "percentage": 50,
        "scope": "collections", "scope_ids": [sale], "combinable": true}),
    )
    .await;
    let freeship = promotion(
        &admin,
        json!({"code": "FREESHIP", "kind": "free_shipping", "combinable": true}),
    )
    .await;
    promotion(
        &admin,
        json!({"code": "PAST", "kind": "percentage", "percentage": 20,
        "starts_at": now - day * 3, "ends_at": now - day}),
    )
    .await;
    promotion(
        &admin,
        json!({"code": "FUTURE", "kind": "percentage", "percentage": 20,
        "starts_at": now + day}),
    )
    .await;
    promotion(
        &admin,
        json!({"code": "GONE", "kind": "percentage", "percentage": 20,
        "usage_limit": 1}),
    )
    .await;

    // The merchant's bad input: each refused with the field it is about.
    for (spec, field) in [
        (
            json!({"code": "x", "kind": "percentage", "percentage": 5}),
            "code",
        ),
        (
            json!({"code": "HAS SPACE", "kind": "percentage", "percentage": 5}),
            "code",
        ),
        (
            json!({"code": "ZERO", "kind": "percentage", "percentage": 0}),
            "percentage",
        ),
        (
            json!({"code": "MUCH", "kind": "percentage", "percentage": 101}),
            "percentage",
        ),
        (json!({"code": "NOPCT", "kind": "percentage"}), "percentage"),
        (json!({"code": "NOAMT", "kind": "fixed_amount"}), "amounts"),
        (
            json!({"code": "LOWER", "kind": "fixed_amount", "amounts": {"usd": 5}}),
            "amounts.usd",
        ),
        (
            json!({"code": "NEG", "kind": "fixed_amount", "amounts": {"USD": -5}}),
            "amounts.USD",
        ),
        (json!({"code": "KIND", "kind": "bogo"}), "kind"),
        (
            json!({"code": "SCOPE", "kind": "free_shipping", "scope": "categories", "scope_ids": []}),
            "scope_ids",
        ),
        (
            json!({"code": "SCOPE2", "kind": "free_shipping", "scope": "collections", "scope_ids": [tops]}),
            "scope_ids",
        ),
        (
            json!({"code": "SCOPE3", "kind": "free_shipping", "scope": "brands"}),
            "scope",
        ),
        (
            json!({"code": "DATES", "kind": "free_shipping", "starts_at": now, "ends_at": now - day}),
            "ends_at",
        ),
        (
            json!({"code": "LIMIT", "kind": "free_shipping", "usage_limit": 0}),
            "usage_limit",
        ),
        (
            json!({"code": "LIMIT2", "kind": "free_shipping", "per_customer_limit": -1}),
            "per_customer_limit",
        ),
    ] {
        let answer = app
            .http
            .post(app.url("/v1/admin/promotions"))
            .bearer_auth(&session.access_token)
            .json(&spec)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 422, "{spec}");
        let problem: serde_json::Value = answer.json().await.unwrap();
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{spec} → {problem}"
        );
    }
    for (raw, expected) in [
        (
            r#"{"code": "OK", "kind": "free_shipping", "discount": 5}"#,
            422,
        ),
        (
            r#"{"code": "OK", "kind": "free_shipping", "percentage": "ten"}"#,
            422,
        ),
        (r#"{"code": "OK", "kind": "#, 400),
    ] {
        let answer = app
            .http
            .post(app.url("/v1/admin/promotions"))
            .bearer_auth(&session.access_token)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), expected, "{raw}");
    }
    let p = problem_of(
        admin
            .create_promotion()
            .body(body::<CreatePromotionRequest>(
                json!({"code": " Save10 ", "kind": "free_shipping"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (409, "promotion_code_taken"),
        "codes ignore case"
    );

    // Shoppers and customers cannot manage promotions.
    let shopper = customer(&app, "shopper@example.com").await;
    let p = problem_of(
        authed(&app, &shopper.access_token)
            .list_promotions()
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 403);
    let p = problem_of(app.client.list_promotions().send().await).await;
    assert_eq!(p.status, 401);

    // A guest fills a cart: 40.00 tee (Tops > Tees) + 20.00 scarf (Sale).
    let guest = &app.client;
    let cart = cart_with(guest, &[(&tee, 1)]).await;
    let p = problem_of(apply(guest, &cart.id, "save10").await).await;
    assert_eq!(
        (p.status, p.code.as_str(), p.errors[0].field.as_str()),
        (422, "promotion_minimum_not_met", "code")
    );
    let cart = cart_with(guest, &[(&tee, 1), (&scarf, 1)]).await;
    let applied = apply(guest, &cart.id, " save10").await.unwrap();
    assert_eq!(applied.subtotal.amount, 6000);
    assert_eq!(applied.discounts.amount, 600);
    assert_eq!(applied.total.amount, 5400);
    let off: Vec<i64> = applied.items.iter().map(|l| l.discount.amount).collect();
    assert_eq!(off, vec![400, 200], "10% of each line");
    assert_eq!(applied.promotions.len(), 1);
    assert!(applied.promotions[0].applied);
    assert_eq!(
        apply(guest, &cart.id, "SAVE10")
            .await
            .unwrap()
            .promotions
            .len(),
        1,
        "again: no change"
    );

    // Every refusal says which.
    for (code, expected) in [
        ("TOPS5", "promotion_not_combinable"),
        ("PAST", "promotion_expired"),
        ("FUTURE", "promotion_not_started"),
        ("NOPE", "promotion_not_found"),
        ("", "promotion_not_found"),
    ] {
        let p = problem_of(apply(guest, &cart.id, code).await).await;
        assert_eq!((p.status, p.code.as_str()), (422, expected), "{code}");
    }
    let held = guest
        .get_cart()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        held.promotions.len(),
        1,
        "a refused code leaves the cart as it was"
    );

    // A code used up by one order is refused to everyone after.
    let other = cart_with(guest, &[(&scarf, 1)]).await;
    apply(guest, &other.id, "GONE").await.unwrap();
    admin
        .redeem_promotions()
        .body(body::<RedeemRequest>(
            json!({"cart_id": other.id, "order_id": "ord_gone"}),
        ))
        .send()
        .await
        .unwrap();
    let p = problem_of(apply(guest, &cart.id, "GONE").await).await;
    assert_eq!(p.code, "promotion_exhausted");

    // Off again; then a category code reaches the tee through its parent category.
    let removed = guest
        .remove_cart_promotion()
        .id(&cart.id)
        .code("save10")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!((removed.discounts.amount, removed.promotions.len()), (0, 0));
    let p = problem_of(
        guest
            .remove_cart_promotion()
            .id(&cart.id)
            .code("SAVE10")
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "promotion_not_found"));
    let tops5 = apply(guest, &cart.id, "tops5").await.unwrap();
    let off: Vec<i64> = tops5.items.iter().map(|l| l.discount.amount).collect();
    assert_eq!(off, vec![500, 0], "only the tee is in Tops");
    guest
        .remove_cart_promotion()
        .id(&cart.id)
        .code("TOPS5")
        .send()
        .await
        .unwrap();

    // Combinable codes stack: half off the Sale collection, and free shipping.
    apply(guest, &cart.id, "SALE50").await.unwrap();
    guest
        .update_cart()
        .id(&cart.id)
        .body(body::<UpdateCartRequest>(
            json!({"country": "US", "shipping_method_id": "standard"}),
        ))
        .send()
        .await
        .unwrap();
    let both = apply(guest, &cart.id, "freeship").await.unwrap();
    assert_eq!(
        both.shipping.amount, 500,
        "goods after discount 50.00 < 75.00"
    );
    let amounts: Vec<(String, i64)> = both
        .promotions
        .iter()
        .map(|p| (p.code.clone(), p.amount.amount))
        .collect();
    assert_eq!(
        amounts,
        vec![("SALE50".into(), 1000), ("FREESHIP".into(), 500)]
    );
    assert_eq!(both.discounts.amount, 1500);
    assert_eq!(both.total.amount, 6000 - 1000 + 500 - 500);

    // The cart changes under its codes: the scarf leaves, and SALE50 stays but counts
    // for nothing, saying why.
    let scarf_line = both
        .items
        .iter()
        .find(|l| l.variant_id == scarf)
        .unwrap()
        .id
        .clone();
    let fewer = guest
        .remove_cart_item()
        .id(&cart.id)
        .item_id(&scarf_line)
        .send()
        .await
        .unwrap()
        .into_inner();
    let half_off = fewer
        .promotions
        .iter()
        .find(|p| p.code == "SALE50")
        .unwrap();
    assert!(!half_off.applied);
    assert_eq!(half_off.reason.as_deref(), Some("promotion_not_applicable"));
    assert_eq!(fewer.discounts.amount, 500, "free shipping still counts");

    // The merchant switches FREESHIP off: carts stop counting it at once.
    let off = admin
        .update_promotion()
        .id(&freeship.id)
        .body(body::<UpdatePromotionRequest>(
            json!({"active": false, "description": "paused"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (off.active, off.description.as_str(), off.code.as_str()),
        (false, "paused", "FREESHIP")
    );
    let paused = guest
        .get_cart()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paused.discounts.amount, 0);
    assert_eq!(paused.total.amount, 4000 + 500);
    let p = problem_of(apply(guest, &other.id, "FREESHIP").await).await;
    assert_eq!(
        p.code, "promotion_not_found",
        "a paused code is as good as unknown"
    );

    // Listing pages; reading one; deleting takes it off carts.
    let first = admin
        .list_promotions()
        .limit(3)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.data.len(), 3);
    let rest = admin
        .list_promotions()
        .cursor(first.next_cursor.unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.data.len() + rest.data.len(), 7);
    let gone = admin
        .get_promotion()
        .id(&rest.data.last().unwrap().id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!((gone.code.as_str(), gone.times_used), ("GONE", 1));
    admin
        .delete_promotion()
        .id(&freeship.id)
        .send()
        .await
        .unwrap();
    let p = problem_of(admin.get_promotion().id(&freeship.id).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "promotion_not_found"));
    let after = guest
        .get_cart()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(after.promotions.iter().all(|p| p.code != "FREESHIP"));

    // A guest's codes move with the cart into the customer's at sign-in.
    let guest_cart = cart_with(guest, &[(&tee, 1), (&scarf, 1)]).await;
    apply(guest, &guest_cart.id, "SAVE10").await.unwrap();
    let merged = authed(&app, &shopper.access_token)
        .merge_cart()
        .id(&guest_cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(merged.promotions.len(), 1);
    assert_eq!(merged.discounts.amount, 600);

    // GraphQL applies codes through the same use case, with the same refusals.
    let mutation = |code: &str| {
        json!({"query": format!(
            "mutation {{ applyPromotionCode(cartId: \"{}\", code: \"{code}\") {{ discounts total promotions {{ code applied }} }} }}",
            other.id
        )})
    };
    let answer: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(&mutation("sale50"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["applyPromotionCode"]["discounts"], 1000,
        "{answer}"
    );
    let answer: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(&mutation("PAST"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "promotion_expired",
        "{answer}"
    );
}

async fn uses_are_counted_once_per_order_and_never_past_a_limit(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "limits@example.com").await;
    let admin = authed(&app, &session.access_token);
    let (_, tee) = product(&admin, "LIMIT-TEE", 3000, None).await;
    let limited = promotion(
        &admin,
        json!({"code": "FIVE", "kind": "percentage", "percentage": 10,
        "usage_limit": 5}),
    )
    .await;

    // Twenty carts hold the code: applying never counts a use.
    let mut carts = Vec::new();
    for _ in 0..20 {
        let cart = cart_with(&app.client, &[(&tee, 1)]).await;
        apply(&app.client, &cart.id, "FIVE").await.unwrap();
        carts.push(cart.id);
    }
    assert_eq!(
        admin
            .get_promotion()
            .id(&limited.id)
            .send()
            .await
            .unwrap()
            .times_used,
        0
    );

    // Twenty orders race to use it: five win, fifteen get a clean 422.
    let redeem = |cart: String, order: String| {
        let admin = admin.clone();
        async move {
            admin
                .redeem_promotions()
                .body(body::<RedeemRequest>(
                    json!({"cart_id": cart, "order_id": order}),
                ))
                .send()
                .await
        }
    };
    let answers = futures::future::join_all(
        carts
            .iter()
            .enumerate()
            .map(|(i, cart)| redeem(cart.clone(), format!("ord_{i}"))),
    )
    .await;
    let mut won = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(list) => {
                assert_eq!(list.data.len(), 1);
                won.push(i);
            }
            Err(weft_sdk::Error::ErrorResponse(p)) => {
                assert_eq!((p.status, p.code.as_str()), (422, "promotion_exhausted"));
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won.len(), 5, "exactly the limit");
    assert_eq!(
        admin
            .get_promotion()
            .id(&limited.id)
            .send()
            .await
            .unwrap()
            .times_used,
        5
    );

    // A retried step for a winning order counts nothing more.
    let again = redeem(carts[won[0]].clone(), format!("ord_{}", won[0]))
        .await
        .unwrap();
    assert_eq!(again.data[0].code, "FIVE");
    assert_eq!(
        admin
            .get_promotion()
            .id(&limited.id)
            .send()
            .await
            .unwrap()
            .times_used,
        5
    );
    // An order that fails gives its use back, once.
    let released = admin
        .release_promotion_redemptions()
        .order_id(format!("ord_{}", won[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(released.released, 1);
    let released = admin
        .release_promotion_redemptions()
        .order_id(format!("ord_{}", won[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(released.released, 0);
    assert_eq!(
        admin
            .get_promotion()
            .id(&limited.id)
            .send()
            .await
            .unwrap()
            .times_used,
        4
    );
    let lost = (0..20).find(|i| !won.contains(i)).unwrap();
    redeem(carts[lost].clone(), "ord_late".into())
        .await
        .unwrap();

    // Once per customer: the second order is refused, and their cart says why.
    promotion(
        &admin,
        json!({"code": "ONCE", "kind": "fixed_amount", "amounts": {"USD": 500},
        "per_customer_limit": 1}),
    )
    .await;
    let buyer = customer(&app, "once@example.com").await;
    let buyer_client = authed(&app, &buyer.access_token);
    let mine = cart_with(&buyer_client, &[(&tee, 1)]).await;
    apply(&buyer_client, &mine.id, "ONCE").await.unwrap();
    let first = redeem(mine.id.clone(), "ord_once_1".into()).await.unwrap();
    assert_eq!(
        first.data[0].customer_key.as_deref(),
        Some(buyer.user.id.as_str())
    );
    let held = buyer_client
        .get_cart()
        .id(&mine.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        held.promotions[0].reason.as_deref(),
        Some("promotion_limit_reached")
    );
    assert_eq!(held.discounts.amount, 0);
    // A guest is known by e-mail (any case).
    let guest_cart = cart_with(&app.client, &[(&tee, 1)]).await;
    apply(&app.client, &guest_cart.id, "ONCE").await.unwrap();
    admin
        .redeem_promotions()
        .body(body::<RedeemRequest>(json!({"cart_id": guest_cart.id, "order_id": "ord_g1", "customer_key": "Guest@Example.com"})))
        .send()
        .await
        .unwrap();
    let p = problem_of(
        admin
            .redeem_promotions()
            .body(body::<RedeemRequest>(json!({"cart_id": guest_cart.id, "order_id": "ord_g2", "customer_key": "guest@example.com"})))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (422, "promotion_limit_reached")
    );
    // Nothing half-written: the refused order holds no use.
    let none = admin
        .release_promotion_redemptions()
        .order_id("ord_g2")
        .send()
        .await
        .unwrap();
    assert_eq!(none.released, 0);

    // Redeeming needs the promotions:write scope and a live cart.
    let p = problem_of(
        buyer_client
            .redeem_promotions()
            .body(body::<RedeemRequest>(
                json!({"cart_id": mine.id, "order_id": "ord_x"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 403);
    let p = problem_of(
        admin
            .redeem_promotions()
            .body(body::<RedeemRequest>(
                json!({"cart_id": "cart_nope", "order_id": "ord_x"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "cart_not_found"));
}

async fn times_used(admin: &weft_sdk::Client, id: &str) -> i64 {
    admin
        .get_promotion()
        .id(id)
        .send()
        .await
        .unwrap()
        .times_used
}

/// Two customers; ONCE (10 %, one use) is used up by the first's order while the
/// second's cart holds it beside TWENTY (20 %).
async fn a_code_used_up_by_someone_else_neither_counts_nor_blocks_the_order(app: TestApp) {
    use crate::purchase::{complete, ready_checkout, variant};
    let (session, _, _) = enrolled_admin(&app, "exhausted@example.com").await;
    let admin = authed(&app, &session.access_token);
    let shirt = variant(&admin, "ONCE-1", 10).await;
    let once = promotion(
        &admin,
        json!({"code": "ONCE", "kind": "percentage", "percentage": 10,
               "usage_limit": 1, "combinable": true}),
    )
    .await;
    let twenty = promotion(
        &admin,
        json!({"code": "TWENTY", "kind": "percentage", "percentage": 20, "combinable": true}),
    )
    .await;
    let first = authed(
        &app,
        &customer(&app, "first@example.com").await.access_token,
    );
    let second = authed(
        &app,
        &customer(&app, "second@example.com").await.access_token,
    );

    let (second_cart, second_checkout) = ready_checkout(&second, &[(&shirt, 1)]).await;
    apply(&second, &second_cart, "ONCE").await.unwrap();
    apply(&second, &second_cart, "TWENTY").await.unwrap();
    let (first_cart, first_checkout) = ready_checkout(&first, &[(&shirt, 1)]).await;
    apply(&first, &first_cart, "ONCE").await.unwrap();
    let order = complete(&first, &first_checkout, "tok_visa", "once-first")
        .await
        .unwrap()
        .into_inner();
    assert_eq!(order.order.unwrap().discounts.amount, 200);
    assert_eq!(times_used(&admin, &once.id).await, 1);

    // The second cart shows ONCE used up and TWENTY's discount alone.
    let cart = second
        .get_cart()
        .id(&second_cart)
        .send()
        .await
        .unwrap()
        .into_inner();
    let shown: Vec<(&str, bool, Option<&str>)> = cart
        .promotions
        .iter()
        .map(|p| (p.code.as_str(), p.applied, p.reason.as_deref()))
        .collect();
    assert_eq!(
        shown,
        [
            ("ONCE", false, Some("promotion_exhausted")),
            ("TWENTY", true, None)
        ]
    );
    assert_eq!(cart.discounts.amount, 400);

    // Completing places the order with TWENTY; ONCE counts nothing and refuses nothing.
    let answer = complete(&second, &second_checkout, "tok_visa", "once-second")
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let order = answer.into_inner().order.unwrap();
    assert_eq!(
        (order.discounts.amount, order.total.amount),
        (400, cart.total.amount)
    );
    assert_eq!(times_used(&admin, &once.id).await, 1, "ONCE unchanged");
    assert_eq!(times_used(&admin, &twenty.id).await, 1);
}

/// A code the order was priced with that is used up by the time its uses are counted
/// (a race) refuses the whole order cleanly: nothing of it is counted.
async fn redeeming_the_codes_an_order_was_priced_with_is_all_or_none(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "race@example.com").await;
    let admin = authed(&app, &session.access_token);
    let (_, tee) = product(&admin, "RACE-TEE", 3000, None).await;
    let once = promotion(
        &admin,
        json!({"code": "RACE1", "kind": "percentage", "percentage": 10,
               "usage_limit": 1, "combinable": true}),
    )
    .await;
    let other = promotion(
        &admin,
        json!({"code": "RACE2", "kind": "percentage", "percentage": 5, "combinable": true}),
    )
    .await;
    let winner = cart_with(&app.client, &[(&tee, 1)]).await;
    apply(&app.client, &winner.id, "RACE1").await.unwrap();
    let loser = cart_with(&app.client, &[(&tee, 1)]).await;
    apply(&app.client, &loser.id, "RACE1").await.unwrap();
    apply(&app.client, &loser.id, "RACE2").await.unwrap();
    let redeem = |cart: &str, order: &str, codes: &[&str]| {
        admin
            .redeem_promotions()
            .body(body::<RedeemRequest>(
                json!({"cart_id": cart, "order_id": order, "codes": codes}),
            ))
            .send()
    };
    // Both orders were priced with RACE1; the first to count it takes the last use.
    redeem(&winner.id, "ord_race_winner", &["RACE1"])
        .await
        .unwrap();
    let p = problem_of(redeem(&loser.id, "ord_race_loser", &["RACE2", "RACE1"]).await).await;
    assert_eq!(
        (p.status, p.code.as_str(), p.errors[0].field.as_str()),
        (422, "promotion_exhausted", "code")
    );
    assert_eq!(times_used(&admin, &once.id).await, 1);
    assert_eq!(
        times_used(&admin, &other.id).await,
        0,
        "nothing half-counted"
    );
    // Priced without it (it showed used up), the same cart's order counts RACE2 alone.
    let counted = redeem(&loser.id, "ord_race_later", &["RACE2"])
        .await
        .unwrap()
        .into_inner();
    let codes: Vec<&str> = counted.data.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["RACE2"]);
    assert_eq!(times_used(&admin, &once.id).await, 1);
}
