//! Product search: one [`SearchIndex`] trait, two implementations — a tantivy index on
//! local disk (embedded) and Elasticsearch (cluster) — and one contract suite both pass.
//!
//! The index holds one [`ProductDoc`] per product, written by the catalog as its
//! `ProductUpdated` events arrive. It answers full-text queries over title, brand, tags
//! and description with typo tolerance (one typo from 4 letters, two from 8: Elasticsearch's
//! `AUTO:4,8`), treats the last word as a prefix (autocomplete), filters, sorts, counts
//! facets and highlights what matched. The catalog stays the source of truth: a lost or
//! stale index is rebuilt from it (`weft reindex`).

pub mod elastic;
mod highlight;
pub mod tantivy_index;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use elastic::ElasticIndex;
pub use tantivy_index::TantivyIndex;

/// What the index knows of one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductDoc {
    /// `prod_…`
    pub id: String,
    pub title: String,
    pub brand: String,
    pub description: String,
    pub tags: Vec<String>,
    /// `draft`, `active` or `archived`.
    pub status: String,
    /// The product's own category (filters expand a category to its subtree beforehand).
    pub category_id: Option<String>,
    /// Every size and color some variant has.
    pub sizes: Vec<String>,
    pub colors: Vec<String>,
    /// Lowest and highest variant price per currency, in minor units.
    pub prices: BTreeMap<String, PriceSpan>,
    /// Milliseconds since the epoch: the `newest` order.
    pub created_at_ms: i64,
    /// Some variant can be bought now.
    pub in_stock: bool,
    /// The mean rating of its published reviews × 100 (350 is 3.5 stars); 0 unrated.
    #[serde(default)]
    pub rating: i64,
    /// What a result card shows, kept with the document so a search reads nothing else.
    pub card: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceSpan {
    pub min: i64,
    pub max: i64,
}

/// The indexed word for a product's stock (both indexes use it).
pub(crate) fn stock_term(in_stock: bool) -> &'static str {
    if in_stock { "in_stock" } else { "out_of_stock" }
}

/// The orders a search can return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchSort {
    /// Best match first (newest first when there is no text).
    #[default]
    Relevance,
    /// Lowest price in the request's currency first; products without one are left out.
    PriceAsc,
    PriceDesc,
    Newest,
    /// Best rated first (unrated last), newest first among equals.
    Rating,
}

/// The floors of the rating facet, in stars: "4 stars & up", "3 & up", …
pub const RATING_FLOORS: [i64; 4] = [4, 3, 2, 1];

/// One search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    /// Free text; empty matches every product the filters let through.
    pub text: String,
    /// Only these statuses (empty: any).
    pub statuses: Vec<String>,
    /// Any of these categories (`None`: any category).
    pub category_ids: Option<Vec<String>>,
    /// Any of these products (a collection's members).
    pub product_ids: Option<Vec<String>>,
    pub brand: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    /// Currency of the price filters, price sorts and price buckets (ISO 4217).
    pub currency: String,
    /// Minor units of `currency`; the product's price span must reach into the range.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products with (`true`) or without (`false`) a variant for sale now.
    pub in_stock: Option<bool>,
    /// Only products whose reviews average at least this many stars (1–5).
    pub min_rating: Option<i64>,
    /// Upper bounds (exclusive, minor units) of the price buckets, ascending; the last
    /// bucket is open-ended.
    pub price_bucket_bounds: Vec<i64>,
    pub sort: SearchSort,
    pub offset: usize,
    pub limit: usize,
    /// Only the hits' ids, scores and the total: no facets or price buckets, and the
    /// hits without cards or highlights (a listing that shows its products otherwise).
    pub hits_only: bool,
}

/// A search's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// How many products match in all.
    pub total: u64,
    pub hits: Vec<Hit>,
    pub facets: Facets,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    /// The card stored with the document (`null` with `hits_only`).
    pub card: serde_json::Value,
    /// Field → its text (title) or an excerpt (description) with each matched word in
    /// `<em>…</em>`, HTML-escaped elsewhere. Only fields that matched appear.
    pub highlights: BTreeMap<String, String>,
}

/// Counts over every matching product (not only the page).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    pub category: Vec<FacetCount>,
    pub brand: Vec<FacetCount>,
    pub size: Vec<FacetCount>,
    pub color: Vec<FacetCount>,
    pub price: Vec<PriceBucket>,
    /// For each of [`RATING_FLOORS`], the products averaging at least that many stars.
    #[serde(default)]
    pub rating: Vec<RatingFacet>,
}

/// Products whose reviews average at least `stars` stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingFacet {
    pub stars: i64,
    pub count: u64,
}

