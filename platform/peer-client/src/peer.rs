//! What every service's remote client shares: the peer's address and HTTP client (its
//! timeout, the cluster's API key), retries for calls that are safe to repeat, and one
//! error that says whether the peer refused the call or could not be asked.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use weft_kernel::{FieldError, ServiceError};

/// Another process of the cluster: its base URL, and an HTTP client with the configured
/// timeout and the cluster's API key (`X-Api-Key`) when one is set.
#[derive(Debug, Clone)]
pub struct Peer {
    base_url: String,
    http: reqwest::Client,
}

impl Peer {
    /// # Errors
    /// An API key that is not a valid header value, or a client that cannot be built.
    pub fn new(base_url: &str, api_key: Option<&str>, timeout: Duration) -> Result<Self, String> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = api_key {
            let mut value = reqwest::header::HeaderValue::from_str(key)
                .map_err(|_| "peers.api_key: not a valid header value".to_owned())?;
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .default_headers(headers)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// The public API's client (public reads, `/v1/admin/…` with the key's scopes); its
    /// calls carry the caller's trace context too.
    pub fn public(&self) -> weft_sdk::Client {
        // The SDK's hook is process-wide; the first peer installs it, later ones find it.
        let _ = weft_sdk::set_request_hook(crate::pass_trace_context);
        weft_sdk::Client::new_with_client(&self.base_url, self.http.clone())
    }

    /// The internal endpoints' client (`/v1/internal/…`).
    pub fn internal(&self) -> crate::Client {
        crate::Client::new_with_client(&self.base_url, self.http.clone())
    }
}

/// What one call may cost before the caller gives up: each attempt is bounded by the
/// client's timeout, and at most three are made.
fn retry_policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_millis(500))
        .with_max_times(2)
        .with_jitter()
}

/// Calls a peer, and again (see [`retry_policy`]) while [`transient`] says it is worth it.
/// Only for calls that are safe to repeat: reads, and writes keyed by what they act for.
///
/// # Errors
/// The last attempt's error.
pub async fn retried<T, P, Fut>(call: impl FnMut() -> Fut) -> Result<T, progenitor_client::Error<P>>
where
    Fut: std::future::Future<Output = Result<T, progenitor_client::Error<P>>>,
{
    call.retry(retry_policy()).when(transient).await
}

/// Worth another try: the peer could not be reached, or failed on its side.
fn transient<P>(err: &progenitor_client::Error<P>) -> bool {
    use progenitor_client::Error;
    match err {
        Error::CommunicationError(_) | Error::ResponseBodyError(_) => true,
        Error::ErrorResponse(r) => r.status().is_server_error(),
        Error::UnexpectedResponse(r) => r.status().is_server_error(),
        _ => false,
    }
}

/// Why a call to another service did not go through, in that service's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The service refused the call itself (a 4xx other than 401, 403, 408 and 429):
    /// its problem `code` (`out_of_stock`, `variant_not_found`, …), detail and field errors.
    #[error("{service}: {code}: {message}")]
    Refused {
        service: &'static str,
        code: String,
        message: String,
        errors: Vec<FieldError>,
    },
    /// The service could not be asked, or failed on its side (a timeout, a 5xx, a
    /// refused key, storage trouble in this process): it may succeed if tried again.
    #[error("{service}: {message}")]
    Unavailable {
        service: &'static str,
        message: String,
    },
}

/// A refusal that is about the request, not the cluster: a wrong or revoked key
/// (401/403), a timeout (408) and rate limiting (429) stay transient.
fn refusal(status: u16) -> bool {
    (400..500).contains(&status) && ![401, 403, 408, 429].contains(&status)
}

impl ClientError {
    /// A service's own error, from a call made in this process: the same answer its HTTP
    /// endpoint would have made of it.
    pub fn of<E: ServiceError + std::fmt::Display>(service: &'static str, err: &E) -> Self {
        if refusal(err.kind().status()) {
            Self::Refused {
                service,
                code: err.code().to_owned(),
                message: err.to_string(),
                errors: err.field_errors(),
            }
        } else {
            Self::Unavailable {
                service,
                message: err.to_string(),
            }
        }
    }

