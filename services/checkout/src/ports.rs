//! What completing a checkout asks of the other services: stock held and committed,
//! a payment authorized and captured, an order made, promotion uses counted, the cart
//! closed. Each service's own client does the asking, in-process embedded and over HTTP
//! in a cluster; here is how checkout words what they refuse (a stable code the saga
//! ends with) and what it retries (anything else). Every call is safe to repeat for the
//! same attempt, which is what lets a saga step run again after a crash.

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

/// Inventory's refusals in the words a completion ends with: a line that cannot be held
/// is `out_of_stock`, a variant inventory does not know or a line it refuses
/// `cart_not_purchasable`, anything else it refuses keeps inventory's code; inventory
/// that cannot be asked is transient, and the step is tried again.
pub fn stock_error(err: weft_peer_client::ClientError) -> PortError {
    match err {
        weft_peer_client::ClientError::Refused { code, message, .. } => match code.as_str() {
            "out_of_stock" => {
                PortError::refused("out_of_stock", "a line of the cart is out of stock")
            }
            "variant_not_found" | "validation_failed" => PortError::refused(
                "cart_not_purchasable",
                "a line of the cart cannot be bought now",
            ),
            _ => PortError::refused(code, message),
        },
        unavailable @ weft_peer_client::ClientError::Unavailable { .. } => {
            PortError::Transient(unavailable.to_string())
        }
    }
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

/// Payments' client as checkout's [`Payments`]: the attempt's payment found by the
/// attempt, and payments' refusals in the words a completion ends with (a declined card
/// `payment_declined`, anything else refused `payment_failed`).
#[derive(Clone)]
pub struct PaymentsClient(pub std::sync::Arc<dyn weft_payments::client::Payments>);

impl std::fmt::Debug for PaymentsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaymentsClient")
    }
}

fn payment_error(err: weft_peer_client::ClientError) -> PortError {
    match err {
        refused @ weft_peer_client::ClientError::Refused { .. } => {
            PortError::refused("payment_failed", refused.detail())
        }
        unavailable @ weft_peer_client::ClientError::Unavailable { .. } => {
            PortError::Transient(unavailable.detail())
        }
    }
}

impl PaymentsClient {
    async fn attempt_payment(&self, attempt: &str) -> Result<Option<String>, PortError> {
        self.0.of_attempt(attempt).await.map_err(payment_error)
    }
}

#[async_trait::async_trait]
impl Payments for PaymentsClient {
    async fn providers(&self) -> Result<Vec<String>, PortError> {
        self.0.providers().await.map_err(payment_error)
    }

    async fn authorize(
        &self,
        attempt: &str,
        checkout_id: &str,
        provider: &str,
        token: &str,
        amount: Money,
    ) -> Result<PaymentState, PortError> {
        use weft_payments::client::Authorization;
        match self
            .0
            .authorize(attempt, checkout_id, provider, token, amount)
            .await
            .map_err(payment_error)?
        {
            Authorization::Authorized { payment_id } => Ok(PaymentState::Authorized { payment_id }),
            Authorization::RequiresAction {
                payment_id,
                next_action,
            } => Ok(PaymentState::RequiresAction {
                payment_id,
                next_action,
            }),
            // The saga keeps the decline code in front of the gateway's message.
            Authorization::Declined { code, message } => Err(PortError::refused(
                "payment_declined",
                format!("{code}: {message}"),
            )),
            Authorization::Failed { status } => Err(PortError::refused(
                "payment_failed",
                format!("the payment is {status}"),
            )),
        }
    }

    async fn confirm(&self, attempt: &str) -> Result<(), PortError> {
        let payment = self.attempt_payment(attempt).await?.ok_or_else(|| {
            PortError::refused("payment_failed", "no payment waits for this checkout")
        })?;
        self.0.confirm(&payment).await.map_err(payment_error)
    }

    async fn capture(&self, attempt: &str, order_id: &str) -> Result<String, PortError> {
        let payment = self
            .attempt_payment(attempt)
            .await?
            .ok_or_else(|| PortError::refused("payment_failed", "no payment for this checkout"))?;
        self.0
            .capture(&payment, order_id)
            .await
            .map_err(payment_error)
    }

