//! Inventory: how many of each variant are on hand at each location, how many are held
//! by checkouts (reservations with a time to live), and which variants run low.
//!
//! Tables owned: `inventory_locations`, `inventory_items` (per variant: threshold,
//! backorders), `inventory_levels` (per variant and location: on hand, reserved),
//! `inventory_reservations`.
//! Events emitted: `InventoryLow` when a variant's available stock falls to its threshold
//! (once per crossing), through the outbox.
//! Invariants: available (on hand − reserved) never goes below zero for a variant that
//! does not allow backorders — every reservation is one guarded `UPDATE … WHERE on_hand -
//! reserved >= n`, which PostgreSQL re-checks under the row lock and SQLite runs inside
//! `BEGIN IMMEDIATE`; a reservation is active, released, committed or expired, and only an
//! active one changes state.

pub mod client;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod service;
mod store;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use error::InventoryError;
pub use http::{InventoryApi, InventoryInternalApi};
pub use service::InventoryService;

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "inventory",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "inventory",
    description: "Stock per variant and location, reservations, low-stock alerts.",
    migrations: &[&MIGRATIONS],
    paths: &["/v1/inventory", "/v1/admin/inventory", "/v1/internal/holds"],
    rest: Some(|| weft_http::rest_endpoint((InventoryApi, InventoryInternalApi))),
};
