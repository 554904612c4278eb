//! Notifications: events become messages to customers and staff — e-mail over SMTP
//! today, behind a channel trait SMS and push providers plug into — rendered from
//! per-locale templates, sent once per event, retried with backoff when a provider
//! fails, kept in a log staff can search and resend from.
//!
//! Tables owned: `notification_messages`, `notification_contacts`, `notification_orders`.
//! Events consumed: `user.registered`, `user.email_verification_requested`,
//! `user.password_reset_requested`, `user.account_locked`, `order.created`,
//! `order.fulfilled`, `order.completed`, `order.cancelled`, `order.refunded`,
//! `order.return_received`, `inventory.low`, `webhook.endpoint_disabled`, and
//! `user.erased` (the customer leaves the log). Emitted: none.
//! Invariants: one message per event, kind, channel and recipient, however often the
//! event arrives (the inbox, and a unique key); a message is attempted by one dispatcher
//! at a time (leases); a single-use link leaves the log once its message is sent.

pub mod channels;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod service;
pub mod store;
pub mod templates;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use error::NotificationsError;
pub use http::NotificationsApi;
pub use service::{NotificationsService, Policy};

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "notifications",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "notifications",
    description: "Notifications: e-mail made from events, sent once, retried, logged.",
    migrations: &[&MIGRATIONS],
    paths: &["/v1/admin/notifications"],
    rest: Some(|| weft_http::rest_endpoint(NotificationsApi)),
};
