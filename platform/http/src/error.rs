//! One mapping from every failure to a problem+json response.
//!
//! Handlers return [`ApiResult`]; any [`ServiceError`] converts into [`ApiError`] with `?`.
//! Failures raised by poem and poem-openapi themselves (no route, wrong method, bad
//! parameter, wrong content type) are translated in [`problem_for`], so a client never
//! sees a plain-text error.

use poem::http::StatusCode;
use poem::{Response, error::ResponseError};
use poem_openapi::ApiResponse;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::Type;
use weft_kernel::{ErrorKind, FieldError, Problem, ServiceError};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// A failure on its way to the client, already reduced to its public shape. The cause
/// is kept for the log line, never rendered.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub struct ApiError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Sent as `Retry-After` (whole seconds, rounded up).
    pub retry_after: Option<std::time::Duration>,
    #[source]
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(kind: ErrorKind, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            cause: None,
        }
    }

    /// A 422 listing the invalid fields.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("`{}`: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self {
            errors,
            ..Self::new(ErrorKind::Invalid, "validation_failed", detail)
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", detail)
    }

    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            cause: Some(Box::new(cause)),
            ..Self::new(ErrorKind::Internal, "internal_error", "internal error")
        }
    }

    /// The public body; server-side details are replaced by a generic sentence.
    pub fn problem(&self) -> Problem {
        let detail = if self.kind.is_server_error() && self.kind != ErrorKind::Unavailable {
            "The server could not complete the request. Quote the request id when reporting it."
                .to_owned()
        } else {
            self.detail.clone()
        };
        Problem::new(self.kind, self.code, detail).with_errors(self.errors.clone())
    }
}

impl<E: ServiceError> From<E> for ApiError {
    fn from(err: E) -> Self {
        Self {
            kind: err.kind(),
            code: err.code(),
            detail: err.to_string(),
            errors: err.field_errors(),
            retry_after: err.retry_after(),
            cause: Some(Box::new(err)),
        }
    }
}

impl ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn as_response(&self) -> Response {
        problem_response(&self.problem())
    }
}

/// Documents the error responses of every operation: any status, a [`Problem`] body.
impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![problem_meta("4XX"), problem_meta("5XX")],
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// One response range whose body is a [`Problem`]. Ranges rather than `default`: the
/// generated Rust client treats `default` as a success type.
fn problem_meta(range: &str) -> MetaResponse {
    MetaResponse {
        description: "An RFC 9457 problem: `status` and the stable `code` say what went wrong.",
        status: None,
        status_range: Some(range.to_owned()),
        // The server sends `application/problem+json`; the same body is listed as
        // `application/json` too so generated clients (progenitor) type it.
        content: vec![
            MetaMediaType {
                content_type: PROBLEM_CONTENT_TYPE,
                schema: Problem::schema_ref(),
            },
            MetaMediaType {
                content_type: "application/json",
                schema: Problem::schema_ref(),
            },
        ],
        headers: vec![],
    }
}

/// Serializes a problem with its content type.
pub fn problem_response(problem: &Problem) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type(PROBLEM_CONTENT_TYPE)
        .body(body)
}

/// The response for an error that reached the edge: its problem, quoting the request id,
/// with the matched route kept for metrics. Server-side failures are logged here, once.
pub fn render_error(err: &poem::Error, request_id: Option<&str>) -> Response {
    let mut problem = problem_for(err);
    if problem.status >= 500 {
        tracing::error!(error = %err, source = ?std::error::Error::source(err), "request failed");
    }
    problem.request_id = request_id.map(str::to_owned);
    let mut resp = problem_response(&problem);
    if let Some(pattern) = err.data::<poem::PathPattern>() {
        resp.set_data(pattern.clone());
    }
    if let Some(wait) = err.downcast_ref::<ApiError>().and_then(|e| e.retry_after) {
        let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        resp.headers_mut()
            .insert(poem::http::header::RETRY_AFTER, seconds.into());
    }
    resp
}

