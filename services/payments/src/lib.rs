//! Payments: one [`PaymentProvider`] trait over payment gateways, the built-in `test`
//! gateway (the embedded default, deterministic test tokens), and a contract suite
//! ([`testsuite`]) every provider passes.
//!
//! Tables owned: `payments_test_intents`, `payments_test_refunds` (the `test` gateway's
//! own ledger, as a real gateway keeps one on its side).
//! Invariants: no card data ever reaches Weft, only gateway tokens and references; one
//! authorization per idempotency key; captures never exceed what was authorized, refunds
//! never exceed what was captured.
//!
//! Still to come with the checkout saga (issue 7): the payments log, `GET
//! /v1/admin/payments`, the Stripe provider and its webhooks.

pub mod provider;
pub mod test_gateway;
pub mod testsuite;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use provider::{Authorization, Authorize, PaymentProvider, ProviderError, WebhookEvent};
pub use test_gateway::TestGateway;

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "payments",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "payments",
    description: "Payment gateways: authorize, capture, void, refund.",
    migrations: &[&MIGRATIONS],
};