    /// A call over HTTP (the internal endpoints or the public API) that failed.
    pub fn call<P: ProblemFields + std::fmt::Debug>(
        service: &'static str,
        err: &progenitor_client::Error<P>,
    ) -> Self {
        let progenitor_client::Error::ErrorResponse(answer) = err else {
            return Self::Unavailable {
                service,
                message: err.to_string(),
            };
        };
        let problem: &P = answer;
        if refusal(problem.status()) {
            Self::Refused {
                service,
                code: problem.code().to_owned(),
                message: problem.detail().to_owned(),
                errors: problem.field_errors(),
            }
        } else {
            Self::Unavailable {
                service,
                message: format!(
                    "{} {}: {}",
                    problem.status(),
                    problem.code(),
                    problem.detail()
                ),
            }
        }
    }

    /// What went wrong in words: the refusal's detail with each field error after it, or
    /// why the service could not be asked.
    pub fn detail(&self) -> String {
        match self {
            Self::Refused {
                message, errors, ..
            } => errors.iter().fold(message.clone(), |mut out, e| {
                out.push_str("; ");
                out.push_str(&e.field);
                out.push(' ');
                out.push_str(&e.message);
                out
            }),
            Self::Unavailable { service, message } => format!("{service}: {message}"),
        }
    }

    /// The refusal's code, if the service refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            Self::Unavailable { .. } => None,
        }
    }
}

/// What [`ClientError::call`] reads of a problem answer, whichever client read it.
pub trait ProblemFields {
    fn status(&self) -> u16;
    fn code(&self) -> &str;
    fn detail(&self) -> &str;
    fn field_errors(&self) -> Vec<FieldError>;
}

/// Both generated clients' `Problem`s: the same RFC 9457 shape.
macro_rules! problem_fields {
    ($problem:ty) => {
        impl ProblemFields for $problem {
            fn status(&self) -> u16 {
                self.status
            }
            fn code(&self) -> &str {
                &self.code
            }
            fn detail(&self) -> &str {
                &self.detail
            }
            fn field_errors(&self) -> Vec<FieldError> {
                self.errors
                    .iter()
                    .map(|e| FieldError::new(e.field.clone(), e.message.clone()))
                    .collect()
            }
        }
    };
}
problem_fields!(crate::types::Problem);
problem_fields!(weft_sdk::types::Problem);

#[cfg(test)]
mod tests {
    use super::*;

    /// A service error of any kind, for [`ClientError::of`].
    #[derive(Debug)]
    struct Failed(weft_kernel::ErrorKind, &'static str);

    impl std::fmt::Display for Failed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.1)
        }
    }

    impl std::error::Error for Failed {}

    impl ServiceError for Failed {
        fn kind(&self) -> weft_kernel::ErrorKind {
            self.0
        }
        fn code(&self) -> &'static str {
            self.1
        }
    }

    #[test]
    fn a_local_error_reads_as_its_http_answer_would() {
        use weft_kernel::ErrorKind;
        let refused = ClientError::of("inventory", &Failed(ErrorKind::Conflict, "out_of_stock"));
        assert_eq!(refused.code(), Some("out_of_stock"));
        assert_eq!(refused.to_string(), "inventory: out_of_stock: out_of_stock");
        for kind in [
            ErrorKind::Unavailable,
            ErrorKind::Internal,
            ErrorKind::Forbidden,
        ] {
            let err = ClientError::of("inventory", &Failed(kind, "database_unavailable"));
            assert_eq!(err.code(), None, "{kind:?} is worth another try");
        }
    }

    #[test]
    fn only_refusals_of_the_request_itself_are_refusals() {
        for (status, refused) in [
            (400, true),
            (404, true),
            (409, true),
            (422, true),
            (401, false),
            (403, false),
            (408, false),
            (429, false),
            (500, false),
            (503, false),
        ] {
            assert_eq!(refusal(status), refused, "{status}");
        }
    }
}
