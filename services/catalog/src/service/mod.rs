//! The catalog's use cases: products with their variants and prices, and the category
//! tree. Every write runs in one transaction with its `ProductUpdated` event.

mod categories;
mod collections;
mod documents;
mod jobs;
mod lookup;
mod products;
mod recommend;
mod search;
mod stock;

pub use collections::{Collection, CollectionInput};
pub use documents::ProductDocument;
pub use jobs::{ImportReport, Job};
pub use lookup::{Census, VariantSummary};
pub use search::{
    Card, FacetValue, MAX_QUERY_CHARS, PriceBucket, SearchFacets, SearchHit, SearchPage,
    SearchQuery,
};
pub use stock::StockChange;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weft_cache::Cache;

use chrono::{DateTime, Utc};
use weft_bus::Bus;
use weft_kernel::{Clock, Cursor, FieldError, Page, PageRequest};
use weft_storage::{Db, DbConn};

use crate::domain::{Image, Price, ProductOption, ProductStatus};
use crate::error::CatalogError;
use crate::store::{self, CategoryRow, ListCursor, ListFilter, ListOrder, PriceRow, ProductRow};

/// A product as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub brand: String,
    pub status: String,
    pub material: Option<String>,
    pub care: Option<String>,
    pub fit: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub tags: Vec<String>,
    pub images: Vec<Image>,
    pub options: Vec<ProductOption>,
    pub size_chart: Option<serde_json::Value>,
    pub category_id: Option<String>,
    /// Lowest and highest variant price per currency.
    pub price_ranges: Vec<PriceRange>,
    pub variants: Vec<Variant>,
    /// Some variant can be bought now.
    #[serde(default)]
    pub in_stock: bool,
    /// Mean of the published reviews' ratings (two decimals), as reviews announced it;
    /// none without reviews.
    #[serde(default)]
    pub rating_average: Option<f64>,
    /// Published reviews.
    #[serde(default)]
    pub rating_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRange {
    pub currency: weft_kernel::Currency,
    pub min: i64,
    pub max: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Variant {
    pub id: String,
    pub product_id: String,
    pub sku: String,
    pub options: BTreeMap<String, String>,
    pub prices: Vec<Price>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    /// `in_stock`, `low_stock`, `out_of_stock` or `backorder`, as inventory last
    /// announced it.
    #[serde(default = "unknown_stock")]
    pub stock_status: String,
}

fn unknown_stock() -> String {
    crate::domain::UNKNOWN_STOCK.to_owned()
}

/// A category with its subcategories.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub parent_id: Option<String>,
    pub handle: String,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub children: Vec<Category>,
}

/// A new product and its first variants.
#[derive(Debug, Clone, Default)]
pub struct NewProduct {
    pub title: String,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub brand: String,
    pub status: Option<String>,
    pub material: Option<String>,
    pub care: Option<String>,
    pub fit: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub tags: Vec<String>,
    pub images: Vec<Image>,
    pub options: Vec<ProductOption>,
    pub size_chart: Option<serde_json::Value>,
    pub category_id: Option<String>,
    pub variants: Vec<NewVariant>,
}

#[derive(Debug, Clone, Default)]
pub struct NewVariant {
    pub sku: String,
    pub options: BTreeMap<String, String>,
    /// (currency, amount, compare-at amount)
    pub prices: Vec<(String, i64, Option<i64>)>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
}

/// Changes to a product; `None` keeps a field, `Some("")` clears an optional text.
#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub brand: Option<String>,
    pub status: Option<String>,
    pub material: Option<String>,
    pub care: Option<String>,
    pub fit: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub images: Option<Vec<Image>>,
    pub size_chart: Option<serde_json::Value>,
    /// `Some("")` takes the product out of its category.
    pub category_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct VariantPatch {
    pub sku: Option<String>,
    pub prices: Option<Vec<(String, i64, Option<i64>)>>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
}

/// A category to create or the changes to one.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    /// `Some("")` makes it a root.
    pub parent_id: Option<String>,
    pub position: Option<i32>,
}

