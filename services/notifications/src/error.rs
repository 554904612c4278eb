//! Everything notifications can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such notification")]
    NotFound,
    #[error("only a failed notification can be sent again; this one is {0}")]
    NotFailed(&'static str),
    #[error("the notification's body was forgotten (a single-use link, or an erasure)")]
    Forgotten,
    #[error("this unsubscribe link is not valid")]
    InvalidUnsubscribeToken,
    #[error("no such device is registered for you")]
    PushTokenNotFound,
    #[error("sealing: {0}")]
    Sealing(String),
    #[error(transparent)]
    Authz(#[from] weft_http::AuthzError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for NotificationsError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) | Self::InvalidUnsubscribeToken => ErrorKind::Invalid,
            Self::NotFound | Self::PushTokenNotFound => ErrorKind::NotFound,
            Self::NotFailed(_) | Self::Forgotten => ErrorKind::Conflict,
            Self::Sealing(_) => ErrorKind::Internal,
            Self::Authz(e) => e.kind(),
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "notification_not_found",
            Self::NotFailed(_) => "notification_not_failed",
            Self::Forgotten => "notification_forgotten",
            Self::InvalidUnsubscribeToken => "invalid_unsubscribe_token",
            Self::PushTokenNotFound => "push_token_not_found",
            Self::Sealing(_) => "internal_error",
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

impl NotificationsError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}
