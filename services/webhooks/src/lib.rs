//! Outbound webhooks: apps and staff subscribe HTTPS endpoints to events; every event
//! becomes one signed delivery per subscribed endpoint, retried with exponential backoff
//! for up to three days, logged attempt by attempt, and never sent into private networks.
//!
//! Tables owned: `webhook_endpoints`, `webhook_deliveries`, `webhook_attempts`.
//! Events consumed: every subscribable event ([`domain::TOPICS`]), and `UserErased` also
//! to erase the customer's data from the log. Emitted: `WebhookEndpointDisabled` when an
//! endpoint is switched off after a delivery failed for the whole retry window.
//! Invariants: one delivery per event and endpoint, however often the event arrives
//! (the inbox, and a unique key); a delivery is attempted by one dispatcher at a time
//! (leases); every attempt connects only to addresses the target rules allow, checked as
//! the connection is made; secrets are sealed at rest and shown once.

pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod service;
pub mod store;
pub mod target;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use error::WebhooksError;
pub use http::WebhooksApi;
pub use service::{Policy, WebhooksService};

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "webhooks",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "webhooks",
    description: "Outbound webhooks: signed event deliveries to apps, retried, logged.",
    migrations: &[&MIGRATIONS],
    paths: &["/v1/admin/webhooks"],
    rest: Some(|| weft_http::rest_endpoint(WebhooksApi)),
};
