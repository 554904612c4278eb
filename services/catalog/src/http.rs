//! The catalog's REST endpoints and their wire types. Reads are public (guests see active
//! products); writes are `staff("catalog:write")`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::conditional::{PRIVATE, PUBLIC_REVALIDATE};
use weft_http::{ApiResult, JsonBody, authz};
use weft_kernel::PageRequest;

use crate::domain::{Image, Price, ProductOption};
use crate::error::CatalogError;
use crate::service::{
    CatalogService, Category, CategoryInput, Collection, CollectionInput, FacetValue, Job,
    NewProduct, NewVariant, PriceRange, Product, ProductDocument, ProductPatch, ProductQuery,
    SearchHit, SearchPage, SearchQuery, Variant, VariantPatch,
};

#[derive(Tags)]
enum Tag {
    /// Products, variants and categories.
    Catalog,
    /// Managing the catalog (admins, apps with `catalog:write`).
    #[oai(rename = "Catalog admin")]
    CatalogAdmin,
}

// --- wire types ----------------------------------------------------------------------

/// A variant with its product's state and place in the catalog: what another service
/// (a cart pricing its lines) needs of it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "VariantSummary")]
pub struct VariantSummaryDto {
    pub variant_id: String,
    pub product_id: String,
    pub product_title: String,
    pub product_handle: String,
    /// `draft`, `active` or `archived`: only active products can be bought.
    pub product_status: String,
    pub sku: String,
    pub options: BTreeMap<String, String>,
    pub image: Option<ImageDto>,
    pub prices: Vec<PriceDto>,
    /// The product's category and its ancestors, nearest first.
    pub category_ids: Vec<String>,
    pub collection_ids: Vec<String>,
}

