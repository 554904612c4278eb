//! Everything the cart can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

use crate::domain::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such cart")]
    CartNotFound,
    #[error("no such item in this cart")]
    ItemNotFound,
    #[error("the product is not for sale")]
    ProductUnavailable,
    #[error("the variant has no price in {0}")]
    PriceUnavailable(String),
    #[error("not enough stock: {available} available")]
    OutOfStock { available: i64 },
    #[error("no such promotion")]
    PromotionNotFound,
    #[error("{}", .0.message())]
    Promotion(Rejection),
    #[error("a promotion with this code exists")]
    PromotionCodeTaken,
    /// A total would leave the range money is kept in (±2^53 − 1 minor units): `field`
    /// is what made it (`items[2].quantity`, or `quantity` of the change asked for).
    #[error("an amount is out of range")]
    AmountOutOfRange { field: String },
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for CartError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) | Self::Promotion(_) | Self::AmountOutOfRange { .. } => {
                ErrorKind::Invalid
            }
            Self::CartNotFound | Self::ItemNotFound | Self::PromotionNotFound => {
                ErrorKind::NotFound
            }
            Self::PromotionCodeTaken => ErrorKind::Conflict,
            Self::ProductUnavailable | Self::PriceUnavailable(_) | Self::OutOfStock { .. } => {
                ErrorKind::Conflict
            }
            Self::Upstream(_) => ErrorKind::Unavailable,
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::CartNotFound => "cart_not_found",
            Self::ItemNotFound => "item_not_found",
            Self::ProductUnavailable => "product_unavailable",
            Self::PriceUnavailable(_) => "price_unavailable",
            Self::OutOfStock { .. } => "out_of_stock",
            Self::PromotionNotFound => "promotion_not_found",
            Self::Promotion(r) => r.code(),
            Self::PromotionCodeTaken => "promotion_code_taken",
            Self::AmountOutOfRange { .. } => "amount_out_of_range",
            Self::Upstream(_) => "upstream_unavailable",
            Self::Storage(e) => e.code(),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            Self::Promotion(r) => vec![FieldError::new("code", r.message())],
            Self::AmountOutOfRange { field } => vec![FieldError::new(
                field.clone(),
                format!(
                    "makes a total beyond {} minor units, more than can be charged",
                    weft_kernel::MAX_AMOUNT
                ),
            )],
            _ => Vec::new(),
        }
    }
}

impl CartError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}
