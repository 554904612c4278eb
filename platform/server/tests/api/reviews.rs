//! Reviews through the SDK, on SQLite and on PostgreSQL with RabbitMQ carrying the events:
//! buyers review what they bought (verified by orders' events), a non-buyer is refused,
//! moderation queues what the rule holds, racing helpful votes count once, the catalog
//! follows each product's ratings, and an erased customer's reviews are anonymised.

use serde_json::{Value, json};
use weft_sdk::types::{
    CreateProductRequest, RejectRequest, ReplyRequest, ReportRequest, ReviewPatch, ReviewRequest,
    SetStockRequest,
};
use weft_testkit::{Backend, TestApp, spawn_app_with};

use crate::after_sale::eventually;
use crate::purchase::{complete, ready_checkout, shop};
use crate::support::{authed, customer, problem_of};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// The app, with RabbitMQ carrying events on PostgreSQL (the cluster's transport).
async fn spawn(backend: Backend, allow_unverified: bool) -> Option<TestApp> {
    let amqp = crate::support::amqp_for(backend, "reviews");
    spawn_app_with(backend, |s| {
        s.amqp_url = amqp;
        s.reviews.allow_unverified = allow_unverified;
        "scam, rubbish".clone_into(&mut s.reviews.blocked_words);
    })
    .await
}

macro_rules! review_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = super::spawn(weft_testkit::Backend::Sqlite, false).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres_rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::spawn(weft_testkit::Backend::Postgres, false).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

review_tests!(
    buyers_review_what_they_bought_and_the_catalog_follows_the_ratings,
    moderation_queues_what_the_rule_holds_and_staff_decide,
    twenty_concurrent_helpful_votes_by_one_customer_count_once,
    bad_input_and_other_people_s_reviews_are_refused_cleanly,
    an_erased_customer_s_reviews_keep_their_words_but_nothing_of_them,
    graphql_writes_and_reads_reviews_with_the_same_rules,
);

