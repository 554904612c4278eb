//! Search over the catalog: products written into a [`SearchIndex`] as their
//! `ProductUpdated` events arrive (see `events::SearchIndexer`), rebuilt from the database
//! by `weft reindex`, and queried with the same filters as the listing plus free text.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use weft_kernel::{Cursor, FieldError, PageRequest};
use weft_search::{PriceSpan, ProductDoc, SearchIndex, SearchRequest, SearchSort};
use weft_storage::DbConn;

use super::{CatalogService, Category, PriceRange, Product, ProductQuery, subtree_ids};
use crate::domain::{Image, ProductStatus};
use crate::error::CatalogError;
use crate::store;

/// Longest accepted query text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// How deep pages may go (Elasticsearch's default result window).
const MAX_RESULT_WINDOW: usize = 10_000;
/// Products per batch of a rebuild.
const REINDEX_BATCH: i64 = 200;

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    pub collection: Option<String>,
    pub brand: Option<String>,
    pub size: Option<String>,
    pub color: Option<String>,
    pub currency: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products with (`true`) or without (`false`) a variant for sale now.
    pub in_stock: Option<bool>,
    /// Only products whose reviews average at least this many stars (1–5).
    pub min_rating: Option<i64>,
    /// `relevance` (default), `price_asc`, `price_desc`, `newest` or `rating`.
    pub sort: Option<String>,
    pub include_unpublished: bool,
}

impl From<&ProductQuery> for SearchQuery {
    fn from(q: &ProductQuery) -> Self {
        Self {
            q: q.q.clone(),
            category: q.category.clone(),
            collection: q.collection.clone(),
            brand: q.brand.clone(),
            size: q.size.clone(),
            color: q.color.clone(),
            currency: q.currency.clone(),
            min_price: q.min_price,
            max_price: q.max_price,
            in_stock: q.in_stock,
            min_rating: None,
            sort: q.sort.clone(),
            include_unpublished: q.include_unpublished,
        }
    }
}

/// What a result card shows; stored in the index with the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Card {
    pub handle: String,
    pub title: String,
    pub brand: String,
    pub image: Option<Image>,
    pub price_ranges: Vec<PriceRange>,
    pub category_id: Option<String>,
    /// Some variant can be bought now.
    #[serde(default)]
    pub in_stock: bool,
}

/// One product found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub card: Card,
    pub score: f32,
    pub highlights: BTreeMap<String, String>,
}

/// A facet value and how many matching products have it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    /// The category's name (category facet only).
    pub label: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PriceBucket {
    pub from: i64,
    pub to: Option<i64>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchFacets {
    /// Each category counts the products in it and in its subcategories.
    pub category: Vec<FacetValue>,
    pub brand: Vec<FacetValue>,
    pub size: Vec<FacetValue>,
    pub color: Vec<FacetValue>,
    /// In `currency`, by the products' lowest price.
    pub price: Vec<PriceBucket>,
    /// (stars, how many products average at least that many), 4 stars down to 1.
    #[serde(default)]
    pub rating: Vec<(i64, u64)>,
    pub currency: weft_kernel::Currency,
}

/// A page of a search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub next_cursor: Option<String>,
    pub total: u64,
    pub facets: SearchFacets,
}

/// Where the next page of a search starts.
#[derive(Debug, Serialize, Deserialize)]
struct SearchCursor {
    offset: usize,
}

/// The index document of a product.
pub(crate) fn document(product: &Product) -> ProductDoc {
    let mut sizes = BTreeSet::new();
    let mut colors = BTreeSet::new();
    for v in &product.variants {
        if let Some(size) = v.options.get("size") {
            sizes.insert(size.clone());
        }
        if let Some(color) = v.options.get("color") {
            colors.insert(color.clone());
        }
    }
    let card = Card {
        handle: product.handle.clone(),
        title: product.title.clone(),
        brand: product.brand.clone(),
        image: product.images.first().cloned(),
        price_ranges: product.price_ranges.clone(),
        category_id: product.category_id.clone(),
        in_stock: product.in_stock,
    };
    ProductDoc {
        id: product.id.clone(),
        title: product.title.clone(),
        brand: product.brand.clone(),
        description: product.description.clone(),
        tags: product.tags.clone(),
        status: product.status.clone(),
        category_id: product.category_id.clone(),
        sizes: sizes.into_iter().collect(),
        colors: colors.into_iter().collect(),
        prices: product
            .price_ranges
            .iter()
            .map(|r| {
                (
                    r.currency.code().to_owned(),
                    PriceSpan {
                        min: r.min,
                        max: r.max,
                    },
                )
            })
            .collect(),
        created_at_ms: product.created_at.timestamp_millis(),
        in_stock: product.in_stock,
        // The average to two decimals, as an integer (the catalog keeps it so).
        #[allow(clippy::cast_possible_truncation)]
        rating: product
            .rating_average
            .map_or(0, |average| (average * 100.0).round() as i64),
        // Serializing plain data cannot fail.
        card: serde_json::to_value(&card).unwrap_or_default(),
    }
}

