//! Identity: customers and admins, their passwords (Argon2id), short-lived access tokens
//! (EdDSA JWTs, 15 min, verifiable by anyone through the JWKS) and rotating refresh tokens
//! (7 days, stored as digests; reusing a rotated one revokes the whole session).
//!
//! Password resets and address verification go by single-use links (stored as digests
//! only) that identity hands to whoever sends e-mail, inside an event.
//!
//! Tables owned: `identity_users`, `identity_refresh_tokens`, `identity_account_tokens`,
//! and the TOTP, recovery-code, app, API key, address and social sign-in tables.
//! Events emitted through the outbox: `UserRegistered` (with the registration),
//! `EmailVerificationRequested` (with the registration, and when asked again),
//! `PasswordResetRequested` (a forgotten password, for a known address only),
//! `AccountLocked` (when repeated failed sign-ins block an account), `UserErased` (with
//! an erasure) and `CredentialRevoked` (an app or API key revoked).
//! Invariants: a link works once, before it expires, at its own endpoint only; a new link
//! replaces the previous one of its kind; a password reset ends every session.

mod account_tokens;
pub mod addresses;
pub mod apps;
pub mod auth;
pub mod client;
pub mod domain;
pub mod email_verification;
pub mod error;
pub mod graphql;
pub mod http;
pub mod keys;
pub mod mfa;
pub mod password_reset;
pub mod passwords;
pub mod privacy;
pub mod service;
pub mod social;
mod store;
pub mod throttle;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use auth::JwtAuthenticator;
pub use error::IdentityError;
pub use graphql::IdentityQuery;
pub use http::{IdentityApi, IdentityInternalApi, api};
pub use service::IdentityService;

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "identity",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "identity",
    description: "Customers and admins, sign-in, access and refresh tokens.",
    migrations: &[&MIGRATIONS],
    paths: &[
        "/v1/auth",
        "/v1/me",
        "/v1/admin/users",
        "/v1/admin/apps",
        "/v1/admin/api-keys",
        "/v1/oauth",
        "/.well-known/jwks.json",
        "/v1/internal/credentials",
    ],
    rest: Some(|| weft_http::rest_endpoint((http::api(), http::IdentityInternalApi))),
};