/// What a listing asks for.
#[derive(Debug, Clone, Default)]
pub struct ProductQuery {
    pub category: Option<String>,
    /// A collection id or handle.
    pub collection: Option<String>,
    pub brand: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    pub currency: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products with (`true`) or without (`false`) a variant for sale now.
    pub in_stock: Option<bool>,
    pub sort: Option<String>,
    /// Free text: the listing is then a search (see `search`), best match first.
    pub q: Option<String>,
    /// Admins and apps with `catalog:read` see drafts and archived products too.
    pub include_unpublished: bool,
    /// With `include_unpublished`: only products in this status.
    pub status: Option<String>,
    /// The back office's search (title, handle, brand, SKU contain it); unlike `q` it
    /// reads the database, so drafts are found and the order stays the listing's.
    pub text: Option<String>,
}

/// The catalog service of this process.
#[derive(Clone)]
pub struct CatalogService {
    db: Db,
    bus: Bus,
    cache: Cache,
    ttls: CacheTtls,
    clock: Clock,
    search: Option<std::sync::Arc<dyn weft_search::SearchIndex>>,
    /// Where gateways hear that the answers they keep are stale.
    purges: Option<std::sync::Arc<dyn weft_bus::live::Fanout>>,
    /// Where guests' reads go (replicas, when configured); staff read the primary.
    reads: weft_storage::replicas::ReadDb,
    /// How far a replica may trail: cached answers are retired again after it, so none
    /// read from a replica before a change reached it outlives the change by more.
    replica_lag: Option<Duration>,
    /// When answers of retired generations were last dropped (ms since the epoch).
    forgotten_at: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// How long cached answers live (a write makes them unreachable at once anyway).
#[derive(Debug, Clone, Copy)]
pub struct CacheTtls {
    pub product: Duration,
    pub listing: Duration,
    pub search: Duration,
    /// Whole answers to guests' reads ([`crate::http_cache`]).
    pub answer: Duration,
}

impl Default for CacheTtls {
    fn default() -> Self {
        Self {
            product: Duration::from_hours(1),
            listing: Duration::from_mins(30),
            search: Duration::from_mins(30),
            answer: Duration::from_mins(5),
        }
    }
}

/// Cached answers are keyed under a generation that every write bumps, so a write makes
/// every earlier answer unreachable at once, and an answer read from the database just
/// before a write commits can only land under the old generation.
const GENERATION: &str = "catalog:gen";
/// Longer than any answer lives, so a generation never comes back while its answers do.
const GENERATION_TTL: Duration = Duration::from_hours(24 * 30);

impl std::fmt::Debug for CatalogService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogService").finish_non_exhaustive()
    }
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, CatalogError> {
    serde_json::to_string(v).map_err(|e| CatalogError::Internal(e.to_string()))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, CatalogError> {
    serde_json::from_str(s).map_err(|e| CatalogError::Internal(format!("stored json: {e}")))
}

/// Products from their rows and parts.
fn assemble(
    rows: Vec<ProductRow>,
    parts: store::ProductParts,
) -> Result<Vec<Product>, CatalogError> {
    let store::ProductParts {
        variants,
        prices,
        ranges,
        ratings,
        stock,
    } = parts;
    let mut ratings: HashMap<String, (i64, i64)> = ratings
        .into_iter()
        .map(|(id, score, count)| (id, (score, count)))
        .collect();
    let stock: HashMap<String, String> = stock.into_iter().collect();
    let mut prices_by_variant: HashMap<String, Vec<Price>> = HashMap::new();
    for p in prices {
        let currency = weft_kernel::Currency::parse(&p.currency)
            .map_err(|e| CatalogError::Internal(e.to_string()))?;
        prices_by_variant
            .entry(p.variant_id)
            .or_default()
            .push(Price {
                currency,
                amount: p.amount,
                compare_at_amount: p.compare_at_amount,
            });
    }
    let mut variants_by_product: HashMap<String, Vec<Variant>> = HashMap::new();
    for v in variants {
        variants_by_product
            .entry(v.product_id.clone())
            .or_default()
            .push(Variant {
                stock_status: stock.get(&v.id).cloned().unwrap_or_else(unknown_stock),
                prices: prices_by_variant.remove(&v.id).unwrap_or_default(),
                options: from_json(&v.option_values)?,
                id: v.id,
                product_id: v.product_id,
                sku: v.sku,
                weight_grams: v.weight_grams,
                barcode: v.barcode,
            });
    }
    let mut ranges_by_product: HashMap<String, Vec<PriceRange>> = HashMap::new();
    for r in ranges {
        let currency = weft_kernel::Currency::parse(&r.currency)
            .map_err(|e| CatalogError::Internal(e.to_string()))?;
        ranges_by_product
            .entry(r.product_id)
            .or_default()
            .push(PriceRange {
                currency,
                min: r.min_amount,
                max: r.max_amount,
            });
    }
    rows.into_iter()
        .map(|row| {
            let variants = variants_by_product.remove(&row.id).unwrap_or_default();
            let (score, rating_count) = ratings.remove(&row.id).unwrap_or_default();
            Ok(Product {
                // The score is the average × 100, exact to two decimals.
                #[allow(clippy::cast_precision_loss)]
                rating_average: (rating_count > 0).then(|| score as f64 / 100.0),
                rating_count,
                in_stock: variants
                    .iter()
                    .any(|v| crate::domain::SELLABLE.contains(&v.stock_status.as_str())),
                variants,
                price_ranges: ranges_by_product.remove(&row.id).unwrap_or_default(),
                tags: from_json(&row.tags)?,
                images: from_json(&row.images)?,
                options: from_json(&row.options)?,
                size_chart: row.size_chart.as_deref().map(from_json).transpose()?,
                id: row.id,
                handle: row.handle,
                title: row.title,
                description: row.description,
                brand: row.brand,
                status: row.status,
                material: row.material,
                care: row.care,
                fit: row.fit,
                seo_title: row.seo_title,
                seo_description: row.seo_description,
                category_id: row.category_id,
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
            })
        })
        .collect()
}

impl CatalogService {
    pub fn new(db: Db, bus: Bus, cache: Cache, ttls: CacheTtls, clock: Clock) -> Self {
        Self {
            reads: weft_storage::replicas::ReadDb::primary_only(db.clone()),
            db,
            bus,
            cache,
            ttls,
            clock,
            search: None,
            purges: None,
            replica_lag: None,
            forgotten_at: std::sync::Arc::default(),
        }
    }

    /// Reads guests' pages from `reads`'s replicas, which trail the primary by at most
    /// `max_lag`.
    #[must_use]
    pub fn with_reads(mut self, reads: weft_storage::replicas::ReadDb, max_lag: Duration) -> Self {
        self.reads = reads;
        self.replica_lag = Some(max_lag);
        self
    }

    /// A connection for a read: the primary's when the reader must see its own writes
    /// (staff), else one that may trail it (a replica's).
    pub(super) async fn read_conn(&self, fresh: bool) -> Result<DbConn, CatalogError> {
        Ok(if fresh {
            self.db.conn().await?
        } else {
            self.reads.conn().await?
        })
    }

    /// Tells gateways (over `fanout`) whenever cached answers are retired, so the guests'
    /// answers they keep go too.
    #[must_use]
    pub fn with_purges(mut self, fanout: std::sync::Arc<dyn weft_bus::live::Fanout>) -> Self {
        self.purges = Some(fanout);
        self
    }

    /// After a committed write: wake the event relay, retire every cached answer.
    pub(super) async fn changed(&self) {
        self.bus.wake();
        self.retire_cached().await;
    }

    /// The cache key of a whole HTTP answer (see `http_cache`).
    pub async fn answer_key(&self, uri: &str) -> String {
        self.key(&format!("http:{uri}")).await
    }

    /// The cache underneath, for answers kept as raw bytes.
    /// How long a whole answer to a guest's read stays cached.
    pub fn answer_ttl(&self) -> Duration {
        self.ttls.answer
    }

    pub fn cache_store(&self) -> &std::sync::Arc<dyn weft_cache::CacheStore> {
        self.cache.store()
    }

    /// Makes every cached catalog answer unreachable, here and at the gateways. Called
    /// once a change has committed, so an answer a gateway fetches after the purge is new.
    pub async fn retire_cached(&self) {
        self.retire_now().await;
        if let Some(lag) = self.replica_lag {
            // An answer read from a replica the change had not reached yet may have been
            // cached under the new generation: retire once more when every usable
            // replica has it.
            let again = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(lag + weft_storage::replicas::WATCH_EVERY * 2).await;
                again.retire_now().await;
            });
        }
    }

    async fn retire_now(&self) {
        let generation = self.cache.increment(GENERATION, GENERATION_TTL).await;
        if let Some(generation) = generation {
            self.forget_retired(generation).await;
        }
        if let Some(fanout) = &self.purges {
            // Off the write's path: a purge that is lost leaves answers their max-age old.
            let fanout = std::sync::Arc::clone(fanout);
            tokio::spawn(async move {
                fanout
                    .publish(weft_bus::live::Notice {
                        topic: weft_bus::live::PURGE.to_owned(),
                        key: crate::SERVICE.name.to_owned(),
                    })
                    .await;
            });
        }
    }

    /// Drops the answers of generations before `current` from the in-process cache, at
    /// most once a second (a bulk change retires many generations in a row): nobody can
    /// reach them, and kept they would fill the cache's budget with dead answers.
    async fn forget_retired(&self, current: i64) {
        use std::sync::atomic::Ordering;
        let now = self.clock.now().timestamp_millis();
        let last = self.forgotten_at.load(Ordering::Relaxed);
        if now - last < 1000
            || self
                .forgotten_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let keep = [GENERATION.to_owned(), format!("catalog:{current}:")];
        self.cache.forget_unreachable("catalog:", &keep).await;
    }

    /// The cache key of an answer, or `None` when the cache cannot say its generation.
    pub(super) async fn key(&self, what: &str) -> String {
        let generation: i64 = self.cache.get_json(GENERATION).await.unwrap_or_default();
        format!("catalog:{generation}:{what}")
    }

    /// A product by id or handle, through the cache; guests only see active ones.
    pub async fn product(
        &self,
        id_or_handle: &str,
        include_unpublished: bool,
    ) -> Result<Product, CatalogError> {
        let key = self
            .key(&format!("product:{include_unpublished}:{id_or_handle}"))
            .await;
        self.cache
            .get_or_load(&key, self.ttls.product, async || {
                self.load_product(id_or_handle, include_unpublished).await
            })
            .await
    }

    /// One page of products, through the cache.
    pub async fn list_products(
        &self,
        query: &ProductQuery,
        page: &PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        if Self::searches(query) {
            // Not kept here: the index trails the database, so a page would be stale under
            // the catalog's generation (guests' whole answers are kept under the index's
            // state by `http_cache`).
            return self.search_products(query, page).await;
        }
        let what = format!(
            "list:{:?}:{}:{}",
            query,
            page.limit,
            page.cursor.as_ref().map_or("", Cursor::as_str)
        );
        let key = self.key(&what).await;
        let (data, next_cursor) = self
            .cache
            .get_or_load(&key, self.ttls.listing, async || {
                self.load_products(query, page)
                    .await
                    .map(|p| (p.data, p.next_cursor))
            })
            .await?;
        Ok(Page { data, next_cursor })
    }

    /// Whether a listing is a search (free text, or best match first).
    fn searches(query: &ProductQuery) -> bool {
        query.q.as_deref().is_some_and(|q| !q.trim().is_empty())
            || query.sort.as_deref() == Some("relevance")
    }

    /// The whole category tree, through the cache.
    pub async fn categories(&self) -> Result<Vec<Category>, CatalogError> {
        let key = self.key("categories").await;
        self.cache
            .get_or_load(&key, self.ttls.product, async || {
                self.load_categories().await
            })
            .await
    }

    // --- reading ------------------------------------------------------------------

    /// Assembles products from their rows with a constant number of queries.
    pub(super) async fn assemble(
        &self,
        conn: &mut DbConn,
        rows: Vec<ProductRow>,
    ) -> Result<Vec<Product>, CatalogError> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let parts = store::parts_of(conn, ids).await?;
        assemble(rows, parts)
    }

    pub(super) async fn load_product(
        &self,
        id_or_handle: &str,
        include_unpublished: bool,
    ) -> Result<Product, CatalogError> {
        // One product by key and its parts: read on the task's own thread.
        weft_storage::short_reads(async {
            let mut conn = self.read_conn(include_unpublished).await?;
            let row = store::find_product(&mut conn, id_or_handle)
                .await?
                .filter(|p| include_unpublished || p.status == ProductStatus::Active.as_str())
                .ok_or(CatalogError::ProductNotFound)?;
            let mut products = self.assemble(&mut conn, vec![row]).await?;
            products.pop().ok_or(CatalogError::ProductNotFound)
        })
        .await
    }

    /// One page of products, filtered and sorted.
    async fn load_products(
        &self,
        query: &ProductQuery,
        page: &PageRequest,
    ) -> Result<Page<Product>, CatalogError> {
        let (rows, parts) = self.load_rows(query, page, true).await?;
        Ok(Page {
            data: assemble(rows.data, parts)?,
            next_cursor: rows.next_cursor,
        })
    }

    /// One page of product rows, filtered and sorted, with the parts of those to
    /// assemble: every one, or only those without a document unless `documented_too`.
    async fn load_rows(
        &self,
        query: &ProductQuery,
        page: &PageRequest,
        documented_too: bool,
    ) -> Result<(Page<ProductRow>, store::ProductParts), CatalogError> {
        let order = match query.sort.as_deref().unwrap_or("newest") {
            "newest" => ListOrder::Newest,
            "price_asc" => ListOrder::PriceAsc,
            "price_desc" => ListOrder::PriceDesc,
            "rating" => ListOrder::Rating,
            _ => {
                return Err(CatalogError::field(
                    "sort",
                    "must be `relevance`, `newest`, `price_asc`, `price_desc` or `rating`",
                ));
            }
        };
        let currency = weft_kernel::Currency::parse(
            &query.currency.as_deref().unwrap_or("USD").to_uppercase(),
        )
        .map_err(|e| CatalogError::field("currency", e.to_string()))?;
        let mut errors = Vec::new();
        for (field, value) in [
            ("min_price", query.min_price),
            ("max_price", query.max_price),
        ] {
            if value.is_some_and(|v| v < 0) {
                errors.push(FieldError::new(field, "must be ≥ 0"));
            }
        }
        if let (Some(min), Some(max)) = (query.min_price, query.max_price)
            && min > max
        {
            errors.push(FieldError::new("max_price", "must be ≥ min_price"));
        }
        let after: Option<ListCursor> = page
            .cursor
            .as_ref()
            .map(Cursor::decode::<ListCursor>)
            .transpose()
            .map_err(|_| FieldError::new("cursor", "is not a cursor this API issued"))
            .unwrap_or_else(|e| {
                errors.push(e);
                None
            });
        if !errors.is_empty() {
            return Err(CatalogError::Invalid(errors));
        }
        // The cached tree, read before a connection is held: a page no cache can answer
        // does not read every category again.
        let category_ids = match &query.category {
            Some(c) => {
                let tree = self.categories().await?;
                Some(subtree_ids(&tree, c).ok_or(CatalogError::CategoryNotFound)?)
            }
            None => None,
        };
        let mut conn = self.read_conn(query.include_unpublished).await?;
        let statuses = if let Some(status) = query
            .status
            .as_deref()
            .filter(|_| query.include_unpublished)
        {
            if !["draft", "active", "archived"].contains(&status) {
                return Err(CatalogError::field(
                    "status",
                    "must be `draft`, `active` or `archived`",
                ));
            }
            vec![status.to_owned()]
        } else if query.include_unpublished {
            vec![
                "draft".to_owned(),
                "active".to_owned(),
                "archived".to_owned(),
            ]
        } else {
            vec!["active".to_owned()]
        };
        let mut option_values = Vec::new();
        if let Some(size) = &query.size {
            option_values.push(("size".to_owned(), size.clone()));
        }
        if let Some(color) = &query.color {
            option_values.push(("color".to_owned(), color.clone()));
        }
        let collection_id = match &query.collection {
            Some(c) => Some(
                store::find_collection(&mut conn, c)
                    .await?
                    .ok_or(CatalogError::CollectionNotFound)?
                    .id,
            ),
            None => None,
        };
        let filter = ListFilter {
            statuses,
            category_ids,
            collection_id,
            brand: query.brand.clone(),
            option_values,
            currency: currency.code().to_owned(),
            min_price: query.min_price,
            max_price: query.max_price,
            in_stock: query.in_stock,
            text: query
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        };
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let (rows, parts) = store::list_page(
            &mut conn,
            &filter,
            order,
            after.as_ref(),
            page.fetch_size(),
            limit,
            documented_too,
        )
        .await?;
        let positions: HashMap<String, Option<i64>> =
            rows.iter().map(|(r, p)| (r.id.clone(), *p)).collect();
        let page = Page::from_rows(rows.into_iter().map(|(r, _)| r).collect(), page, |r| {
            ListCursor {
                price: positions.get(&r.id).copied().flatten(),
                id: r.id.clone(),
            }
        });
        Ok((page, parts))
    }

    /// The whole category tree, ordered by position.
    async fn load_categories(&self) -> Result<Vec<Category>, CatalogError> {
        let mut conn = self.db.conn().await?;
        let rows = store::list_categories(&mut conn).await?;
        Ok(tree(&rows, None))
    }

    /// One category (by id or handle) with its subtree.
    pub async fn category(&self, id_or_handle: &str) -> Result<Category, CatalogError> {
        let mut conn = self.db.conn().await?;
        let rows = store::list_categories(&mut conn).await?;
        let row = rows
            .iter()
            .find(|r| r.id == id_or_handle || r.handle == id_or_handle)
            .ok_or(CatalogError::CategoryNotFound)?;
        Ok(Category {
            children: tree(&rows, Some(&row.id)),
            id: row.id.clone(),
            parent_id: row.parent_id.clone(),
            handle: row.handle.clone(),
            name: row.name.clone(),
            description: row.description.clone(),
            position: row.position,
        })
    }
}

