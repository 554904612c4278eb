//! Product search through the SDK: the index follows catalog writes, forgives typos,
//! completes the last word, filters, sorts, pages, counts facets and highlights; guests
//! never find drafts; every bad parameter is a 422 naming it. And `weft reindex`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_sdk::types::{CategoryRequest, CreateProductRequest, UpdateProductRequest};
use weft_testkit::{TestApp, WeftProcess, backend_tests};

use crate::support::{authed, enrolled_admin};

backend_tests!(
    guests_search_with_typos_prefixes_filters_facets_and_highlights,
    an_edit_shows_in_search_at_once_and_a_deletion_leaves_it,
    bad_search_and_listing_parameters_are_refused_by_name,
);

fn body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn product(
    title: &str,
    brand: &str,
    status: &str,
    category: &str,
    sizes: &[&str],
    usd: i64,
) -> CreateProductRequest {
    let variants: Vec<serde_json::Value> = sizes
        .iter()
        .map(|size| {
            json!({
                "sku": format!("{}-{size}", title.replace(' ', "-").to_uppercase()),
                "options": {"size": size},
                "prices": [{"currency": "USD", "amount": usd}, {"currency": "EUR", "amount": usd - 1000}]
            })
        })
        .collect();
    body(json!({
        "title": title,
        "brand": brand,
        "status": status,
        "description": format!("The {title} from {brand}: made to last."),
        "category_id": category,
        "tags": ["outerwear"],
        "images": [{"url": format!("/media/{}.svg", title.replace(' ', "-")), "alt": title}],
        "options": [{"name": "size", "values": sizes}],
        "variants": variants,
    }))
}

/// Polls the search until `q` finds `n` products (the index follows events, so a write
/// shows a moment later); returns how long it took.
async fn until_found(app: &TestApp, q: &str, n: u64) -> Duration {
    let started = Instant::now();
    loop {
        let found = app
            .client
            .search_products()
            .q(q)
            .send()
            .await
            .unwrap()
            .into_inner();
        if found.total == n {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "search for {q:?} still finds {} products, not {n}",
            found.total
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn categories(admin: &weft_sdk::Client) -> (String, String, String) {
    let create = async |name: &str, parent: Option<&str>| {
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
    };
    let women = create("Women", None).await;
    let outerwear = create("Women Outerwear", Some(&women)).await;
    let men = create("Men", None).await;
    (women, outerwear, men)
}

async fn guests_search_with_typos_prefixes_filters_facets_and_highlights(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "search@example.com").await;
    let admin = authed(&app, &session.access_token);
    let (women, outerwear, men) = categories(&admin).await;
    for p in [
        product(
            "Wool Jacket",
            "Northwind",
            "active",
            &outerwear,
            &["S", "M"],
            12000,
        ),
        product("Rain Jacket", "Stormline", "active", &men, &["M"], 9000),
        product(
            "Quilted Jacket",
            "Northwind",
            "draft",
            &women,
            &["L"],
            15000,
        ),
        product("Linen Shirt", "Plain", "active", &women, &["S"], 4500),
    ] {
        admin.create_product().body(p).send().await.unwrap();
    }
    until_found(&app, "", 3).await;

    // One typo in "jacket"; the draft stays hidden from guests.
    let found = app
        .client
        .search_products()
        .q("jaket")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.total, 2);
    let titles: Vec<&str> = found.data.iter().map(|h| h.title.as_str()).collect();
    assert!(
        titles.contains(&"Wool Jacket") && titles.contains(&"Rain Jacket"),
        "{titles:?}"
    );
    let wool = found
        .data
        .iter()
        .find(|h| h.title == "Wool Jacket")
        .unwrap();
    assert_eq!(wool.highlights["title"], "Wool <em>Jacket</em>");
    assert!(wool.highlights["description"].contains("<em>Jacket</em>"));
    assert_eq!(wool.image.as_ref().unwrap().url, "/media/Wool-Jacket.svg");
    let usd = wool
        .price_ranges
        .iter()
        .find(|r| r.currency == "USD")
        .unwrap();
    assert_eq!(usd.min.amount, 12000);
    // Facets count every match; a category counts its subcategories' products too.
    let facet = |values: &[weft_sdk::types::FacetValue]| -> Vec<(String, u64)> {
        values
            .iter()
            .map(|f| (f.label.clone().unwrap_or_else(|| f.value.clone()), f.count))
            .collect()
    };
    let mut by_category = facet(&found.facets.category);
    by_category.sort();
    assert_eq!(
        by_category,
        [
            ("Men".to_owned(), 1),
            ("Women".to_owned(), 1),
            ("Women Outerwear".to_owned(), 1)
        ]
    );
    assert_eq!(
        facet(&found.facets.size),
        [("M".to_owned(), 2), ("S".to_owned(), 1)]
    );
    assert_eq!(
        facet(&found.facets.brand),
        [("Northwind".to_owned(), 1), ("Stormline".to_owned(), 1)]
    );
    let buckets: Vec<u64> = found.facets.price.iter().map(|b| b.count).collect();
    assert_eq!(buckets, [0, 0, 1, 1, 0], "9000 and 12000 cents");
    assert_eq!(found.facets.price[2].from.amount, 5000);
    assert_eq!(found.facets.price[4].to, None);

    // The last word is completed as typed.
    until_found(&app, "jack", 2).await;
    until_found(&app, "wool jac", 1).await;

    // Filters: a parent category by handle covers its subtree; sizes; prices.
    let found = app
        .client
        .search_products()
        .q("jacket")
        .category("women")
        .send()
        .await
        .unwrap()
        .into_inner();
    let titles: Vec<String> = found.data.into_iter().map(|h| h.title).collect();
    assert_eq!(titles, ["Wool Jacket"]);
    let found = app
        .client
        .search_products()
        .size("M")
        .max_price(10000)
        .send()
        .await
        .unwrap()
        .into_inner();
    let titles: Vec<String> = found.data.into_iter().map(|h| h.title).collect();
    assert_eq!(titles, ["Rain Jacket"]);

    // Sorts and pages.
    let page = app
        .client
        .search_products()
        .sort("price_asc")
        .limit(2)
        .send()
        .await
        .unwrap()
        .into_inner();
    let titles: Vec<&str> = page.data.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles, ["Linen Shirt", "Rain Jacket"]);
    assert_eq!(page.total, 3);
    let rest = app
        .client
        .search_products()
        .sort("price_asc")
        .limit(2)
        .cursor(page.next_cursor.unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    let titles: Vec<&str> = rest.data.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles, ["Wool Jacket"]);
    assert_eq!(rest.next_cursor, None);

    // Staff find drafts; guests never do.
    let found = admin
        .search_products()
        .q("quilted")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.total, 1);
    let found = app
        .client
        .search_products()
        .q("quilted")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.total, 0);

    // The listing takes the same text: whole products, best match first.
    let listed = app
        .client
        .list_products()
        .q("stormlne jacket")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].title, "Rain Jacket");
    assert_eq!(
        listed.data[0].variants.len(),
        1,
        "a whole product, variants and all"
    );

    // GraphQL runs the same use case.
    let answer: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(
            &json!({"query": r#"{ search(q: "jaket", sort: "price_desc") {
            total nodes { title highlights { field text } } facets { size { value count } } } }"#}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let search = &answer["data"]["search"];
    assert_eq!(search["total"], 2, "{answer}");
    assert_eq!(search["nodes"][0]["title"], "Wool Jacket");
    assert!(
        search["nodes"][0]["highlights"]
            .as_array()
            .unwrap()
            .contains(&json!({"field": "title", "text": "Wool <em>Jacket</em>"}))
    );
    assert_eq!(
        search["facets"]["size"][0],
        json!({"value": "M", "count": 2})
    );
    let _ = women;
}

