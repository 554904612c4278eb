//! The catalog's GraphQL part, over the same use cases as REST. A page of products is
//! assembled with a constant number of queries whatever its size; a product's `category`
//! goes through a DataLoader, so asking it of twenty products loads the tree once.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ErrorExtensions as _, InputObject, Object, SimpleObject};
use weft_http::gql::{Long, MinorUnits, error as gql_error};
use weft_http::{Principal, authz};
use weft_kernel::PageRequest;

use crate::domain::{Image, ProductOption};
use crate::error::CatalogError;
use crate::ports::{ProductReviews, RatingSummaryObject, ReviewConnection, ReviewSort};
use crate::service::{
    CatalogService, Category, FacetValue, NewProduct, NewVariant, PriceRange, Product,
    ProductPatch, ProductQuery, SearchPage, SearchQuery, Variant,
};

/// Loads categories by id, for every product of an answer at once.
pub struct CategoryLoader(pub CatalogService);

impl Loader<String> for CategoryLoader {
    type Value = CategoryObject;
    type Error = Arc<async_graphql::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, CategoryObject>, Self::Error> {
        let tree = self
            .0
            .categories()
            .await
            .map_err(|e| Arc::new(gql_error(e)))?;
        let mut all = Vec::new();
        flatten(tree, &mut all);
        Ok(all
            .into_iter()
            .filter(|c| keys.contains(&c.id))
            .map(|c| (c.id.clone(), c))
            .collect())
    }
}

fn flatten(nodes: Vec<Category>, out: &mut Vec<CategoryObject>) {
    for node in nodes {
        let children = node.children.clone();
        out.push(node.into());
        flatten(children, out);
    }
}

/// A category and its subcategories.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Category")]
pub struct CategoryObject {
    pub id: String,
    pub parent_id: Option<String>,
    pub handle: String,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub children: Vec<CategoryObject>,
}

impl From<Category> for CategoryObject {
    fn from(c: Category) -> Self {
        Self {
            id: c.id,
            parent_id: c.parent_id,
            handle: c.handle,
            name: c.name,
            description: c.description,
            position: c.position,
            children: c.children.into_iter().map(Into::into).collect(),
        }
    }
}

/// An amount in minor units of `currency`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Money")]
pub struct MoneyObject {
    pub amount: MinorUnits,
    pub currency: String,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Price")]
pub struct PriceObject {
    pub currency: String,
    pub amount: MinorUnits,
    pub compare_at_amount: Option<MinorUnits>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "PriceRange")]
pub struct PriceRangeObject {
    pub currency: String,
    pub min: MoneyObject,
    pub max: MoneyObject,
}

fn price_range(r: &PriceRange) -> PriceRangeObject {
    let currency = r.currency.code().to_owned();
    PriceRangeObject {
        min: MoneyObject {
            amount: r.min.into(),
            currency: currency.clone(),
        },
        max: MoneyObject {
            amount: r.max.into(),
            currency: currency.clone(),
        },
        currency,
    }
}

/// A matched field with its matching words in `<em>…</em>` (HTML-escaped elsewhere).
#[derive(Debug, Clone, SimpleObject)]
pub struct Highlight {
    /// `title`, `brand` or `description` (an excerpt).
    pub field: String,
    pub text: String,
}

