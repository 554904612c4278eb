//! Carts: a guest's or a customer's lines of variants, priced by the catalog at every
//! read (a client never sets a price), checked against inventory when a line grows, with
//! subtotal, discounts, shipping, tax and total recomputed on the server.
//!
//! Tables owned: `cart_carts`, `cart_items`, `cart_promotions`, `cart_applied_promotions`,
//! `cart_promotion_redemptions`, `cart_abandonments`.
//! Events emitted: `cart.abandoned` (a customer's cart went quiet with lines in it; once
//! per quiet spell).
//! Talks to: the catalog (variant, product state and price) and inventory (available
//! stock) through their own clients ([`weft_catalog::client`], [`weft_inventory::client`])
//! — in-process embedded, over HTTP in a cluster.
//! Invariants: 1–`max_quantity` units per line, one line per variant; a cart expires
//! 7 days after its last change and is then 404; a customer's cart is theirs alone (404
//! to anyone else); amounts are integer minor units, tax rounded half to even.

pub mod client;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod promotions;
pub mod service;
mod store;

use weft_http::ServiceInfo;
use weft_storage::migrate::MigrationSet;

pub use error::CartError;
pub use http::{CartApi, CartInternalApi, PromotionApi};
pub use service::CartService;

pub static MIGRATIONS: MigrationSet = MigrationSet {
    owner: "cart",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

pub static SERVICE: ServiceInfo = ServiceInfo {
    name: "cart",
    description: "Guest and customer carts with server-side totals.",
    migrations: &[&MIGRATIONS],
    paths: &[
        "/v1/carts",
        "/v1/admin/promotions",
        "/v1/internal/carts",
        "/v1/internal/redemptions",
    ],
    rest: Some(http::endpoint),
};
