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
    Upstream(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for CheckoutError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound | Self::CartNotFound => ErrorKind::NotFound,
            Self::CartEmpty | Self::CartNotPurchasable | Self::Completed => ErrorKind::Conflict,
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
            Self::Upstream(_) => "upstream_unavailable",
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
