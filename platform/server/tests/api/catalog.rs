//! The catalog through the SDK: admins build it (categories, products, variants, prices),
//! guests browse it (filters, sorts, pages, detail by id or handle), and every bad input
//! is refused with nothing half-written.

use serde_json::json;
use weft_sdk::types::{
    CategoryRequest, CreateProductRequest, CreateVariantRequest, Product as ProductDto,
    SetStockRequest, UpdateProductRequest, UpdateVariantRequest,
};
use weft_testkit::{TestApp, backend_tests};

use crate::support::{
    authed, customer, enrolled_admin, problem_of, sqlite_app_in, stored_strings, usd_range,
};

backend_tests!(
    admins_build_a_catalog_and_guests_browse_it,
    bad_catalog_input_is_refused_and_nothing_is_half_written,
    variants_prices_and_products_change_and_go,
    only_staff_and_scoped_apps_manage_the_catalog,
    graphql_admin_mutations_follow_the_same_rules,
    recommendations_favour_the_closest_products,
    collections_group_products_in_order,
    imports_land_good_products_whole_and_report_bad_lines,
    the_cli_import_shows_in_a_running_shop,
    a_ten_megabyte_import_with_broken_rows_lands_its_good_products,
    batched_imports_refuse_clashes_within_and_across_batches_and_land_the_rest,
    stored_documents_keep_every_concurrent_change,
);

fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn shirt(handle: &str, sku: &str, category: Option<&str>, usd: [i64; 2]) -> CreateProductRequest {
    body(json!({
        "title": "Linen Shirt",
        "handle": handle,
        "brand": "Loom & Co",
        "status": "active",
        "description": "A breathable linen shirt.",
        "material": "100% linen",
        "care": "Machine wash cold",
        "fit": "Relaxed",
        "tags": ["Summer", "linen", "summer"],
        "images": [{"url": "/media/shirt-front.svg", "alt": "Front"}],
        "options": [{"name": "Size", "values": ["S", "M", "L"]}, {"name": "color", "values": ["White", "Navy"]}],
        "size_chart": {"chest_cm": {"S": 96, "M": 102, "L": 108}},
        "category_id": category,
        "variants": [
            {"sku": format!("{sku}-S-WHT"), "options": {"size": "S", "color": "White"},
             "prices": [{"currency": "USD", "amount": usd[0]}, {"currency": "eur", "amount": usd[0] - 500}]},
            {"sku": format!("{sku}-M-NVY"), "options": {"size": "M", "color": "Navy"},
             "prices": [{"currency": "USD", "amount": usd[1], "compare_at_amount": usd[1] + 1000}]},
        ]
    }))
}

async fn category(admin: &weft_sdk::Client, name: &str, parent: Option<&str>) -> String {
    admin
        .create_category()
        .body(body::<CategoryRequest>(
            json!({"name": name, "parent_id": parent}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner()
        .id
}

async fn admins_build_a_catalog_and_guests_browse_it(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "merch@example.com").await;
    let admin = authed(&app, &session.access_token);
    let women = category(&admin, "Women", None).await;
    let tops = category(&admin, "Women Tops", Some(&women)).await;
    let men = category(&admin, "Men", None).await;

    let linen = admin
        .create_product()
        .body(shirt("linen-shirt", "LS", Some("women-tops"), [4500, 5500]))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(linen.id.starts_with("prod_"));
    assert_eq!(
        linen.category_id.as_deref(),
        Some(tops.as_str()),
        "found by handle"
    );
    assert_eq!(linen.tags, ["summer", "linen"], "normalised, deduplicated");
    assert_eq!(linen.variants.len(), 2);
    assert!(linen.variants[0].id.starts_with("var_"));
    let usd = linen
        .price_ranges
        .iter()
        .find(|r| r.currency == "USD")
        .unwrap();
    assert_eq!((usd.min.amount, usd.max.amount), (4500, 5500));
    let eur = linen
        .price_ranges
        .iter()
        .find(|r| r.currency == "EUR")
        .unwrap();
    assert_eq!((eur.min.amount, eur.max.amount), (4000, 4000));

    let tee = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": "Cotton Tee", "brand": "Plain", "status": "active", "category_id": women,
            "options": [{"name": "size", "values": ["S", "M"]}],
            "variants": [{"sku": "TEE-S", "options": {"size": "S"}, "prices": [{"currency": "USD", "amount": 1500}]}]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tee.handle, "cotton-tee", "made from the title");
    let coat = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": "Wool Coat", "brand": "Loom & Co", "category_id": men,
            "variants": [{"sku": "COAT-1", "prices": [{"currency": "USD", "amount": 25000}]}]
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(coat.status, "draft");

    // Guests: active products only, by id or handle.
    let guest = &app.client;
    let by_handle = guest
        .get_product()
        .id("linen-shirt")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_handle.id, linen.id);
    let by_id = guest
        .get_product()
        .id(&linen.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id.handle, "linen-shirt");
    let p = problem_of(guest.get_product().id("wool-coat").send().await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (404, "product_not_found"),
        "a draft is hidden"
    );
    admin.get_product().id("wool-coat").send().await.unwrap();
    let everything = admin
        .admin_list_products()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(everything.data.len(), 3);

    // The back office's search: title, handle, brand or SKU, any case, drafts included;
    // LIKE's wildcards are plain characters; a status narrows it.
    let search = |q: Option<&'static str>, status: Option<&'static str>| {
        let admin = admin.clone();
        async move {
            let mut call = admin.admin_list_products();
            if let Some(q) = q {
                call = call.q(q);
            }
            if let Some(s) = status {
                call = call.status(s);
            }
            call.send().await.map(|r| {
                r.into_inner()
                    .data
                    .into_iter()
                    .map(|p| p.handle)
                    .collect::<Vec<_>>()
            })
        }
    };
    assert_eq!(search(Some("WOOL"), None).await.unwrap(), ["wool-coat"]);
    assert_eq!(
        search(Some("tee-s"), None).await.unwrap(),
        ["cotton-tee"],
        "by SKU"
    );
    assert_eq!(
        search(Some("loom &"), None).await.unwrap(),
        ["wool-coat", "linen-shirt"],
        "by brand"
    );
    assert!(
        search(Some("%"), None).await.unwrap().is_empty(),
        "% is not a wildcard"
    );
    assert_eq!(search(None, Some("draft")).await.unwrap(), ["wool-coat"]);
    assert_eq!(
        search(Some("t"), Some("active")).await.unwrap(),
        ["cotton-tee", "linen-shirt"]
    );
    let p = problem_of(search(None, Some("deleted")).await).await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "status"));
    let p = problem_of(
        app.client
            .admin_list_products()
            .status("deleted")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        p.status, 401,
        "a guest is refused before the query is looked at"
    );

    let list = |q: &[(&str, &str)]| {
        let http = app.http.clone();
        let url = app.url("/v1/products");
        let q: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        async move {
            let resp = http.get(url).query(&q).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            let page: serde_json::Value = resp.json().await.unwrap();
            let handles: Vec<String> = page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["handle"].as_str().unwrap().to_owned())
                .collect();
            (handles, page["next_cursor"].as_str().map(str::to_owned))
        }
    };
    assert_eq!(
        list(&[]).await.0,
        ["cotton-tee", "linen-shirt"],
        "newest first, drafts hidden"
    );
    assert_eq!(
        list(&[("category", "women")]).await.0,
        ["cotton-tee", "linen-shirt"],
        "subcategories included"
    );
    assert_eq!(list(&[("category", &tops)]).await.0, ["linen-shirt"]);
    assert!(
        list(&[("category", "men")]).await.0.is_empty(),
        "the coat is a draft"
    );
    assert_eq!(
        list(&[("size", "M")]).await.0,
        ["linen-shirt"],
        "the tee has no M variant"
    );
    // Facets are independent, as on most storefronts: available in S, and available in Navy.
    assert_eq!(
        list(&[("color", "Navy"), ("size", "S")]).await.0,
        ["linen-shirt"]
    );
    assert!(list(&[("color", "Red")]).await.0.is_empty());
    assert_eq!(list(&[("brand", "Plain")]).await.0, ["cotton-tee"]);
    assert_eq!(list(&[("min_price", "5000")]).await.0, ["linen-shirt"]);
    assert_eq!(list(&[("max_price", "2000")]).await.0, ["cotton-tee"]);
    assert_eq!(
        list(&[("currency", "EUR")]).await.0.len(),
        2,
        "currency alone filters nothing"
    );
    assert_eq!(
        list(&[("currency", "EUR"), ("sort", "price_asc")]).await.0,
        ["linen-shirt"],
        "only products priced in EUR"
    );
    assert_eq!(
        list(&[("sort", "price_asc")]).await.0,
        ["cotton-tee", "linen-shirt"]
    );
    assert_eq!(
        list(&[("sort", "price_desc")]).await.0,
        ["linen-shirt", "cotton-tee"]
    );

    // Pages: one product each, following the cursor, for each order.
    for sort in ["newest", "price_asc", "price_desc"] {
        let (first, cursor) = list(&[("sort", sort), ("limit", "1")]).await;
        let cursor = cursor.unwrap();
        let (second, after_second) =
            list(&[("sort", sort), ("limit", "1"), ("cursor", &cursor)]).await;
        assert_eq!(first.len() + second.len(), 2, "{sort}");
        assert_ne!(first, second, "{sort}");
        assert_eq!(after_second, None, "{sort}");
    }

    let categories = guest
        .list_categories()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let names: Vec<&str> = categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), 2);
    let women_node = categories.iter().find(|c| c.id == women).unwrap();
    assert_eq!(women_node.children[0].handle, "women-tops");
    let one = guest
        .get_category()
        .id("women-tops")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.parent_id.as_deref(), Some(women.as_str()));

    let events = stored_strings(
        &app,
        "SELECT aggregate_id AS v FROM platform_outbox WHERE event_type = 'product.updated'",
    )
    .await;
    assert!(
        events.contains(&linen.id) && events.contains(&coat.id),
        "ProductUpdated goes out with every write"
    );
}

