//! What the catalog shows of other services under a product: its reviews and ratings,
//! served by reviews ([`ProductReviews`], implemented by `weft_reviews::client`, in this
//! process or over HTTP). The GraphQL shapes of a review live here, with the `Product`
//! that carries them; reviews' own mutations answer with the same types.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use weft_http::gql::Long;
use weft_peer_client::ClientError;

/// A customer's review of a product.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Review")]
pub struct ReviewObject {
    pub id: String,
    pub product_id: String,
    pub author_name: String,
    /// 1–5.
    pub rating: i32,
    pub title: String,
    pub body: String,
    /// `runs_small`, `true_to_size` or `runs_large`.
    pub size_fit: Option<String>,
    pub photos: Vec<String>,
    pub verified_purchase: bool,
    /// `pending`, `published` or `rejected`.
    pub status: String,
    /// Why it was rejected or re-queued (its author and staff only).
    pub moderation_note: Option<String>,
    /// The shop's public answer.
    pub reply: Option<String>,
    pub helpful_count: Long,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of reviews.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReviewConnection {
    pub nodes: Vec<ReviewObject>,
    /// Pass as `after` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A product's published ratings.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "RatingSummary")]
pub struct RatingSummaryObject {
    pub count: Long,
    /// Mean rating to two decimals; null without reviews.
    pub average: Option<f64>,
    /// How many reviews gave 1, 2, 3, 4 and 5 stars.
    pub distribution: Vec<Long>,
}

impl RatingSummaryObject {
    /// From how many reviews gave each of 1–5 stars.
    pub fn of(distribution: [i64; 5]) -> Self {
        Self {
            count: distribution.iter().sum::<i64>().into(),
            average: weft_bus::events::rating_average(&distribution),
            distribution: distribution.iter().map(|n| Long::from(*n)).collect(),
        }
    }
}

/// The order of a product's reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ReviewSort {
    Newest,
    Helpful,
    Highest,
    Lowest,
}

impl ReviewSort {
    /// The REST spelling (`?sort=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Helpful => "helpful",
            Self::Highest => "highest",
            Self::Lowest => "lowest",
        }
    }
}

/// A product's reviews, as the catalog's `Product` shows them (public: published only).
#[async_trait::async_trait]
pub trait ProductReviews: Send + Sync + std::fmt::Debug + 'static {
    async fn page(
        &self,
        product_id: &str,
        sort: ReviewSort,
        first: u32,
        after: Option<&str>,
    ) -> Result<ReviewConnection, ClientError>;
    async fn summary(&self, product_id: &str) -> Result<RatingSummaryObject, ClientError>;
}