/// Category id → (name, parent id), from the tree.
fn flatten(tree: &[Category], out: &mut HashMap<String, (String, Option<String>)>) {
    for c in tree {
        out.insert(c.id.clone(), (c.name.clone(), c.parent_id.clone()));
        flatten(&c.children, out);
    }
}

impl CatalogService {
    /// Uses `index` for search; the catalog writes it through its events consumer.
    #[must_use]
    pub fn with_search(mut self, index: Arc<dyn SearchIndex>) -> Self {
        self.search = Some(index);
        self
    }

    pub fn search_index(&self) -> Result<&Arc<dyn SearchIndex>, CatalogError> {
        self.search.as_ref().ok_or_else(|| {
            CatalogError::SearchUnavailable("no search index is configured".to_owned())
        })
    }

    /// The search index's state, when this process can know it (see
    /// `SearchIndex::generation`).
    pub fn search_generation(&self) -> Option<u64> {
        self.search.as_ref().and_then(|index| index.generation())
    }

    /// Brings the index's document for product `id` up to date (or removes it), reading
    /// the product through `conn`. Always from the product's current state, so events
    /// may arrive twice or out of order.
    pub async fn index_product(&self, conn: &mut DbConn, id: &str) -> Result<(), CatalogError> {
        let index = self.search_index()?;
        match store::find_product(conn, id).await? {
            Some(row) => {
                let products = self.assemble(conn, vec![row]).await?;
                index
                    .upsert(products.iter().map(document).collect())
                    .await?;
            }
            None => index.delete(vec![id.to_owned()]).await?,
        }
        Ok(())
    }

