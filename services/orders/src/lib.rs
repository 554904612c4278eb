//! Orders: what was bought, for how much, and where it is in its life.
//!
//! Tables owned: `orders_orders`, `orders_lines`, `orders_history`.
//! Events emitted (outbox, in the transaction of the change): `OrderCreated`,
//! `OrderCancelled`, `OrderCompleted` (delivered).
//! Invariants: one order per checkout; an order moves only by a named
//! [`domain::Transition`] its status allows, under its row lock, and every move is
//! recorded with who made it and when.
//!
//! Still to come with issue 7: the customer and admin endpoints, fulfilments, returns,
//! the invoice, and the checkout saga that creates orders.

pub mod domain;
pub mod service;
mod store;

use weft_storage::migrate::MigrationSet;

pub use service::{NewOrder, Order, OrderLine, OrderService, OrdersError};

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "orders",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};
