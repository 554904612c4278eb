//! Checkout: a cart on its way to becoming an order. A checkout is made from a cart and
//! collects the buyer's e-mail, the shipping and billing addresses (validated as the
//! address book validates them) and the shipping method; its summary is the cart priced
//! for that destination — every total computed by the cart service, never here.
//!
//! Completing it is a saga ([`saga`]): stock held, payment authorized, order made,
//! payment captured, stock committed, cart closed — every step undone on failure, and a
//! run a crash interrupted resumed or compensated at the next start.
//!
//! Tables owned: `checkout_checkouts` (and its runs in the shared `platform_sagas`).
//! Talks to: carts, inventory, payments and orders through their own clients
//! (`weft_<service>::client`), in-process or over HTTP; [`ports`] words their refusals as
//! a completion ends with them.
//! Invariants: a checkout belongs to its cart's owner (a guest checkout to whoever holds
//! its id); the cart's destination follows the checkout's shipping address; one attempt
//! runs at a time, and a checkout makes at most one order.

pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ports;
pub mod saga;
pub mod service;
mod store;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use error::CheckoutError;
pub use http::CheckoutApi;
pub use service::CheckoutService;

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "checkout",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "checkout",
    description: "Checkouts: e-mail, addresses, shipping method, summary, completion.",
    migrations: &[&MIGRATIONS],
    paths: &["/v1/checkouts"],
    rest: Some(|| weft_http::rest_endpoint(CheckoutApi)),
};