async fn an_edit_shows_in_search_at_once_and_a_deletion_leaves_it(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "editor@example.com").await;
    let admin = authed(&app, &session.access_token);
    let (_, outerwear, _) = categories(&admin).await;
    let created = admin
        .create_product()
        .body(product(
            "Field Jacket",
            "Northwind",
            "active",
            &outerwear,
            &["M"],
            14000,
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    let took = until_found(&app, "field", 1).await;
    eprintln!("a new product was searchable after {took:?}");

    // A search answer is cached; the edit must still show.
    until_found(&app, "corduroy", 0).await;
    admin
        .update_product()
        .id(&created.id)
        .body(body::<UpdateProductRequest>(
            json!({"title": "Corduroy Jacket"}),
        ))
        .send()
        .await
        .unwrap();
    let took = until_found(&app, "corduroy", 1).await;
    eprintln!("an edit was searchable after {took:?}");
    // Replaced, not added: its description still says "Field Jacket".
    let found = app
        .client
        .search_products()
        .q("field")
        .send()
        .await
        .unwrap()
        .into_inner();
    let titles: Vec<String> = found.data.into_iter().map(|h| h.title).collect();
    assert_eq!(titles, ["Corduroy Jacket"]);

    // Archived: gone for guests.
    admin
        .update_product()
        .id(&created.id)
        .body(body::<UpdateProductRequest>(json!({"status": "archived"})))
        .send()
        .await
        .unwrap();
    until_found(&app, "corduroy", 0).await;
    admin
        .update_product()
        .id(&created.id)
        .body(body::<UpdateProductRequest>(json!({"status": "active"})))
        .send()
        .await
        .unwrap();
    until_found(&app, "corduroy", 1).await;

    admin.delete_product().id(&created.id).send().await.unwrap();
    until_found(&app, "corduroy", 0).await;
    let staff = admin
        .search_products()
        .q("corduroy")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(staff.total, 0, "deleted, not hidden");
}

async fn problem(app: &TestApp, path: &str) -> (u16, serde_json::Value) {
    let resp = app.http.get(app.url(path)).send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()["content-type"],
        "application/problem+json",
        "{path}"
    );
    (status, resp.json().await.unwrap())
}

