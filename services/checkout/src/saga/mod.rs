//! Completing a checkout, as a saga (`weft-saga`): one step per file, each with its
//! compensation, progress persisted after every step.
//!
//! ```text
//! validate_cart → reserve_stock → redeem_promotions → authorize_payment
//!   → create_order (pivot) → capture_payment → commit_stock → close_cart
//! ```
//!
//! A failure before the order exists undoes what ran, last first (release the hold,
//! give back promotion uses, void the payment). From `create_order` on, a run a crash
//! interrupted is finished, not undone: the customer's order stands. A run of one
//! checkout attempt has the attempt as its id (`chk_…`, then `chk_….2` after a failed
//! attempt), and every effect is keyed by it, so a step run twice acts once.

mod authorize_payment;
mod capture_payment;
mod close_cart;
mod commit_stock;
mod create_order;
mod redeem_promotions;
mod reserve_stock;
mod validate_cart;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use weft_kernel::{Clock, PostalAddress};
use weft_saga::{Saga, StepError};
use weft_storage::Db;

use crate::ports::{CartOrders, Orders, Payments, PortError};
use crate::service::{CartSummary, Carts};

/// The saga's kind in `platform_sagas`.
pub const KIND: &str = "checkout.complete";

/// What a completion carries from step to step (persisted with the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub checkout_id: String,
    /// The run's id: what stock, payment and promotion uses are keyed by.
    pub attempt: String,
    /// Chosen at the start, so a retried `create_order` makes the same order.
    pub order_id: String,
    pub cart_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub shipping_address: PostalAddress,
    pub billing_address: PostalAddress,
    pub provider: String,
    /// The gateway's token for the card (never card data).
    pub token: String,
    /// The cart as it was bought, priced by `validate_cart`.
    #[serde(default)]
    pub summary: Option<CartSummary>,
    #[serde(default)]
    pub payment_id: Option<String>,
}

impl Completion {
    /// The cart as priced by `validate_cart` (a later step without it is a bug).
    fn summary(&self) -> Result<&CartSummary, StepError> {
        self.summary
            .as_ref()
            .ok_or_else(|| StepError::failed("internal_error", "the cart was not validated"))
    }

    fn lines(&self) -> Result<Vec<(String, i64)>, StepError> {
        Ok(self
            .summary()?
            .lines
            .iter()
            .map(|l| (l.variant_id.clone(), l.quantity))
            .collect())
    }
}

impl From<PortError> for StepError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Refused { code, message } => StepError::Failed { code, message },
            PortError::Transient(m) => StepError::Transient(m),
        }
    }
}

/// The services a completion talks to.
#[derive(Clone)]
pub struct Ports {
    pub carts: Arc<dyn Carts>,
    pub cart_orders: Arc<dyn CartOrders>,
    pub stock: Arc<dyn weft_inventory::client::Inventory>,
    pub payments: Arc<dyn Payments>,
    pub orders: Arc<dyn Orders>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// How the saga runs: its lease, and the test hook that pauses it before a step.
#[derive(Debug, Clone)]
pub struct SagaSettings {
    pub lease: Duration,
    pub pause_before: Option<String>,
    /// Completions left waiting at 3-D Secure this long are undone (stock released,
    /// payment voided); `None` waits forever.
    pub abandon_after: Option<Duration>,
}

impl Default for SagaSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            pause_before: None,
            abandon_after: Some(Duration::from_mins(30)),
        }
    }
}

/// The completion saga over `ports`, persisted in `db`.
pub fn completion(
    db: Db,
    clock: Clock,
    ports: &Ports,
    settings: &SagaSettings,
) -> Saga<Completion> {
    Saga::new(KIND, db.clone(), clock.clone())
        .step(validate_cart::ValidateCart(Arc::clone(&ports.carts)))
        .step(reserve_stock::ReserveStock(Arc::clone(&ports.stock)))
        .step(redeem_promotions::RedeemPromotions(Arc::clone(
            &ports.cart_orders,
        )))
        .step(authorize_payment::AuthorizePayment(Arc::clone(
            &ports.payments,
        )))
        .step(create_order::CreateOrder(Arc::clone(&ports.orders)))
        .step(capture_payment::CapturePayment {
            payments: Arc::clone(&ports.payments),
            orders: Arc::clone(&ports.orders),
        })
        .step(commit_stock::CommitStock(Arc::clone(&ports.stock)))
        .step(close_cart::CloseCart {
            carts: Arc::clone(&ports.cart_orders),
            db,
            clock,
        })
        .pivot(create_order::NAME)
        .lease(settings.lease)
        .pause_before(settings.pause_before.clone())
        .abandon_after(settings.abandon_after)
}
