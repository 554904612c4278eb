//! The HTTP platform every Weft endpoint stands behind (poem middleware and helpers).
//!
//! - [`error::ApiError`]: a service error on its way out; every failure — unknown route,
//!   405, 413, 415, 422, 429, panic — leaves as RFC 9457 `application/problem+json`.
//! - [`json::JsonBody`]: strict JSON bodies (unknown fields rejected, per-field errors).
//! - [`form::FormBody`]: form bodies whose failures the endpoint answers itself (OAuth).
//! - [`idempotency`]: `Idempotency-Key` on mutating POSTs, stored in the database.
//! - [`stack`]: request id, tracing span and RED metrics, security headers, CORS, rate
//!   limit and body limit, composed once in [`stack::HttpStack`].
//! - [`gql`]: service errors as GraphQL errors, with the same codes.
//! - [`authz`]: who may call what — roles, app scopes, MFA enrolment — in one place.
//! - [`ServiceInfo`]: how a service crate describes itself to the composition root.

pub mod authz;
pub mod conditional;
mod done;
pub mod error;
pub mod form;
pub mod gql;
pub mod idempotency;
pub mod json;
pub mod params;
pub mod principal;
pub mod rate_limit;
pub mod stack;
#[cfg(test)]
mod tests;

pub use authz::AuthzError;
pub use done::Done;
pub use error::{ApiError, ApiResult};
pub use idempotency::Idempotency;
pub use json::JsonBody;
pub use principal::{Authenticator, Principal, PrincipalKind, Role};
pub use stack::{ClientIp, HttpStack, RequestId};

use weft_storage::migrate::MigrationSet;

/// What a service crate tells the composition root about itself. Its GraphQL parts are
/// typed values the root merges next to this.
#[derive(Debug)]
pub struct ServiceInfo {
    /// The `--service` name, e.g. `catalog`.
    pub name: &'static str,
    /// One line for `weft --help` and `/v1/meta`.
    pub description: &'static str,
    /// Tables it owns.
    pub migrations: &'static [&'static MigrationSet],
    /// The paths it answers, public and internal, as prefixes of whole segments
    /// (`/v1/products` covers `/v1/products/{id}`); a `*` segment matches any one
    /// segment (`/v1/products/*/reviews`). Where two services claim a path, the longer
    /// prefix owns it ([`owner_of`]). A process mounts [`Self::rest`] at each of them only
    /// when it hosts the service, so any other process answers 404.
    pub paths: &'static [&'static str],
    /// Its REST endpoint, expecting the absolute paths above; `None` for a service
    /// with no REST API of its own (the gateway).
    pub rest: Option<fn() -> poem::endpoint::BoxEndpoint<'static>>,
}

impl ServiceInfo {
    /// Whether `path` is one of this service's, by [`Self::paths`] (whole segments).
    pub fn claims(&self, path: &str) -> bool {
        self.claim(path).is_some()
    }

    /// How many segments of `path` this service's longest matching prefix covers.
    pub fn claim(&self, path: &str) -> Option<usize> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.paths
            .iter()
            .filter_map(|prefix| {
                let wanted: Vec<&str> = prefix.trim_start_matches('/').split('/').collect();
                let matches = wanted.len() <= segments.len()
                    && wanted
                        .iter()
                        .zip(&segments)
                        .all(|(want, got)| *want == *got || (*want == "*" && !got.is_empty()));
                matches.then_some(wanted.len())
            })
            .max()
    }
}

/// The service among `services` that owns `path`: the one whose claim is the longest
/// (`/v1/products/*/reviews` is reviews', though `/v1/products` is the catalog's).
pub fn owner_of<'s>(services: &[&'s ServiceInfo], path: &str) -> Option<&'s ServiceInfo> {
    services
        .iter()
        .filter_map(|s| s.claim(path).map(|n| (n, *s)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, s)| s)
}

/// A service's REST endpoint from its `poem-openapi` APIs (the contract documents are
/// built from the same APIs, merged, by the composition root).
pub fn rest_endpoint<T: poem_openapi::OpenApi + 'static>(
    apis: T,
) -> poem::endpoint::BoxEndpoint<'static> {
    use poem::EndpointExt as _;
    poem_openapi::OpenApiService::new(apis, "Weft", env!("CARGO_PKG_VERSION")).boxed()
}
