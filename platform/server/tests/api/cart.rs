//! Carts through the SDK: lines priced by the catalog at every read, stock checked as a
//! line grows, totals (tax half to even, inclusive or not) computed by the server, carts
//! that belong to their owner and expire — and every bad input refused.

use serde_json::json;
use weft_sdk::types::{
    AddItemRequest, CreateCartRequest, CreateProductRequest, SetStockRequest, UpdateCartRequest,
    UpdateItemRequest, UpdateProductRequest, UpdateVariantRequest,
};
use weft_testkit::{Backend, TestApp};

use crate::support::{authed, customer, enrolled_admin, execute_sql, problem_of, stored_strings};

fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// A shop with tax in California (7.25%) and Germany (19%, inside EUR prices).
async fn shop(backend: Backend) -> Option<TestApp> {
    weft_testkit::spawn_app_with(backend, |s| {
        s.tax.rates.insert("US-CA".into(), 725);
        s.tax.rates.insert("DE".into(), 1900);
    })
    .await
}

/// The same shop without carts' hot copies: the expiry test ages a cart in the database,
/// which no hot copy could know (in a shop, time ages them, and copies check it).
async fn shop_without_hot_copies(backend: Backend) -> Option<TestApp> {
    weft_testkit::spawn_app_with(backend, |s| {
        s.tax.rates.insert("US-CA".into(), 725);
        s.tax.rates.insert("DE".into(), 1900);
        s.cart.hot_copy = false;
    })
    .await
}

/// A product with a size M (USD 10.00 / EUR 23.00) and a size L (USD 10.20), stocked
/// 5 and 0; returns the product id and the two variant ids.
async fn stocked_tee(admin: &weft_sdk::Client) -> (String, String, String) {
    let product = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": "Boxy Tee", "brand": "Plain", "status": "active",
            "images": [{"url": "/media/tee.svg", "alt": "Tee"}],
            "options": [{"name": "size", "values": ["M", "L"]}],
            "variants": [
                {"sku": "BOXY-M", "options": {"size": "M"},
                 "prices": [{"currency": "USD", "amount": 1000}, {"currency": "EUR", "amount": 2300}]},
                {"sku": "BOXY-L", "options": {"size": "L"},
                 "prices": [{"currency": "USD", "amount": 1020}]}
            ]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    let m = product
        .variants
        .iter()
        .find(|v| v.sku == "BOXY-M")
        .unwrap()
        .id
        .clone();
    let l = product
        .variants
        .iter()
        .find(|v| v.sku == "BOXY-L")
        .unwrap()
        .id
        .clone();
    for (variant, on_hand) in [(&m, 5), (&l, 0)] {
        admin
            .set_inventory()
            .variant_id(variant)
            .body(body::<SetStockRequest>(json!({"on_hand": on_hand})))
            .send()
            .await
            .unwrap();
    }
    (product.id, m, l)
}

async fn new_cart(client: &weft_sdk::Client, currency: Option<&str>) -> weft_sdk::types::Cart {
    let created = client
        .create_cart()
        .body(body::<CreateCartRequest>(json!({"currency": currency})))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    created.into_inner()
}