/// The rating facet from counts per floor (in [`RATING_FLOORS`] order).
fn rating_facet(counts: [u64; 4]) -> Vec<RatingFacet> {
    RATING_FLOORS
        .iter()
        .zip(counts)
        .map(|(stars, count)| RatingFacet {
            stars: *stars,
            count,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Products whose lowest price is in `[from, to)`; `to` is `None` for the last bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBucket {
    pub from: i64,
    pub to: Option<i64>,
    pub count: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index cannot be used (locked by another process, unreachable, corrupt).
    #[error("search index unavailable: {0}")]
    Unavailable(String),
    #[error("search failed: {0}")]
    Failed(String),
}

/// A product search index.
#[async_trait::async_trait]
pub trait SearchIndex: Send + Sync + std::fmt::Debug + 'static {
    /// `tantivy` or `elasticsearch`.
    fn backend(&self) -> &'static str;
    /// Adds or replaces documents by id.
    async fn upsert(&self, docs: Vec<ProductDoc>) -> Result<(), SearchError>;
    async fn delete(&self, ids: Vec<String>) -> Result<(), SearchError>;
    /// Removes every document (before a rebuild).
    async fn clear(&self) -> Result<(), SearchError>;
    /// Makes every write so far visible to searches now (they become visible within a
    /// second anyway).
    async fn refresh(&self) -> Result<(), SearchError>;
    async fn count(&self) -> Result<u64, SearchError>;
    async fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError>;
    /// Whether the index answers (for `/health/ready`).
    async fn ping(&self) -> Result<(), SearchError>;
    /// An id of the state searches read now, changing with every visible write, when
    /// this process can know it (an index in another process cannot say): answers may be
    /// cached under it.
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// Typos a query word may carry and still match: none under 4 letters, one from 4, two
/// from 8 (Elasticsearch's `fuzziness: AUTO:4,8`).
pub fn typo_budget(word: &str) -> u8 {
    match word.chars().count() {
        0..4 => 0,
        4..8 => 1,
        _ => 2,
    }
}

/// Elasticsearch's spelling of [`typo_budget`].
pub const FUZZINESS: &str = "AUTO:4,8";

/// The field weights of relevance: a word in the title counts most.
pub const FIELD_BOOSTS: [(&str, f32); 4] = [
    ("title", 3.0),
    ("brand", 2.0),
    ("tags", 1.5),
    ("description", 1.0),
];

/// Price buckets in minor units for a currency with `exponent` decimal places: under 25,
/// 25–50, 50–100, 100–200, 200 and over (in major units).
pub fn default_price_bounds(exponent: u32) -> Vec<i64> {
    let unit = 10i64.pow(exponent);
    [25, 50, 100, 200].iter().map(|b| b * unit).collect()
}

/// Sorts facet values by count (descending) then value, as both backends must.
fn sort_facet(counts: &mut [FacetCount]) {
    counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
}

/// The bucket `price` falls in, by the request's bounds.
fn bucket_of(bounds: &[i64], price: i64) -> usize {
    bounds.iter().take_while(|b| price >= **b).count()
}

/// Empty buckets for `bounds`, to be counted into.
fn empty_buckets(bounds: &[i64]) -> Vec<PriceBucket> {
    let mut from = 0;
    let mut buckets = Vec::with_capacity(bounds.len() + 1);
    for &to in bounds {
        buckets.push(PriceBucket {
            from,
            to: Some(to),
            count: 0,
        });
        from = to;
    }
    buckets.push(PriceBucket {
        from,
        to: None,
        count: 0,
    });
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_budget_follows_auto_4_8() {
        assert_eq!(typo_budget("tee"), 0);
        assert_eq!(typo_budget("jaket"), 1);
        assert_eq!(typo_budget("sweater"), 1);
        assert_eq!(typo_budget("sweaters"), 2);
        assert_eq!(typo_budget("été"), 0, "letters, not bytes");
    }

    #[test]
    fn buckets_split_at_their_bounds() {
        let bounds = default_price_bounds(2);
        assert_eq!(bounds, [2500, 5000, 10000, 20000]);
        assert_eq!(bucket_of(&bounds, 0), 0);
        assert_eq!(bucket_of(&bounds, 2499), 0);
        assert_eq!(bucket_of(&bounds, 2500), 1);
        assert_eq!(bucket_of(&bounds, 20000), 4);
        let empty = empty_buckets(&bounds);
        assert_eq!(empty.len(), 5);
        assert_eq!(empty[4].to, None);
        assert_eq!(empty[4].from, 20000);
    }
}
