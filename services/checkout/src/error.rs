//! Everything checkout can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such checkout")]
    NotFound,
    #[error("no such cart")]
    CartNotFound,
    #[error("the cart is empty")]
    CartEmpty,
    #[error("a line of the cart cannot be bought now: remove it first")]
    CartNotPurchasable,
    #[error("the checkout is completed")]
    Completed,
    #[error("{0}")]
    OutOfStock(String),
    #[error("the payment was declined ({code}): {message}")]
    PaymentDeclined { code: String, message: String },
    #[error("the payment could not be made: {0}")]
    PaymentFailed(String),
    #[error("this checkout is being completed by another request; retry shortly")]
    InProgress,
    /// The attempt was undone for a reason of its own (`code` is stable, e.g. a
    /// promotion's `promotion_exhausted`).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("completing this checkout needs an operator: {0}")]
    NeedsAttention(String),
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for CheckoutError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound | Self::CartNotFound => ErrorKind::NotFound,
            Self::CartEmpty
            | Self::CartNotPurchasable
            | Self::Completed
            | Self::OutOfStock(_)
            | Self::InProgress
            | Self::Refused { .. } => ErrorKind::Conflict,
            Self::PaymentDeclined { .. } | Self::PaymentFailed(_) => ErrorKind::PaymentRequired,
            Self::NeedsAttention(_) => ErrorKind::Internal,
            Self::Upstream(_) => ErrorKind::Unavailable,
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "checkout_not_found",
            Self::CartNotFound => "cart_not_found",
            Self::CartEmpty => "cart_empty",
            Self::CartNotPurchasable => "cart_not_purchasable",
            Self::Completed => "checkout_completed",
            Self::OutOfStock(_) => "out_of_stock",
            Self::PaymentDeclined { .. } => "payment_declined",
            Self::PaymentFailed(_) => "payment_failed",
            Self::InProgress => "checkout_in_progress",
            Self::Refused { code, .. } => code,
            Self::NeedsAttention(_) => "checkout_needs_attention",
            Self::Upstream(_) => "upstream_unavailable",
            Self::Storage(e) => e.code(),
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        matches!(self, Self::InProgress).then(|| std::time::Duration::from_secs(1))
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

/// The stable code for a failure a saga step reported (its `code` string).
pub(crate) fn known_code(code: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "cart_empty",
        "cart_not_found",
        "cart_not_purchasable",
        "checkout_incomplete",
        "checkout_failed",
        "promotion_not_found",
        "promotion_not_started",
        "promotion_expired",
        "promotion_exhausted",
        "promotion_limit_reached",
        "promotion_minimum_not_met",
        "promotion_not_applicable",
        "promotion_not_combinable",
        "interrupted",
        "checkout_abandoned",
    ];
    KNOWN
        .iter()
        .find(|k| **k == code)
        .copied()
        .unwrap_or("checkout_failed")
}
