//! Orders: what was bought, for how much, and where it is in its life.
//!
//! Tables owned: `orders_orders`, `orders_lines`, `orders_history`, `orders_refunds`,
//! `orders_returns`, `orders_settlements`.
//! Events emitted (outbox, in the transaction of the change): `OrderCreated`,
//! `OrderCancelled`, `OrderFulfilled` (shipped), `OrderCompleted` (delivered),
//! `OrderRefunded`, `ReturnReceived`.
//! Events consumed: `UserErased` (the customer's orders forget their e-mail and addresses).
//! Invariants: one order per checkout; an order moves only by a named
//! [`domain::Transition`] its status allows, under its row lock, and every move is
//! recorded with who made it and when.
//!
//! Created by the checkout saga; read by their customer (`GET /v1/orders`, the PDF
//! invoice), called off or partly returned by them, and moved on by the back office
//! (`/v1/admin/orders…`: fulfilments, refunds, returns). Money goes back through the
//! [`ports::Payments`] port, served by payments' own client. Others reach orders through
//! [`client`].

pub mod after_sale;
pub mod client;
pub mod domain;
pub mod events;
pub mod graphql;
pub mod http;
pub mod invoice;
pub mod ports;
pub mod service;
mod store;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use after_sale::{Refund, RefundRequest, Return};
pub use http::{OrderApi, OrderInternalApi};
pub use service::{NewOrder, Order, OrderFilter, OrderLine, OrderService, OrdersError};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "orders",
    description: "Orders: one per checkout, their status and history, fulfilments.",
    migrations: &[&MIGRATIONS],
    paths: &[
        "/v1/orders",
        "/v1/admin/orders",
        "/v1/admin/returns",
        "/v1/internal/orders",
    ],
    rest: Some(|| weft_http::rest_endpoint((OrderApi, OrderInternalApi))),
};

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "orders",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};