pub(super) fn price_rows(variant_id: &str, product_id: &str, prices: &[Price]) -> Vec<PriceRow> {
    prices
        .iter()
        .map(|p| PriceRow {
            variant_id: variant_id.to_owned(),
            product_id: product_id.to_owned(),
            currency: p.currency.code().to_owned(),
            amount: p.amount,
            compare_at_amount: p.compare_at_amount,
        })
        .collect()
}

/// A unique constraint that fired despite the pre-checks (two admins at once) is still a
/// conflict, not a server error.
pub(super) fn unique_to_conflict(e: CatalogError) -> CatalogError {
    match &e {
        CatalogError::Storage(s) if store::is_unique_violation(s) => {
            CatalogError::HandleTaken("(written concurrently)".to_owned())
        }
        _ => e,
    }
}

/// The id of the category `id_or_handle` names in `tree` and of every category under it.
pub(super) fn subtree_ids(tree: &[Category], id_or_handle: &str) -> Option<Vec<String>> {
    fn find<'a>(tree: &'a [Category], id_or_handle: &str) -> Option<&'a Category> {
        tree.iter().find_map(|c| {
            if c.id == id_or_handle || c.handle == id_or_handle {
                Some(c)
            } else {
                find(&c.children, id_or_handle)
            }
        })
    }
    fn collect(c: &Category, out: &mut Vec<String>) {
        out.push(c.id.clone());
        for child in &c.children {
            collect(child, out);
        }
    }
    let mut ids = Vec::new();
    collect(find(tree, id_or_handle)?, &mut ids);
    Some(ids)
}

/// `root` and every category under it.
pub(super) fn descendants(rows: &[CategoryRow], root: &str) -> Vec<String> {
    let mut out = vec![root.to_owned()];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        out.extend(
            rows.iter()
                .filter(|r| r.parent_id.as_deref() == Some(parent.as_str()))
                .map(|r| r.id.clone()),
        );
        i += 1;
    }
    out
}

fn tree(rows: &[CategoryRow], parent: Option<&str>) -> Vec<Category> {
    rows.iter()
        .filter(|r| r.parent_id.as_deref() == parent)
        .map(|r| Category {
            id: r.id.clone(),
            parent_id: r.parent_id.clone(),
            handle: r.handle.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            position: r.position,
            children: tree(rows, Some(&r.id)),
        })
        .collect()
}