async fn bad_catalog_input_is_refused_and_nothing_is_half_written(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "strict@example.com").await;
    let admin = authed(&app, &session.access_token);
    admin
        .create_product()
        .body(shirt("linen-shirt", "LS", None, [4500, 5500]))
        .send()
        .await
        .unwrap();

    let p = problem_of(
        admin
            .create_product()
            .body(shirt("linen-shirt", "OTHER", None, [4500, 5500]))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "handle_taken"));
    let p = problem_of(
        admin
            .create_product()
            .body(shirt("other-shirt", "LS", None, [4500, 5500]))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "sku_taken"));

    let post = |v: serde_json::Value| {
        let http = app.http.clone();
        let url = app.url("/v1/admin/products");
        let token = session.access_token.clone();
        async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&v)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let problem: serde_json::Value = resp.json().await.unwrap();
            let fields: Vec<String> = problem["errors"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|e| e["field"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (status, fields)
        }
    };
    let base =
        json!({"title": "Tee", "brand": "B", "options": [{"name": "size", "values": ["S", "M"]}]});
    let with = |extra: serde_json::Value| {
        let mut v = base.clone();
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    };
    for (case, payload, fields) in [
        (
            "repeated combination",
            with(json!({"variants": [
            {"sku": "A1", "options": {"size": "S"}, "prices": [{"currency": "USD", "amount": 1}]},
            {"sku": "A2", "options": {"size": "S"}, "prices": [{"currency": "USD", "amount": 1}]}]})),
            vec!["variants[1].options"],
        ),
        (
            "unknown option and value",
            with(json!({"variants": [
            {"sku": "A1", "options": {"size": "XXL", "fabric": "silk"}, "prices": [{"currency": "USD", "amount": 1}]}]})),
            vec!["variants[0].options.size", "variants[0].options.fabric"],
        ),
        (
            "negative price and bad currency",
            with(json!({"variants": [
            {"sku": "A1", "options": {"size": "S"}, "prices": [{"currency": "USD", "amount": -1}, {"currency": "DOLLARS", "amount": 1}]}]})),
            vec![
                "variants[0].prices[0].amount",
                "variants[0].prices[1].currency",
            ],
        ),
        (
            "no prices, bad sku",
            with(
                json!({"variants": [{"sku": "has space", "options": {"size": "S"}, "prices": []}]}),
            ),
            vec!["variants[0].sku", "variants[0].prices"],
        ),
        (
            "bad handle, status, image",
            with(
                json!({"handle": "Not A Handle", "status": "live", "images": [{"url": "javascript alert"}]}),
            ),
            vec!["handle", "status", "images[0].url"],
        ),
        (
            "empty title and brand",
            json!({"title": " ", "brand": ""}),
            vec!["title", "brand"],
        ),
        ("unknown field", with(json!({"price": 10})), vec!["price"]),
        ("wrong type", with(json!({"tags": "summer"})), vec!["tags"]),
    ] {
        let (status, got) = post(payload).await;
        assert_eq!(status, 422, "{case}");
        assert_eq!(got, fields, "{case}");
    }
    let (status, _) = post(with(
        json!({"category_id": "cat_00000000000000000000000000000000"}),
    ))
    .await;
    assert_eq!(status, 422, "unknown category");

    // Listing parameters.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("cursor=forged", "cursor"),
        ("sort=cheapest", "sort"),
        ("min_price=-5", "min_price"),
        ("min_price=10&max_price=5", "max_price"),
        ("currency=DOLLARS", "currency"),
        ("min_price=abc", "min_price"),
    ] {
        let resp = app
            .http
            .get(app.url(&format!("/v1/products?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{query}");
        let problem: serde_json::Value = resp.json().await.unwrap();
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }
    let resp = app
        .http
        .get(app.url("/v1/products?category=nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Nothing half-written: only the first product and its two variants exist.
    assert_eq!(
        stored_strings(&app, "SELECT id AS v FROM catalog_products")
            .await
            .len(),
        1
    );
    assert_eq!(
        stored_strings(&app, "SELECT id AS v FROM catalog_variants")
            .await
            .len(),
        2
    );
    assert_eq!(
        stored_strings(&app, "SELECT currency AS v FROM catalog_variant_prices")
            .await
            .len(),
        3
    );
}

async fn variants_prices_and_products_change_and_go(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "editor@example.com").await;
    let admin = authed(&app, &session.access_token);
    let product: ProductDto = admin
        .create_product()
        .body(shirt("linen-shirt", "LS", None, [4500, 5500]))
        .send()
        .await
        .unwrap()
        .into_inner();

    // A new combination; the same one again is a conflict; a wrong one a 422.
    let added = admin
        .create_variant()
        .id(&product.id)
        .body(body::<CreateVariantRequest>(json!({"sku": "LS-L-WHT", "options": {"size": "L", "color": "White"}, "prices": [{"currency": "USD", "amount": 3900}]})))
        .send()
        .await
        .unwrap()
        .into_inner();
    let p = problem_of(
        admin
            .create_variant()
            .id(&product.id)
            .body(body::<CreateVariantRequest>(json!({"sku": "LS-L-WHT-2", "options": {"size": "L", "color": "White"}, "prices": [{"currency": "USD", "amount": 3900}]})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "duplicate_variant"));
    let p = problem_of(
        admin
            .create_variant()
            .id(&product.id)
            .body(body::<CreateVariantRequest>(json!({"sku": "LS-X", "options": {"size": "L"}, "prices": [{"currency": "USD", "amount": 1}]})))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "variant.options.color")
    );
    let range = |p: &ProductDto| {
        let r = p.price_ranges.iter().find(|r| r.currency == "USD").unwrap();
        (r.min.amount, r.max.amount)
    };
    let now = admin
        .get_product()
        .id(&product.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        range(&now),
        (3900, 5500),
        "the range follows the new variant"
    );

    // A guest's answer carries an ETag; asking again with it costs a bodiless 304.
    let url = app.url("/v1/products/linen-shirt");
    let first = app.http.get(&url).send().await.unwrap();
    assert_eq!(first.headers()["cache-control"], "public, no-cache");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let listing = app
        .http
        .get(app.url("/v1/products?sort=price_desc"))
        .send()
        .await
        .unwrap();
    let listing_etag = listing.headers()["etag"].to_str().unwrap().to_owned();
    let staff = app
        .http
        .get(&url)
        .bearer_auth(&session.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.headers()["cache-control"], "private, no-store");

    // Re-pricing moves the range; a bad price changes nothing.
    let p = problem_of(
        admin
            .update_variant()
            .id(&added.id)
            .body(body::<UpdateVariantRequest>(
                json!({"prices": [{"currency": "USD", "amount": 100, "compare_at_amount": 50}]}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "prices[0].compare_at_amount")
    );
    let repriced = admin
        .update_variant()
        .id(&added.id)
        .body(body::<UpdateVariantRequest>(
            json!({"prices": [{"currency": "USD", "amount": 9900}], "barcode": "4006381333931"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(repriced.prices.len(), 1);
    assert_eq!(repriced.barcode.as_deref(), Some("4006381333931"));
    let now = admin
        .get_product()
        .id(&product.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(range(&now), (4500, 9900));
    // The cached answers moved with the price at once: new content, new ETag.
    let fresh = app
        .http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200, "the old ETag no longer matches");
    assert_ne!(fresh.headers()["etag"].to_str().unwrap(), etag);
    let fresh: serde_json::Value = fresh.json().await.unwrap();
    let usd = usd_range(&fresh);
    assert_eq!(usd["max"]["amount"], 9900);
    let listing = app
        .http
        .get(app.url("/v1/products?sort=price_desc"))
        .header("if-none-match", &listing_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 200, "the listing changed too");
    let p = problem_of(
        admin
            .update_variant()
            .id(&added.id)
            .body(body::<UpdateVariantRequest>(json!({"sku": "LS-S-WHT"})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "sku_taken"));
    admin.delete_variant().id(&added.id).send().await.unwrap();
    let now = admin
        .get_product()
        .id(&product.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(range(&now), (4500, 5500));
    let p = problem_of(admin.delete_variant().id(&added.id).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "variant_not_found"));

    // Edits: renamed, moved to a new handle, archived (then hidden from guests).
    let edited = admin
        .update_product()
        .id(&product.id)
        .body(body::<UpdateProductRequest>(json!({"title": "Linen Shirt II", "handle": "linen-shirt-ii", "care": "", "tags": ["new"]})))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (edited.title.as_str(), edited.handle.as_str()),
        ("Linen Shirt II", "linen-shirt-ii")
    );
    assert_eq!(edited.care, None, "cleared");
    assert_eq!(edited.material.as_deref(), Some("100% linen"), "kept");
    app.client
        .get_product()
        .id("linen-shirt-ii")
        .send()
        .await
        .unwrap();
    admin
        .update_product()
        .id(&product.id)
        .body(body::<UpdateProductRequest>(json!({"status": "archived"})))
        .send()
        .await
        .unwrap();
    let p = problem_of(app.client.get_product().id("linen-shirt-ii").send().await).await;
    assert_eq!(p.status, 404, "archived products are hidden from guests");

    let removal = admin
        .delete_product()
        .id(&product.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(removal.outcome, "deleted");
    let p = problem_of(admin.get_product().id(&product.id).send().await).await;
    assert_eq!(p.status, 404);
    assert!(
        stored_strings(&app, "SELECT id AS v FROM catalog_variants")
            .await
            .is_empty()
    );
    assert!(
        stored_strings(&app, "SELECT product_id AS v FROM catalog_product_prices")
            .await
            .is_empty()
    );

    // Categories: in use → 409, a cycle → 422, empty → gone.
    let root = category(&admin, "Kids", None).await;
    let child = category(&admin, "Kids Shoes", Some(&root)).await;
    let p = problem_of(admin.delete_category().id(&root).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (409, "category_in_use"));
    let p = problem_of(
        admin
            .update_category()
            .id(&root)
            .body(body::<CategoryRequest>(json!({"parent_id": child})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "parent_id"));
    let p = problem_of(
        admin
            .create_category()
            .body(body::<CategoryRequest>(json!({"name": "Kids"})))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "handle_taken"));
    admin.delete_category().id(&child).send().await.unwrap();
    admin.delete_category().id(&root).send().await.unwrap();
    assert!(
        app.client
            .list_categories()
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .is_empty()
    );
}

async fn only_staff_and_scoped_apps_manage_the_catalog(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "owner@example.com").await;
    let admin = authed(&app, &session.access_token);
    let shopper = customer(&app, "shopper@example.com").await;
    let payload = serde_json::to_value(shirt("linen-shirt", "LS", None, [4500, 5500])).unwrap();
    for (who, token, status) in [
        ("guest", None, 401),
        ("customer", Some(shopper.access_token.clone()), 403),
    ] {
        // Each with a body of the right shape, so only the caller can be at fault.
        let variant = json!({"sku": "X-1", "prices": [{"currency": "USD", "amount": 1}]});
        for (method, path, body) in [
            (reqwest::Method::POST, "/v1/admin/products", payload.clone()),
            (reqwest::Method::GET, "/v1/admin/products", json!(null)),
            (
                reqwest::Method::PATCH,
                "/v1/admin/products/prod_0",
                json!({}),
            ),
            (
                reqwest::Method::DELETE,
                "/v1/admin/products/prod_0",
                json!(null),
            ),
            (
                reqwest::Method::POST,
                "/v1/admin/products/prod_0/variants",
                variant.clone(),
            ),
            (
                reqwest::Method::PATCH,
                "/v1/admin/variants/var_0",
                json!({}),
            ),
            (
                reqwest::Method::DELETE,
                "/v1/admin/variants/var_0",
                json!(null),
            ),
            (
                reqwest::Method::POST,
                "/v1/admin/categories",
                json!({"name": "X"}),
            ),
            (
                reqwest::Method::PATCH,
                "/v1/admin/categories/cat_0",
                json!({}),
            ),
            (
                reqwest::Method::DELETE,
                "/v1/admin/categories/cat_0",
                json!(null),
            ),
            (
                reqwest::Method::POST,
                "/v1/admin/collections",
                json!({"title": "X"}),
            ),
            (
                reqwest::Method::PATCH,
                "/v1/admin/collections/col_0",
                json!({}),
            ),
            (
                reqwest::Method::DELETE,
                "/v1/admin/collections/col_0",
                json!(null),
            ),
        ] {
            let mut request = app.http.request(method.clone(), app.url(path));
            if !body.is_null() {
                request = request.json(&body);
            }
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status(), status, "{who} {method} {path}");
        }
    }
    let key = |scopes: &[&str]| {
        let admin = admin.clone();
        let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        async move {
            admin
                .create_api_key()
                .body(weft_sdk::types::CreateCredentialRequest {
                    name: "feed".into(),
                    scopes,
                })
                .send()
                .await
                .unwrap()
                .into_inner()
                .key
        }
    };
    let reader = authed(&app, &key(&["catalog:read"]).await);
    let p = problem_of(
        reader
            .create_product()
            .body(shirt("linen-shirt", "LS", None, [4500, 5500]))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (403, "missing_scope"));
    reader.admin_list_products().send().await.unwrap();
    let writer = authed(&app, &key(&["catalog:write"]).await);
    let created = writer
        .create_product()
        .body(shirt("linen-shirt", "LS", None, [4500, 5500]))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.status, "active");
    assert_eq!(
        stored_strings(&app, "SELECT id AS v FROM catalog_products").await,
        [created.id]
    );
}

/// `--demo` seeds a realistic catalog once, in the background, with pictures Weft serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_catalog_is_seeded_once_with_its_pictures() {
    let app = weft_testkit::spawn_app_with(weft_testkit::Backend::Sqlite, |s| s.demo = true)
        .await
        .unwrap();
    // A deadline, not a speed target: the seed shares two cores with the other tests.
    let mut seeded = false;
    for _ in 0..1200 {
        let flag = stored_strings(
            &app,
            "SELECT value AS v FROM platform_system WHERE key = 'catalog.demo_seeded'",
        )
        .await;
        if !flag.is_empty() {
            seeded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        seeded,
        "the demo catalog was not seeded within four minutes"
    );
    let count = stored_strings(
        &app,
        "SELECT id AS v FROM catalog_products WHERE status = 'active'",
    )
    .await
    .len();
    assert!(count >= 1000, "{count} products");
    let brands = stored_strings(&app, "SELECT DISTINCT brand AS v FROM catalog_products").await;
    assert!(brands.len() >= 5, "{brands:?}");

    let tree = app
        .client
        .list_categories()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let departments: Vec<&str> = tree.iter().map(|c| c.handle.as_str()).collect();
    assert_eq!(departments, ["women", "men", "kids"]);
    for department in &tree {
        assert!(department.children.len() >= 5, "{}", department.handle);
    }
    let dresses = app
        .client
        .list_products()
        .category("women-dresses")
        .size("M")
        .currency("EUR")
        .sort("price_asc")
        .limit(5)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dresses.data.len(), 5);
    assert!(dresses.next_cursor.is_some());
    let prices: Vec<i64> = dresses
        .data
        .iter()
        .map(|p| {
            p.price_ranges
                .iter()
                .find(|r| r.currency == "EUR")
                .unwrap()
                .min
                .amount
        })
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let picture = app
        .http
        .get(app.url(&dresses.data[0].images[0].url))
        .send()
        .await
        .unwrap();
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()["content-type"], "image/svg+xml");
    assert!(picture.text().await.unwrap().starts_with("<svg"));
    let missing = app
        .http
        .get(app.url("/media/demo/..%2Fetc--black.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Its variants are stocked (after the catalog, in the background), so a storefront
    // can fill carts: most in stock, some sold out, none below zero.
    let variant = dresses.data[0].variants[0].id.clone();
    let mut stocked = Vec::new();
    for _ in 0..600 {
        stocked = stored_strings(
            &app,
            "SELECT CAST(on_hand AS TEXT) AS v FROM inventory_levels",
        )
        .await;
        if stocked.len() >= 10_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let counts: Vec<i64> = stocked.iter().map(|v| v.parse().unwrap()).collect();
    assert!(counts.len() >= 10_000, "{} variants stocked", counts.len());
    assert!(counts.iter().all(|n| (0..40).contains(n)));
    let sold_out = counts.iter().filter(|n| **n == 0).count();
    assert!(
        sold_out > 0 && sold_out < counts.len() / 5,
        "{sold_out} sold out"
    );
    let stock = app
        .client
        .get_inventory()
        .variant_id(&variant)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stock.reserved, 0);

    // Once: a second seed adds nothing.
    let db = weft::app::open_database(&app.settings).await.unwrap();
    let bus = weft::app::open_bus(&app.settings, &db).await.unwrap();
    let cache = weft::app::open_cache(&app.settings).await.unwrap();
    let catalog = weft_catalog::CatalogService::new(
        db.clone(),
        bus,
        cache,
        weft_catalog::service::CacheTtls::default(),
        weft_kernel::Clock::system(),
    );
    assert_eq!(
        weft_catalog::demo::seed(
            &catalog,
            &db,
            weft_catalog::demo::DEFAULT_PRODUCTS,
            &|_, _| {}
        )
        .await
        .unwrap(),
        0
    );
}

/// A first start says "demo catalog ready" only once a shopper can browse it: the stock
/// has reached the listings, so `in_stock=true` finds products the moment it is said. The
/// seed logs one summary line, not a line per product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_says_ready_only_once_its_stock_reaches_the_listings() {
    let dir = tempfile::tempdir().unwrap();
    // The log levels a first start has (the test harness's own default is `info`, which
    // lets tantivy's benign merge warnings through: dozens on a loaded machine).
    let weft = weft_testkit::WeftProcess::serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_weft")),
        &["--data-dir", dir.path().to_str().unwrap(), "--demo"],
        &[
            ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
            ("RUST_LOG", weft_telemetry::DEFAULT_LEVELS),
        ],
    );
    let ready = weft
        .wait_for_log("demo catalog ready", std::time::Duration::from_mins(12))
        .expect("the demo catalog did not become ready");
    let http = reqwest::Client::new();
    let listing = |query: &'static str| {
        let url = format!("{}/v1/products?{query}", weft.address());
        let http = http.clone();
        async move {
            let body: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
            body["data"].as_array().map_or(0, Vec::len)
        }
    };
    assert_eq!(listing("in_stock=true&limit=100").await, 100);
    assert!(listing("category=women-dresses&size=M&in_stock=true&limit=5").await > 0);

    let summary: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert!(summary["products"].as_u64().unwrap() > 1000, "{summary}");
    assert!(summary["variants"].as_u64().unwrap() > 10_000, "{summary}");
    let logs = weft.logs();
    assert!(
        logs.iter().all(|l| !l.contains("product created")),
        "a line per product"
    );
    assert!(
        logs.len() < 60,
        "{} log lines:\n{}",
        logs.len(),
        logs.join("\n")
    );
}

/// GraphQL reads the same catalog; a page of products with their variants, prices and
/// categories costs the same number of SQL statements for 5 products as for 20.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_pages_cost_a_constant_number_of_queries() {
    let dir = tempfile::tempdir().unwrap();
    let weft = weft_testkit::WeftProcess::serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_weft")),
        &["--data-dir", dir.path().to_str().unwrap(), "--demo"],
        &[("WEFT_RATE_LIMIT_PER_MINUTE", "0")],
    );
    assert!(
        weft.wait_for_log("demo catalog ready", std::time::Duration::from_mins(12))
            .is_some(),
        "the demo catalog did not become ready"
    );
    let http = reqwest::Client::new();
    let queries = || {
        let http = http.clone();
        let url = format!("{}/metrics", weft.address());
        async move {
            let text = http.get(url).send().await.unwrap().text().await.unwrap();
            text.lines()
                .find(|l| l.starts_with("db_queries_total{backend=\"sqlite\"}"))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or_default()
        }
    };
    let graphql = |query: String| {
        let http = http.clone();
        let url = format!("{}/graphql", weft.address());
        async move {
            let body: serde_json::Value = http
                .post(url)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(body["errors"].is_null(), "{body}");
            body
        }
    };
    let page = |category: &str, first: u32| {
        format!(
            "{{ products(category: \"{category}\", first: {first}, sort: \"price_asc\") {{ nodes {{ id title \
             category {{ name }} priceRanges {{ currency min {{ amount }} }} variants {{ sku options {{ name value }} \
             prices {{ currency amount }} }} }} nextCursor }} categories {{ handle }} }}"
        )
    };
    // The seed's events are still being applied in the background (the search index
    // reads each product, the catalog follows thousands of stock statuses): wait until
    // the database is quiet, or they would be counted. On a busy machine a debug build
    // takes minutes to drain them.
    let mut last = queries().await;
    for _ in 0..1200 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = queries().await;
        if now == last {
            break;
        }
        last = now;
    }
    // Warm what every page shares (the category tree), so both pages start alike.
    graphql(page("kids-tops", 1)).await;

    // Background work (sweepers, the seed's last events) can only add statements to a
    // measurement, so the least of a few tries is the page's own cost; each try reads
    // other categories, so nothing comes from the cache.
    let mut cost_twenty = u64::MAX;
    let mut cost_five = u64::MAX;
    for (twenty_of, five_of) in [
        ("women-tops", "men-tops"),
        ("women-bottoms", "men-bottoms"),
        ("women-outerwear", "men-outerwear"),
        ("women-shoes", "men-shoes"),
    ] {
        let before = queries().await;
        let twenty = graphql(page(twenty_of, 20)).await;
        let after_twenty = queries().await;
        let five = graphql(page(five_of, 5)).await;
        let after_five = queries().await;

        let nodes = twenty["data"]["products"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 20, "{twenty_of}");
        assert!(nodes.iter().all(|n| n["category"]["name"].is_string()));
        assert!(
            nodes
                .iter()
                .all(|n| n["variants"].as_array().unwrap().len() >= 3)
        );
        assert_eq!(
            five["data"]["products"]["nodes"].as_array().unwrap().len(),
            5
        );
        cost_twenty = cost_twenty.min(after_twenty - before);
        cost_five = cost_five.min(after_five - after_twenty);
    }
    assert!(
        cost_twenty > 0,
        "the first page was not read from the database"
    );
    assert_eq!(cost_twenty, cost_five, "queries grow with the page: N+1");
    assert!(cost_twenty <= 8, "{cost_twenty} statements for one page");
}

