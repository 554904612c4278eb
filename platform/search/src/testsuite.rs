//! The contract every [`SearchIndex`] must meet, as plain async functions over a fresh,
//! empty index. `tests/contract.rs` runs them on tantivy and, when
//! `WEFT_TEST_ELASTICSEARCH_URL` is set, on Elasticsearch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::json;

use crate::{PriceSpan, ProductDoc, SearchIndex, SearchRequest, SearchSort, default_price_bounds};

/// A fresh index for one test, and what must happen when the test is done.
pub struct Fixture {
    pub index: Arc<dyn SearchIndex>,
    pub cleanup: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    /// Whatever must outlive the test (a temporary directory).
    pub keep: Option<Box<dyn std::any::Any + Send + Sync>>,
}

impl Fixture {
    pub async fn finish(self) {
        if let Some(cleanup) = self.cleanup {
            cleanup.await;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn doc(
    id: &str,
    title: &str,
    brand: &str,
    description: &str,
    category: &str,
    sizes: &[&str],
    colors: &[&str],
    prices: &[(&str, i64, i64)],
    created: i64,
) -> ProductDoc {
    ProductDoc {
        id: id.to_owned(),
        title: title.to_owned(),
        brand: brand.to_owned(),
        description: description.to_owned(),
        tags: Vec::new(),
        status: "active".to_owned(),
        category_id: Some(category.to_owned()),
        sizes: sizes.iter().map(|s| (*s).to_owned()).collect(),
        colors: colors.iter().map(|s| (*s).to_owned()).collect(),
        prices: prices
            .iter()
            .map(|(c, min, max)| {
                (
                    (*c).to_owned(),
                    PriceSpan {
                        min: *min,
                        max: *max,
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
        created_at_ms: created,
        in_stock: true,
        rating: 0,
        card: json!({"handle": id, "title": title}),
    }
}

/// Six products: two jackets, two tops, a draft parka, a sweater with accents.
fn shop() -> Vec<ProductDoc> {
    let mut wool = doc(
        "p_wool",
        "Wool Jacket",
        "Northwind",
        "A warm wool jacket for long winter walks.",
        "cat_outer",
        &["S", "M", "L"],
        &["Navy", "Black"],
        &[("USD", 12000, 14000), ("EUR", 11000, 13000)],
        1000,
    );
    wool.tags = vec!["outerwear".into(), "winter".into()];
    let mut parka = doc(
        "p_parka",
        "Parka",
        "Northwind",
        "Not published yet.",
        "cat_outer",
        &["M"],
        &["Olive"],
        &[("USD", 30000, 30000)],
        5000,
    );
    parka.status = "draft".into();
    let mut rain = doc(
        "p_rain",
        "Rain Jacket",
        "Stormline",
        "A waterproof shell.",
        "cat_outer",
        &["M"],
        &["Yellow"],
        &[("USD", 9000, 9000)],
        4000,
    );
    rain.in_stock = false;
    vec![
        wool,
        doc(
            "p_linen",
            "Linen Shirt",
            "Plain",
            "Breathable linen for hot days.",
            "cat_tops",
            &["S", "M"],
            &["White"],
            &[("USD", 4500, 4500)],
            2000,
        ),
        doc(
            "p_tee",
            "Cotton Tee",
            "Plain",
            "Soft cotton, cut straight.",
            "cat_tops",
            &["M", "L"],
            &["Black", "White"],
            &[("USD", 1500, 1900), ("EUR", 1400, 1800)],
            3000,
        ),
        rain,
        parka,
        doc(
            "p_cafe",
            "Café Crème Sweater",
            "Maison",
            "Merino knit in a coffee tone.",
            "cat_knit",
            &["L"],
            &["Brown"],
            &[("USD", 8000, 8000)],
            6000,
        ),
    ]
}

async fn stocked(index: &Arc<dyn SearchIndex>) {
    index.upsert(shop()).await.unwrap();
    index.refresh().await.unwrap();
}

fn active(text: &str) -> SearchRequest {
    SearchRequest {
        text: text.to_owned(),
        statuses: vec!["active".to_owned()],
        currency: "USD".to_owned(),
        price_bucket_bounds: default_price_bounds(2),
        limit: 20,
        ..SearchRequest::default()
    }
}

async fn ids(index: &Arc<dyn SearchIndex>, request: &SearchRequest) -> Vec<String> {
    let found = index.search(request).await.unwrap();
    found.hits.into_iter().map(|h| h.id).collect()
}

async fn id_set(index: &Arc<dyn SearchIndex>, request: &SearchRequest) -> Vec<String> {
    let mut v = ids(index, request).await;
    v.sort();
    v
}

pub async fn words_with_a_typo_still_match(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    assert_eq!(
        id_set(&index, &active("jaket ")).await,
        ["p_rain", "p_wool"],
        "one typo in a five-letter word"
    );
    assert_eq!(
        id_set(&index, &active("sweatre ")).await,
        ["p_cafe"],
        "a transposition"
    );
    assert_eq!(
        id_set(&index, &active("northwnd ")).await,
        ["p_wool"],
        "brands match, with a typo, and drafts stay hidden"
    );
    assert!(
        ids(&index, &active("tea ")).await.is_empty(),
        "three-letter words must be exact: tea is not tee"
    );
    assert!(ids(&index, &active("qwertyuiop ")).await.is_empty());
}

pub async fn the_last_word_completes_as_a_prefix(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    assert_eq!(id_set(&index, &active("jack")).await, ["p_rain", "p_wool"]);
    assert_eq!(id_set(&index, &active("lin")).await, ["p_linen"]);
    assert_eq!(
        id_set(&index, &active("wool jac")).await,
        ["p_wool"],
        "every word must match"
    );
}

pub async fn accents_and_case_do_not_matter(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    assert_eq!(ids(&index, &active("CAFE CREME ")).await, ["p_cafe"]);
    assert_eq!(ids(&index, &active("café ")).await, ["p_cafe"]);
}

pub async fn matches_are_highlighted(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    let found = index.search(&active("jaket ")).await.unwrap();
    let wool = found.hits.iter().find(|h| h.id == "p_wool").unwrap();
    assert_eq!(wool.highlights["title"], "Wool <em>Jacket</em>");
    assert!(
        wool.highlights["description"].contains("<em>jacket</em>"),
        "{:?}",
        wool.highlights
    );
    assert_eq!(
        wool.card["handle"], "p_wool",
        "the card comes back as stored"
    );
    let found = index.search(&active("")).await.unwrap();
    assert!(
        found.hits.iter().all(|h| h.highlights.is_empty()),
        "nothing to highlight without words"
    );
}

pub async fn better_matches_come_first(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    // Both jackets say "jacket" in their title; the wool one says it again in its
    // description.
    assert_eq!(ids(&index, &active("jacket ")).await, ["p_wool", "p_rain"]);
    // Tags count: only the wool jacket is tagged winter (and says it).
    assert_eq!(ids(&index, &active("winter ")).await, ["p_wool"]);
    assert_eq!(ids(&index, &active("jacket waterproof ")).await, ["p_rain"]);
}

pub async fn filters_narrow_and_facets_count_every_match(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    let all = index.search(&active("")).await.unwrap();
    assert_eq!(all.total, 5, "drafts are filtered out");
    let counts = |f: &[crate::FacetCount]| -> Vec<(String, u64)> {
        f.iter().map(|c| (c.value.clone(), c.count)).collect()
    };
    let pairs = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
    };
    assert_eq!(
        counts(&all.facets.brand),
        pairs(&[
            ("Plain", 2),
            ("Maison", 1),
            ("Northwind", 1),
            ("Stormline", 1)
        ])
    );
    assert_eq!(
        counts(&all.facets.size),
        pairs(&[("M", 4), ("L", 3), ("S", 2)])
    );
    assert_eq!(
        counts(&all.facets.category),
        pairs(&[("cat_outer", 2), ("cat_tops", 2), ("cat_knit", 1)])
    );
    let buckets: Vec<(i64, Option<i64>, u64)> = all
        .facets
        .price
        .iter()
        .map(|b| (b.from, b.to, b.count))
        .collect();
    assert_eq!(
        buckets,
        [
            (0, Some(2500), 1),
            (2500, Some(5000), 1),
            (5000, Some(10000), 2),
            (10000, Some(20000), 1),
            (20000, None, 0)
        ]
    );

    let mut request = active("");
    request.category_ids = Some(vec!["cat_tops".into(), "cat_knit".into()]);
    request.size = Some("L".into());
    let found = index.search(&request).await.unwrap();
    assert_eq!(found.total, 2);
    assert_eq!(
        counts(&found.facets.color),
        pairs(&[("Black", 1), ("Brown", 1), ("White", 1)]),
        "facets count within the filters"
    );

    let mut request = active("");
    request.brand = Some("Plain".into());
    request.color = Some("White".into());
    assert_eq!(id_set(&index, &request).await, ["p_linen", "p_tee"]);
    request.brand = Some("plain".into());
    assert!(
        ids(&index, &request).await.is_empty(),
        "brands filter exactly"
    );

    let mut request = active("");
    request.product_ids = Some(vec!["p_tee".into(), "p_parka".into(), "p_none".into()]);
    assert_eq!(ids(&index, &request).await, ["p_tee"]);
    request.statuses = Vec::new();
    assert_eq!(
        id_set(&index, &request).await,
        ["p_parka", "p_tee"],
        "any status"
    );
    // A long list of ids (more than a union of term queries serves) filters alike; an
    // empty one matches nothing.
    let mut many: Vec<String> = (0..100).map(|n| format!("p_missing_{n}")).collect();
    many.push("p_parka".into());
    request.product_ids = Some(many);
    assert_eq!(ids(&index, &request).await, ["p_parka"]);
    request.product_ids = Some(Vec::new());
    assert!(ids(&index, &request).await.is_empty(), "no ids, no matches");
}

pub async fn prices_filter_sort_and_page(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    let mut request = active("");
    request.min_price = Some(9000);
    assert_eq!(
        id_set(&index, &request).await,
        ["p_rain", "p_wool"],
        "the span must reach the floor"
    );
    request.min_price = None;
    request.max_price = Some(4500);
    assert_eq!(id_set(&index, &request).await, ["p_linen", "p_tee"]);

    let mut request = active("");
    request.sort = SearchSort::PriceAsc;
    assert_eq!(
        ids(&index, &request).await,
        ["p_tee", "p_linen", "p_cafe", "p_rain", "p_wool"]
    );
    request.sort = SearchSort::PriceDesc;
    assert_eq!(
        ids(&index, &request).await,
        ["p_wool", "p_rain", "p_cafe", "p_linen", "p_tee"]
    );
    request.currency = "EUR".into();
    let found = index.search(&request).await.unwrap();
    assert_eq!(found.total, 2, "only products priced in EUR");
    assert_eq!(
        found.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["p_wool", "p_tee"]
    );

    let mut request = active("");
    request.sort = SearchSort::PriceAsc;
    request.offset = 1;
    request.limit = 2;
    let page = index.search(&request).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        ["p_linen", "p_cafe"]
    );
    request.offset = 10;
    assert!(index.search(&request).await.unwrap().hits.is_empty());

    let mut request = active("");
    request.sort = SearchSort::Newest;
    assert_eq!(
        ids(&index, &request).await,
        ["p_cafe", "p_rain", "p_tee", "p_linen", "p_wool"]
    );
}

pub async fn writes_replace_remove_and_clear(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    assert_eq!(index.count().await.unwrap(), 6);
    let mut linen = shop().into_iter().find(|d| d.id == "p_linen").unwrap();
    linen.title = "Linen Overshirt".into();
    index.upsert(vec![linen]).await.unwrap();
    index
        .delete(vec!["p_rain".into(), "p_never_indexed".into()])
        .await
        .unwrap();
    index.refresh().await.unwrap();
    assert_eq!(index.count().await.unwrap(), 5, "replaced, not added");
    assert_eq!(ids(&index, &active("overshirt ")).await, ["p_linen"]);
    assert!(ids(&index, &active("rain ")).await.is_empty());
    assert!(
        ids(&index, &active("shirt ")).await.is_empty(),
        "the old title is gone"
    );

    index.clear().await.unwrap();
    index.refresh().await.unwrap();
    assert_eq!(index.count().await.unwrap(), 0);
    assert_eq!(index.search(&active("")).await.unwrap().total, 0);
    index.ping().await.unwrap();
}

pub async fn text_without_words_matches_like_no_text(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    for text in ["", "   ", "!!!", "<script>"] {
        let found = index.search(&active(text)).await.unwrap();
        let expected = if text == "<script>" { 0 } else { 5 };
        assert_eq!(found.total, expected, "{text:?}");
    }
}

pub async fn stock_filters_either_way(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    let mut request = active("");
    request.in_stock = Some(true);
    assert_eq!(
        id_set(&index, &request).await,
        ["p_cafe", "p_linen", "p_tee", "p_wool"]
    );
    request.in_stock = Some(false);
    assert_eq!(id_set(&index, &request).await, ["p_rain"]);
    "jacket".clone_into(&mut request.text);
    assert_eq!(id_set(&index, &request).await, ["p_rain"]);
    // A product coming back into stock moves across at its next write.
    let mut back = shop().into_iter().find(|d| d.id == "p_rain").unwrap();
    back.in_stock = true;
    index.upsert(vec![back]).await.unwrap();
    index.refresh().await.unwrap();
    assert!(id_set(&index, &request).await.is_empty());
}

pub async fn ratings_filter_sort_and_count(index: Arc<dyn SearchIndex>) {
    let mut docs = shop();
    for (id, rating) in [
        ("p_wool", 450),
        ("p_linen", 380),
        ("p_tee", 450),
        ("p_rain", 200),
    ] {
        if let Some(d) = docs.iter_mut().find(|d| d.id == id) {
            d.rating = rating;
        }
    }
    index.upsert(docs).await.unwrap();
    index.refresh().await.unwrap();
    // Best rated first, the newer among equals, unrated last.
    let mut request = active("");
    request.sort = SearchSort::Rating;
    assert_eq!(
        ids(&index, &request).await,
        ["p_tee", "p_wool", "p_linen", "p_rain", "p_cafe"]
    );
    // Facets count every match at or above each floor.
    let found = index.search(&active("")).await.unwrap();
    let counts: Vec<(i64, u64)> = found
        .facets
        .rating
        .iter()
        .map(|f| (f.stars, f.count))
        .collect();
    assert_eq!(counts, [(4, 2), (3, 3), (2, 4), (1, 4)]);
    // "4 stars & up" keeps those averaging at least 4, with text too.
    request.min_rating = Some(4);
    assert_eq!(id_set(&index, &request).await, ["p_tee", "p_wool"]);
    "jacket".clone_into(&mut request.text);
    assert_eq!(id_set(&index, &request).await, ["p_wool"]);
}

pub async fn hits_only_finds_the_same_page_without_the_rest(index: Arc<dyn SearchIndex>) {
    stocked(&index).await;
    let mut by_price = active("");
    by_price.sort = SearchSort::PriceAsc;
    by_price.offset = 1;
    by_price.limit = 3;
    let mut narrowed = active("jaket ");
    narrowed.max_price = Some(20_000);
    for request in [active("jaket "), active("linen"), by_price, narrowed] {
        let full = index.search(&request).await.unwrap();
        let bare = index
            .search(&SearchRequest {
                hits_only: true,
                ..request.clone()
            })
            .await
            .unwrap();
        let ids =
            |r: &crate::SearchResults| r.hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert!(!full.hits.is_empty(), "{request:?}");
        assert_eq!(
            (ids(&bare), bare.total),
            (ids(&full), full.total),
            "{request:?}"
        );
        assert_eq!(bare.facets, crate::Facets::default(), "nothing counted");
        assert!(
            bare.hits
                .iter()
                .all(|h| h.card.is_null() && h.highlights.is_empty()),
            "no cards or highlights"
        );
    }
}

/// Declares one `#[tokio::test]` per contract function over `$make`, an async expression
/// giving `Option<Fixture>` (`None`: this backend is skipped here).
#[macro_export]
macro_rules! search_contract {
    ($make:expr) => {
        $crate::search_contract!(@each $make;
            words_with_a_typo_still_match,
            the_last_word_completes_as_a_prefix,
            accents_and_case_do_not_matter,
            matches_are_highlighted,
            better_matches_come_first,
            filters_narrow_and_facets_count_every_match,
            prices_filter_sort_and_page,
            writes_replace_remove_and_clear,
            text_without_words_matches_like_no_text,
            stock_filters_either_way,
            ratings_filter_sort_and_count,
            hits_only_finds_the_same_page_without_the_rest,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(fixture) = $make.await {
                    $crate::testsuite::$name(std::sync::Arc::clone(&fixture.index)).await;
                    fixture.finish().await;
                }
            }
        )*
    };
}
