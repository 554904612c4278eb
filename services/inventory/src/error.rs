//! Everything inventory can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("not enough stock: {available} available")]
    OutOfStock { available: i64 },
    #[error("no such variant")]
    VariantNotFound,
    #[error("no such location")]
    LocationNotFound,
    #[error("no such reservation")]
    ReservationNotFound,
    #[error("the reservation is {0}, not active")]
    ReservationNotActive(String),
    #[error("the location code `{0}` is taken")]
    CodeTaken(String),
    #[error(transparent)]
    Authz(#[from] weft_http::AuthzError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for InventoryError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::VariantNotFound | Self::LocationNotFound | Self::ReservationNotFound => {
                ErrorKind::NotFound
            }
            Self::OutOfStock { .. } | Self::ReservationNotActive(_) | Self::CodeTaken(_) => {
                ErrorKind::Conflict
            }
            Self::Authz(e) => e.kind(),
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::OutOfStock { .. } => "out_of_stock",
            Self::VariantNotFound => "variant_not_found",
            Self::LocationNotFound => "location_not_found",
            Self::ReservationNotFound => "reservation_not_found",
            Self::ReservationNotActive(_) => "reservation_not_active",
            Self::CodeTaken(_) => "location_code_taken",
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

impl InventoryError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}