async fn graphql_admin_mutations_follow_the_same_rules(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "gql-admin@example.com").await;
    let shopper = customer(&app, "gql-shopper@example.com").await;
    let mutation = json!({"query": "mutation { createProduct(input: { title: \"Silk Scarf\", brand: \"Marlow\", status: \"active\", \
        variants: [{ sku: \"SCARF-1\", prices: [{ currency: \"USD\", amount: 4900 }] }] }) { id handle priceRanges { currency min { amount } } } }"});
    let run = |token: Option<String>, body: serde_json::Value| {
        let http = app.http.clone();
        let url = app.url("/graphql");
        async move {
            let mut request = http.post(url).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let guest = run(None, mutation.clone()).await;
    assert_eq!(
        guest["errors"][0]["extensions"]["code"], "unauthenticated",
        "{guest}"
    );
    let refused = run(Some(shopper.access_token.clone()), mutation.clone()).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "forbidden",
        "{refused}"
    );
    let created = run(Some(session.access_token.clone()), mutation.clone()).await;
    assert_eq!(
        created["data"]["createProduct"]["handle"], "silk-scarf",
        "{created}"
    );
    let again = run(Some(session.access_token.clone()), mutation).await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "handle_taken",
        "{again}"
    );
    let read = run(None, json!({"query": "{ product(id: \"silk-scarf\") { title variants { sku } } missing: product(id: \"nope\") { id } }"})).await;
    assert_eq!(read["data"]["product"]["variants"][0]["sku"], "SCARF-1");
    assert!(read["data"]["missing"].is_null());
}