async fn add(
    client: &weft_sdk::Client,
    cart: &str,
    variant: &str,
    quantity: i64,
) -> Result<weft_sdk::types::Cart, weft_sdk::Error<weft_sdk::types::Problem>> {
    client
        .add_cart_item()
        .id(cart)
        .body(body::<AddItemRequest>(
            json!({"variant_id": variant, "quantity": quantity}),
        ))
        .send()
        .await
        .map(weft_sdk::ResponseValue::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_guests_fill_a_cart_priced_and_taxed_by_the_server() {
    guests_fill_a_cart_priced_and_taxed_by_the_server(shop(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_guests_fill_a_cart_priced_and_taxed_by_the_server() {
    if let Some(app) = shop(Backend::Postgres).await {
        guests_fill_a_cart_priced_and_taxed_by_the_server(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_carts_belong_to_their_owner_refuse_bad_input_and_expire() {
    carts_belong_to_their_owner_refuse_bad_input_and_expire(
        shop_without_hot_copies(Backend::Sqlite).await.unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_carts_belong_to_their_owner_refuse_bad_input_and_expire() {
    if let Some(app) = shop_without_hot_copies(Backend::Postgres).await {
        carts_belong_to_their_owner_refuse_bad_input_and_expire(app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_come_from_the_hot_copy_and_every_change_retires_it() {
    reads_come_from_the_hot_copy_and_every_change_retires_it(shop(Backend::Sqlite).await.unwrap())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reads_come_from_the_hot_copy_and_every_change_retires_it() {
    if let Some(app) = shop(Backend::Postgres).await {
        reads_come_from_the_hot_copy_and_every_change_retires_it(app).await;
    }
}

/// The hot copy (in-process, or Redis on PostgreSQL) answers reads; the database stays
/// the truth: a change through the service retires the copy, and the next read shows the
/// database as it is. An add to a cart works from the copy and leaves its own rows as the
/// next copy; a copy behind the database costs it a read, never a wrong cart. Many adds
/// at once leave the copy and the database alike.
async fn reads_come_from_the_hot_copy_and_every_change_retires_it(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "hot@example.com").await;
    let admin = authed(&app, &session.access_token);
    let (_, m, _) = stocked_tee(&admin).await;
    let cart = new_cart(&app.client, None).await;
    add(&app.client, &cart.id, &m, 1).await.unwrap();
    let read = |id: String| {
        let client = app.client.clone();
        async move { client.get_cart().id(&id).send().await.unwrap().into_inner() }
    };
    assert_eq!(read(cart.id.clone()).await.item_count, 1);
    // Behind the service's back (no service does this): the copy still answers.
    execute_sql(
        &app,
        &format!(
            "UPDATE cart_items SET quantity = 3 WHERE cart_id = '{}'",
            cart.id
        ),
    )
    .await;
    assert_eq!(
        read(cart.id.clone()).await.item_count,
        1,
        "served from the hot copy"
    );
    // As another process's change looks between its commit and its moving the cart's
    // generation: the line changed and the cart stamped, the copy not yet retired.
    execute_sql(
        &app,
        &format!(
            "UPDATE cart_carts SET updated_at = '2001-01-01 00:00:00' WHERE id = '{}'",
            cart.id
        ),
    )
    .await;
    // A change through the service works on the database's rows and retires the copy.
    let after = add(&app.client, &cart.id, &m, 1).await.unwrap();
    assert_eq!(after.item_count, 4, "3 in the database + 1");
    assert_eq!(read(cart.id.clone()).await.item_count, 4);

    // An add that finds the cart as it read it: its rows are the next copy.
    let after = add(&app.client, &cart.id, &m, 1).await.unwrap();
    assert_eq!(after.item_count, 5);
    execute_sql(
        &app,
        &format!(
            "UPDATE cart_items SET quantity = 1 WHERE cart_id = '{}'",
            cart.id
        ),
    )
    .await;
    let copy = read(cart.id.clone()).await;
    assert_eq!(copy.item_count, 5, "served from the copy the add left");
    assert_eq!(copy.subtotal.amount, 5000);
    assert_eq!(copy.expires_at, after.expires_at);

    // 24 adds at once to one cart, on 4 lines: an add may find it changed since its read.
    let busy = new_cart(&app.client, None).await;
    let sizes = (0..4).map(|i| format!("S{i}")).collect::<Vec<_>>();
    let product = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": "Busy Tee", "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": sizes}],
            "variants": sizes.iter().map(|size| json!({
                "sku": format!("BUSY-{size}"), "options": {"size": size},
                "prices": [{"currency": "USD", "amount": 100}]
            })).collect::<Vec<_>>()
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    for v in &product.variants {
        admin
            .set_inventory()
            .variant_id(&v.id)
            .body(body::<SetStockRequest>(json!({"on_hand": 100})))
            .send()
            .await
            .unwrap();
    }
    let adds = (0..24).map(|i| {
        let client = app.client.clone();
        let (cart, variant) = (busy.id.clone(), product.variants[i % 4].id.clone());
        tokio::spawn(async move {
            match add(&client, &cart, &variant, 1).await {
                Ok(_) => None,
                Err(e) => Some(format!(
                    "{:?}",
                    problem_of::<weft_sdk::types::Cart>(Err(e)).await
                )),
            }
        })
    });
    for refused in futures::future::join_all(adds).await {
        assert_eq!(refused.unwrap(), None, "every add is taken");
    }
    let copy = read(busy.id.clone()).await;
    assert_eq!(copy.item_count, 24, "the copy holds every add");
    assert_eq!(
        copy.items.iter().map(|i| i.quantity).collect::<Vec<_>>(),
        [6, 6, 6, 6]
    );
    // Counted by an update that changes nothing: the lines holding 6.
    let stored = execute_sql(
        &app,
        &format!(
            "UPDATE cart_items SET quantity = quantity WHERE cart_id = '{}' AND quantity = 6",
            busy.id
        ),
    )
    .await;
    assert_eq!(stored, 4, "and so does the database");

    // A cart closed by its order, as an add sees it between the close's commit and its
    // generation moving: the copy is there, the cart is not. 404, and no line is written.
    execute_sql(
        &app,
        &format!("DELETE FROM cart_carts WHERE id = '{}'", busy.id),
    )
    .await;
    let problem = problem_of(add(&app.client, &busy.id, &product.variants[0].id, 1).await).await;
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (404, "cart_not_found")
    );
    let lines = execute_sql(
        &app,
        &format!(
            "UPDATE cart_items SET quantity = quantity WHERE cart_id = '{}'",
            busy.id
        ),
    )
    .await;
    assert_eq!(lines, 0);
}

async fn guests_fill_a_cart_priced_and_taxed_by_the_server(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "carts@example.com").await;
    let admin = authed(&app, &session.access_token);
    let (product, m, l) = stocked_tee(&admin).await;
    let guest = &app.client;

    let cart = new_cart(guest, None).await;
    assert!(cart.id.starts_with("cart_"));
    assert_eq!(
        (cart.currency.as_str(), cart.customer_id.as_deref()),
        ("USD", None)
    );
    assert_eq!((cart.item_count, cart.total.amount), (0, 0));

    let cart_after = add(guest, &cart.id, &m, 2).await.unwrap();
    assert_eq!(cart_after.subtotal.amount, 2000);
    let cart_after = add(guest, &cart.id, &m, 1).await.unwrap();
    assert_eq!(cart_after.items.len(), 1, "one line per variant");
    let line = &cart_after.items[0];
    assert_eq!((line.quantity, line.line_total.amount), (3, 3000));
    assert_eq!(line.sku.as_deref(), Some("BOXY-M"));
    assert_eq!(line.options["size"], "M");
    assert_eq!(line.image_url.as_deref(), Some("/media/tee.svg"));
    let line_id = line.id.clone();

    // Stock: size L has none; size M has 5.
    let problem = problem_of(add(guest, &cart.id, &l, 1).await).await;
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (409, "out_of_stock")
    );
    let problem = problem_of(add(guest, &cart.id, &m, 3).await).await;
    assert_eq!(problem.code, "out_of_stock", "3 in the cart + 3 > 5");
    let updated = guest
        .update_cart_item()
        .id(&cart.id)
        .item_id(&line_id)
        .body(body::<UpdateItemRequest>(json!({"quantity": 5})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(updated.subtotal.amount, 5000);
    let problem = problem_of(
        guest
            .update_cart_item()
            .id(&cart.id)
            .item_id(&line_id)
            .body(body::<UpdateItemRequest>(json!({"quantity": 6})))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.code, "out_of_stock");

    // The catalog's price now, always.
    admin
        .update_variant()
        .id(&m)
        .body(body::<UpdateVariantRequest>(
            json!({"prices": [{"currency": "USD", "amount": 1200}, {"currency": "EUR", "amount": 2300}]}),
        ))
        .send()
        .await
        .unwrap();
    let priced = guest
        .get_cart()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        priced.subtotal.amount, 6000,
        "5 × 12.00 after the price change"
    );

    // Tax: 7.25% in California, rounded half to even; added on top of USD prices.
    guest
        .update_cart_item()
        .id(&cart.id)
        .item_id(&line_id)
        .body(body::<UpdateItemRequest>(json!({"quantity": 1})))
        .send()
        .await
        .unwrap();
    admin
        .update_variant()
        .id(&m)
        .body(body::<UpdateVariantRequest>(
            json!({"prices": [{"currency": "USD", "amount": 1000}, {"currency": "EUR", "amount": 2300}]}),
        ))
        .send()
        .await
        .unwrap();
    let taxed = guest
        .update_cart()
        .id(&cart.id)
        .body(body::<UpdateCartRequest>(
            json!({"country": "us", "region": "ca"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(taxed.tax_rate_bps, 725);
    assert_eq!(taxed.tax.amount, 72, "72.5 cents rounds to the even 72");
    assert_eq!(taxed.total.amount, 1072);
    assert!(!taxed.tax_inclusive);
    // Shipping: what ships to the cart's destination in its currency, priced for it.
    let methods = guest
        .list_cart_shipping_methods()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let offered: Vec<(&str, i64)> = methods
        .iter()
        .map(|m| (m.id.as_str(), m.price.amount))
        .collect();
    assert_eq!(offered, [("standard", 500), ("express", 1500)]);
    let shipped = guest
        .update_cart()
        .id(&cart.id)
        .body(body::<UpdateCartRequest>(
            json!({"shipping_method_id": "express"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        shipped.region.as_deref(),
        Some("CA"),
        "an omitted field stays"
    );
    assert_eq!(shipped.shipping_method_id.as_deref(), Some("express"));
    assert_eq!(shipped.shipping.amount, 1500);
    assert_eq!(shipped.tax.amount, 72, "tax on the goods");
    assert_eq!(shipped.total.amount, 1000 + 1500 + 72);
    let problem = problem_of(
        guest
            .update_cart()
            .id(&cart.id)
            .body(body::<UpdateCartRequest>(
                json!({"shipping_method_id": "teleport"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.errors[0].field, "shipping_method_id");

    // A state without a rate of its own: none.
    let untaxed = guest
        .update_cart()
        .id(&cart.id)
        .body(body::<UpdateCartRequest>(
            json!({"country": "US", "region": "OR"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (untaxed.tax.amount, untaxed.total.amount),
        (0, 1000 + 1500),
        "still shipped express"
    );
    // Shipped abroad, express is not offered: it ships nothing until one is chosen.
    let abroad = guest
        .update_cart()
        .id(&cart.id)
        .body(body::<UpdateCartRequest>(
            json!({"country": "FR", "region": null}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (abroad.shipping_method_id, abroad.shipping.amount),
        (None, 0)
    );
    let problem = problem_of(
        guest
            .update_cart()
            .id(&cart.id)
            .body(body::<UpdateCartRequest>(
                json!({"shipping_method_id": "express"}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        problem.errors[0].field, "shipping_method_id",
        "not to France"
    );

    // EUR prices include German VAT: the tax is inside the total, not added.
    let euro = new_cart(guest, Some("eur")).await;
    add(guest, &euro.id, &m, 1).await.unwrap();
    let euro = guest
        .update_cart()
        .id(&euro.id)
        .body(body::<UpdateCartRequest>(json!({"country": "DE"})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(euro.tax_inclusive);
    assert_eq!(euro.tax.amount, 367, "23.00 × 19/119 = 3.672");
    assert_eq!(euro.total.amount, 2300);
    // Size L has no EUR price.
    admin
        .set_inventory()
        .variant_id(&l)
        .body(body::<SetStockRequest>(json!({"on_hand": 9})))
        .send()
        .await
        .unwrap();
    let problem = problem_of(add(guest, &euro.id, &l, 1).await).await;
    assert_eq!(problem.code, "price_unavailable");

    // A shopper who switches currency keeps the cart, re-priced: size M in EUR, size L
    // (no EUR price) kept but unpurchasable and counting nothing.
    let switching = new_cart(guest, None).await;
    add(guest, &switching.id, &m, 1).await.unwrap();
    add(guest, &switching.id, &l, 1).await.unwrap();
    let switched = guest
        .update_cart()
        .id(&switching.id)
        .body(body::<UpdateCartRequest>(json!({"currency": "eur"})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(switched.currency, "EUR");
    assert_eq!(switched.subtotal.amount, 2300);
    assert_eq!(switched.subtotal.currency, "EUR");
    let unpriced: Vec<_> = switched
        .items
        .iter()
        .filter(|i| !i.purchasable)
        .map(|i| &i.variant_id)
        .collect();
    assert_eq!(unpriced, [&l]);
    let problem = problem_of(
        guest
            .update_cart()
            .id(&switching.id)
            .body(body::<UpdateCartRequest>(json!({"currency": "euros"})))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.errors[0].field, "currency");
    let back = guest
        .get_cart()
        .id(&switching.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (back.currency.as_str(), back.subtotal.amount),
        ("EUR", 2300),
        "a refused change changes nothing"
    );

    // A product taken off sale: the line stays, counts for nothing, and cannot grow.
    admin
        .update_product()
        .id(&product)
        .body(body::<UpdateProductRequest>(json!({"status": "archived"})))
        .send()
        .await
        .unwrap();
    let stale = guest
        .get_cart()
        .id(&cart.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!stale.items[0].purchasable);
    assert_eq!((stale.subtotal.amount, stale.total.amount), (0, 0));
    let problem = problem_of(add(guest, &cart.id, &m, 1).await).await;
    assert_eq!(problem.code, "product_unavailable");
    let emptied = guest
        .remove_cart_item()
        .id(&cart.id)
        .item_id(&line_id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(emptied.items.is_empty());

    // Many readers at once (more than the pool has connections): each answers.
    let readers = (0..40).map(|_| {
        let client = app.client.clone();
        let id = euro.id.clone();
        tokio::spawn(async move { client.get_cart().id(&id).send().await.map(|r| r.status()) })
    });
    let answered = tokio::time::timeout(
        std::time::Duration::from_mins(1),
        futures::future::join_all(readers),
    )
    .await
    .expect("40 concurrent reads of a cart did not all answer: the pool starved");
    assert!(answered.into_iter().all(|r| r.unwrap().unwrap() == 200));

    // GraphQL reads the same cart.
    let answer: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({"query": format!("{{ cart(id: \"{}\") {{ currency total items {{ quantity }} }} }}", euro.id)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["data"]["cart"]["currency"], "EUR", "{answer}");
    assert_eq!(
        answer["data"]["cart"]["total"], 0,
        "archived since: counts for nothing"
    );
}

async fn carts_belong_to_their_owner_refuse_bad_input_and_expire(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "owners@example.com").await;
    let admin = authed(&app, &session.access_token);
    let (_, m, _) = stocked_tee(&admin).await;
    let ada = authed(&app, &customer(&app, "ada@example.com").await.access_token);
    let bob = authed(&app, &customer(&app, "bob@example.com").await.access_token);

    let adas = new_cart(&ada, None).await;
    assert!(adas.customer_id.is_some());
    let again = ada
        .create_cart()
        .body(body::<CreateCartRequest>(json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "her cart, not a second one");
    assert_eq!(again.into_inner().id, adas.id);
    add(&ada, &adas.id, &m, 1).await.unwrap();
    // Nobody else sees or edits it — not even that it exists.
    for other in [&bob, &app.client] {
        let problem = problem_of(other.get_cart().id(&adas.id).send().await).await;
        assert_eq!(
            (problem.status, problem.code.as_str()),
            (404, "cart_not_found")
        );
        let problem = problem_of(add(other, &adas.id, &m, 1).await).await;
        assert_eq!(problem.status, 404);
    }
    // A guest cart is anyone's who holds its id.
    let guests = new_cart(&app.client, None).await;
    add(&bob, &guests.id, &m, 1).await.unwrap();
    // An item of another cart is not an item of this one.
    let adas_line = ada
        .get_cart()
        .id(&adas.id)
        .send()
        .await
        .unwrap()
        .into_inner()
        .items[0]
        .id
        .clone();
    let problem = problem_of(
        app.client
            .remove_cart_item()
            .id(&guests.id)
            .item_id(&adas_line)
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.code, "item_not_found");

    // At sign-in, the cart filled as a guest merges into the customer's: quantities
    // summed, capped by what is available; the guest cart is gone.
    let filled = new_cart(&app.client, None).await;
    add(&app.client, &filled.id, &m, 4).await.unwrap();
    admin
        .set_inventory()
        .variant_id(&m)
        .body(body::<SetStockRequest>(json!({"on_hand": 3})))
        .send()
        .await
        .unwrap();
    let problem = problem_of(app.client.merge_cart().id(&filled.id).send().await).await;
    assert_eq!(problem.status, 401, "a guest has nobody to merge into");
    let merged = ada
        .merge_cart()
        .id(&filled.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(merged.id, adas.id, "into her cart");
    assert_eq!(merged.items.len(), 1);
    assert_eq!(
        merged.items[0].quantity, 3,
        "1 + 4, capped at the 3 available"
    );
    let problem = problem_of(app.client.get_cart().id(&filled.id).send().await).await;
    assert_eq!(problem.status, 404, "the guest cart is gone");
    let problem = problem_of(bob.merge_cart().id(&filled.id).send().await).await;
    assert_eq!(problem.status, 404, "merged once");
    let problem = problem_of(bob.merge_cart().id(&adas.id).send().await).await;
    assert_eq!(problem.status, 404, "a customer's cart is not a guest cart");

    // Bad input: 422 naming the field, nothing written.
    for (quantity, why) in [
        (0, "zero"),
        (-1, "negative"),
        (1_000_000_000, "10⁹"),
        (100, "over 99"),
    ] {
        let problem = problem_of(add(&app.client, &guests.id, &m, quantity).await).await;
        assert_eq!(problem.status, 422, "{why}");
        assert_eq!(problem.errors[0].field, "quantity", "{why}");
    }
    let unknown = format!("var_{}", "0".repeat(32));
    let problem = problem_of(add(&app.client, &guests.id, &unknown, 1).await).await;
    assert_eq!(
        (problem.status, problem.errors[0].field.as_str()),
        (422, "variant_id")
    );
    for (payload, field) in [
        (json!({"variant_id": m, "quantity": 1, "price": 1}), "price"),
        (json!({"variant_id": m, "quantity": "two"}), "quantity"),
        (json!({"variant_id": m}), "quantity"),
    ] {
        let resp = app
            .http
            .post(app.url(&format!("/v1/carts/{}/items", guests.id)))
            .json(&payload)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{payload}");
        let problem: serde_json::Value = resp.json().await.unwrap();
        // A missing field is reported at its parent, with its name in the message.
        let error = &problem["errors"][0];
        assert!(
            error["field"] == field || error["message"].as_str().unwrap().contains(field),
            "{problem}"
        );
    }
    let resp = app
        .http
        .post(app.url(&format!("/v1/carts/{}/items", guests.id)))
        .header("content-type", "application/json")
        .body("{\"variant_id\": ")
        .send()
        .await
        .unwrap();
    assert!(
        resp.status() == 400 || resp.status() == 422,
        "malformed JSON"
    );
    let problem = problem_of(
        app.client
            .create_cart()
            .body(body::<CreateCartRequest>(json!({"currency": "XYZ"})))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.errors[0].field, "currency");
    let problem = problem_of(
        app.client
            .update_cart()
            .id(&guests.id)
            .body(body::<UpdateCartRequest>(json!({"country": "ZZ"})))
            .send()
            .await,
    )
    .await;
    assert_eq!(problem.errors[0].field, "country");
    let cart = app
        .client
        .get_cart()
        .id(&guests.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cart.item_count, 1, "refused requests changed nothing");
    let problem = problem_of(app.client.get_cart().id("cart_nope").send().await).await;
    assert_eq!(problem.code, "cart_not_found");

    // Seven days after its last change a cart is gone at once, and the sweeper deletes it.
    let future = if app.backend == Backend::Postgres {
        "NOW() - INTERVAL '1 second'"
    } else {
        "datetime('now', '-1 second')"
    };
    assert_eq!(
        execute_sql(
            &app,
            &format!(
                "UPDATE cart_carts SET expires_at = {future} WHERE id = '{}'",
                guests.id
            ),
        )
        .await,
        1
    );
    let problem = problem_of(app.client.get_cart().id(&guests.id).send().await).await;
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (404, "cart_not_found")
    );
    let mut swept = false;
    for _ in 0..50 {
        let left = stored_strings(
            &app,
            &format!("SELECT id AS v FROM cart_carts WHERE id = '{}'", guests.id),
        )
        .await;
        if left.is_empty() {
            swept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(swept, "the sweeper deletes expired carts");
    let lines = stored_strings(
        &app,
        &format!(
            "SELECT id AS v FROM cart_items WHERE cart_id = '{}'",
            guests.id
        ),
    )
    .await;
    assert!(lines.is_empty(), "with their lines");
    let ttl = adas.expires_at - adas.created_at;
    assert_eq!(ttl.num_days(), 7);
}