    async fn cancel(&self, attempt: &str) -> Result<(), PortError> {
        match self.attempt_payment(attempt).await? {
            Some(payment) => self.0.cancel(&payment).await.map_err(payment_error),
            None => Ok(()),
        }
    }
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

/// Orders' client as checkout's [`Orders`]: orders' refusals end a completion as
/// `checkout_failed`; orders that cannot be asked are transient.
#[derive(Clone)]
pub struct OrdersClient(pub std::sync::Arc<dyn weft_orders::client::Orders>);

impl std::fmt::Debug for OrdersClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrdersClient")
    }
}

fn order_error(err: weft_peer_client::ClientError) -> PortError {
    match err {
        refused @ weft_peer_client::ClientError::Refused { .. } => {
            PortError::refused("checkout_failed", refused.detail())
        }
        unavailable @ weft_peer_client::ClientError::Unavailable { .. } => {
            PortError::Transient(unavailable.detail())
        }
    }
}

#[async_trait::async_trait]
impl Orders for OrdersClient {
    async fn create(&self, new: NewOrder) -> Result<Order, PortError> {
        self.0.create(new).await.map_err(order_error)
    }

    async fn paid(&self, order_id: &str, payment_id: &str) -> Result<(), PortError> {
        self.0.paid(order_id, payment_id).await.map_err(order_error)
    }

    async fn cancel(&self, order_id: &str, reason: &str) -> Result<(), PortError> {
        self.0.call_off(order_id, reason).await.map_err(order_error)
    }

    async fn get(&self, order_id: &str) -> Result<Order, PortError> {
        self.0.get(order_id).await.map_err(order_error)
    }
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

/// The cart's client as checkout's [`Carts`](crate::service::Carts) and [`CartOrders`]:
/// a cart checkout may not see is `cart_not_found`, what the cart refuses of what
/// checkout passed on (a method not offered) is checkout's 422, and a promotion used up
/// meanwhile ends a completion with the promotion's reason.
#[derive(Clone)]
pub struct CartsClient(pub std::sync::Arc<dyn weft_cart::client::Carts>);

impl std::fmt::Debug for CartsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CartsClient")
    }
}

fn checkout_error(err: weft_peer_client::ClientError) -> crate::CheckoutError {
    use crate::CheckoutError;
    match err {
        weft_peer_client::ClientError::Refused { code, .. } if code == "cart_not_found" => {
            CheckoutError::CartNotFound
        }
        weft_peer_client::ClientError::Refused { code, errors, .. }
            if code == "validation_failed" =>
        {
            CheckoutError::Invalid(errors)
        }
        other => CheckoutError::Upstream(other.detail()),
    }
}

fn cart_port_error(err: weft_peer_client::ClientError) -> PortError {
    match err {
        weft_peer_client::ClientError::Refused { code, message, .. } => {
            PortError::refused(code, message)
        }
        unavailable @ weft_peer_client::ClientError::Unavailable { .. } => {
            PortError::Transient(unavailable.detail())
        }
    }
}

#[async_trait::async_trait]
impl crate::service::Carts for CartsClient {
    async fn cart(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<crate::service::CartSummary, crate::CheckoutError> {
        self.0.cart(id, who).await.map_err(checkout_error)
    }

    async fn ship(
        &self,
        id: &str,
        who: Option<&str>,
        country: Option<String>,
        region: Option<String>,
        method: Option<Option<String>>,
    ) -> Result<crate::service::CartSummary, crate::CheckoutError> {
        self.0
            .ship(id, who, country, region, method)
            .await
            .map_err(checkout_error)
    }

    async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<crate::service::ShippingChoice>, crate::CheckoutError> {
        self.0
            .shipping_options(id, who)
            .await
            .map_err(checkout_error)
    }
}

#[async_trait::async_trait]
impl CartOrders for CartsClient {
    async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: &str,
        codes: &[String],
    ) -> Result<(), PortError> {
        self.0
            .redeem(cart_id, order_id, customer_key, codes)
            .await
            .map_err(cart_port_error)
    }

    async fn release_redemptions(&self, order_id: &str) -> Result<(), PortError> {
        self.0
            .release_redemptions(order_id)
            .await
            .map_err(cart_port_error)
    }

    async fn close(&self, cart_id: &str) -> Result<(), PortError> {
        self.0.close(cart_id).await.map_err(cart_port_error)
    }
}
