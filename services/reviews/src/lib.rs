//! Reviews: customers rate and review products they bought (rating 1–5, title, body, size
//! feedback, photos), staff moderate and answer, shoppers vote reviews helpful and report
//! abuse; the catalog follows each product's rating summary through events.
//!
//! Tables owned: `reviews`, `review_votes`, `review_reports` (in the relational store, or
//! MongoDB collections of the same names when `reviews.mongodb_url` is set),
//! `review_purchases`, `review_ratings` (always relational).
//! Events consumed: `OrderCreated` (its customer bought its variants), `OrderCancelled`
//! (took that back), `UserErased` (anonymise). Emitted: `ProductRated` through the outbox,
//! whenever what shoppers see of a product's ratings changes.
//! Invariants: one review per customer and product; one helpful vote and one report per
//! customer and review, however many requests race (unique keys, not reads); only
//! published reviews are public and counted in ratings; a summary's `version` grows with
//! every change of its product's ratings.

pub mod client;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod service;
pub mod store;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use error::ReviewsError;
pub use http::ReviewsApi;
pub use service::{ReviewsService, Rules};

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "reviews",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "reviews",
    description: "Product reviews and ratings, moderation, helpful votes.",
    migrations: &[&MIGRATIONS],
    paths: &["/v1/reviews", "/v1/admin/reviews", "/v1/products/*/reviews"],
    rest: Some(|| weft_http::rest_endpoint(ReviewsApi)),
};