async fn recommendations_favour_the_closest_products(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "recs@example.com").await;
    let admin = authed(&app, &session.access_token);
    let women = category(&admin, "Women", None).await;
    category(&admin, "Women Tops", Some(&women)).await;
    let men = category(&admin, "Men", None).await;
    category(&admin, "Men Tops", Some(&men)).await;
    let make = |handle: &str,
                category: &str,
                brand: &str,
                tags: &[&str],
                usd: i64,
                status: &str| {
        let admin = admin.clone();
        let payload = json!({
            "title": handle, "handle": handle, "brand": brand, "status": status, "category_id": category,
            "tags": tags, "variants": [{"sku": format!("SKU-{handle}"), "prices": [{"currency": "USD", "amount": usd}]}]
        });
        async move {
            admin
                .create_product()
                .body(body::<CreateProductRequest>(payload))
                .send()
                .await
                .unwrap()
                .into_inner()
                .id
        }
    };
    make(
        "base",
        "women-tops",
        "Loom",
        &["summer", "linen"],
        4500,
        "active",
    )
    .await;
    let close = make("close", "women-tops", "Loom", &["summer"], 4900, "active").await;
    let same_shelf = make("same-shelf", "women-tops", "Other", &[], 9900, "active").await;
    let same_dept = make("same-dept", "women", "Loom", &["linen"], 4200, "active").await;
    make(
        "other-dept",
        "men-tops",
        "Loom",
        &["summer", "linen"],
        4500,
        "active",
    )
    .await;
    make(
        "draft",
        "women-tops",
        "Loom",
        &["summer", "linen"],
        4500,
        "draft",
    )
    .await;

    let recs = app
        .http
        .get(app.url("/v1/products/base/recommendations"))
        .send()
        .await
        .unwrap();
    assert_eq!(recs.status(), 200);
    assert!(recs.headers().contains_key("etag"));
    let recs: serde_json::Value = recs.json().await.unwrap();
    let ids: Vec<&str> = recs["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    // close: category 4 + brand 1 + tag 1 + price 2; same-dept: brand + tag + price = 4,
    // same-shelf: category = 4, and the newer wins the tie.
    assert_eq!(
        ids,
        [close.as_str(), same_dept.as_str(), same_shelf.as_str()]
    );
    let one: serde_json::Value = app
        .http
        .get(app.url("/v1/products/base/recommendations?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    for (path, status) in [
        ("/v1/products/base/recommendations?limit=0", 422),
        ("/v1/products/base/recommendations?limit=25", 422),
        ("/v1/products/nothing/recommendations", 404),
        ("/v1/products/draft/recommendations", 404),
    ] {
        let resp = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
    }
}

async fn collections_group_products_in_order(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "curator@example.com").await;
    let admin = authed(&app, &session.access_token);
    let mut ids = Vec::new();
    for handle in ["one", "two", "three"] {
        let payload = json!({"title": handle, "handle": handle, "brand": "B", "status": "active",
            "variants": [{"sku": format!("C-{handle}"), "prices": [{"currency": "USD", "amount": 1000}]}]});
        ids.push(
            admin
                .create_product()
                .body(body::<CreateProductRequest>(payload))
                .send()
                .await
                .unwrap()
                .into_inner()
                .id,
        );
    }
    let post = |payload: serde_json::Value| {
        let http = app.http.clone();
        let url = app.url("/v1/admin/collections");
        let token = session.access_token.clone();
        async move {
            http.post(url)
                .bearer_auth(token)
                .json(&payload)
                .send()
                .await
                .unwrap()
        }
    };
    let created = post(json!({"title": "Summer Linen", "product_ids": [ids[1], ids[0]]})).await;
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    assert_eq!(created["handle"], "summer-linen");
    assert!(created["id"].as_str().unwrap().starts_with("col_"));
    assert_eq!(
        created["product_ids"],
        json!([ids[1], ids[0]]),
        "the merchant's order"
    );

    let bad = post(json!({"title": "Bad", "product_ids": [ids[0], "prod_00000000000000000000000000000000", ids[0]]})).await;
    assert_eq!(bad.status(), 422);
    let bad: serde_json::Value = bad.json().await.unwrap();
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["product_ids[1]", "product_ids[2]"]);
    assert_eq!(post(json!({"title": "Summer Linen"})).await.status(), 409);
    assert_eq!(post(json!({"title": " "})).await.status(), 422);

    let listed = |query: &'static str| {
        let http = app.http.clone();
        let url = app.url(&format!("/v1/products?{query}"));
        async move {
            let resp = http.get(url).send().await.unwrap();
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap();
            let handles: Vec<String> = body["data"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| p["handle"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (status, handles)
        }
    };
    assert_eq!(
        listed("collection=summer-linen").await,
        (200, vec!["two".to_owned(), "one".to_owned()])
    );
    let all = app
        .client
        .list_collections()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.data.len(), 1);
    let one = app
        .client
        .get_collection()
        .id("summer-linen")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.title, "Summer Linen");

    admin
        .update_collection()
        .id(created["id"].as_str().unwrap())
        .body(body::<weft_sdk::types::CollectionRequest>(
            json!({"product_ids": [ids[2]]}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed("collection=summer-linen").await,
        (200, vec!["three".to_owned()])
    );
    admin.delete_product().id(&ids[2]).send().await.unwrap();
    let one = app
        .client
        .get_collection()
        .id("summer-linen")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(
        one.product_ids.is_empty(),
        "a deleted product leaves its collections"
    );
    admin.delete_collection().id(&one.id).send().await.unwrap();
    let p = problem_of(app.client.get_collection().id("summer-linen").send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "collection_not_found"));
    assert_eq!(listed("collection=summer-linen").await.0, 404);
}

