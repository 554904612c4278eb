//! Errors as clients see them. Every service error enum implements [`ServiceError`]: a
//! `kind()` from a small fixed set that alone decides the HTTP status, and a stable
//! snake_case `code()` that is never renamed. [`Problem`] is the RFC 9457 body they
//! render to — and the wire format between processes, so a remote client can turn a
//! `code` back into the same error.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

/// The closed set of error categories; the status code follows from the kind alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    BadRequest,
    NotFound,
    Invalid,
    Conflict,
    Unauthenticated,
    Forbidden,
    PaymentRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    MethodNotAllowed,
    TooManyRequests,
    Unavailable,
    BadGateway,
    GatewayTimeout,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthenticated => 401,
            Self::PaymentRequired => 402,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Invalid => 422,
            Self::TooManyRequests => 429,
            Self::Internal => 500,
            Self::BadGateway => 502,
            Self::Unavailable => 503,
            Self::GatewayTimeout => 504,
        }
    }

    /// The short, fixed title of RFC 9457 for this kind.
    pub fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::Unauthenticated => "Authentication required",
            Self::PaymentRequired => "Payment required",
            Self::Forbidden => "Forbidden",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict => "Conflict",
            Self::PayloadTooLarge => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Invalid => "Validation failed",
            Self::TooManyRequests => "Too many requests",
            Self::Internal => "Internal server error",
            Self::BadGateway => "Bad gateway",
            Self::Unavailable => "Service unavailable",
            Self::GatewayTimeout => "Gateway timeout",
        }
    }

    /// Server-side failures: their details are logged, never sent.
    pub fn is_server_error(self) -> bool {
        self.status() >= 500
    }
}

/// Implemented by every service's error enum.
pub trait ServiceError: std::error::Error + Send + Sync + 'static {
    fn kind(&self) -> ErrorKind;
    /// Stable snake_case code, e.g. `insufficient_stock`. Part of the public contract.
    fn code(&self) -> &'static str;
    /// Per-field details for validation errors.
    fn field_errors(&self) -> Vec<FieldError> {
        Vec::new()
    }
    /// For refusals that end (429, 503): when to try again, sent as `Retry-After`.
    fn retry_after(&self) -> Option<std::time::Duration> {
        None
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
pub struct FieldError {
    /// Where the problem is, as a path into the body (`shipping_address.postal_code`) or a parameter name.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Object)]
#[oai(rename = "Problem")]
pub struct Problem {
    /// A URI identifying the problem type; its last segment is `code`.
    #[serde(rename = "type")]
    #[oai(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `out_of_stock`.
    pub code: String,
    /// Per-field errors, present for validation failures (422).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[oai(skip_serializing_if_is_empty, default)]
    pub errors: Vec<FieldError>,
    /// The `X-Request-Id` of the request, to quote when asking for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
}

/// Base of every problem `type` URI; docs/errors.md lists the codes.
pub const PROBLEM_TYPE_BASE: &str = "https://weft.dev/problems/";

impl Problem {
    pub fn new(kind: ErrorKind, code: &str, detail: impl Into<String>) -> Self {
        Self {
            type_: format!("{PROBLEM_TYPE_BASE}{code}"),
            title: kind.title().to_owned(),
            status: kind.status(),
            detail: detail.into(),
            code: code.to_owned(),
            errors: Vec::new(),
            request_id: None,
        }
    }

    #[must_use]
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Renders a service error; server-side errors get a generic detail so nothing
    /// internal (SQL, paths, stack traces) reaches a client.
    pub fn from_error<E: ServiceError + ?Sized>(err: &E) -> Self {
        let kind = err.kind();
        let detail = if kind.is_server_error() {
            "The server could not complete the request. Quote the request id when reporting it."
                .to_owned()
        } else {
            err.to_string()
        };
        Self::new(kind, err.code(), detail).with_errors(err.field_errors())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum DemoError {
        #[error("variant is out of stock")]
        OutOfStock,
        #[error("database said: relation \"secret_table\" does not exist")]
        Database,
    }

    impl ServiceError for DemoError {
        fn kind(&self) -> ErrorKind {
            match self {
                Self::OutOfStock => ErrorKind::Conflict,
                Self::Database => ErrorKind::Internal,
            }
        }
        fn code(&self) -> &'static str {
            match self {
                Self::OutOfStock => "out_of_stock",
                Self::Database => "internal_error",
            }
        }
    }

    #[test]
    fn a_client_error_renders_its_message_and_code() {
        let p = Problem::from_error(&DemoError::OutOfStock);
        assert_eq!(p.status, 409);
        assert_eq!(p.code, "out_of_stock");
        assert_eq!(p.type_, "https://weft.dev/problems/out_of_stock");
        assert_eq!(p.detail, "variant is out of stock");
        let json = serde_json::to_value(&p).unwrap();
        assert!(
            json.get("errors").is_none(),
            "empty errors are omitted: {json}"
        );
        assert_eq!(json["type"], "https://weft.dev/problems/out_of_stock");
    }

    #[test]
    fn a_server_error_never_leaks_its_cause() {
        let p = Problem::from_error(&DemoError::Database);
        assert_eq!(p.status, 500);
        assert!(!p.detail.contains("secret_table"), "{}", p.detail);
    }
}
