//! Where reviews are kept: the [`ReviewStore`] trait, over the relational database
//! ([`sql::SqlReviews`], the default) or MongoDB ([`mongo::MongoReviews`]).
//!
//! Every method takes the relational transaction its use case runs in: the relational
//! store writes inside it, so a review and the rating event it causes commit together;
//! the document store writes each document atomically on its own, and the event follows
//! in that transaction. What else reviews keep (purchases, rating versions) is always
//! relational: [`purchases`], [`ratings`].

pub mod mongo;
pub mod sql;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use weft_storage::DbConn;

use crate::domain::{RatingSummary, Review, Sort, Status};
use crate::error::ReviewsError;

pub use sql::{purchases, ratings};

/// Where a page of reviews ends: its last review's sort key (helpful votes or rating; 0
/// for `newest`), creation time and id. Opaque to clients (a cursor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "k")]
    pub key: i64,
    #[serde(rename = "t")]
    pub created_at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub id: String,
}

impl Position {
    pub fn of(review: &Review, sort: Sort) -> Self {
        Self {
            key: match sort {
                Sort::Newest => 0,
                Sort::Helpful => review.helpful_count,
                Sort::Highest | Sort::Lowest => i64::from(review.rating),
            },
            created_at: review.created_at,
            id: review.id.clone(),
        }
    }
}

/// Which reviews staff look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub status: Option<Status>,
    pub product_id: Option<String>,
    /// Only reviews shoppers reported.
    pub reported: bool,
}

/// Reviews' documents. Each write is atomic by itself.
#[async_trait::async_trait]
pub trait ReviewStore: Send + Sync + 'static {
    /// `relational` or `mongodb`, for logs and `/v1/meta`.
    fn name(&self) -> &'static str;
    /// Stores a new review; `false` when its customer has one for its product already.
    async fn insert(&self, tx: &mut DbConn, review: &Review) -> Result<bool, ReviewsError>;
    /// Replaces what may change of a stored review (all but its id, product, author and
    /// creation time).
    async fn save(&self, tx: &mut DbConn, review: &Review) -> Result<(), ReviewsError>;
    /// Removes a review with its votes and reports; `false` when there was none.
    async fn delete(&self, tx: &mut DbConn, id: &str) -> Result<bool, ReviewsError>;
    async fn get(&self, tx: &mut DbConn, id: &str) -> Result<Option<Review>, ReviewsError>;
    /// Up to `limit` published reviews of a product in `sort` order, after `after`.
    async fn published(
        &self,
        tx: &mut DbConn,
        product_id: &str,
        sort: Sort,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<Review>, ReviewsError>;
    /// Up to `limit` reviews for staff, oldest first (a queue), after `after`.
    async fn queue(
        &self,
        tx: &mut DbConn,
        filter: &QueueFilter,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<Review>, ReviewsError>;
    /// Counts `customer_id`'s helpful vote on a review once: `true` when this call
    /// counted it.
    async fn vote(
        &self,
        tx: &mut DbConn,
        review_id: &str,
        customer_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, ReviewsError>;
    /// Records `customer_id`'s report of a review once: the review's report count after
    /// it when this call counted it, `None` when they had reported it already.
    async fn report(
        &self,
        tx: &mut DbConn,
        review_id: &str,
        customer_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, ReviewsError>;
    /// How many published reviews of a product gave each rating.
    async fn summary(
        &self,
        tx: &mut DbConn,
        product_id: &str,
    ) -> Result<RatingSummary, ReviewsError>;
    /// Anonymises `customer_id`'s reviews (no customer id, the erased author name, no
    /// photos) and forgets their votes and reports (the counts stay). Returns how many
    /// reviews were theirs; asking again changes nothing.
    async fn erase_customer(
        &self,
        tx: &mut DbConn,
        customer_id: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, ReviewsError>;
}