const IMPORT_CSV: &str = "handle,title,brand,status,tags,option:size,sku,price:USD,price:EUR\n\
    imp-tee,Imported Tee,Plain,active,summer|cotton,S,IMP-TEE-S,1500,1400\n\
    imp-tee,,,,,M,IMP-TEE-M,1500,1400\n\
    imp-bad,Bad Price,Plain,active,,S,IMP-BAD-S,ten,\n\
    imp-bad,,,,,M,IMP-BAD-M,1000,\n\
    imp-neg,Negative,Plain,active,,S,IMP-NEG-S,-5,\n\
    imp-dup,Duplicate Sku,Plain,active,,S,IMP-TEE-S,900,\n\
    imp-coat,Imported Coat,Loom,active,,L,IMP-COAT-L,20000,18000\n";

async fn wait_for_job(app: &TestApp, token: &str, id: &str) -> serde_json::Value {
    for _ in 0..100 {
        let job: serde_json::Value = app
            .http
            .get(app.url(&format!("/v1/admin/jobs/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["status"] == "done" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import did not finish");
}

async fn imports_land_good_products_whole_and_report_bad_lines(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "importer@example.com").await;
    let import = |format: &str, body: &str, token: &str| {
        app.http
            .post(app.url(&format!("/v1/admin/products/import?format={format}")))
            .bearer_auth(token)
            .header("content-type", "text/plain")
            .body(body.to_owned())
            .send()
    };
    let resp = import("csv", IMPORT_CSV, &session.access_token)
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let job: serde_json::Value = resp.json().await.unwrap();
    assert!(job["id"].as_str().unwrap().starts_with("job_"));
    let job = wait_for_job(&app, &session.access_token, job["id"].as_str().unwrap()).await;
    assert_eq!(
        (job["succeeded"].as_u64(), job["failed"].as_u64()),
        (Some(2), Some(3)),
        "{job}"
    );
    let lines: Vec<u64> = job["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 6, 7], "{job}");
    assert!(
        job["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("price:usd")
    );
    assert!(
        job["problems"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("amount")
    );
    assert!(
        job["problems"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("sku")
    );

    let tee = app
        .client
        .get_product()
        .id("imp-tee")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tee.variants.len(), 2);
    assert_eq!(tee.tags, ["summer", "cotton"]);
    let p = problem_of(app.client.get_product().id("imp-bad").send().await).await;
    assert_eq!(
        p.status, 404,
        "a product with a bad row is not imported at all"
    );
    assert!(
        stored_strings(
            &app,
            "SELECT sku AS v FROM catalog_variants WHERE sku LIKE 'IMP-BAD%'"
        )
        .await
        .is_empty()
    );

    let jsonl = "{\"title\": \"Json Scarf\", \"brand\": \"Marlow\", \"status\": \"active\", \"variants\": [{\"sku\": \"J-1\", \"prices\": [{\"currency\": \"USD\", \"amount\": 3900}]}]}\nnot json\n";
    let job: serde_json::Value = import("jsonl", jsonl, &session.access_token)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = wait_for_job(&app, &session.access_token, job["id"].as_str().unwrap()).await;
    assert_eq!(
        (job["succeeded"].as_u64(), job["failed"].as_u64()),
        (Some(1), Some(1))
    );
    app.client
        .get_product()
        .id("json-scarf")
        .send()
        .await
        .unwrap();

    let resp = import("xml", "<x/>", &session.access_token).await.unwrap();
    assert_eq!(resp.status(), 422);
    let shopper = customer(&app, "no-import@example.com").await;
    let resp = import("csv", IMPORT_CSV, &shopper.access_token)
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .http
        .get(app.url("/v1/admin/jobs/job_nope"))
        .bearer_auth(&session.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

/// 250 products: more than two batches of 100. Clashes inside a batch, across batches
/// and with the shop, and an unknown category, are refused one product each.
async fn batched_imports_refuse_clashes_within_and_across_batches_and_land_the_rest(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "batches@example.com").await;
    let token = session.access_token.clone();
    let category = authed(&app, &token)
        .create_category()
        .body(body::<CategoryRequest>(
            json!({"name": "Tops", "handle": "bulk-tops"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    let import = async |body: String| {
        let job: serde_json::Value = app
            .http
            .post(app.url("/v1/admin/products/import?format=jsonl"))
            .bearer_auth(&token)
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        wait_for_job(&app, &token, job["id"].as_str().unwrap()).await
    };
    let product = |handle: &str, sku: &str, category: &str| {
        json!({
            "title": "Bulk Tee", "handle": handle, "brand": "Marlow", "status": "active",
            "category_id": category,
            "options": [{"name": "size", "values": ["S", "M"]}],
            "variants": [
                {"sku": format!("{sku}-S"), "options": {"size": "S"},
                 "prices": [{"currency": "USD", "amount": 2500}]},
                {"sku": format!("{sku}-M"), "options": {"size": "M"},
                 "prices": [{"currency": "USD", "amount": 2900}, {"currency": "EUR", "amount": 2700}]}
            ]
        })
        .to_string()
    };
    let job = import(product("bulk-already", "BULK-ALREADY", "")).await;
    assert_eq!(job["succeeded"].as_u64(), Some(1), "{job}");

    let lines: Vec<String> = (1..=250)
        .map(|n| match n {
            50 => product("bulk-10", "BULK-50", "bulk-tops"), // a handle of this batch
            150 => product("bulk-150", "BULK-20", "bulk-tops"), // a SKU of the first batch
            201 => product("bulk-201", "BULK-201", "no-such-category"),
            230 => product("bulk-already", "BULK-230", ""), // in the shop already
            _ => product(&format!("bulk-{n}"), &format!("BULK-{n}"), &category.id),
        })
        .collect();
    let job = import(lines.join("\n")).await;
    assert_eq!(
        (job["succeeded"].as_u64(), job["failed"].as_u64()),
        (Some(246), Some(4)),
        "{job}"
    );
    let refused: Vec<(u64, String)> = job["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        refused.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        [50, 150, 201, 230]
    );
    assert!(refused[0].1.contains("bulk-10"), "{refused:?}");
    assert!(refused[1].1.contains("BULK-20-S"), "{refused:?}");
    assert!(refused[2].1.contains("category"), "{refused:?}");
    assert!(refused[3].1.contains("bulk-already"), "{refused:?}");

    // Nothing of a refused product was written; every landed one is whole.
    let stored = stored_strings(
        &app,
        "SELECT handle AS v FROM catalog_products WHERE handle LIKE 'bulk-%'",
    )
    .await;
    assert_eq!(stored.len(), 247, "246 and the one before");
    for gone in ["bulk-150", "bulk-201"] {
        assert!(!stored.contains(&gone.to_owned()), "{gone}");
    }
    assert!(
        stored_strings(&app, "SELECT sku AS v FROM catalog_variants WHERE sku IN ('BULK-50-S', 'BULK-230-S', 'BULK-201-M')")
            .await
            .is_empty()
    );
    for handle in ["bulk-1", "bulk-100", "bulk-101", "bulk-250"] {
        let p = app
            .client
            .get_product()
            .id(handle)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(p.variants.len(), 2, "{handle}");
        assert_eq!(
            p.category_id.as_deref(),
            Some(category.id.as_str()),
            "{handle}"
        );
        let usd = p.price_ranges.iter().find(|r| r.currency == "USD").unwrap();
        assert_eq!((usd.min.amount, usd.max.amount), (2500, 2900), "{handle}");
        let eur = p.price_ranges.iter().find(|r| r.currency == "EUR").unwrap();
        assert_eq!((eur.min.amount, eur.max.amount), (2700, 2700), "{handle}");
    }
    // By handle, the category's handle, in the listing filtered by category and price.
    let page = app
        .client
        .list_products()
        .category("bulk-tops")
        .max_price(2500)
        .limit(100)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.data.len(), 100);
    assert!(page.next_cursor.is_some());
}

async fn the_cli_import_shows_in_a_running_shop(app: TestApp) {
    // A cached (empty) listing first: the import must retire it, from another process.
    let before = app
        .client
        .list_products()
        .brand("Loom")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(before.data.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("products.csv");
    std::fs::write(&file, IMPORT_CSV).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.args(["import", "products"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&app.settings.data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL");
    if let Some(url) = &app.settings.database_url {
        cmd.env("WEFT_DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused lines make the command fail");
    assert!(
        stdout.contains("imported 2 product(s); 3 line(s) refused"),
        "{stdout}"
    );
    assert!(
        stderr.contains("line 4: ") && stderr.contains("line 7: "),
        "{stderr}"
    );

    let mut seen = false;
    for _ in 0..100 {
        let page = app
            .client
            .list_products()
            .brand("Loom")
            .send()
            .await
            .unwrap()
            .into_inner();
        if page.data.iter().any(|p| p.handle == "imp-coat") {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        seen,
        "the running shop's cached listing never showed the imported product"
    );
}

async fn a_ten_megabyte_import_with_broken_rows_lands_its_good_products(app: TestApp) {
    use std::fmt::Write as _;
    let (session, _, _) = enrolled_admin(&app, "bulk@example.com").await;
    let mut csv = String::from("handle,title,brand,status,sku,price:USD\n");
    csv.push_str("bulk-good-1,Bulk Good One,Plain,active,BULK-G1,1000\n");
    let mut broken = 0;
    while csv.len() < 10 * 1024 * 1024 {
        broken += 1;
        let _ = writeln!(
            csv,
            "bulk-broken-{broken},A product whose price is not a number at all,Plain,active,BULK-B{broken},ten dollars"
        );
    }
    csv.push_str("bulk-good-2,Bulk Good Two,Plain,active,BULK-G2,2000\n");
    assert!(csv.len() > 10 * 1024 * 1024);
    let resp = app
        .http
        .post(app.url("/v1/admin/products/import?format=csv"))
        .bearer_auth(&session.access_token)
        .header("content-type", "text/plain")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        202,
        "an import may be larger than other bodies"
    );
    let job: serde_json::Value = resp.json().await.unwrap();
    let job = wait_for_job(&app, &session.access_token, job["id"].as_str().unwrap()).await;
    assert_eq!(job["succeeded"].as_u64(), Some(2), "{}", job["status"]);
    assert_eq!(job["failed"].as_u64(), Some(broken));
    let listed = job["problems"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        1000,
        "the first 1,000 refused lines are listed"
    );
    assert_eq!(listed[0]["line"].as_u64(), Some(3));
    app.client
        .get_product()
        .id("bulk-good-2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored_strings(&app, "SELECT id AS v FROM catalog_products")
            .await
            .len(),
        2,
        "no broken product landed"
    );
    // Other endpoints keep the ordinary limit.
    let resp = app
        .http
        .post(app.url("/v1/admin/products"))
        .bearer_auth(&session.access_token)
        .json(&json!({"title": "x".repeat(2 * 1024 * 1024), "brand": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
}

/// A product in six sizes at 10.00 each, for the documents' tests.
fn six_sizes(handle: &str) -> CreateProductRequest {
    let sizes = ["XS", "S", "M", "L", "XL", "XXL"];
    body(json!({
        "title": "Wool Coat", "handle": handle, "brand": "Documented", "status": "active",
        "options": [{"name": "size", "values": sizes}],
        "variants": sizes.iter().map(|size| json!({
            "sku": format!("{handle}-{size}"), "options": {"size": size},
            "prices": [{"currency": "USD", "amount": 1000}, {"currency": "EUR", "amount": 900}]
        })).collect::<Vec<_>>()
    }))
}

/// `GET path` as JSON, with `token`'s credentials when given (no answer cache then).
async fn json_at(app: &TestApp, path: &str, token: Option<&str>) -> serde_json::Value {
    let mut req = app.http.get(app.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

async fn stored_document(app: &TestApp, id: &str) -> Option<serde_json::Value> {
    stored_strings(
        app,
        &format!(
            "SELECT document AS v FROM catalog_products WHERE id = '{id}' AND document IS NOT NULL"
        ),
    )
    .await
    .pop()
    .map(|d| serde_json::from_str(&d).unwrap())
}

/// Every change rewrites the product's stored document in its own transaction; changes
/// to one product at the same moment must not undo each other's (on PostgreSQL each
/// would otherwise render from what the other had not committed).
async fn stored_documents_keep_every_concurrent_change(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "documents@example.com").await;
    let token = session.access_token.clone();
    let admin = authed(&app, &token);
    let product: ProductDto = admin
        .create_product()
        .body(six_sizes("doc-coat"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let created = stored_document(&app, &product.id)
        .await
        .expect("written with the product");
    assert_eq!(
        created,
        json_at(&app, &format!("/v1/products/{}", product.id), None).await
    );
    assert_eq!(
        created["variants"][0]["prices"][0]["currency"], "EUR",
        "read back in currency order"
    );

    for round in 0..5i64 {
        let mut writes = tokio::task::JoinSet::new();
        for (i, variant) in product.variants.iter().enumerate() {
            let admin = authed(&app, &token);
            let id = variant.id.clone();
            let amount = 2000 + round * 100 + i64::try_from(i).unwrap();
            writes.spawn(async move {
                admin
                    .update_variant()
                    .id(&id)
                    .body(body::<UpdateVariantRequest>(
                        json!({"prices": [{"currency": "USD", "amount": amount}]}),
                    ))
                    .send()
                    .await
                    .unwrap();
            });
        }
        // Stock changes arrive as inventory's events, applied by the catalog's consumer
        // while the edits above commit.
        for (i, variant) in product.variants.iter().enumerate() {
            let admin = authed(&app, &token);
            let id = variant.id.clone();
            let on_hand = if (round + i64::try_from(i).unwrap()) % 2 == 0 {
                0
            } else {
                40
            };
            writes.spawn(async move {
                admin
                    .set_inventory()
                    .variant_id(&id)
                    .body(body::<SetStockRequest>(json!({"on_hand": on_hand})))
                    .send()
                    .await
                    .unwrap();
            });
        }
        let renamer = authed(&app, &token);
        let id = product.id.clone();
        writes.spawn(async move {
            renamer
                .update_product()
                .id(&id)
                .body(body::<UpdateProductRequest>(
                    json!({"title": format!("Coat, round {round}")}),
                ))
                .send()
                .await
                .unwrap();
        });
        while let Some(done) = writes.join_next().await {
            done.unwrap();
        }
        let stocked = |i: i64| {
            if (round + i) % 2 == 0 {
                "out_of_stock"
            } else {
                "in_stock"
            }
        };
        let started = std::time::Instant::now();
        let shown = loop {
            let shown = json_at(&app, &format!("/v1/products/{}", product.id), Some(&token)).await;
            let statuses: Vec<&str> = shown["variants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["stock_status"].as_str().unwrap())
                .collect();
            if statuses == (0..6).map(stocked).collect::<Vec<_>>() {
                break shown;
            }
            assert!(
                started.elapsed().as_secs() < 10,
                "round {round}: stock shown {statuses:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let amounts: Vec<i64> = shown["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["prices"][0]["amount"].as_i64().unwrap())
            .collect();
        let expected: Vec<i64> = (0..6).map(|i| 2000 + round * 100 + i).collect();
        assert_eq!(amounts, expected, "round {round}: no price change lost");
        assert_eq!(shown["title"], format!("Coat, round {round}"));
        let usd = usd_range(&shown);
        assert_eq!(
            (usd["min"]["amount"].as_i64(), usd["max"]["amount"].as_i64()),
            (Some(expected[0]), Some(expected[5]))
        );
        assert_eq!(
            stored_document(&app, &product.id).await,
            Some(shown.clone())
        );
        // A guest's page pastes the same document.
        let page = json_at(&app, "/v1/products?brand=Documented&limit=5", None).await;
        assert_eq!(page["data"][0], shown);
        assert_eq!(page["next_cursor"], serde_json::Value::Null);
    }
}

/// Products stored before documents existed (an upgraded shop) are assembled per request
/// as before, and get their documents at the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn products_stored_before_documents_get_them_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let first = sqlite_app_in(&data_dir).await;
    let (session, _, _) = enrolled_admin(&first, "upgrade@example.com").await;
    let admin = authed(&first, &session.access_token);
    let mut ids = Vec::new();
    for i in 0..3 {
        let product: ProductDto = admin
            .create_product()
            .body(six_sizes(&format!("old-coat-{i}")))
            .send()
            .await
            .unwrap()
            .into_inner();
        ids.push(product.id);
    }
    let detail = format!("/v1/products/{}", ids[0]);
    let before = json_at(&first, &detail, Some(&session.access_token)).await;
    let page_before = json_at(&first, "/v1/products?brand=Documented", None).await;
    // As the database of a shop from before the column.
    crate::support::execute_sql(&first, "UPDATE catalog_products SET document = NULL").await;
    assert_eq!(
        json_at(&first, &detail, Some(&session.access_token)).await,
        before
    );
    let page = json_at(&first, "/v1/products?brand=Documented&limit=20", None).await;
    assert_eq!(page["data"], page_before["data"], "assembled as before");
    first.stop().await.unwrap();
    let (second, _moved) = crate::support::restarted_sqlite(&data_dir).await;
    let started = std::time::Instant::now();
    while !stored_strings(
        &second,
        "SELECT id AS v FROM catalog_products WHERE document IS NULL",
    )
    .await
    .is_empty()
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "documents not written at start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stored_document(&second, &ids[0]).await, Some(before));
    second.stop().await.unwrap();
}
