//! Everything reviews can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ReviewsError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such review")]
    NotFound,
    #[error("no such product")]
    ProductNotFound,
    #[error("you have reviewed this product already: edit that review instead")]
    AlreadyReviewed,
    #[error("only customers who bought this product may review it")]
    PurchaseRequired,
    #[error("this is not your review")]
    NotYours,
    #[error("authors cannot vote for their own review")]
    OwnReview,
    #[error("the catalog could not be reached: {0}")]
    CatalogUnavailable(String),
    #[error("the review store failed: {0}")]
    Store(String),
    #[error(transparent)]
    Authz(#[from] weft_http::AuthzError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for ReviewsError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound | Self::ProductNotFound => ErrorKind::NotFound,
            Self::AlreadyReviewed => ErrorKind::Conflict,
            Self::PurchaseRequired | Self::NotYours | Self::OwnReview => ErrorKind::Forbidden,
            Self::CatalogUnavailable(_) => ErrorKind::Unavailable,
            Self::Store(_) => ErrorKind::Internal,
            Self::Authz(e) => e.kind(),
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "review_not_found",
            Self::ProductNotFound => "product_not_found",
            Self::AlreadyReviewed => "review_exists",
            Self::PurchaseRequired => "purchase_required",
            Self::NotYours => "not_your_review",
            Self::OwnReview => "own_review",
            Self::CatalogUnavailable(_) => "upstream_unavailable",
            Self::Store(_) => "internal_error",
            Self::Authz(e) => e.code(),
            Self::Storage(e) => e.code(),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

impl ReviewsError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}
