//! Catalog: products (with options, images, size charts, SEO fields), their variants and
//! prices per currency, and the category tree.
//!
//! Tables owned: `catalog_products`, `catalog_variants`, `catalog_variant_options`,
//! `catalog_variant_prices`, `catalog_product_prices` (each product's price range per
//! currency, kept in step in the same transaction), `catalog_categories`.
//! Events emitted: `ProductUpdated` (created, updated, deleted) with every write, through
//! the outbox. Consumed: `ProductUpdated` (consumer `catalog-cache`) to retire cached
//! answers whoever made the change.
//! Invariants: handles and SKUs are unique; a product has at most one variant per
//! combination of option values, and every variant names one value of each option;
//! prices are integer minor units ≥ 0 in ISO 4217 currencies; guests only see `active`
//! products.

pub mod client;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod http_cache;
pub mod import;
pub mod ports;
pub mod service;
mod store;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use error::CatalogError;
pub use http::CatalogApi;
pub use service::CatalogService;

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "catalog",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "catalog",
    description: "Products, variants, prices and categories.",
    migrations: &[&MIGRATIONS],
    paths: &[
        "/v1/products",
        "/v1/search",
        "/v1/categories",
        "/v1/collections",
        "/v1/admin/products",
        "/v1/admin/variants",
        "/v1/admin/categories",
        "/v1/admin/collections",
        "/v1/admin/jobs",
        "/media/demo",
    ],
    rest: Some(http::endpoint),
};
