//! Notifications: events become messages to customers and staff — e-mail over SMTP, SMS
//! through Twilio, push through Expo, behind one channel trait — rendered from
//! per-locale templates, sent once per event, retried with backoff when a provider
//! fails, kept in a log staff can search and resend from. Customers choose what they
//! receive: transactional e-mail always, marketing only after opting in (with a
//! one-click unsubscribe), order updates by SMS and push if they ask.
//!
//! Tables owned: `notification_messages`, `notification_contacts`, `notification_orders`,
//! `notification_preferences`, `notification_push_tokens`.
//! Events consumed: `user.registered`, `user.email_verification_requested`,
//! `user.password_reset_requested`, `user.account_locked`, `order.created`,
//! `order.fulfilled`, `order.completed`, `order.cancelled`, `order.refunded`,
//! `order.return_received`, `inventory.low`, `webhook.endpoint_disabled`,
//! `cart.abandoned`, and
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
    description: "Notifications: e-mail, SMS and push made from events, sent once, retried, logged.",
    migrations: &[&MIGRATIONS],
    paths: &[
        "/v1/admin/notifications",
        "/v1/me/notification-preferences",
        "/v1/me/push-devices",
        "/v1/notifications",
    ],
    rest: Some(|| weft_http::rest_endpoint(NotificationsApi)),
};
