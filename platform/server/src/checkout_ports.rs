//! What completing a checkout asks of the other services, in this process: inventory
//! holds and commits stock, payments authorizes and captures, orders are made and paid,
//! carts count promotion uses and close. Each maps its service's refusals to a stable
//! code the saga ends with, and everything else (storage, a peer) to a transient
//! failure the saga retries.

use weft_cart::{CartError, CartService};
use weft_checkout::ports::{CartOrders, Orders, PaymentState, Payments, PortError, Stock};
use weft_inventory::{InventoryError, InventoryService};
use weft_kernel::Money;
use weft_orders::{NewOrder, Order, OrderService, OrdersError};
use weft_payments::{NewPayment, PaymentService, PaymentStatus, PaymentsError};

fn transient(service: &str, e: &impl std::fmt::Display) -> PortError {
    PortError::Transient(format!("{service}: {e}"))
}

/// Inventory, as checkout uses it.
#[derive(Debug, Clone)]
pub struct CheckoutStock(pub InventoryService);

fn stock_error(e: &InventoryError) -> PortError {
    match e {
        InventoryError::OutOfStock { .. } => {
            PortError::refused("out_of_stock", "a line of the cart is out of stock")
        }
        InventoryError::VariantNotFound | InventoryError::Invalid(_) => PortError::refused(
            "cart_not_purchasable",
            "a line of the cart cannot be bought now",
        ),
        other => transient("inventory", other),
    }
}

#[async_trait::async_trait]
impl Stock for CheckoutStock {
    async fn reserve(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), PortError> {
        self.0
            .reserve_all(lines, reference, None)
            .await
            .map(|_| ())
            .map_err(|e| stock_error(&e))
    }

    async fn release(&self, reference: &str) -> Result<(), PortError> {
        self.0
            .release_reference(reference)
            .await
            .map(|_| ())
            .map_err(|e| stock_error(&e))
    }

    async fn commit(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), PortError> {
        self.0
            .commit_reference(reference, lines)
            .await
            .map(|_| ())
            .map_err(|e| stock_error(&e))
    }
}

/// Payments, as checkout uses them.
#[derive(Debug, Clone)]
pub struct CheckoutPayments(pub PaymentService);

fn payment_error(e: PaymentsError) -> PortError {
    match e {
        // The saga keeps the decline code in front of the gateway's message.
        PaymentsError::Declined { code, message } => {
            PortError::refused("payment_declined", format!("{code}: {message}"))
        }
        PaymentsError::Refused(m) => PortError::refused("payment_failed", m),
        PaymentsError::Invalid(errors) => PortError::refused(
            "payment_failed",
            errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => transient("payments", &other),
    }
}

impl CheckoutPayments {
    async fn attempt_payment(
        &self,
        attempt: &str,
    ) -> Result<Option<weft_payments::Payment>, PortError> {
        self.0.of_attempt(attempt).await.map_err(payment_error)
    }
}

#[async_trait::async_trait]
impl Payments for CheckoutPayments {
    async fn providers(&self) -> Result<Vec<String>, PortError> {
        Ok(self
            .0
            .provider_names()
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    async fn authorize(
        &self,
        attempt: &str,
        checkout_id: &str,
        provider: &str,
        token: &str,
        amount: Money,
    ) -> Result<PaymentState, PortError> {
        let payment = self
            .0
            .authorize(NewPayment {
                attempt: attempt.to_owned(),
                checkout_id: checkout_id.to_owned(),
                provider: provider.to_owned(),
                token: token.to_owned(),
                amount,
            })
            .await
            .map_err(payment_error)?;
        match payment.status {
            PaymentStatus::RequiresAction => Ok(PaymentState::RequiresAction {
                next_action: payment.next_action.unwrap_or_default(),
                payment_id: payment.id,
            }),
            PaymentStatus::Authorized
            | PaymentStatus::Captured
            | PaymentStatus::PartiallyRefunded
            | PaymentStatus::Refunded => Ok(PaymentState::Authorized {
                payment_id: payment.id,
            }),
            other => Err(PortError::refused(
                "payment_failed",
                format!("the payment is {}", other.as_str()),
            )),
        }
    }

    async fn confirm(&self, attempt: &str) -> Result<(), PortError> {
        let payment = self.attempt_payment(attempt).await?.ok_or_else(|| {
            PortError::refused("payment_failed", "no payment waits for this checkout")
        })?;
        self.0
            .confirm(&payment.id)
            .await
            .map(|_| ())
            .map_err(payment_error)
    }

    async fn capture(&self, attempt: &str, order_id: &str) -> Result<String, PortError> {
        let payment = self
            .attempt_payment(attempt)
            .await?
            .ok_or_else(|| PortError::refused("payment_failed", "no payment for this checkout"))?;
        self.0
            .capture(&payment.id, order_id)
            .await
            .map(|p| p.id)
            .map_err(payment_error)
    }

    async fn cancel(&self, attempt: &str) -> Result<(), PortError> {
        match self.attempt_payment(attempt).await? {
            Some(payment) => self
                .0
                .cancel(&payment.id)
                .await
                .map(|_| ())
                .map_err(payment_error),
            None => Ok(()),
        }
    }
}

/// Orders, as checkout uses them.
#[derive(Debug, Clone)]
pub struct CheckoutOrders(pub OrderService);

fn order_error(e: OrdersError) -> PortError {
    match e {
        OrdersError::Illegal(e) => PortError::refused("checkout_failed", e.to_string()),
        other => transient("orders", &other),
    }
}

#[async_trait::async_trait]
impl Orders for CheckoutOrders {
    async fn create(&self, new: NewOrder) -> Result<Order, PortError> {
        self.0
            .create(new)
            .await
            .map_err(|e| transient("orders", &e))
    }

    async fn paid(&self, order_id: &str, payment_id: &str) -> Result<(), PortError> {
        self.0
            .mark_paid(order_id, payment_id)
            .await
            .map_err(order_error)
    }

    async fn cancel(&self, order_id: &str, reason: &str) -> Result<(), PortError> {
        self.0.call_off(order_id, reason).await.map_err(order_error)
    }

    async fn get(&self, order_id: &str) -> Result<Order, PortError> {
        self.0
            .get(order_id)
            .await
            .map_err(|e| transient("orders", &e))
    }
}

/// Carts, as completing a checkout uses them.
#[derive(Debug, Clone)]
pub struct CheckoutCartOrders(pub CartService);

fn cart_error(e: CartError) -> PortError {
    match e {
        CartError::Promotion(r) => PortError::refused(r.code(), r.message()),
        CartError::CartNotFound => PortError::refused("cart_not_found", "the cart is gone"),
        other => transient("cart", &other),
    }
}

#[async_trait::async_trait]
impl CartOrders for CheckoutCartOrders {
    async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: &str,
        codes: &[String],
    ) -> Result<(), PortError> {
        self.0
            .redeem(cart_id, order_id, Some(customer_key), Some(codes))
            .await
            .map(|_| ())
            .map_err(cart_error)
    }

    async fn release_redemptions(&self, order_id: &str) -> Result<(), PortError> {
        self.0
            .release_redemptions(order_id)
            .await
            .map(|_| ())
            .map_err(cart_error)
    }

    async fn close(&self, cart_id: &str) -> Result<(), PortError> {
        self.0.close(cart_id).await.map_err(cart_error)
    }
}