/// A product found by `search`, as a result card.
#[derive(Debug, Clone, SimpleObject)]
pub struct SearchHit {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub brand: String,
    pub image: Option<ImageObject>,
    pub price_ranges: Vec<PriceRangeObject>,
    pub category_id: Option<String>,
    pub score: f32,
    pub highlights: Vec<Highlight>,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct FacetCount {
    pub value: String,
    /// The category's name (category facet only).
    pub label: Option<String>,
    pub count: Long,
}

/// Matching products whose lowest price is in `[from, to)`.
#[derive(Debug, Clone, SimpleObject)]
pub struct PriceBucket {
    pub from: MoneyObject,
    pub to: Option<MoneyObject>,
    pub count: Long,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct SearchFacets {
    pub category: Vec<FacetCount>,
    pub brand: Vec<FacetCount>,
    pub size: Vec<FacetCount>,
    pub color: Vec<FacetCount>,
    pub price: Vec<PriceBucket>,
    /// Products averaging at least 4, 3, 2 and 1 stars.
    pub rating: Vec<RatingFacet>,
}

/// Matching products whose reviews average at least `stars` stars.
#[derive(Debug, Clone, SimpleObject)]
pub struct RatingFacet {
    pub stars: i32,
    pub count: Long,
}

/// A page of search results with facet counts over every match.
#[derive(Debug, Clone, SimpleObject)]
pub struct SearchConnection {
    pub nodes: Vec<SearchHit>,
    pub next_cursor: Option<String>,
    pub total: Long,
    pub facets: SearchFacets,
}

impl From<SearchPage> for SearchConnection {
    fn from(p: SearchPage) -> Self {
        let counts = |v: Vec<FacetValue>| {
            v.into_iter()
                .map(|f| FacetCount {
                    value: f.value,
                    label: f.label,
                    count: f.count.into(),
                })
                .collect()
        };
        let code = p.facets.currency.code();
        let money = |amount: i64| MoneyObject {
            amount: amount.into(),
            currency: code.to_owned(),
        };
        Self {
            nodes: p
                .hits
                .into_iter()
                .map(|h| SearchHit {
                    id: h.id,
                    handle: h.card.handle,
                    title: h.card.title,
                    brand: h.card.brand,
                    image: h.card.image.map(|i| ImageObject {
                        url: i.url,
                        alt: i.alt,
                    }),
                    price_ranges: h.card.price_ranges.iter().map(price_range).collect(),
                    category_id: h.card.category_id,
                    score: h.score,
                    highlights: h
                        .highlights
                        .into_iter()
                        .map(|(field, text)| Highlight { field, text })
                        .collect(),
                })
                .collect(),
            next_cursor: p.next_cursor,
            total: p.total.into(),
            facets: SearchFacets {
                price: p
                    .facets
                    .price
                    .iter()
                    .map(|b| PriceBucket {
                        from: money(b.from),
                        to: b.to.map(money),
                        count: b.count.into(),
                    })
                    .collect(),
                category: counts(p.facets.category),
                brand: counts(p.facets.brand),
                size: counts(p.facets.size),
                color: counts(p.facets.color),
                rating: p
                    .facets
                    .rating
                    .iter()
                    .map(|(stars, count)| RatingFacet {
                        stars: i32::try_from(*stars).unwrap_or_default(),
                        count: (*count).into(),
                    })
                    .collect(),
            },
        }
    }
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "OptionValue")]
pub struct OptionValueObject {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ProductOption")]
pub struct OptionObject {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Image")]
pub struct ImageObject {
    pub url: String,
    pub alt: String,
}

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Variant")]
pub struct VariantObject {
    pub id: String,
    pub sku: String,
    pub options: Vec<OptionValueObject>,
    pub prices: Vec<PriceObject>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    /// `in_stock`, `low_stock`, `out_of_stock` or `backorder`.
    pub stock_status: String,
}

impl From<Variant> for VariantObject {
    fn from(v: Variant) -> Self {
        Self {
            stock_status: v.stock_status,
            id: v.id,
            sku: v.sku,
            options: v
                .options
                .into_iter()
                .map(|(name, value)| OptionValueObject { name, value })
                .collect(),
            prices: v
                .prices
                .into_iter()
                .map(|p| PriceObject {
                    currency: p.currency.code().to_owned(),
                    amount: p.amount.into(),
                    compare_at_amount: p.compare_at_amount.map(MinorUnits),
                })
                .collect(),
            weight_grams: v.weight_grams,
            barcode: v.barcode,
        }
    }
}

/// Reviews as this process reaches them (none in a process without reviews or a route
/// to them).
fn reviews_port<'c>(ctx: &'c Context<'_>) -> async_graphql::Result<&'c Arc<dyn ProductReviews>> {
    ctx.data_opt::<Arc<dyn ProductReviews>>().ok_or_else(|| {
        async_graphql::Error::new("reviews are not reachable from this process")
            .extend_with(|_, ext| ext.set("code", "service_not_hosted"))
    })
}

/// A refusal or failure of reviews, with its code.
fn peer_error(e: &weft_peer_client::ClientError) -> async_graphql::Error {
    let code = e.code().unwrap_or("upstream_unavailable").to_owned();
    async_graphql::Error::new(e.detail()).extend_with(|_, ext| ext.set("code", code.clone()))
}

/// A product with its variants.
#[derive(Debug, Clone)]
pub struct ProductObject(Product);

#[Object(name = "Product")]
impl ProductObject {
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn handle(&self) -> &str {
        &self.0.handle
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn brand(&self) -> &str {
        &self.0.brand
    }
    /// `draft`, `active` or `archived`.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// Some variant can be bought now.
    async fn in_stock(&self) -> bool {
        self.0.in_stock
    }
    /// Mean rating of its published reviews (two decimals); null without reviews.
    async fn rating_average(&self) -> Option<f64> {
        self.0.rating_average
    }
    /// How many published reviews it has.
    async fn rating_count(&self) -> weft_http::gql::Long {
        self.0.rating_count.into()
    }
    /// Its published reviews (from the reviews service).
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: u32,
        after: Option<String>,
        #[graphql(default_with = "ReviewSort::Newest")] sort: ReviewSort,
    ) -> async_graphql::Result<ReviewConnection> {
        reviews_port(ctx)?
            .page(&self.0.id, sort, first, after.as_deref())
            .await
            .map_err(|e| peer_error(&e))
    }
    /// How many of its published reviews gave each rating (from the reviews service).
    async fn rating_summary(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<RatingSummaryObject> {
        reviews_port(ctx)?
            .summary(&self.0.id)
            .await
            .map_err(|e| peer_error(&e))
    }
    async fn material(&self) -> Option<&str> {
        self.0.material.as_deref()
    }
    async fn care(&self) -> Option<&str> {
        self.0.care.as_deref()
    }
    async fn fit(&self) -> Option<&str> {
        self.0.fit.as_deref()
    }
    async fn seo_title(&self) -> Option<&str> {
        self.0.seo_title.as_deref()
    }
    async fn seo_description(&self) -> Option<&str> {
        self.0.seo_description.as_deref()
    }
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    async fn images(&self) -> Vec<ImageObject> {
        self.0
            .images
            .iter()
            .map(|i| ImageObject {
                url: i.url.clone(),
                alt: i.alt.clone(),
            })
            .collect()
    }
    async fn options(&self) -> Vec<OptionObject> {
        self.0
            .options
            .iter()
            .map(|o| OptionObject {
                name: o.name.clone(),
                values: o.values.clone(),
            })
            .collect()
    }
    /// The size chart as JSON text.
    async fn size_chart(&self) -> Option<String> {
        self.0.size_chart.as_ref().map(ToString::to_string)
    }
    async fn price_ranges(&self) -> Vec<PriceRangeObject> {
        self.0.price_ranges.iter().map(price_range).collect()
    }
    async fn variants(&self) -> Vec<VariantObject> {
        self.0.variants.iter().cloned().map(Into::into).collect()
    }
    /// The product's category (batched across the answer).
    async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CategoryObject>> {
        let Some(id) = &self.0.category_id else {
            return Ok(None);
        };
        let loader = ctx.data::<DataLoader<CategoryLoader>>()?;
        loader
            .load_one(id.clone())
            .await
            .map_err(|e| e.as_ref().clone())
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.updated_at
    }
}

/// A hand-picked group of products.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Collection")]
pub struct CollectionObject {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub product_ids: Vec<String>,
}

/// A page of products.
#[derive(SimpleObject)]
pub struct ProductConnection {
    pub nodes: Vec<ProductObject>,
    /// Pass as `after` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

fn staff_reader(ctx: &Context<'_>) -> bool {
    authz::check_staff(ctx.data_opt::<Principal>(), "catalog:read").is_ok()
}

/// The catalog's queries.
#[derive(Debug, Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Products, with the same filters and sorts as `GET /v1/products`.
    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        ctx: &Context<'_>,
        category: Option<String>,
        collection: Option<String>,
        brand: Option<String>,
        size: Option<String>,
        color: Option<String>,
        currency: Option<String>,
        min_price: Option<MinorUnits>,
        max_price: Option<MinorUnits>,
        #[graphql(desc = "Only products with (true) or without (false) a variant for sale now.")]
        in_stock: Option<bool>,
        #[graphql(desc = "`newest`, `price_asc`, `price_desc`, `rating` or `relevance`.")]
        sort: Option<String>,
        #[graphql(desc = "Free text; best match first unless `sort` says otherwise.")] q: Option<
            String,
        >,
        #[graphql(default = 20)] first: u32,
        after: Option<String>,
    ) -> async_graphql::Result<ProductConnection> {
        let page = PageRequest::parse(Some(first), after.as_deref())
            .map_err(|e| gql_error(CatalogError::field("first", e.to_string())))?;
        let query = ProductQuery {
            category,
            collection,
            brand,
            size,
            color,
            currency,
            min_price: min_price.map(|m| m.0),
            max_price: max_price.map(|m| m.0),
            in_stock,
            sort: match (&q, sort) {
                (Some(text), None) if !text.trim().is_empty() => Some("relevance".to_owned()),
                (_, sort) => sort,
            },
            q,
            include_unpublished: false,
            status: None,
            text: None,
        };
        let page = ctx
            .data::<CatalogService>()?
            .list_products(&query, &page)
            .await
            .map_err(gql_error)?;
        Ok(ProductConnection {
            nodes: page.data.into_iter().map(ProductObject).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Full-text search, as `GET /v1/search/products`: typos forgiven, the last word
    /// completed, matches highlighted, facet counts over every match.
    #[allow(clippy::too_many_arguments)]
    async fn search(
        &self,
        ctx: &Context<'_>,
        q: Option<String>,
        category: Option<String>,
        collection: Option<String>,
        brand: Option<String>,
        size: Option<String>,
        color: Option<String>,
        currency: Option<String>,
        min_price: Option<MinorUnits>,
        max_price: Option<MinorUnits>,
        #[graphql(desc = "Only products with (true) or without (false) a variant for sale now.")]
        in_stock: Option<bool>,
        #[graphql(desc = "1–5: only products whose reviews average at least this many stars.")]
        min_rating: Option<i64>,
        #[graphql(
            desc = "`relevance` (default), `price_asc`, `price_desc`, `newest` or `rating`."
        )]
        sort: Option<String>,
        #[graphql(default = 20)] first: u32,
        after: Option<String>,
    ) -> async_graphql::Result<SearchConnection> {
        let page = PageRequest::parse(Some(first), after.as_deref())
            .map_err(|e| gql_error(CatalogError::field("first", e.to_string())))?;
        let query = SearchQuery {
            q,
            category,
            collection,
            brand,
            size,
            color,
            currency,
            min_price: min_price.map(|m| m.0),
            max_price: max_price.map(|m| m.0),
            in_stock,
            min_rating,
            sort,
            include_unpublished: staff_reader(ctx),
        };
        let found = ctx
            .data::<CatalogService>()?
            .search(&query, &page)
            .await
            .map_err(gql_error)?;
        Ok(found.into())
    }

    /// A product by id or handle; null when there is none (or it is a draft, for guests).
    async fn product(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<ProductObject>> {
        match ctx
            .data::<CatalogService>()?
            .product(&id, staff_reader(ctx))
            .await
        {
            Ok(p) => Ok(Some(ProductObject(p))),
            Err(CatalogError::ProductNotFound) => Ok(None),
            Err(e) => Err(gql_error(e)),
        }
    }

    /// Every collection.
    async fn collections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CollectionObject>> {
        let list = ctx
            .data::<CatalogService>()?
            .collections()
            .await
            .map_err(gql_error)?;
        Ok(list
            .into_iter()
            .map(|c| CollectionObject {
                id: c.id,
                handle: c.handle,
                title: c.title,
                description: c.description,
                product_ids: c.product_ids,
            })
            .collect())
    }

    /// The category tree.
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CategoryObject>> {
        let tree = ctx
            .data::<CatalogService>()?
            .categories()
            .await
            .map_err(gql_error)?;
        Ok(tree.into_iter().map(Into::into).collect())
    }
}

#[derive(Debug, InputObject)]
pub struct PriceInput {
    pub currency: String,
    pub amount: MinorUnits,
    pub compare_at_amount: Option<MinorUnits>,
}

#[derive(Debug, InputObject)]
pub struct OptionValueInput {
    pub name: String,
    pub value: String,
}

#[derive(Debug, InputObject)]
pub struct VariantInput {
    pub sku: String,
    #[graphql(default)]
    pub options: Vec<OptionValueInput>,
    pub prices: Vec<PriceInput>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct OptionInput {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, InputObject)]
pub struct ImageInput {
    pub url: String,
    #[graphql(default)]
    pub alt: String,
}

/// As `POST /v1/admin/products`.
#[derive(Debug, InputObject)]
pub struct CreateProductInput {
    pub title: String,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub brand: String,
    pub status: Option<String>,
    pub material: Option<String>,
    pub care: Option<String>,
    pub fit: Option<String>,
    #[graphql(default)]
    pub tags: Vec<String>,
    #[graphql(default)]
    pub images: Vec<ImageInput>,
    #[graphql(default)]
    pub options: Vec<OptionInput>,
    pub category_id: Option<String>,
    #[graphql(default)]
    pub variants: Vec<VariantInput>,
}

/// As `PATCH /v1/admin/products/{id}`.
#[derive(Debug, InputObject)]
pub struct UpdateProductInput {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub brand: Option<String>,
    pub status: Option<String>,
    pub material: Option<String>,
    pub care: Option<String>,
    pub fit: Option<String>,
    pub tags: Option<Vec<String>>,
    pub category_id: Option<String>,
}

/// The catalog's admin mutations (admins; apps with `catalog:write`).
#[derive(Debug, Default)]
pub struct CatalogMutation;

fn writer<'c>(ctx: &'c Context<'_>) -> async_graphql::Result<&'c CatalogService> {
    authz::check_staff(ctx.data_opt::<Principal>(), "catalog:write").map_err(gql_error)?;
    ctx.data::<CatalogService>()
}

#[Object]
impl CatalogMutation {
    async fn create_product(
        &self,
        ctx: &Context<'_>,
        input: CreateProductInput,
    ) -> async_graphql::Result<ProductObject> {
        let svc = writer(ctx)?;
        let product = NewProduct {
            title: input.title,
            handle: input.handle,
            description: input.description,
            brand: input.brand,
            status: input.status,
            material: input.material,
            care: input.care,
            fit: input.fit,
            seo_title: None,
            seo_description: None,
            tags: input.tags,
            images: input
                .images
                .into_iter()
                .map(|i| Image {
                    url: i.url,
                    alt: i.alt,
                })
                .collect(),
            options: input
                .options
                .into_iter()
                .map(|o| ProductOption {
                    name: o.name,
                    values: o.values,
                })
                .collect(),
            size_chart: None,
            category_id: input.category_id,
            variants: input
                .variants
                .into_iter()
                .map(|v| NewVariant {
                    sku: v.sku,
                    options: v.options.into_iter().map(|o| (o.name, o.value)).collect(),
                    prices: v
                        .prices
                        .into_iter()
                        .map(|p| (p.currency, p.amount.0, p.compare_at_amount.map(|c| c.0)))
                        .collect(),
                    weight_grams: v.weight_grams,
                    barcode: v.barcode,
                })
                .collect(),
        };
        svc.create_product(product)
            .await
            .map(ProductObject)
            .map_err(gql_error)
    }

    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: UpdateProductInput,
    ) -> async_graphql::Result<ProductObject> {
        let svc = writer(ctx)?;
        let patch = ProductPatch {
            title: input.title,
            handle: input.handle,
            description: input.description,
            brand: input.brand,
            status: input.status,
            material: input.material,
            care: input.care,
            fit: input.fit,
            tags: input.tags,
            category_id: input.category_id,
            ..ProductPatch::default()
        };
        svc.update_product(&id, patch)
            .await
            .map(ProductObject)
            .map_err(gql_error)
    }

    /// `deleted`, or `archived` for a product an order holds.
    async fn delete_product(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<String> {
        let svc = writer(ctx)?;
        let deleted = svc.delete_product(&id).await.map_err(gql_error)?;
        Ok(if deleted { "deleted" } else { "archived" }.to_owned())
    }
}