impl From<crate::service::VariantSummary> for VariantSummaryDto {
    fn from(v: crate::service::VariantSummary) -> Self {
        Self {
            variant_id: v.variant_id,
            product_id: v.product_id,
            product_title: v.product_title,
            product_handle: v.product_handle,
            product_status: v.product_status,
            sku: v.sku,
            options: v.options,
            image: v.image.map(|i| ImageDto {
                url: i.url,
                alt: i.alt,
            }),
            prices: v.prices.into_iter().map(Into::into).collect(),
            category_ids: v.category_ids,
            collection_ids: v.collection_ids,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct VariantSummaryList {
    pub data: Vec<VariantSummaryDto>,
}

/// Most ids one `GET /v1/admin/variants` takes.
const MAX_VARIANT_IDS: usize = 100;

/// An amount in one currency's minor units.
#[derive(Debug, Clone, Object)]
pub struct MoneyDto {
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
}

/// A variant's price in one currency.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "Price")]
#[serde(deny_unknown_fields)]
pub struct PriceDto {
    /// ISO 4217 (`USD`, `EUR`).
    pub currency: String,
    /// Minor units (cents), ≥ 0.
    pub amount: i64,
    /// The "was" price, ≥ `amount`.
    #[serde(default)]
    pub compare_at_amount: Option<i64>,
}

impl From<Price> for PriceDto {
    fn from(p: Price) -> Self {
        Self {
            currency: p.currency.code().to_owned(),
            amount: p.amount,
            compare_at_amount: p.compare_at_amount,
        }
    }
}

/// A product's lowest and highest price in one currency.
#[derive(Debug, Clone, Object)]
pub struct PriceRangeDto {
    pub currency: String,
    pub min: MoneyDto,
    pub max: MoneyDto,
}

impl From<PriceRange> for PriceRangeDto {
    fn from(r: PriceRange) -> Self {
        let code = r.currency.code().to_owned();
        Self {
            min: MoneyDto {
                amount: r.min,
                currency: code.clone(),
            },
            max: MoneyDto {
                amount: r.max,
                currency: code.clone(),
            },
            currency: code,
        }
    }
}

/// A picture with its alt text, in display order.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "Image")]
#[serde(deny_unknown_fields)]
pub struct ImageDto {
    pub url: String,
    #[serde(default)]
    #[oai(default)]
    pub alt: String,
}

/// An option of a product (`size`) and its values in display order.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "ProductOption")]
#[serde(deny_unknown_fields)]
pub struct OptionDto {
    pub name: String,
    pub values: Vec<String>,
}

/// One purchasable combination of option values.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Variant")]
pub struct VariantDto {
    /// `var_…`
    pub id: String,
    pub product_id: String,
    pub sku: String,
    /// Option name → value (`{"size": "M", "color": "Black"}`).
    pub options: BTreeMap<String, String>,
    pub prices: Vec<PriceDto>,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    /// `in_stock`, `low_stock` (a few left), `out_of_stock` or `backorder` (none left,
    /// but it can be ordered), following inventory within moments of a change.
    pub stock_status: String,
}

impl From<Variant> for VariantDto {
    fn from(v: Variant) -> Self {
        Self {
            id: v.id,
            product_id: v.product_id,
            sku: v.sku,
            options: v.options,
            prices: v.prices.into_iter().map(Into::into).collect(),
            weight_grams: v.weight_grams,
            barcode: v.barcode,
            stock_status: v.stock_status,
        }
    }
}

/// A product with its variants.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Product")]
pub struct ProductDto {
    /// `prod_…`
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub brand: String,
    /// `draft`, `active` or `archived`.
    pub status: String,
    pub material: Option<String>,
    pub care: Option<String>,
    pub fit: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub tags: Vec<String>,
    pub images: Vec<ImageDto>,
    pub options: Vec<OptionDto>,
    /// Free-form size chart (rows of measurements per size).
    pub size_chart: Option<serde_json::Value>,
    pub category_id: Option<String>,
    /// Lowest and highest variant price, per currency.
    pub price_ranges: Vec<PriceRangeDto>,
    pub variants: Vec<VariantDto>,
    /// Some variant can be bought now (in stock, low, or on backorder).
    pub in_stock: bool,
    /// Mean rating of its published reviews (two decimals); none without reviews.
    pub rating_average: Option<f64>,
    /// How many published reviews it has.
    pub rating_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Product> for ProductDto {
    fn from(p: Product) -> Self {
        Self {
            id: p.id,
            handle: p.handle,
            title: p.title,
            description: p.description,
            brand: p.brand,
            status: p.status,
            material: p.material,
            care: p.care,
            fit: p.fit,
            seo_title: p.seo_title,
            seo_description: p.seo_description,
            tags: p.tags,
            images: p
                .images
                .into_iter()
                .map(|i| ImageDto {
                    url: i.url,
                    alt: i.alt,
                })
                .collect(),
            options: p
                .options
                .into_iter()
                .map(|o| OptionDto {
                    name: o.name,
                    values: o.values,
                })
                .collect(),
            size_chart: p.size_chart,
            category_id: p.category_id,
            price_ranges: p.price_ranges.into_iter().map(Into::into).collect(),
            variants: p.variants.into_iter().map(Into::into).collect(),
            in_stock: p.in_stock,
            rating_average: p.rating_average,
            rating_count: p.rating_count,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// One page of products.
#[derive(Debug, Clone, Object)]
pub struct ProductPage {
    pub data: Vec<ProductDto>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A page of products from their stored documents (see `service::ProductDocument`),
/// written as `ProductPage`'s JSON would be.
fn document_page(
    page: &weft_kernel::Page<ProductDocument>,
) -> weft_http::conditional::JsonBytes<ProductPage> {
    let size: usize = page.data.iter().map(|d| d.as_str().len() + 1).sum();
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(b"{\"data\":[");
    for (i, document) in page.data.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(document.as_str().as_bytes());
    }
    out.extend_from_slice(b"],\"next_cursor\":");
    // An `Option<String>` always serializes.
    serde_json::to_writer(&mut out, &page.next_cursor).unwrap_or_default();
    out.push(b'}');
    weft_http::conditional::JsonBytes::from_raw(out)
}

/// A category and its subtree.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Category")]
pub struct CategoryDto {
    /// `cat_…`
    pub id: String,
    pub parent_id: Option<String>,
    pub handle: String,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub children: Vec<CategoryDto>,
}

impl From<Category> for CategoryDto {
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

#[derive(Debug, Clone, Object)]
pub struct CategoryList {
    pub data: Vec<CategoryDto>,
}

/// A variant as sent when creating one.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVariantRequest {
    /// Unique across the catalog.
    pub sku: String,
    /// A value for every option of the product.
    #[serde(default)]
    #[oai(default)]
    pub options: BTreeMap<String, String>,
    pub prices: Vec<PriceDto>,
    #[serde(default)]
    pub weight_grams: Option<i32>,
    #[serde(default)]
    pub barcode: Option<String>,
}

impl From<CreateVariantRequest> for NewVariant {
    fn from(v: CreateVariantRequest) -> Self {
        Self {
            sku: v.sku,
            options: v.options,
            prices: v
                .prices
                .into_iter()
                .map(|p| (p.currency, p.amount, p.compare_at_amount))
                .collect(),
            weight_grams: v.weight_grams,
            barcode: v.barcode,
        }
    }
}

/// `POST /v1/admin/products`
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateProductRequest {
    pub title: String,
    /// Made from the title when omitted.
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub brand: String,
    /// `draft` (default), `active` or `archived`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub material: Option<String>,
    #[serde(default)]
    pub care: Option<String>,
    #[serde(default)]
    pub fit: Option<String>,
    #[serde(default)]
    pub seo_title: Option<String>,
    #[serde(default)]
    pub seo_description: Option<String>,
    #[serde(default)]
    #[oai(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[oai(default)]
    pub images: Vec<ImageDto>,
    /// Up to 3 options (`size`, `color`, …) with their values.
    #[serde(default)]
    #[oai(default)]
    pub options: Vec<OptionDto>,
    #[serde(default)]
    pub size_chart: Option<serde_json::Value>,
    /// A category id or handle.
    #[serde(default)]
    pub category_id: Option<String>,
    #[serde(default)]
    #[oai(default)]
    pub variants: Vec<CreateVariantRequest>,
}

/// `PATCH /v1/admin/products/{id}`: omitted fields stay; `""` clears optional text.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateProductRequest {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub material: Option<String>,
    #[serde(default)]
    pub care: Option<String>,
    #[serde(default)]
    pub fit: Option<String>,
    #[serde(default)]
    pub seo_title: Option<String>,
    #[serde(default)]
    pub seo_description: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub images: Option<Vec<ImageDto>>,
    #[serde(default)]
    pub size_chart: Option<serde_json::Value>,
    /// A category id or handle; `""` removes the product from its category.
    #[serde(default)]
    pub category_id: Option<String>,
}

/// `PATCH /v1/admin/variants/{id}`
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateVariantRequest {
    #[serde(default)]
    pub sku: Option<String>,
    /// Replaces every price of the variant.
    #[serde(default)]
    pub prices: Option<Vec<PriceDto>>,
    #[serde(default)]
    pub weight_grams: Option<i32>,
    /// `""` removes it.
    #[serde(default)]
    pub barcode: Option<String>,
}

/// A category to create, or the changes to one.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// A category id or handle; `""` makes it a root.
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub position: Option<i32>,
}

impl From<CategoryRequest> for CategoryInput {
    fn from(c: CategoryRequest) -> Self {
        Self {
            name: c.name,
            handle: c.handle,
            description: c.description,
            parent_id: c.parent_id,
            position: c.position,
        }
    }
}

/// A product found by a search, as a result card.
#[derive(Debug, Clone, Object)]
#[oai(rename = "SearchHit")]
pub struct SearchHitDto {
    /// `prod_…`
    pub id: String,
    pub handle: String,
    pub title: String,
    pub brand: String,
    /// The first picture.
    pub image: Option<ImageDto>,
    pub price_ranges: Vec<PriceRangeDto>,
    pub category_id: Option<String>,
    /// Some variant can be bought now.
    pub in_stock: bool,
    /// Relevance (higher is better); 0 when sorting by something else.
    pub score: f32,
    /// `title`, `brand`, `description` → the text (an excerpt for the description) with
    /// each matching word in `<em>…</em>` and everything else HTML-escaped. Only fields
    /// that matched appear.
    pub highlights: BTreeMap<String, String>,
}

impl From<SearchHit> for SearchHitDto {
    fn from(h: SearchHit) -> Self {
        Self {
            id: h.id,
            handle: h.card.handle,
            in_stock: h.card.in_stock,
            title: h.card.title,
            brand: h.card.brand,
            image: h.card.image.map(|i| ImageDto {
                url: i.url,
                alt: i.alt,
            }),
            price_ranges: h.card.price_ranges.into_iter().map(Into::into).collect(),
            category_id: h.card.category_id,
            score: h.score,
            highlights: h.highlights,
        }
    }
}

/// A facet value and how many matching products have it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "FacetValue")]
pub struct FacetValueDto {
    /// The value to filter by (a category id for the category facet).
    pub value: String,
    /// The category's name (category facet only).
    pub label: Option<String>,
    pub count: u64,
}

/// Matching products whose lowest price is in `[from, to)`.
#[derive(Debug, Clone, Object)]
#[oai(rename = "PriceBucket")]
pub struct PriceBucketDto {
    pub from: MoneyDto,
    /// `null` for the last, open-ended bucket.
    pub to: Option<MoneyDto>,
    pub count: u64,
}

/// Counts over every matching product, not only this page.
#[derive(Debug, Clone, Object)]
#[oai(rename = "SearchFacets")]
pub struct SearchFacetsDto {
    /// A category counts the products in it and in its subcategories.
    pub category: Vec<FacetValueDto>,
    pub brand: Vec<FacetValueDto>,
    pub size: Vec<FacetValueDto>,
    pub color: Vec<FacetValueDto>,
    /// In the request's currency, by each product's lowest price.
    pub price: Vec<PriceBucketDto>,
    /// Products averaging at least 4, 3, 2 and 1 stars.
    pub rating: Vec<RatingFacetDto>,
}

/// Matching products whose reviews average at least `stars` stars.
#[derive(Debug, Clone, Object)]
#[oai(rename = "RatingFacet")]
pub struct RatingFacetDto {
    pub stars: i64,
    pub count: u64,
}

/// One page of search results.
#[derive(Debug, Clone, Object)]
pub struct SearchResults {
    pub data: Vec<SearchHitDto>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// How many products match in all.
    pub total: u64,
    pub facets: SearchFacetsDto,
}

impl From<SearchPage> for SearchResults {
    fn from(p: SearchPage) -> Self {
        let values = |v: Vec<FacetValue>| {
            v.into_iter()
                .map(|f| FacetValueDto {
                    value: f.value,
                    label: f.label,
                    count: f.count,
                })
                .collect()
        };
        let code = p.facets.currency.code();
        let money = |amount| MoneyDto {
            amount,
            currency: code.to_owned(),
        };
        Self {
            data: p.hits.into_iter().map(Into::into).collect(),
            next_cursor: p.next_cursor,
            total: p.total,
            facets: SearchFacetsDto {
                price: p
                    .facets
                    .price
                    .iter()
                    .map(|b| PriceBucketDto {
                        from: money(b.from),
                        to: b.to.map(money),
                        count: b.count,
                    })
                    .collect(),
                category: values(p.facets.category),
                brand: values(p.facets.brand),
                size: values(p.facets.size),
                color: values(p.facets.color),
                rating: p
                    .facets
                    .rating
                    .iter()
                    .map(|(stars, count)| RatingFacetDto {
                        stars: *stars,
                        count: *count,
                    })
                    .collect(),
            },
        }
    }
}

/// Answers for public catalog reads: 200 with an `ETag`, or 304 when `If-None-Match`
/// already names it.
macro_rules! conditional_response {
    ($name:ident, $body:ty, pasted) => {
        // The 200 is the common case; boxing it would cost an allocation per answer.
        #[allow(clippy::large_enum_variant)]
        #[derive(ApiResponse)]
        pub enum $name {
            /// The answer, with its `ETag`.
            #[oai(status = 200)]
            Ok(
                weft_http::conditional::JsonBytes<$body>,
                #[oai(header = "etag")] String,
                #[oai(header = "cache-control")] String,
            ),
            /// Unchanged since the `ETag` in `If-None-Match`.
            #[oai(status = 304)]
            NotModified(
                #[oai(header = "etag")] String,
                #[oai(header = "cache-control")] String,
            ),
        }

        impl $name {
            fn answer_json(
                req: &Request,
                json: weft_http::conditional::JsonBytes<$body>,
                cache_control: &str,
            ) -> Self {
                let etag = json.etag();
                if weft_http::conditional::not_modified(req, &etag) {
                    Self::NotModified(etag, cache_control.to_owned())
                } else {
                    Self::Ok(json, etag, cache_control.to_owned())
                }
            }
        }
    };
    ($name:ident, $body:ty) => {
        conditional_response!($name, $body, pasted);

        impl $name {
            fn answer(req: &Request, body: $body, cache_control: &str) -> Self {
                Self::answer_json(
                    req,
                    weft_http::conditional::JsonBytes::new(&body),
                    cache_control,
                )
            }
        }
    };
}

// Written from stored documents (see `document_page`).
conditional_response!(ProductAnswer, ProductDto, pasted);
conditional_response!(ProductPageAnswer, ProductPage, pasted);
conditional_response!(SearchAnswer, SearchResults);
conditional_response!(CategoryListAnswer, CategoryList);
conditional_response!(CategoryAnswer, CategoryDto);
conditional_response!(RecommendationsAnswer, ProductList);
conditional_response!(CollectionListAnswer, CollectionList);
conditional_response!(CollectionAnswer, CollectionDto);

/// A hand-picked group of products.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Collection")]
pub struct CollectionDto {
    /// `col_…`
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    /// In the merchant's order; list them with `GET /v1/products?collection=…`.
    pub product_ids: Vec<String>,
}

impl From<Collection> for CollectionDto {
    fn from(c: Collection) -> Self {
        Self {
            id: c.id,
            handle: c.handle,
            title: c.title,
            description: c.description,
            product_ids: c.product_ids,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct CollectionList {
    pub data: Vec<CollectionDto>,
}

/// A collection to create, or the changes to one.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionRequest {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Replaces the collection's products (in this order).
    #[serde(default)]
    pub product_ids: Option<Vec<String>>,
}

impl From<CollectionRequest> for CollectionInput {
    fn from(c: CollectionRequest) -> Self {
        Self {
            title: c.title,
            handle: c.handle,
            description: c.description,
            product_ids: c.product_ids,
        }
    }
}

/// A line of an import that did not land, and why.
#[derive(Debug, Clone, Object)]
pub struct ImportProblemDto {
    pub line: u32,
    pub reason: String,
}

/// A background job and its progress.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Job")]
pub struct JobDto {
    /// `job_…`
    pub id: String,
    /// `product_import`
    pub kind: String,
    /// `running` or `done`.
    pub status: String,
    /// Products (and unreadable lines) in the file.
    pub total: u32,
    pub processed: u32,
    pub succeeded: u32,
    pub failed: u32,
    /// Refused lines with their reasons (the first 1,000), once the job is done.
    pub problems: Vec<ImportProblemDto>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Job> for JobDto {
    fn from(j: Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            total: j.total,
            processed: j.processed,
            succeeded: j.succeeded,
            failed: j.failed,
            problems: j
                .problems
                .into_iter()
                .map(|p| ImportProblemDto {
                    line: u32::try_from(p.line).unwrap_or(u32::MAX),
                    reason: p.reason,
                })
                .collect(),
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum ImportAccepted {
    /// The import runs in the background; follow it at `GET /v1/admin/jobs/{id}`.
    #[oai(status = 202)]
    Accepted(Json<JobDto>),
}

#[derive(ApiResponse)]
pub enum CollectionCreated {
    #[oai(status = 201)]
    Created(Json<CollectionDto>),
}

/// Products, best first.
#[derive(Debug, Clone, Object)]
pub struct ProductList {
    pub data: Vec<ProductDto>,
}

#[derive(ApiResponse)]
pub enum ProductCreated {
    #[oai(status = 201)]
    Created(Json<ProductDto>),
}

#[derive(ApiResponse)]
pub enum VariantCreated {
    #[oai(status = 201)]
    Created(Json<VariantDto>),
}

#[derive(ApiResponse)]
pub enum CategoryCreated {
    #[oai(status = 201)]
    Created(Json<CategoryDto>),
}

/// What `DELETE /v1/admin/products/{id}` did.
#[derive(Debug, Clone, Object)]
pub struct ProductRemoval {
    /// `deleted`, or `archived` when orders hold the product.
    pub outcome: String,
}

#[derive(ApiResponse)]
pub enum Done {
    #[oai(status = 204)]
    NoContent,
}

fn page_request(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, CatalogError> {
    PageRequest::from_query(limit, cursor).map_err(|e| CatalogError::Invalid(vec![e]))
}

/// The filters of `GET /v1/products` and `GET /v1/search/products`.
const LIST_PARAMS: &[&str] = &[
    "q",
    "category",
    "collection",
    "brand",
    "size",
    "color",
    "currency",
    "min_price",
    "in_stock",
    "max_price",
    "sort",
    "limit",
    "cursor",
];

/// The search's own filter, beside the list's.
const SEARCH_ONLY_PARAMS: &[&str] = &["min_rating"];

/// Refuses parameters the list does not know (a misspelt filter would filter nothing).
fn known_params(req: &Request) -> Result<(), CatalogError> {
    known_params_of(req, LIST_PARAMS)
}

fn known_params_of(req: &Request, known: &[&str]) -> Result<(), CatalogError> {
    let errors = weft_http::params::unknown(req.uri().query(), known);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CatalogError::Invalid(errors))
    }
}

fn images(list: Vec<ImageDto>) -> Vec<Image> {
    list.into_iter()
        .map(|i| Image {
            url: i.url,
            alt: i.alt,
        })
        .collect()
}

fn prices(list: Vec<PriceDto>) -> Vec<(String, i64, Option<i64>)> {
    list.into_iter()
        .map(|p| (p.currency, p.amount, p.compare_at_amount))
        .collect()
}

/// The catalog service's REST endpoint: its operations, guests' reads answered from
/// cached bytes when nothing changed, and the demo catalog's pictures.
pub fn endpoint() -> poem::endpoint::BoxEndpoint<'static> {
    use poem::EndpointExt as _;
    poem::Route::new()
        .at("/media/demo/:file", poem::get(demo_picture))
        .nest_no_strip(
            "/",
            crate::http_cache::PublicReads::new(weft_http::rest_endpoint(CatalogApi)),
        )
        .boxed()
}

/// `GET /media/demo/<handle>--<color>.svg`: the demo catalog's placeholder pictures.
#[poem::handler]
fn demo_picture(poem::web::Path(file): poem::web::Path<String>) -> poem::Response {
    match crate::demo::placeholder_svg(&file) {
        Some(svg) => poem::Response::builder()
            .content_type("image/svg+xml")
            .header("cache-control", "public, max-age=86400, immutable")
            .body(svg),
        None => poem::Error::from_status(poem::http::StatusCode::NOT_FOUND).into_response(),
    }
}

/// The catalog's endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatalogApi;

#[OpenApi]
impl CatalogApi {
    /// Products, newest first or by price; guests see active products only.
    #[oai(
        path = "/v1/products",
        method = "get",
        operation_id = "list_products",
        tag = "Tag::Catalog"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_products(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        /// A category id or handle; its subcategories are included.
        category: Query<Option<String>>,
        /// A collection id or handle.
        collection: Query<Option<String>>,
        brand: Query<Option<String>>,
        /// Products with a variant in this size.
        size: Query<Option<String>>,
        /// Products with a variant in this color.
        color: Query<Option<String>>,
        /// Currency of the price filters and sorts (default USD).
        currency: Query<Option<String>>,
        /// Minor units: products with a price at or above it.
        min_price: Query<Option<i64>>,
        /// Minor units: products with a price at or below it.
        max_price: Query<Option<i64>>,
        /// `true`: only products with a variant for sale now; `false`: only those
        /// without.
        in_stock: Query<Option<bool>>,
        /// `newest` (default, or `relevance` with `q`), `price_asc`, `price_desc`,
        /// `rating` (best rated first; not with `q`) or `relevance`.
        sort: Query<Option<String>>,
        /// Free text, matched as `GET /v1/search/products` does (typos forgiven, the last
        /// word completed); best match first unless `sort` says otherwise.
        q: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<ProductPageAnswer> {
        known_params(req)?;
        let page = page_request(limit.0, cursor.0.as_deref())?;
        let sort = match (&q.0, sort.0) {
            (Some(text), None) if !text.trim().is_empty() => Some("relevance".to_owned()),
            (_, sort) => sort,
        };
        let query = ProductQuery {
            category: category.0,
            collection: collection.0,
            brand: brand.0,
            size: size.0,
            color: color.0,
            currency: currency.0,
            min_price: min_price.0,
            max_price: max_price.0,
            in_stock: in_stock.0,
            sort,
            q: q.0,
            include_unpublished: false,
            status: None,
            text: None,
        };
        let page = svc.list_documents(&query, &page).await?;
        Ok(ProductPageAnswer::answer_json(
            req,
            document_page(&page),
            PUBLIC_REVALIDATE,
        ))
    }

    /// Full-text product search: typos forgiven (one from 4 letters, two from 8), the
    /// last word completed as typed, the same filters as `GET /v1/products`, matches
    /// highlighted, and facet counts (category, brand, size, color, price buckets) over
    /// every match. Admins and apps with `catalog:read` also find drafts and archived
    /// products.
    #[oai(
        path = "/v1/search/products",
        method = "get",
        operation_id = "search_products",
        tag = "Tag::Catalog"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn search_products(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        /// The words to find (at most 200 characters); empty or absent finds every
        /// product the filters let through.
        q: Query<Option<String>>,
        /// A category id or handle; its subcategories are included.
        category: Query<Option<String>>,
        /// A collection id or handle.
        collection: Query<Option<String>>,
        /// Exactly as the products spell it.
        brand: Query<Option<String>>,
        size: Query<Option<String>>,
        color: Query<Option<String>>,
        /// Currency of the price filters, sorts and buckets (default USD).
        currency: Query<Option<String>>,
        /// Minor units: products with a price at or above it.
        min_price: Query<Option<i64>>,
        /// Minor units: products with a price at or below it.
        max_price: Query<Option<i64>>,
        /// `true`: only products with a variant for sale now; `false`: only those
        /// without.
        in_stock: Query<Option<bool>>,
        /// 1–5: only products whose reviews average at least this many stars.
        min_rating: Query<Option<i64>>,
        /// `relevance` (default), `price_asc`, `price_desc`, `newest` or `rating`.
        sort: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<SearchAnswer> {
        known_params_of(req, &[LIST_PARAMS, SEARCH_ONLY_PARAMS].concat())?;
        let page = page_request(limit.0, cursor.0.as_deref())?;
        let staff = authz::staff(req, "catalog:read").is_ok();
        let query = SearchQuery {
            q: q.0,
            category: category.0,
            collection: collection.0,
            brand: brand.0,
            size: size.0,
            color: color.0,
            currency: currency.0,
            min_price: min_price.0,
            max_price: max_price.0,
            in_stock: in_stock.0,
            min_rating: min_rating.0,
            sort: sort.0,
            include_unpublished: staff,
        };
        let found = svc.search(&query, &page).await?;
        let cache_control = if staff { PRIVATE } else { PUBLIC_REVALIDATE };
        Ok(SearchAnswer::answer(req, found.into(), cache_control))
    }

    /// Variants by id, with their product's state, prices and categories — what a cart
    /// service of a cluster asks to price its lines. Unknown ids are left out. Staff and
    /// apps with `catalog:read` (drafts included, so a cart can say a product left sale).
    #[oai(
        path = "/v1/admin/variants",
        method = "get",
        operation_id = "list_variant_summaries",
        tag = "Tag::CatalogAdmin"
    )]
    async fn variant_summaries(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        /// Comma-separated `var_…` ids, 1–100.
        ids: Query<String>,
    ) -> ApiResult<Json<VariantSummaryList>> {
        authz::staff(req, "catalog:read")?;
        let mut list: Vec<String> = ids
            .0
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        list.sort();
        list.dedup();
        if list.is_empty() || list.len() > MAX_VARIANT_IDS {
            return Err(CatalogError::field(
                "ids",
                format!("must list 1–{MAX_VARIANT_IDS} variant ids"),
            )
            .into());
        }
        let data = svc
            .variant_summaries(&list)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(Json(VariantSummaryList { data }))
    }

    /// A product by id or handle (drafts only for admins and apps with `catalog:read`).
    #[oai(
        path = "/v1/products/:id",
        method = "get",
        operation_id = "get_product",
        tag = "Tag::Catalog"
    )]
    async fn get_product(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        /// `prod_…` or a handle.
        id: Path<String>,
    ) -> ApiResult<ProductAnswer> {
        let staff = authz::staff(req, "catalog:read").is_ok();
        let document = svc.product_document(&id.0, staff).await?;
        // Staff may see drafts: their answers must not be stored by shared caches.
        let cache_control = if staff { PRIVATE } else { PUBLIC_REVALIDATE };
        let json = weft_http::conditional::JsonBytes::from_raw(document.as_str().into());
        Ok(ProductAnswer::answer_json(req, json, cache_control))
    }

    /// Products like this one (same department; scored by category, brand, tags and
    /// price band), best first.
    #[oai(
        path = "/v1/products/:id/recommendations",
        method = "get",
        operation_id = "list_recommendations",
        tag = "Tag::Catalog"
    )]
    async fn recommendations(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        /// `prod_…` or a handle.
        id: Path<String>,
        /// 1–24, default 8.
        limit: Query<Option<u32>>,
    ) -> ApiResult<RecommendationsAnswer> {
        let limit = limit.0.unwrap_or(8);
        if !(1..=24).contains(&limit) {
            return Err(CatalogError::field("limit", "must be 1–24").into());
        }
        let products = svc.recommendations(&id.0, limit as usize).await?;
        let body = ProductList {
            data: products.into_iter().map(Into::into).collect(),
        };
        Ok(RecommendationsAnswer::answer(req, body, PUBLIC_REVALIDATE))
    }

    /// The category tree.
    #[oai(
        path = "/v1/categories",
        method = "get",
        operation_id = "list_categories",
        tag = "Tag::Catalog"
    )]
    async fn list_categories(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
    ) -> ApiResult<CategoryListAnswer> {
        let data = svc
            .categories()
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(CategoryListAnswer::answer(
            req,
            CategoryList { data },
            PUBLIC_REVALIDATE,
        ))
    }

    /// A category by id or handle, with its subtree.
    #[oai(
        path = "/v1/categories/:id",
        method = "get",
        operation_id = "get_category",
        tag = "Tag::Catalog"
    )]
    async fn get_category(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<CategoryAnswer> {
        let category = svc.category(&id.0).await?;
        Ok(CategoryAnswer::answer(
            req,
            category.into(),
            PUBLIC_REVALIDATE,
        ))
    }

    /// Every collection.
    #[oai(
        path = "/v1/collections",
        method = "get",
        operation_id = "list_collections",
        tag = "Tag::Catalog"
    )]
    async fn list_collections(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
    ) -> ApiResult<CollectionListAnswer> {
        let data = svc
            .collections()
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        Ok(CollectionListAnswer::answer(
            req,
            CollectionList { data },
            PUBLIC_REVALIDATE,
        ))
    }

    /// A collection by id or handle.
    #[oai(
        path = "/v1/collections/:id",
        method = "get",
        operation_id = "get_collection",
        tag = "Tag::Catalog"
    )]
    async fn get_collection(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<CollectionAnswer> {
        let collection = svc.collection(&id.0).await?;
        Ok(CollectionAnswer::answer(
            req,
            collection.into(),
            PUBLIC_REVALIDATE,
        ))
    }

    /// Creates a collection.
    #[oai(
        path = "/v1/admin/collections",
        method = "post",
        operation_id = "create_collection",
        tag = "Tag::CatalogAdmin"
    )]
    async fn create_collection(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        body: JsonBody<CollectionRequest>,
    ) -> ApiResult<CollectionCreated> {
        authz::staff(req, "catalog:write")?;
        let collection = svc.create_collection(body.0.into()).await?;
        Ok(CollectionCreated::Created(Json(collection.into())))
    }

    /// Renames a collection or replaces its products.
    #[oai(
        path = "/v1/admin/collections/:id",
        method = "patch",
        operation_id = "update_collection",
        tag = "Tag::CatalogAdmin"
    )]
    async fn update_collection(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CollectionRequest>,
    ) -> ApiResult<Json<CollectionDto>> {
        authz::staff(req, "catalog:write")?;
        Ok(Json(
            svc.update_collection(&id.0, body.0.into()).await?.into(),
        ))
    }

    /// Deletes a collection (its products stay).
    #[oai(
        path = "/v1/admin/collections/:id",
        method = "delete",
        operation_id = "delete_collection",
        tag = "Tag::CatalogAdmin"
    )]
    async fn delete_collection(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        authz::staff(req, "catalog:write")?;
        svc.delete_collection(&id.0).await?;
        Ok(Done::NoContent)
    }

    /// Imports products from a CSV or JSON Lines file sent as the body (see
    /// docs/catalog.md for the columns), in the background. Each product lands whole or
    /// not at all; refused lines are listed with their reasons on the job.
    #[oai(
        path = "/v1/admin/products/import",
        method = "post",
        operation_id = "import_products",
        tag = "Tag::CatalogAdmin"
    )]
    async fn import_products(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        /// `csv` or `jsonl`.
        format: Query<String>,
        body: PlainText<String>,
    ) -> ApiResult<ImportAccepted> {
        let actor = authz::staff(req, "catalog:write")?;
        let format = match format.0.as_str() {
            "csv" => crate::import::Format::Csv,
            "jsonl" => crate::import::Format::JsonLines,
            _ => return Err(CatalogError::field("format", "must be `csv` or `jsonl`").into()),
        };
        let (items, problems) = crate::import::read(format, &body.0);
        let job = svc.start_import(&actor.id, items, problems).await?;
        Ok(ImportAccepted::Accepted(Json(job.into())))
    }

    /// A background job's progress and outcome.
    #[oai(
        path = "/v1/admin/jobs/:id",
        method = "get",
        operation_id = "get_job",
        tag = "Tag::CatalogAdmin"
    )]
    async fn get_job(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<JobDto>> {
        authz::staff(req, "catalog:write")?;
        Ok(Json(svc.job(&id.0).await?.into()))
    }

    /// Every product in any status, for the back office.
    #[oai(
        path = "/v1/admin/products",
        method = "get",
        operation_id = "admin_list_products",
        tag = "Tag::CatalogAdmin"
    )]
    async fn admin_list_products(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        /// Products whose title, handle or brand contains this, or with a SKU that does
        /// (any case); drafts and archived ones too. Newest first, like the listing.
        q: Query<Option<String>>,
        /// `draft`, `active` or `archived`; all when omitted.
        status: Query<Option<String>>,
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<weft_http::conditional::JsonBytes<ProductPage>> {
        authz::staff(req, "catalog:read")?;
        let page = page_request(limit.0, cursor.0.as_deref())?;
        if q.0.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(CatalogError::field("q", "must be at most 200 characters").into());
        }
        let query = ProductQuery {
            include_unpublished: true,
            status: status.0,
            text: q.0,
            ..ProductQuery::default()
        };
        Ok(document_page(&svc.list_documents(&query, &page).await?))
    }

    /// Creates a product with its variants.
    #[oai(
        path = "/v1/admin/products",
        method = "post",
        operation_id = "create_product",
        tag = "Tag::CatalogAdmin"
    )]
    async fn create_product(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        body: JsonBody<CreateProductRequest>,
    ) -> ApiResult<ProductCreated> {
        authz::staff(req, "catalog:write")?;
        let b = body.0;
        let input = NewProduct {
            title: b.title,
            handle: b.handle,
            description: b.description,
            brand: b.brand,
            status: b.status,
            material: b.material,
            care: b.care,
            fit: b.fit,
            seo_title: b.seo_title,
            seo_description: b.seo_description,
            tags: b.tags,
            images: images(b.images),
            options: b
                .options
                .into_iter()
                .map(|o| ProductOption {
                    name: o.name,
                    values: o.values,
                })
                .collect(),
            size_chart: b.size_chart,
            category_id: b.category_id,
            variants: b.variants.into_iter().map(Into::into).collect(),
        };
        let product = svc.create_product(input).await?;
        Ok(ProductCreated::Created(Json(product.into())))
    }

    /// Edits a product.
    #[oai(
        path = "/v1/admin/products/:id",
        method = "patch",
        operation_id = "update_product",
        tag = "Tag::CatalogAdmin"
    )]
    async fn update_product(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<UpdateProductRequest>,
    ) -> ApiResult<Json<ProductDto>> {
        authz::staff(req, "catalog:write")?;
        let b = body.0;
        let patch = ProductPatch {
            title: b.title,
            handle: b.handle,
            description: b.description,
            brand: b.brand,
            status: b.status,
            material: b.material,
            care: b.care,
            fit: b.fit,
            seo_title: b.seo_title,
            seo_description: b.seo_description,
            tags: b.tags,
            images: b.images.map(images),
            size_chart: b.size_chart,
            category_id: b.category_id,
        };
        Ok(Json(svc.update_product(&id.0, patch).await?.into()))
    }

    /// Deletes a product; one that orders hold is archived instead.
    #[oai(
        path = "/v1/admin/products/:id",
        method = "delete",
        operation_id = "delete_product",
        tag = "Tag::CatalogAdmin"
    )]
    async fn delete_product(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<ProductRemoval>> {
        authz::staff(req, "catalog:write")?;
        let deleted = svc.delete_product(&id.0).await?;
        Ok(Json(ProductRemoval {
            outcome: if deleted { "deleted" } else { "archived" }.to_owned(),
        }))
    }

    /// Adds a variant (one combination of option values) to a product.
    #[oai(
        path = "/v1/admin/products/:id/variants",
        method = "post",
        operation_id = "create_variant",
        tag = "Tag::CatalogAdmin"
    )]
    async fn create_variant(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CreateVariantRequest>,
    ) -> ApiResult<VariantCreated> {
        authz::staff(req, "catalog:write")?;
        let variant = svc.add_variant(&id.0, body.0.into()).await?;
        Ok(VariantCreated::Created(Json(variant.into())))
    }

    /// Edits a variant's sku, prices, weight or barcode.
    #[oai(
        path = "/v1/admin/variants/:id",
        method = "patch",
        operation_id = "update_variant",
        tag = "Tag::CatalogAdmin"
    )]
    async fn update_variant(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<UpdateVariantRequest>,
    ) -> ApiResult<Json<VariantDto>> {
        authz::staff(req, "catalog:write")?;
        let b = body.0;
        let patch = VariantPatch {
            sku: b.sku,
            prices: b.prices.map(prices),
            weight_grams: b.weight_grams,
            barcode: b.barcode,
        };
        Ok(Json(svc.update_variant(&id.0, patch).await?.into()))
    }

    /// Deletes a variant.
    #[oai(
        path = "/v1/admin/variants/:id",
        method = "delete",
        operation_id = "delete_variant",
        tag = "Tag::CatalogAdmin"
    )]
    async fn delete_variant(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        authz::staff(req, "catalog:write")?;
        svc.delete_variant(&id.0).await?;
        Ok(Done::NoContent)
    }

    /// Creates a category (under `parent_id`, or at the root).
    #[oai(
        path = "/v1/admin/categories",
        method = "post",
        operation_id = "create_category",
        tag = "Tag::CatalogAdmin"
    )]
    async fn create_category(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        body: JsonBody<CategoryRequest>,
    ) -> ApiResult<CategoryCreated> {
        authz::staff(req, "catalog:write")?;
        let category = svc.create_category(body.0.into()).await?;
        Ok(CategoryCreated::Created(Json(category.into())))
    }

    /// Renames, moves or reorders a category.
    #[oai(
        path = "/v1/admin/categories/:id",
        method = "patch",
        operation_id = "update_category",
        tag = "Tag::CatalogAdmin"
    )]
    async fn update_category(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CategoryRequest>,
    ) -> ApiResult<Json<CategoryDto>> {
        authz::staff(req, "catalog:write")?;
        Ok(Json(
            svc.update_category(&id.0, body.0.into()).await?.into(),
        ))
    }

    /// Deletes an empty category (no products, no subcategories).
    #[oai(
        path = "/v1/admin/categories/:id",
        method = "delete",
        operation_id = "delete_category",
        tag = "Tag::CatalogAdmin"
    )]
    async fn delete_category(
        &self,
        svc: Data<&CatalogService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        authz::staff(req, "catalog:write")?;
        svc.delete_category(&id.0).await?;
        Ok(Done::NoContent)
    }
}
