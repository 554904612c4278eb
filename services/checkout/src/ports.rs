//! What completing a checkout asks of the other services: stock held and committed,
//! a payment authorized and captured, an order made, promotion uses counted, the cart
//! closed. In-process embedded, over HTTP in a cluster (`platform/server`'s ports); every call is safe to repeat
//! for the same attempt, which is what lets a saga step run again after a crash.

use weft_kernel::Money;
use weft_orders::{NewOrder, Order};

/// Why a call to another service did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// It cannot succeed as asked (`code`: `out_of_stock`, `payment_declined`, …).
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    /// It might succeed if tried again (a peer timed out, a database was busy).
    #[error("{0}")]
    Transient(String),
}

impl PortError {
    pub fn refused(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Refused {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Stock, as checkout uses it. `reference` is the checkout attempt.
#[async_trait::async_trait]
pub trait Stock: Send + Sync + 'static {
    /// Holds every `(variant_id, quantity)`, all or none (`out_of_stock`).
    async fn reserve(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), PortError>;
    /// Gives back what `reference` holds.
    async fn release(&self, reference: &str) -> Result<(), PortError>;
    /// The sale happened: what `reference` holds leaves the shelf (a lapsed hold is taken
    /// from what is available, or `out_of_stock`).
    async fn commit(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), PortError>;
}

/// Where a payment stands after authorizing.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentState {
    Authorized {
        payment_id: String,
    },
    /// The customer must act (3-D Secure) before it is held.
    RequiresAction {
        payment_id: String,
        next_action: serde_json::Value,
    },
}

/// Payments, as checkout uses them. `attempt` is the checkout attempt: one payment each.
#[async_trait::async_trait]
pub trait Payments: Send + Sync + 'static {
    /// The providers a checkout may name.
    async fn providers(&self) -> Result<Vec<String>, PortError>;
    /// Holds `amount` (declined: `payment_declined`).
    async fn authorize(
        &self,
        attempt: &str,
        checkout_id: &str,
        provider: &str,
        token: &str,
        amount: Money,
    ) -> Result<PaymentState, PortError>;
    /// Asks the gateway again after the customer acted on `next_action`.
    async fn confirm(&self, attempt: &str) -> Result<(), PortError>;
    /// Charges the held amount for `order_id`.
    async fn capture(&self, attempt: &str, order_id: &str) -> Result<String, PortError>;
    /// Lets the attempt's payment go: void a hold, refund a charge; nothing if none.
    async fn cancel(&self, attempt: &str) -> Result<(), PortError>;
}

/// Orders, as checkout uses them.
#[async_trait::async_trait]
pub trait Orders: Send + Sync + 'static {
    /// Makes the order (its id chosen by the caller); again answers the checkout's order.
    async fn create(&self, new: NewOrder) -> Result<Order, PortError>;
    /// The order's payment was captured.
    async fn paid(&self, order_id: &str, payment_id: &str) -> Result<(), PortError>;
    /// Calls the order off (a compensation); a cancelled order stays cancelled.
    async fn cancel(&self, order_id: &str, reason: &str) -> Result<(), PortError>;
    async fn get(&self, order_id: &str) -> Result<Order, PortError>;
}

/// What completing asks of carts beyond reading them.
#[async_trait::async_trait]
pub trait CartOrders: Send + Sync + 'static {
    /// Counts the uses of `codes` (those the order was priced with) for `order_id`;
    /// refused with the code's reason when one was used up meanwhile.
    async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: &str,
        codes: &[String],
    ) -> Result<(), PortError>;
    /// Gives back the uses `order_id` took.
    async fn release_redemptions(&self, order_id: &str) -> Result<(), PortError>;
    /// The cart became an order: it is closed.
    async fn close(&self, cart_id: &str) -> Result<(), PortError>;
}