/// Translates any error that reached the edge into the problem a client receives.
pub fn problem_for(err: &poem::Error) -> Problem {
    use poem::error::{MethodNotAllowedError, NotFoundError};
    use poem_openapi::error::{
        ContentTypeError, ParseMultipartError, ParseParamError, ParsePathError,
        ParseRequestPayloadError,
    };

    if let Some(api) = err.downcast_ref::<ApiError>() {
        return api.problem();
    }
    if err.is::<NotFoundError>() {
        return Problem::new(ErrorKind::NotFound, "not_found", "No such route.");
    }
    if err.is::<MethodNotAllowedError>() {
        return Problem::new(
            ErrorKind::MethodNotAllowed,
            "method_not_allowed",
            "This route does not accept that method.",
        );
    }
    if let Some(e) = err.downcast_ref::<ParsePathError>() {
        // A path segment that does not parse (an id of the wrong type) names nothing.
        return Problem::new(
            ErrorKind::NotFound,
            "not_found",
            format!("No resource has that `{}`.", e.name),
        );
    }
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        return ApiError::validation(vec![FieldError::new(e.name, e.reason.clone())]).problem();
    }
    if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        return ApiError::validation(vec![FieldError::new("body", e.reason.clone())]).problem();
    }
    if let Some(e) = err.downcast_ref::<ParseMultipartError>() {
        return ApiError::validation(vec![FieldError::new("body", e.reason.clone())]).problem();
    }
    if let Some(e) = err.downcast_ref::<ContentTypeError>() {
        return Problem::new(
            ErrorKind::UnsupportedMediaType,
            "unsupported_media_type",
            e.to_string(),
        );
    }
    let status = err.status();
    let kind = kind_for_status(status);
    let detail = if kind.is_server_error() {
        "The server could not complete the request. Quote the request id when reporting it."
            .to_owned()
    } else {
        err.to_string()
    };
    Problem::new(kind, code_for(kind), detail)
}

/// The problem for an error answer that carries no body of its own (a bare status from
/// a handler or from poem): the same status, its stable code, and its reason as detail.
pub fn problem_for_status(status: StatusCode) -> Problem {
    let kind = kind_for_status(status);
    let code = match status.as_u16() {
        414 => "uri_too_long",
        431 => "headers_too_large",
        _ => code_for(kind),
    };
    let detail = match status.as_u16() {
        404 => "Nothing is here.".to_owned(),
        _ if kind.is_server_error() => {
            "The server could not complete the request. Quote the request id when reporting it."
                .to_owned()
        }
        _ => format!(
            "{}.",
            status
                .canonical_reason()
                .unwrap_or("The request was refused")
        ),
    };
    let mut problem = Problem::new(kind, code, detail);
    if problem.status != status.as_u16() {
        // A status without a kind of its own (414, 431…) keeps its number and reason.
        problem.status = status.as_u16();
        status
            .canonical_reason()
            .unwrap_or("Error")
            .clone_into(&mut problem.title);
    }
    problem
}

fn code_for(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BadRequest => "bad_request",
        ErrorKind::Unauthenticated => "unauthenticated",
        ErrorKind::Forbidden => "forbidden",
        ErrorKind::NotFound => "not_found",
        ErrorKind::MethodNotAllowed => "method_not_allowed",
        ErrorKind::Conflict => "conflict",
        ErrorKind::PayloadTooLarge => "payload_too_large",
        ErrorKind::UnsupportedMediaType => "unsupported_media_type",
        ErrorKind::Invalid => "validation_failed",
        ErrorKind::TooManyRequests => "rate_limited",
        ErrorKind::PaymentRequired => "payment_required",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::BadGateway => "bad_gateway",
        ErrorKind::GatewayTimeout => "gateway_timeout",
        ErrorKind::Internal => "internal_error",
    }
}

fn kind_for_status(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        401 => ErrorKind::Unauthenticated,
        402 => ErrorKind::PaymentRequired,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        405 => ErrorKind::MethodNotAllowed,
        409 => ErrorKind::Conflict,
        413 => ErrorKind::PayloadTooLarge,
        415 => ErrorKind::UnsupportedMediaType,
        422 => ErrorKind::Invalid,
        429 => ErrorKind::TooManyRequests,
        502 => ErrorKind::BadGateway,
        503 => ErrorKind::Unavailable,
        504 => ErrorKind::GatewayTimeout,
        400..=499 => ErrorKind::BadRequest,
        _ => ErrorKind::Internal,
    }
}