/// A product with one variant priced 20.00 USD and 50 units: (product id, variant id).
async fn product(admin: &weft_sdk::Client, sku: &str) -> (String, String) {
    let product = admin
        .create_product()
        .body(body::<CreateProductRequest>(json!({
            "title": format!("Merino Crew {sku}"), "brand": "Plain", "status": "active",
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": sku, "options": {"size": "M"},
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
        .body(body::<SetStockRequest>(json!({"on_hand": 50})))
        .send()
        .await
        .unwrap();
    (product.id, variant)
}

/// A signed-in customer who bought `variant` (a paid order).
async fn buyer(app: &TestApp, email: &str, variant: &str) -> weft_sdk::Client {
    let session = customer(app, email).await;
    let client = authed(app, &session.access_token);
    let (_, checkout) = ready_checkout(&client, &[(variant, 1)]).await;
    let key = format!("key-{}", uuid::Uuid::now_v7().simple());
    let done = complete(&client, &checkout, "tok_visa", &key)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.order.unwrap().status, "paid");
    client
}

fn review(rating: i64, title: &str, text: &str) -> ReviewRequest {
    body(json!({"rating": rating, "title": title, "body": text,
                "size_fit": "runs_small", "author_name": "Ada L."}))
}

/// Writes `review` once the buyer's order has reached reviews (events travel after the
/// answer): retried while it is `purchase_required`.
async fn review_when_verified(
    client: &weft_sdk::Client,
    product: &str,
    review: &ReviewRequest,
) -> weft_sdk::types::Review {
    for _ in 0..200 {
        match client
            .create_review()
            .id(product)
            .body(review.clone())
            .send()
            .await
        {
            Ok(created) => return created.into_inner(),
            Err(e) => {
                let problem = problem_of(Err::<(), _>(e)).await;
                assert_eq!(problem.code, "purchase_required", "{problem:?}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    panic!("the purchase never made the review verified");
}

async fn public_reviews(app: &TestApp, product: &str, sort: &str) -> Vec<weft_sdk::types::Review> {
    app.client
        .list_product_reviews()
        .id(product)
        .sort(sort)
        .send()
        .await
        .unwrap()
        .into_inner()
        .data
}

/// Waits until the catalog's product shows `expected` (average, count): it follows
/// reviews through events, moments after the change.
async fn wait_for_catalog_rating(app: &TestApp, product: &str, expected: (Option<f64>, i64)) {
    let mut seen = (None, 0);
    for _ in 0..200 {
        let p = app
            .client
            .get_product()
            .id(product)
            .send()
            .await
            .unwrap()
            .into_inner();
        seen = (p.rating_average, p.rating_count);
        if seen == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, expected, "the catalog's rating of {product}");
}

async fn buyers_review_what_they_bought_and_the_catalog_follows_the_ratings(app: TestApp) {
    let shop = shop(app).await;
    let app = &shop.app;
    let (product, variant) = product(&shop.admin, "REV-1").await;

    // A customer who did not buy it is refused, and nothing is written.
    let browser = authed(
        app,
        &customer(app, "browser@example.com").await.access_token,
    );
    let refused = browser
        .create_review()
        .id(&product)
        .body(review(5, "Looks nice", "Never bought it"))
        .send()
        .await;
    let problem = problem_of(refused).await;
    assert_eq!(problem.status, 403);
    assert_eq!(problem.code, "purchase_required");

    let ada = buyer(app, "ada@example.com", &variant).await;
    let written = review_when_verified(&ada, &product, &review(5, "Warm", "Soft merino.")).await;
    assert_eq!(written.status, "published");
    assert!(written.verified_purchase);
    assert_eq!(written.size_fit.as_deref(), Some("runs_small"));
    assert_eq!(written.author_name, "Ada L.");

    // One review per customer and product.
    let again = ada
        .create_review()
        .id(&product)
        .body(review(1, "Again", "Second try"))
        .send()
        .await;
    assert_eq!(problem_of(again).await.code, "review_exists");

    let grace = buyer(app, "grace@example.com", &variant).await;
    review_when_verified(&grace, &product, &review(2, "Itchy", "Not for me.")).await;

    // Guests see both, in each order asked.
    let newest = public_reviews(app, &product, "newest").await;
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[0].title, "Itchy");
    let lowest = public_reviews(app, &product, "lowest").await;
    assert_eq!(lowest[0].rating, 2);
    let highest = public_reviews(app, &product, "highest").await;
    assert_eq!(highest[0].rating, 5);
    assert!(highest.iter().all(|r| r.moderation_note.is_none()));

    let summary = app
        .client
        .get_rating_summary()
        .id(&product)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.count, 2);
    assert_eq!(summary.average, Some(3.5));
    assert_eq!(summary.distribution.two, 1);
    assert_eq!(summary.distribution.five, 1);

    // The catalog follows through events: the product carries its rating.
    wait_for_catalog_rating(app, &product, (Some(3.5), 2)).await;

    // An edit moves the summary; pages follow the cursor without repeats.
    ada.update_review()
        .id(&written.id)
        .body(body::<ReviewPatch>(json!({"rating": 4})))
        .send()
        .await
        .unwrap();
    let first = app
        .client
        .list_product_reviews()
        .id(&product)
        .limit(1)
        .sort("highest")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.data[0].rating, 4);
    let rest = app
        .client
        .list_product_reviews()
        .id(&product)
        .limit(1)
        .sort("highest")
        .cursor(first.next_cursor.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.data.len(), 1);
    assert_eq!(rest.data[0].rating, 2);
    assert!(rest.next_cursor.is_none());
    wait_for_catalog_rating(app, &product, (Some(3.0), 2)).await;

    // Listings sort by rating once products carry one.
    let listed = app
        .client
        .list_products()
        .sort("rating")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.data[0].id, product);
    // Search follows too (its index shows writes within a second): sorted and filtered
    // by rating, and counted per floor, at 3.0 stars.
    let mut floors = Vec::new();
    for _ in 0..200 {
        let found = app
            .client
            .search_products()
            .min_rating(3)
            .sort("rating")
            .send()
            .await
            .unwrap()
            .into_inner();
        floors = found
            .facets
            .rating
            .iter()
            .map(|f| (f.stars, f.count))
            .collect::<Vec<(i64, u64)>>();
        if floors == [(4, 0), (3, 1), (2, 1), (1, 1)] {
            assert_eq!(found.data[0].id, product);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(floors, [(4, 0), (3, 1), (2, 1), (1, 1)]);
    let out_of_range = app.client.search_products().min_rating(6).send().await;
    assert_eq!(problem_of(out_of_range).await.status, 422);

    // The author deletes theirs; it leaves the page and the summary.
    ada.delete_review().id(&written.id).send().await.unwrap();
    assert_eq!(public_reviews(app, &product, "newest").await.len(), 1);
    let gone = app.client.get_review().id(&written.id).send().await;
    assert_eq!(problem_of(gone).await.status, 404);
}

async fn moderation_queues_what_the_rule_holds_and_staff_decide(app: TestApp) {
    let shop = shop(app).await;
    let app = &shop.app;
    let (product, variant) = product(&shop.admin, "REV-2").await;
    let ada = buyer(app, "ada@example.com", &variant).await;

    // A link (or a blocked word) holds a verified review for a moderator.
    let held = review_when_verified(
        &ada,
        &product,
        &review(1, "Total scam", "See https://elsewhere.example for better"),
    )
    .await;
    assert_eq!(held.status, "pending");
    assert_eq!(held.moderation_note.as_deref(), Some("contains a link"));
    assert!(public_reviews(app, &product, "newest").await.is_empty());
    // Its author sees it; other shoppers do not.
    assert_eq!(
        ada.get_review().id(&held.id).send().await.unwrap().status,
        "pending"
    );
    let hidden = app.client.get_review().id(&held.id).send().await;
    assert_eq!(problem_of(hidden).await.status, 404);

    let queue = shop
        .admin
        .list_reviews_admin()
        .status("pending")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queue.data.len(), 1);
    assert_eq!(queue.data[0].id, held.id);
    assert!(queue.data[0].customer_id.is_some());

    // Rejecting needs a reason; the author sees it.
    let no_reason = shop
        .admin
        .reject_review()
        .id(&held.id)
        .body(body::<RejectRequest>(json!({"reason": " "})))
        .send()
        .await;
    assert_eq!(problem_of(no_reason).await.status, 422);
    let rejected = shop
        .admin
        .reject_review()
        .id(&held.id)
        .body(body::<RejectRequest>(
            json!({"reason": "links are not allowed"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rejected.status, "rejected");
    let mine = ada.get_review().id(&held.id).send().await.unwrap();
    assert_eq!(
        mine.moderation_note.as_deref(),
        Some("links are not allowed")
    );

    // Rewriting is the appeal: clean now, it is published by the rule.
    let rewritten = ada
        .update_review()
        .id(&held.id)
        .body(body::<ReviewPatch>(
            json!({"title": "Shrank a little", "body": "Wash it cold.", "rating": 3}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rewritten.status, "published");

    // Staff answer in public; shoppers report, and enough reports re-queue it.
    shop.admin
        .reply_to_review()
        .id(&held.id)
        .body(body::<ReplyRequest>(
            json!({"body": "Thanks — cold wash keeps the size."}),
        ))
        .send()
        .await
        .unwrap();
    let shown = public_reviews(app, &product, "newest").await;
    assert_eq!(
        shown[0].reply.as_ref().map(|r| r.body.as_str()),
        Some("Thanks — cold wash keeps the size.")
    );
    for n in 0..3 {
        let reporter = authed(
            app,
            &customer(app, &format!("reporter{n}@example.com"))
                .await
                .access_token,
        );
        // The first reporter asks twice: a second report by one shopper counts for nothing.
        for _ in 0..(if n == 0 { 2 } else { 1 }) {
            reporter
                .report_review()
                .id(&held.id)
                .body(body::<ReportRequest>(json!({"reason": "rude"})))
                .send()
                .await
                .unwrap();
        }
        let status = shop
            .admin
            .list_reviews_admin()
            .reported(true)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data[0]
            .clone();
        assert_eq!(status.report_count, n + 1);
    }
    assert!(public_reviews(app, &product, "newest").await.is_empty());
    let approved = shop
        .admin
        .approve_review()
        .id(&held.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(approved.status, "published");
    assert_eq!(public_reviews(app, &product, "newest").await.len(), 1);

    // A customer is not staff.
    let denied = ada.list_reviews_admin().send().await;
    assert_eq!(problem_of(denied).await.status, 403);
}

async fn twenty_concurrent_helpful_votes_by_one_customer_count_once(app: TestApp) {
    let shop = shop(app).await;
    let app = &shop.app;
    let (product, variant) = product(&shop.admin, "REV-3").await;
    let ada = buyer(app, "ada@example.com", &variant).await;
    let written = review_when_verified(&ada, &product, &review(5, "Great", "Fits well.")).await;

    let fan = authed(app, &customer(app, "fan@example.com").await.access_token);
    let votes = futures::future::join_all((0..20).map(|_| {
        let fan = fan.clone();
        let id = written.id.clone();
        async move {
            fan.vote_review_helpful()
                .id(&id)
                .send()
                .await
                .unwrap()
                .into_inner()
        }
    }))
    .await;
    assert_eq!(votes.iter().filter(|v| v.counted).count(), 1);
    let shown = app
        .client
        .get_review()
        .id(&written.id)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.helpful_count, 1);

    // Authors cannot vote for themselves.
    let own = ada.vote_review_helpful().id(&written.id).send().await;
    assert_eq!(problem_of(own).await.code, "own_review");

    // A second customer's vote counts, and `helpful` sorts by votes.
    let other = authed(app, &customer(app, "other@example.com").await.access_token);
    assert!(
        other
            .vote_review_helpful()
            .id(&written.id)
            .send()
            .await
            .unwrap()
            .counted
    );
    let best = public_reviews(app, &product, "helpful").await;
    assert_eq!(best[0].helpful_count, 2);
}

async fn bad_input_and_other_people_s_reviews_are_refused_cleanly(app: TestApp) {
    let shop = shop(app).await;
    let app = &shop.app;
    let (product, variant) = product(&shop.admin, "REV-4").await;
    let ada = buyer(app, "ada@example.com", &variant).await;
    let written = review_when_verified(&ada, &product, &review(4, "Good", "Nice.")).await;
    let url = app.url(&format!("/v1/products/{product}/reviews"));

    // Guests are refused before the body is read, whatever it is.
    let guest = app
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(guest.status(), 401);

    let token = customer(app, "eve@example.com").await.access_token;
    let send = |payload: &'static str| {
        app.http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(payload)
            .send()
    };
    let malformed = send("{\"rating\": 5,").await.unwrap();
    assert_eq!(malformed.status(), 400);
    let problem: Value = malformed.json().await.unwrap();
    assert_eq!(problem["code"], "malformed_json");
    let unknown = send(r#"{"rating":5,"title":"t","body":"b","verified_purchase":true}"#)
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
    let wrong_type = send(r#"{"rating":"five","title":"t","body":"b"}"#)
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 422);

    // Every field is checked before anything is asked of the catalog or stored.
    let eve = authed(app, &token);
    let invalid = eve
        .create_review()
        .id(&product)
        .body(body::<ReviewRequest>(json!({
            "rating": 9, "title": "x".repeat(151), "body": "",
            "size_fit": "huge", "photos": ["http://insecure.example/a.jpg"]
        })))
        .send()
        .await;
    let problem = problem_of(invalid).await;
    assert_eq!(problem.status, 422);
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["rating", "title", "body", "size_fit", "photos[0]"]);
    let huge = app
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"rating":5,"title":"t","body":"{}"}}"#,
            "b".repeat(3 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);

    // Unknown products and reviews are 404s.
    let nowhere = eve
        .create_review()
        .id("prod_0190b4c8e9c07b3a8f1e2d3c4b5a6978")
        .body(review(5, "t", "b"))
        .send()
        .await;
    assert_eq!(problem_of(nowhere).await.code, "product_not_found");
    let missing = app
        .client
        .list_product_reviews()
        .id("no-such-handle")
        .send()
        .await;
    assert_eq!(problem_of(missing).await.status, 404);
    let bad_sort = app
        .client
        .list_product_reviews()
        .id(&product)
        .sort("oldest")
        .send()
        .await;
    assert_eq!(problem_of(bad_sort).await.status, 422);

    // Another's review cannot be edited or deleted; it stays as it was.
    let edit = eve
        .update_review()
        .id(&written.id)
        .body(body::<ReviewPatch>(json!({"rating": 1})))
        .send()
        .await;
    assert_eq!(problem_of(edit).await.code, "not_your_review");
    let delete = eve.delete_review().id(&written.id).send().await;
    assert_eq!(problem_of(delete).await.code, "not_your_review");
    let kept = app
        .client
        .get_review()
        .id(&written.id)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.rating, 4);
}

async fn an_erased_customer_s_reviews_keep_their_words_but_nothing_of_them(app: TestApp) {
    let shop = shop(app).await;
    let app = &shop.app;
    let (product, variant) = product(&shop.admin, "REV-5").await;
    let ada = buyer(app, "ada@example.com", &variant).await;
    let written = review_when_verified(&ada, &product, &review(5, "Love it", "Perfect.")).await;
    let grace = buyer(app, "grace@example.com", &variant).await;
    let other = review_when_verified(&grace, &product, &review(4, "Nice", "Good.")).await;
    ada.vote_review_helpful()
        .id(&other.id)
        .send()
        .await
        .unwrap();

    ada.delete_me().send().await.unwrap();

    let mut shown = None;
    for _ in 0..200 {
        let r = app
            .client
            .get_review()
            .id(&written.id)
            .send()
            .await
            .unwrap()
            .into_inner();
        if r.author_name == "Former customer" {
            shown = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let shown = shown.expect("the erasure reached reviews");
    assert_eq!(shown.title, "Love it");
    assert!(shown.photos.is_empty());
    let listed = shop
        .admin
        .list_reviews_admin()
        .product_id(&product)
        .send()
        .await
        .unwrap()
        .into_inner();
    let theirs = listed.data.iter().find(|r| r.id == written.id).unwrap();
    assert!(theirs.customer_id.is_none());
    // Nothing in reviews' tables names them any more; the vote's count stays.
    let helpful = app.client.get_review().id(&other.id).send().await.unwrap();
    assert_eq!(helpful.helpful_count, 1);
    eventually(
        "the erased customer's votes and purchases forgotten",
        || async {
            let left = crate::support::stored_strings(
                app,
                "SELECT customer_id AS v FROM review_votes \
             UNION ALL SELECT customer_id AS v FROM review_purchases",
            )
            .await;
            left.len() == 1
        },
    )
    .await;
}

async fn graphql_writes_and_reads_reviews_with_the_same_rules(app: TestApp) {
    let shop = shop(app).await;
    let app = &shop.app;
    let (product, variant) = product(&shop.admin, "REV-6").await;
    let session = customer(app, "ada@example.com").await;
    let token = session.access_token.clone();
    let gql = |query: String, variables: Value, token: Option<String>| {
        let mut req = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let create = "mutation($p: String!) { createReview(productId: $p, input: \
                  {rating: 5, title: \"Warm\", body: \"Soft.\"}) { id status verifiedPurchase } }";

    // Before buying: the same refusal as REST, with its code.
    let refused = gql(
        create.to_owned(),
        json!({"p": product}),
        Some(token.clone()),
    )
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "purchase_required"
    );
    let guest = gql(create.to_owned(), json!({"p": product}), None).await;
    assert_eq!(guest["errors"][0]["extensions"]["code"], "unauthenticated");

    let client = authed(app, &token);
    let (_, checkout) = ready_checkout(&client, &[(&variant, 1)]).await;
    let key = format!("key-{}", uuid::Uuid::now_v7().simple());
    complete(&client, &checkout, "tok_visa", &key)
        .await
        .unwrap();
    let mut created = Value::Null;
    for _ in 0..200 {
        created = gql(
            create.to_owned(),
            json!({"p": product}),
            Some(token.clone()),
        )
        .await;
        if created["errors"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(created["data"]["createReview"]["status"], "published");
    assert_eq!(created["data"]["createReview"]["verifiedPurchase"], true);

    let read = gql(
        "query($p: String!) { productReviews(productId: $p, first: 5, sort: HIGHEST) \
         { nodes { title rating } nextCursor } ratingSummary(productId: $p) \
         { count average distribution } }"
            .to_owned(),
        json!({"p": product}),
        None,
    )
    .await;
    assert!(read["errors"].is_null(), "{read}");
    assert_eq!(read["data"]["productReviews"]["nodes"][0]["title"], "Warm");
    assert_eq!(read["data"]["ratingSummary"]["count"], 1);
    assert_eq!(read["data"]["ratingSummary"]["average"], 5.0);
    assert_eq!(
        read["data"]["ratingSummary"]["distribution"],
        json!([0, 0, 0, 0, 1])
    );
    // The same under the product itself, with the catalog's copy of the rating.
    let mut nested = Value::Null;
    for _ in 0..200 {
        nested = gql(
            "query($p: String!) { product(id: $p) { ratingAverage ratingCount \
             ratingSummary { count } reviews(first: 5, sort: NEWEST) { nodes { title } } } }"
                .to_owned(),
            json!({"p": product}),
            None,
        )
        .await;
        if nested["data"]["product"]["ratingCount"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(nested["errors"].is_null(), "{nested}");
    let shown = &nested["data"]["product"];
    assert_eq!(shown["ratingAverage"], 5.0);
    assert_eq!(shown["ratingSummary"]["count"], 1);
    assert_eq!(shown["reviews"]["nodes"][0]["title"], "Warm");
}

/// With `reviews.allow_unverified`, a customer who did not buy may review, marked
/// unverified and always moderated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverified_reviews_are_marked_and_moderated_where_the_shop_allows_them() {
    let app = spawn(Backend::Sqlite, true).await.unwrap();
    let shop = shop(app).await;
    let app = &shop.app;
    let (product, _) = product(&shop.admin, "REV-7").await;
    let eve = authed(app, &customer(app, "eve@example.com").await.access_token);
    let written = eve
        .create_review()
        .id(&product)
        .body(review(5, "Looks great", "Saw it in a shop."))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!written.verified_purchase);
    assert_eq!(written.status, "pending");
    assert_eq!(
        written.moderation_note.as_deref(),
        Some("not a verified purchase")
    );
}