    /// [`Self::index_product`] for several products (by id) at once: one read of each
    /// table for them all, one write to the index.
    pub async fn index_products(
        &self,
        conn: &mut DbConn,
        ids: &[String],
    ) -> Result<(), CatalogError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.search_index()?;
        let rows = store::products_by_ids(conn, ids).await?;
        let products = self.assemble(conn, rows).await?;
        self.index_assembled(ids, &products).await
    }

    /// Writes `products` into the index and deletes those of `ids` not among them.
    pub(super) async fn index_assembled(
        &self,
        ids: &[String],
        products: &[Product],
    ) -> Result<(), CatalogError> {
        let index = self.search_index()?;
        let gone: Vec<String> = ids
            .iter()
            .filter(|id| !products.iter().any(|p| &p.id == *id))
            .cloned()
            .collect();
        if !products.is_empty() {
            index
                .upsert(products.iter().map(document).collect())
                .await?;
        }
        if !gone.is_empty() {
            index.delete(gone).await?;
        }
        Ok(())
    }

    /// Writes every product into the index (emptied first when `clear`), calling
    /// `progress(done, total)` after each batch; returns how many were indexed.
    pub async fn reindex(
        &self,
        clear: bool,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<u64, CatalogError> {
        let index = self.search_index()?;
        let mut conn = self.db.conn().await?;
        let total = u64::try_from(store::count_products(&mut conn).await?).unwrap_or_default();
        if clear {
            index.clear().await?;
        }
        progress(0, total);
        let mut after: Option<String> = None;
        let mut done = 0u64;
        loop {
            let rows = store::products_after(&mut conn, after.as_deref(), REINDEX_BATCH).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            let products = self.assemble(&mut conn, rows).await?;
            done += products.len() as u64;
            index
                .upsert(products.iter().map(document).collect())
                .await?;
            progress(done, total.max(done));
        }
        index.refresh().await?;
        Ok(done)
    }

    /// Products matching `query`, best first, with facet counts over every match.
    ///
    /// Answers are cached only where the index can say which state it answered from
    /// (tantivy in this process); a write there changes that state, so a cached answer
    /// is never stale.
    pub async fn search(
        &self,
        query: &SearchQuery,
        page: &PageRequest,
    ) -> Result<SearchPage, CatalogError> {
        let index = Arc::clone(self.search_index()?);
        let Some(generation) = index.generation() else {
            return self.run_search(&index, query, page).await;
        };
        let what = format!(
            "search:{generation}:{query:?}:{}:{}",
            page.limit,
            page.cursor.as_ref().map_or("", Cursor::as_str)
        );
        let key = self.key(&what).await;
        self.cache
            .get_or_load(&key, self.ttls.search, async || {
                self.run_search(&index, query, page).await
            })
            .await
    }

    async fn run_search(
        &self,
        index: &Arc<dyn SearchIndex>,
        query: &SearchQuery,
        page: &PageRequest,
    ) -> Result<SearchPage, CatalogError> {
        let (request, tree, currency) = self.search_request(query, page).await?;
        let found = index.search(&request).await?;
        let next_cursor = next_cursor(&request, &found);
        let hits = found
            .hits
            .into_iter()
            .map(|h| {
                Ok(SearchHit {
                    card: serde_json::from_value(h.card)
                        .map_err(|e| CatalogError::Internal(format!("search card: {e}")))?,
                    id: h.id,
                    score: h.score,
                    highlights: h.highlights,
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        Ok(page_of(
            hits,
            next_cursor,
            found.total,
            found.facets,
            &tree,
            currency,
        ))
    }

    /// The ids of a search's page, best first, and the next page's cursor: what a
    /// listing with `?q=` needs, without facets, cards or highlights.
    async fn search_ids(
        &self,
        query: &SearchQuery,
        page: &PageRequest,
    ) -> Result<(Vec<String>, Option<String>), CatalogError> {
        let index = Arc::clone(self.search_index()?);
        let (mut request, _, _) = self.search_request(query, page).await?;
        request.hits_only = true;
        let found = index.search(&request).await?;
        let next_cursor = next_cursor(&request, &found);
        Ok((found.hits.into_iter().map(|h| h.id).collect(), next_cursor))
    }

    /// What the index is asked for `query` and `page` (checked), with the category
    /// tree and the currency the answer is in.
    async fn search_request(
        &self,
        query: &SearchQuery,
        page: &PageRequest,
    ) -> Result<(SearchRequest, Vec<Category>, weft_kernel::Currency), CatalogError> {
        let mut errors = Vec::new();
        let text = query.q.clone().unwrap_or_default();
        if text.chars().count() > MAX_QUERY_CHARS {
            errors.push(FieldError::new(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        if query
            .min_rating
            .is_some_and(|stars| !(1..=5).contains(&stars))
        {
            errors.push(FieldError::new("min_rating", "must be 1–5"));
        }
        let sort = match query.sort.as_deref().unwrap_or("relevance") {
            "relevance" => SearchSort::Relevance,
            "price_asc" => SearchSort::PriceAsc,
            "price_desc" => SearchSort::PriceDesc,
            "newest" => SearchSort::Newest,
            "rating" => SearchSort::Rating,
            _ => {
                errors.push(FieldError::new(
                    "sort",
                    "must be `relevance`, `price_asc`, `price_desc`, `newest` or `rating`",
                ));
                SearchSort::Relevance
            }
        };
        let currency = weft_kernel::Currency::parse(
            &query.currency.as_deref().unwrap_or("USD").to_uppercase(),
        )
        .map_err(|e| errors.push(FieldError::new("currency", e.to_string())))
        .ok();
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
        let offset = match page.cursor.as_ref().map(Cursor::decode::<SearchCursor>) {
            None => 0,
            Some(Ok(c)) if c.offset < MAX_RESULT_WINDOW => c.offset,
            Some(_) => {
                errors.push(FieldError::new("cursor", "is not a cursor this API issued"));
                0
            }
        };
        let (Some(currency), true) = (currency, errors.is_empty()) else {
            return Err(CatalogError::Invalid(errors));
        };

        let tree = self.categories().await?;
        let category_ids = query
            .category
            .as_deref()
            .map(|c| subtree_ids(&tree, c).ok_or(CatalogError::CategoryNotFound))
            .transpose()?;
        let product_ids = match &query.collection {
            Some(c) => {
                let mut conn = self.db.conn().await?;
                let collection = store::find_collection(&mut conn, c)
                    .await?
                    .ok_or(CatalogError::CollectionNotFound)?;
                let members = store::collection_members(&mut conn, &[collection.id]).await?;
                Some(members.into_iter().map(|m| m.product_id).collect())
            }
            None => None,
        };
        let limit = (page.limit as usize).min(MAX_RESULT_WINDOW - offset);
        let request = SearchRequest {
            text,
            statuses: if query.include_unpublished {
                Vec::new()
            } else {
                vec![ProductStatus::Active.as_str().to_owned()]
            },
            category_ids,
            product_ids,
            brand: query.brand.clone(),
            size: query.size.clone(),
            color: query.color.clone(),
            currency: currency.code().to_owned(),
            min_price: query.min_price,
            max_price: query.max_price,
            in_stock: query.in_stock,
            min_rating: query.min_rating,
            price_bucket_bounds: weft_search::default_price_bounds(currency.minor_unit_exponent()),
            sort,
            offset,
            limit,
            hits_only: false,
        };
        Ok((request, tree, currency))
    }
}

/// The cursor of the page after `found`, if there is one within the result window.
fn next_cursor(request: &SearchRequest, found: &weft_search::SearchResults) -> Option<String> {
    let next = request.offset + found.hits.len();
    (found.hits.len() == request.limit && (next as u64) < found.total && next < MAX_RESULT_WINDOW)
        .then(|| {
            Cursor::encode(&SearchCursor { offset: next })
                .as_str()
                .to_owned()
        })
}

/// A search's page from its hits and the index's counts: each category's count rolled up
/// into its ancestors, and named.
fn page_of(
    hits: Vec<SearchHit>,
    next_cursor: Option<String>,
    total: u64,
    facets: weft_search::Facets,
    tree: &[Category],
    currency: weft_kernel::Currency,
) -> SearchPage {
    // Roll each category's count up into its ancestors, and name them.
    let mut names = HashMap::new();
    flatten(tree, &mut names);
    let mut rolled: HashMap<String, u64> = HashMap::new();
    for f in &facets.category {
        let mut at = Some(f.value.clone());
        let mut hops = 0;
        while let Some(id) = at {
            *rolled.entry(id.clone()).or_default() += f.count;
            at = names.get(&id).and_then(|(_, parent)| parent.clone());
            hops += 1;
            if hops > 64 {
                break; // a cycle would be a bug elsewhere; never loop forever
            }
        }
    }
    let mut category: Vec<FacetValue> = rolled
        .into_iter()
        .map(|(id, count)| FacetValue {
            label: names.get(&id).map(|(name, _)| name.clone()),
            value: id,
            count,
        })
        .collect();
    category.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    let plain = |v: Vec<weft_search::FacetCount>| {
        v.into_iter()
            .map(|f| FacetValue {
                value: f.value,
                label: None,
                count: f.count,
            })
            .collect()
    };
    SearchPage {
        hits,
        next_cursor,
        total,
        facets: SearchFacets {
            category,
            brand: plain(facets.brand),
            size: plain(facets.size),
            color: plain(facets.color),
            price: facets
                .price
                .into_iter()
                .map(|b| PriceBucket {
                    from: b.from,
                    to: b.to,
                    count: b.count,
                })
                .collect(),
            rating: facets.rating.iter().map(|f| (f.stars, f.count)).collect(),
            currency,
        },
    }
}

impl CatalogService {
    /// [`Self::search_products`], as documents.
    pub(super) async fn search_documents(
        &self,
        query: &ProductQuery,
        page: &PageRequest,
    ) -> Result<weft_kernel::Page<super::ProductDocument>, CatalogError> {
        let (ids, next_cursor) = self.search_ids(&SearchQuery::from(query), page).await?;
        Ok(weft_kernel::Page {
            data: self
                .documents_by_ids(&ids, query.include_unpublished)
                .await?,
            next_cursor,
        })
    }

    /// A listing with text (`?q=`) or `sort=relevance`: the search picks and orders the
    /// page (ids only), the database gives the products.
    pub(super) async fn search_products(
        &self,
        query: &ProductQuery,
        page: &PageRequest,
    ) -> Result<weft_kernel::Page<Product>, CatalogError> {
        let (ids, next_cursor) = self.search_ids(&SearchQuery::from(query), page).await?;
        let mut conn = self.db.conn().await?;
        let rows = store::products_by_ids(&mut conn, &ids).await?;
        let mut products: HashMap<String, Product> = self
            .assemble(&mut conn, rows)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        // The index may trail the database by a moment: a product deleted since is
        // skipped, one unpublished since is not shown to guests.
        let data = ids
            .iter()
            .filter_map(|id| products.remove(id))
            .filter(|p| query.include_unpublished || p.status == ProductStatus::Active.as_str())
            .collect();
        Ok(weft_kernel::Page { data, next_cursor })
    }
}
