//! Everything webhooks can refuse, with its status (through `kind`) and stable `code`.

use weft_kernel::{ErrorKind, FieldError, ServiceError};
use weft_storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum WebhooksError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such webhook endpoint")]
    EndpointNotFound,
    #[error("no such delivery")]
    DeliveryNotFound,
    #[error("the endpoint is disabled: enable it first (PATCH with enabled: true)")]
    EndpointDisabled,
    #[error("the delivery is being sent or waits for its next attempt already")]
    DeliveryPending,
    #[error("the delivery's body was erased with its customer's data")]
    DeliveryErased,
    #[error("secrets could not be sealed or opened: {0}")]
    Secrets(String),
    #[error(transparent)]
    Authz(#[from] weft_http::AuthzError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for WebhooksError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::EndpointNotFound | Self::DeliveryNotFound => ErrorKind::NotFound,
            Self::EndpointDisabled | Self::DeliveryPending | Self::DeliveryErased => {
                ErrorKind::Conflict
            }
            Self::Secrets(_) => ErrorKind::Internal,
            Self::Authz(e) => e.kind(),
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::EndpointNotFound => "webhook_not_found",
            Self::DeliveryNotFound => "delivery_not_found",
            Self::EndpointDisabled => "webhook_disabled",
            Self::DeliveryPending => "delivery_pending",
            Self::DeliveryErased => "delivery_erased",
            Self::Secrets(_) => "internal_error",
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

impl WebhooksError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<weft_secrets::SecretsError> for WebhooksError {
    fn from(e: weft_secrets::SecretsError) -> Self {
        Self::Secrets(e.to_string())
    }
}
