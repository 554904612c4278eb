//! Everything the catalog can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such product")]
    ProductNotFound,
    #[error("no such variant")]
    VariantNotFound,
    #[error("no such category")]
    CategoryNotFound,
    #[error("no such collection")]
    CollectionNotFound,
    #[error("no such job")]
    JobNotFound,
    #[error("the handle `{0}` is taken")]
    HandleTaken(String),
    #[error("the sku `{0}` is taken")]
    SkuTaken(String),
    #[error("a variant with these option values exists already")]
    DuplicateVariant,
    #[error("the category has products or subcategories; move them first")]
    CategoryInUse,
    #[error("search is unavailable: {0}")]
    SearchUnavailable(String),
    #[error(transparent)]
    Authz(#[from] weft_http::AuthzError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("catalog internal error: {0}")]
    Internal(String),
}

impl ServiceError for CatalogError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::ProductNotFound
            | Self::VariantNotFound
            | Self::CategoryNotFound
            | Self::CollectionNotFound
            | Self::JobNotFound => ErrorKind::NotFound,
            Self::HandleTaken(_)
            | Self::SkuTaken(_)
            | Self::DuplicateVariant
            | Self::CategoryInUse => ErrorKind::Conflict,
            Self::SearchUnavailable(_) => ErrorKind::Unavailable,
            Self::Authz(e) => e.kind(),
            Self::Storage(e) => e.kind(),
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::ProductNotFound => "product_not_found",
            Self::VariantNotFound => "variant_not_found",
            Self::CategoryNotFound => "category_not_found",
            Self::CollectionNotFound => "collection_not_found",
            Self::JobNotFound => "job_not_found",
            Self::HandleTaken(_) => "handle_taken",
            Self::SkuTaken(_) => "sku_taken",
            Self::DuplicateVariant => "duplicate_variant",
            Self::CategoryInUse => "category_in_use",
            Self::SearchUnavailable(_) => "search_unavailable",
            Self::Authz(e) => e.code(),
            Self::Storage(e) => e.code(),
            Self::Internal(_) => "internal_error",
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

impl From<weft_search::SearchError> for CatalogError {
    fn from(e: weft_search::SearchError) -> Self {
        match e {
            weft_search::SearchError::Unavailable(reason) => Self::SearchUnavailable(reason),
            weft_search::SearchError::Failed(reason) => Self::Internal(reason),
        }
    }
}

impl CatalogError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}
