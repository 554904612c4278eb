//! Everything identity can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Same answer whether the email exists or not.
    #[error("email or password is incorrect")]
    BadCredentials,
    #[error("the refresh token is invalid, expired or revoked")]
    BadRefreshToken,
    #[error("a valid access token is required")]
    Unauthenticated,
    #[error("this needs the `{0}` role")]
    Forbidden(&'static str),
    #[error("too many failed sign-ins; try again later")]
    Throttled(std::time::Duration),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("identity internal error: {0}")]
    Internal(String),
}

impl ServiceError for IdentityError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::EmailTaken => ErrorKind::Conflict,
            Self::BadCredentials | Self::BadRefreshToken | Self::Unauthenticated => {
                ErrorKind::Unauthenticated
            }
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::Throttled(_) => ErrorKind::TooManyRequests,
            Self::Storage(e) => e.kind(),
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::EmailTaken => "email_taken",
            Self::BadCredentials => "invalid_credentials",
            Self::BadRefreshToken => "invalid_refresh_token",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::Throttled(_) => "login_throttled",
            Self::Storage(e) => e.code(),
            Self::Internal(_) => "internal_error",
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Throttled(wait) => Some(*wait),
            _ => None,
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}
