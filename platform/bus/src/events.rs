//! The events services publish to each other. This is a published contract: add fields
//! with `#[serde(default)]`, never rename; an incompatible change is a new `VERSION`.

use serde::{Deserialize, Serialize};
use weft_kernel::Money;

use crate::Event;

macro_rules! event {
    ($name:ident, $wire:literal, $aggregate:ident) => {
        impl Event for $name {
            const TYPE: &'static str = $wire;
            fn aggregate_id(&self) -> String {
                self.$aggregate.clone()
            }
        }
    };
}

/// A customer account was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRegistered {
    pub user_id: String,
    pub email: String,
    pub name: String,
}
event!(UserRegistered, "user.registered", user_id);

/// Sign-in to an account was blocked after repeated failures (tell its holder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLocked {
    pub user_id: String,
    pub email: String,
    pub locked_until: chrono::DateTime<chrono::Utc>,
}
event!(AccountLocked, "user.account_locked", user_id);

/// Someone asked to reset an account's password (`POST /v1/auth/password/forgot`): send
/// the holder a link with `token`, which works once until `expires_at`. Identity keeps
/// only the token's hash; the token travels in this event alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}
event!(
    PasswordResetRequested,
    "user.password_reset_requested",
    user_id
);

/// An account's e-mail address needs confirming (at registration, or asked again): send
/// a link with `token`, which works once until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailVerificationRequested {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}
event!(
    EmailVerificationRequested,
    "user.email_verification_requested",
    user_id
);

/// A customer's personal data was erased at their request: every service that holds
/// some (orders, reviews, notifications) anonymises it, keeping what the law requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserErased {
    pub user_id: String,
    pub erased_at: chrono::DateTime<chrono::Utc>,
}
event!(UserErased, "user.erased", user_id);

/// An order was placed (and its payment authorized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub order_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub total: Money,
    pub item_count: u32,
    /// What it bought (reviews mark buyers' reviews as verified purchases).
    #[serde(default)]
    pub lines: Vec<Units>,
}
event!(OrderCreated, "order.created", order_id);

/// An order was handed to its carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFulfilled {
    pub order_id: String,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
}
event!(OrderFulfilled, "order.fulfilled", order_id);

/// An order was delivered and is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCompleted {
    pub order_id: String,
}
event!(OrderCompleted, "order.completed", order_id);

/// Units of one variant, as an order or a return moves them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    pub variant_id: String,
    pub quantity: i64,
}

/// An order was cancelled before fulfilment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: String,
    pub reason: String,
    /// What the order bought.
    #[serde(default)]
    pub lines: Vec<Units>,
    /// The units left the shelf and go back on it (a paid order called off). `false`
    /// when checkout undid its own order: its hold was released, nothing was taken.
    #[serde(default)]
    pub restock: bool,
    /// The payment that paid it, if it was paid.
    #[serde(default)]
    pub payment_id: Option<String>,
}
event!(OrderCancelled, "order.cancelled", order_id);

/// Money went back to the customer of an order (all or part of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRefunded {
    pub order_id: String,
    pub refund_id: String,
    pub amount: Money,
    /// Given back in all, this refund included.
    pub refunded_total: Money,
    pub reason: String,
}
event!(OrderRefunded, "order.refunded", order_id);

/// Returned units arrived at the warehouse; `restock` says whether they can be sold
/// again (not when damaged or worn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnReceived {
    pub return_id: String,
    pub order_id: String,
    pub lines: Vec<Units>,
    pub restock: bool,
}
event!(ReturnReceived, "order.return_received", return_id);

/// A payment was captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub payment_id: String,
    pub order_id: String,
    pub amount: Money,
    pub provider: String,
}
event!(PaymentSucceeded, "payment.succeeded", payment_id);

/// A payment was declined or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub payment_id: String,
    pub checkout_id: String,
    pub amount: Money,
    pub provider: String,
    /// The decline code, e.g. `card_declined`.
    pub code: String,
}
event!(PaymentFailed, "payment.failed", payment_id);

/// A variant's available stock fell to or below its low-stock threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryLow {
    pub variant_id: String,
    pub available: i64,
    pub threshold: i64,
}
event!(InventoryLow, "inventory.low", variant_id);

/// A product (or one of its variants) was created, changed or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductUpdated {
    pub product_id: String,
    /// `created`, `updated` or `deleted`.
    pub change: String,
}
event!(ProductUpdated, "product.updated", product_id);

/// A variant's stock status changed (`in_stock`, `low_stock`, `out_of_stock`, or
/// `backorder`: none available but it sells anyway). `version` grows with every change
/// of the variant's status, so a consumer can ignore one that arrives late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockStatusChanged {
    pub variant_id: String,
    pub status: String,
    pub available: i64,
    pub version: i64,
}
event!(
    StockStatusChanged,
    "inventory.stock_status_changed",
    variant_id
);

/// A product's published ratings changed: how many reviews gave each of 1–5 stars.
/// `version` grows with every summary of the product, so a late one can be ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRated {
    pub product_id: String,
    /// Reviews with 1, 2, 3, 4 and 5 stars.
    pub distribution: [i64; 5],
    pub version: i64,
}
event!(ProductRated, "review.product_rated", product_id);

/// An app's OAuth client or an API key was revoked: what it set up for itself (webhook
/// endpoints) stops serving it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRevoked {
    /// `app_…` or `key_…`: the principal id requests made with it carried.
    pub credential_id: String,
    pub revoked_at: chrono::DateTime<chrono::Utc>,
}
event!(
    CredentialRevoked,
    "identity.credential_revoked",
    credential_id
);

/// Weft stopped delivering to a webhook endpoint: a delivery failed for the whole retry
/// window (tell the shop's staff, and the app that owns it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpointDisabled {
    pub endpoint_id: String,
    pub url: String,
    /// The app that subscribed it; `None` for the shop's own.
    pub owner_id: Option<String>,
    pub reason: String,
}
event!(
    WebhookEndpointDisabled,
    "webhook.endpoint_disabled",
    endpoint_id
);

/// A signed-in customer's cart has had lines in it and no change for the shop's
/// `cart.abandoned_after_seconds` (a reminder may follow, to those who allow marketing).
/// Emitted once per quiet spell: a change and a new spell make another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartAbandoned {
    pub cart_id: String,
    pub customer_id: String,
    /// Units in the cart.
    pub item_count: i64,
    /// Its last change.
    pub last_changed_at: chrono::DateTime<chrono::Utc>,
}
event!(CartAbandoned, "cart.abandoned", cart_id);

/// The mean of ratings counted per star (1 to 5), to two decimals; `None` for none.
pub fn rating_average(distribution: &[i64; 5]) -> Option<f64> {
    let count: i64 = distribution.iter().sum();
    let sum: i64 = distribution
        .iter()
        .zip(1..)
        .map(|(n, stars)| n * stars)
        .sum();
    #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
    (count > 0).then(|| (sum as f64 / count as f64 * 100.0).round() / 100.0)
}