async fn bad_search_and_listing_parameters_are_refused_by_name(app: TestApp) {
    let long = "a".repeat(201);
    for list in ["/v1/search/products", "/v1/products"] {
        for (query, field) in [
            ("colour=red", "colour"),
            ("limit=0", "limit"),
            ("limit=1000", "limit"),
            ("cursor=not-a-cursor", "cursor"),
            ("min_price=-1", "min_price"),
            ("min_price=500&max_price=100", "max_price"),
            ("sort=stars", "sort"),
            ("currency=XYZ", "currency"),
        ] {
            let (status, body) = problem(&app, &format!("{list}?{query}")).await;
            assert_eq!(status, 422, "{list}?{query}: {body}");
            assert_eq!(body["code"], "validation_failed");
            assert_eq!(body["errors"][0]["field"], field, "{list}?{query}: {body}");
        }
        let (status, body) = problem(&app, &format!("{list}?category=no-such-category")).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("category_not_found"))
        );
        let (status, _) = problem(&app, &format!("{list}?min_price=cheap")).await;
        assert!(
            status == 400 || status == 422,
            "a price that is not a number: {status}"
        );
    }
    let (status, body) = problem(&app, &format!("/v1/search/products?q={long}")).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "q");
    // A cursor from another list is not one of ours here.
    let (status, _) = problem(
        &app,
        "/v1/search/products?cursor=eyJwcmljZSI6bnVsbCwiaWQiOiJ4In0",
    )
    .await;
    assert_eq!(status, 422);
    // Text that is only punctuation or markup finds nothing odd and breaks nothing.
    for q in ["!!!", "%3Cscript%3E", "%22%27%29%3B--", "%E2%9C%93"] {
        let resp = app
            .http
            .get(app.url(&format!("/v1/search/products?q={q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{q}");
    }
}

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_weft"))
}

const IMPORT: &str = "\
handle,title,brand,status,option:size,sku,price:USD
corduroy-trousers,Corduroy Trousers,Marlow,active,M,COR-M,8900
corduroy-trousers,Corduroy Trousers,Marlow,active,L,COR-L,8900
denim-overshirt,Denim Overshirt,Marlow,active,M,DEN-M,7900
";

fn weft(args: &[&str], data_dir: &Path) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL")
        .output()
        .unwrap()
}

async fn total(address: &str, q: &str) -> u64 {
    let client = weft_sdk::Client::new(address);
    client
        .search_products()
        .q(q)
        .send()
        .await
        .unwrap()
        .into_inner()
        .total
}

/// `weft reindex` rebuilds the embedded index; refuses while a shop holds it; a shop
/// that starts on a missing index fills it from the catalog by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weft_reindex_rebuilds_the_index_and_a_lost_index_refills_itself() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("products.csv");
    std::fs::write(&file, IMPORT).unwrap();
    let out = weft(&["import", "products", file.to_str().unwrap()], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = weft(&["reindex"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("indexed 2 product(s) into tantivy"),
        "{stdout}"
    );

    let data_dir = dir.path().to_str().unwrap();
    let mut shop = WeftProcess::serve(bin(), &["--data-dir", data_dir], &[]);
    assert_eq!(total(&shop.address(), "corduroi").await, 1);
    let out = weft(&["reindex"], dir.path());
    assert!(!out.status.success(), "the running shop holds the index");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in use by another weft process"),
        "{stderr}"
    );
    assert_eq!(shop.signal_and_wait(15).code(), Some(0));

    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let shop = WeftProcess::serve(bin(), &["--data-dir", data_dir], &[]);
    assert!(
        shop.wait_for_log(
            "search index filled from the catalog",
            Duration::from_secs(10)
        )
        .is_some()
    );
    assert_eq!(total(&shop.address(), "overshirt").await, 1);
}

/// Elasticsearch that does not answer: `weft` names the setting and exits, or, allowed to
/// start degraded, serves everything but search (503) and says so at `/health/ready`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_elasticsearch_is_named_or_the_shop_degrades() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    // Port 9 (discard) refuses connections.
    let nowhere = "http://127.0.0.1:9";
    let out = std::process::Command::new(bin())
        .args(["serve", "--port", "0", "--data-dir", data_dir])
        .env("WEFT_ELASTICSEARCH_URL", nowhere)
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("elasticsearch_url"), "{stderr}");

    let shop = WeftProcess::serve(
        bin(),
        &["--data-dir", data_dir],
        &[
            ("WEFT_ELASTICSEARCH_URL", nowhere),
            ("WEFT_START_DEGRADED", "true"),
        ],
    );
    let ready: serde_json::Value = reqwest::get(format!("{}/health/ready", shop.address()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "degraded", "{ready}");
    let search = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "search")
        .unwrap();
    assert_eq!(search["status"], "down");
    let resp = reqwest::get(format!("{}/v1/search/products?q=jacket", shop.address()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "search_unavailable");
    let resp = reqwest::get(format!("{}/v1/products", shop.address()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "browsing does not need search");
}
