//! Payments: one [`PaymentProvider`] trait over payment gateways, the built-in `test`
//! gateway (the embedded default, deterministic test tokens), the `stripe` gateway
//! ([`stripe`], on when `payments.stripe_secret_key` is set), the `none` provider
//! ([`no_charge`]: an order whose total is 0, recorded without a gateway, always
//! there), and a contract suite (`testsuite`, behind the feature of that name) every
//! provider passes.
//!
//! Tables owned: `payments_payments`, `payments_transactions` (the log),
//! `payments_webhook_events` (gateway events processed, by id: replays do nothing), and
//! `payments_test_intents`, `payments_test_refunds` (the `test` gateway's own ledger, as
//! a real gateway keeps one on its side).
//! Invariants: no card data ever reaches Weft, only gateway tokens and references; one
//! authorization per idempotency key; captures never exceed what was authorized, refunds
//! never exceed what was captured.
//!
//! The payments log ([`service::PaymentService`], `payments_payments` and
//! `payments_transactions`) is Weft's own record of every payment and every call made to
//! its gateway, listed at `GET /v1/admin/payments`. Events emitted (outbox):
//! `PaymentSucceeded` (captured), `PaymentFailed` (declined).

pub mod client;
pub mod http;
pub mod no_charge;
pub mod provider;
pub mod service;
mod store;
pub mod stripe;
pub mod test_gateway;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use http::{PaymentApi, PaymentInternalApi};
pub use no_charge::{NO_CHARGE, NoCharge};
pub use provider::{Authorization, Authorize, PaymentProvider, ProviderError, WebhookEvent};
pub use service::{
    NewPayment, Payment, PaymentService, PaymentStatus, PaymentsError, WebhookOutcome,
};
pub use stripe::{StripeConfig, StripeGateway};
pub use test_gateway::TestGateway;

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "payments",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub use http::WebhookApi;

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "payments",
    description: "Payment gateways: authorize, capture, void, refund.",
    migrations: &[&MIGRATIONS],
    paths: &[
        "/v1/admin/payments",
        "/v1/webhooks",
        "/v1/internal/payment-providers",
        "/v1/internal/payments",
        "/v1/internal/checkout-attempts",
    ],
    rest: Some(|| weft_http::rest_endpoint((PaymentApi, WebhookApi, PaymentInternalApi))),
};
