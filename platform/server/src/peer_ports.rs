//! What completing a checkout asks of the other services when they run in other
//! processes of a cluster: the same ports as `checkout_ports` and `order_ports`, over
//! HTTP with the SDK at `/v1/internal/…` (an API key with the `internal` scope).
//!
//! Every call has the peer client's timeout (`peers.timeout_seconds`, 5 s). A call is
//! retried (three tries at most, with backoff) only when repeating it cannot do a thing
//! twice: reads, and writes keyed by what they act for — the attempt a hold or a
//! payment belongs to, the order's own id, a refund's key. Confirming a payment after
//! 3-D Secure is not retried here: it asks the gateway to act again, and the customer's
//! client repeats it when it must.
//!
//! A peer's 4xx is its answer (refused, with its problem code); anything else — no
//! answer, a 5xx, a body that cannot be read, a refused key — is transient: the saga
//! retries the step, and from the order on its recovery drives the run forward until
//! the peer is back.

use weft_checkout::CheckoutError;
use weft_checkout::ports::{CartOrders, Orders, PaymentState, Payments, PortError, Stock};
use weft_checkout::service::{CartSummary, Carts, ShippingChoice, SummaryLine};
use weft_kernel::{FieldError, Money, PostalAddress};
use weft_orders::domain::{HistoryEntry, OrderStatus, Transition};
use weft_orders::{NewOrder, Order, OrderLine};
use weft_peer_client::types;

use crate::ports::retried;

type SdkError = weft_peer_client::Error<types::Problem>;

/// The peer's problem, when it answered with one.
fn problem(err: &SdkError) -> Option<&types::Problem> {
    match err {
        weft_peer_client::Error::ErrorResponse(r) => Some(r.as_ref()),
        _ => None,
    }
}

fn describe(peer: &str, err: &SdkError) -> String {
    match problem(err) {
        Some(p) => format!("{peer}: {} {}: {}", p.status, p.code, p.detail),
        None => format!("{peer}: {err}"),
    }
}

/// A peer's refusal of the request itself (4xx), as opposed to a peer that could not
/// be asked: a wrong or revoked key (401/403) and rate limiting (429) are the
/// cluster's trouble, not the purchase's, so they stay transient.
fn port_error(peer: &str, err: &SdkError) -> PortError {
    match problem(err) {
        Some(p) if (400..500).contains(&p.status) && ![401, 403, 408, 429].contains(&p.status) => {
            PortError::refused(p.code.clone(), p.detail.clone())
        }
        _ => PortError::Transient(describe(peer, err)),
    }
}

/// The peer's problem code, when it answered with one.
fn code_of(err: &SdkError) -> Option<&str> {
    problem(err).map(|p| p.code.as_str())
}

/// Carts of another process, as checkout reads and ships them.
#[derive(Debug, Clone)]
pub struct PeerCarts(pub weft_peer_client::Client);

fn cart_error(err: &SdkError) -> CheckoutError {
    match problem(err) {
        Some(p) if p.code == "cart_not_found" => CheckoutError::CartNotFound,
        Some(p) if p.status == 422 => CheckoutError::Invalid(
            p.errors
                .iter()
                .map(|e| FieldError::new(e.field.clone(), e.message.clone()))
                .collect(),
        ),
        _ => CheckoutError::Upstream(describe("cart", err)),
    }
}

fn summary_of(cart: types::Cart) -> CartSummary {
    let promotion_codes = cart
        .promotions
        .iter()
        .filter(|p| p.applied && p.amount.amount > 0)
        .map(|p| p.code.clone())
        .collect();
    CartSummary {
        promotion_codes,
        cart_id: cart.id,
        customer_id: cart.customer_id,
        currency: cart.currency,
        lines: cart
            .items
            .into_iter()
            .map(|l| SummaryLine {
                variant_id: l.variant_id,
                title: l.title,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: l.unit_price.map(|p| p.amount),
                line_total: l.line_total.amount,
                discount: l.discount.amount,
                purchasable: l.purchasable,
            })
            .collect(),
        subtotal: cart.subtotal.amount,
        discounts: cart.discounts.amount,
        shipping: cart.shipping.amount,
        tax: cart.tax.amount,
        tax_inclusive: cart.tax_inclusive,
        total: cart.total.amount,
        shipping_method_id: cart.shipping_method_id,
    }
}

#[async_trait::async_trait]
impl Carts for PeerCarts {
    async fn cart(&self, id: &str, who: Option<&str>) -> Result<CartSummary, CheckoutError> {
        let cart = retried(|| async {
            let mut call = self.0.internal_get_cart().id(id);
            if let Some(who) = who {
                call = call.customer_id(who);
            }
            call.send().await
        })
        .await
        .map_err(|e| cart_error(&e))?;
        Ok(summary_of(cart.into_inner()))
    }

    async fn ship(
        &self,
        id: &str,
        who: Option<&str>,
        country: Option<String>,
        region: Option<String>,
        method: Option<Option<String>>,
    ) -> Result<CartSummary, CheckoutError> {
        let body = types::ShipCartRequest {
            country,
            region,
            set_shipping_method: method.is_some(),
            shipping_method_id: method.flatten(),
        };
        // Setting the same destination and method again changes nothing more.
        let cart = retried(|| async {
            let mut call = self.0.internal_ship_cart().id(id).body(body.clone());
            if let Some(who) = who {
                call = call.customer_id(who);
            }
            call.send().await
        })
        .await
        .map_err(|e| cart_error(&e))?;
        Ok(summary_of(cart.into_inner()))
    }

    async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<ShippingChoice>, CheckoutError> {
        let list = retried(|| async {
            let mut call = self.0.internal_list_cart_shipping_methods().id(id);
            if let Some(who) = who {
                call = call.customer_id(who);
            }
            call.send().await
        })
        .await
        .map_err(|e| cart_error(&e))?;
        Ok(list
            .into_inner()
            .data
            .into_iter()
            .map(|m| ShippingChoice {
                id: m.id,
                name: m.name,
                price: m.price.amount,
                delivery_estimate: m.delivery_estimate,
            })
            .collect())
    }
}

/// Carts of another process, as completing a checkout counts codes and closes them.
#[derive(Debug, Clone)]
pub struct PeerCartOrders(pub weft_peer_client::Client);

#[async_trait::async_trait]
impl CartOrders for PeerCartOrders {
    async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: &str,
        codes: &[String],
    ) -> Result<(), PortError> {
        let body = types::RedeemCodesRequest {
            order_id: order_id.to_owned(),
            customer_key: customer_key.to_owned(),
            codes: Some(codes.to_vec()),
        };
        // Keyed by the order: counted once however often it is asked.
        retried(|| async {
            self.0
                .internal_redeem_cart_promotions()
                .id(cart_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| port_error("cart", &e))
    }

    async fn release_redemptions(&self, order_id: &str) -> Result<(), PortError> {
        retried(|| async {
            self.0
                .internal_release_redemptions()
                .order_id(order_id)
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| port_error("cart", &e))
    }

    async fn close(&self, cart_id: &str) -> Result<(), PortError> {
        retried(|| async { self.0.internal_close_cart().id(cart_id).send().await })
            .await
            .map(|_| ())
            .map_err(|e| port_error("cart", &e))
    }
}

/// Inventory of another process, as checkout holds and sells stock.
#[derive(Debug, Clone)]
pub struct PeerHolds(pub weft_peer_client::Client);

fn hold_lines(lines: &[(String, i64)]) -> Vec<types::HoldLine> {
    lines
        .iter()
        .map(|(variant_id, quantity)| types::HoldLine {
            variant_id: variant_id.clone(),
            quantity: *quantity,
        })
        .collect()
}

/// Inventory's refusals, in the words the saga ends with (as `checkout_ports`).
fn hold_error(err: &SdkError) -> PortError {
    match port_error("inventory", err) {
        PortError::Refused { code, .. }
            if code == "variant_not_found" || code == "validation_failed" =>
        {
            PortError::refused(
                "cart_not_purchasable",
                "a line of the cart cannot be bought now",
            )
        }
        PortError::Refused { code, .. } if code == "out_of_stock" => {
            PortError::refused("out_of_stock", "a line of the cart is out of stock")
        }
        other => other,
    }
}

#[async_trait::async_trait]
impl Stock for PeerHolds {
    async fn reserve(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), PortError> {
        let body = types::HoldRequest {
            reference: reference.to_owned(),
            lines: hold_lines(lines),
        };
        // Keyed by the attempt: a reference that holds its lines holds nothing more.
        retried(|| async { self.0.internal_hold_stock().body(body.clone()).send().await })
            .await
            .map(|_| ())
            .map_err(|e| hold_error(&e))
    }

    async fn release(&self, reference: &str) -> Result<(), PortError> {
        retried(|| async {
            self.0
                .internal_release_hold()
                .reference(reference)
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| hold_error(&e))
    }

    async fn commit(&self, reference: &str, lines: &[(String, i64)]) -> Result<(), PortError> {
        let body = types::CommitHoldRequest {
            lines: hold_lines(lines),
        };
        retried(|| async {
            self.0
                .internal_commit_hold()
                .reference(reference)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| hold_error(&e))
    }
}

/// Payments of another process, as checkout takes them.
#[derive(Debug, Clone)]
pub struct PeerPayments(pub weft_peer_client::Client);

/// Payments' refusals end a completion as `payment_failed` (as `checkout_ports`).
fn payment_error(err: &SdkError) -> PortError {
    match port_error("payments", err) {
        PortError::Refused { message, .. } => PortError::refused("payment_failed", message),
        transient @ PortError::Transient(_) => transient,
    }
}

impl PeerPayments {
    /// The attempt's payment, if it has one.
    async fn of_attempt(&self, attempt: &str) -> Result<Option<types::Payment>, PortError> {
        match retried(|| async {
            self.0
                .internal_get_attempt_payment()
                .attempt(attempt)
                .send()
                .await
        })
        .await
        {
            Ok(p) => Ok(Some(p.into_inner())),
            // Payments' own answer, not any 404 (a peer URL pointing at the wrong
            // process must not read as "nothing to void").
            Err(e) if code_of(&e) == Some("payment_not_found") => Ok(None),
            Err(e) => Err(payment_error(&e)),
        }
    }
}

#[async_trait::async_trait]
impl Payments for PeerPayments {
    async fn providers(&self) -> Result<Vec<String>, PortError> {
        retried(|| async { self.0.internal_list_payment_providers().send().await })
            .await
            .map(|r| r.into_inner().data)
            .map_err(|e| payment_error(&e))
    }

    async fn authorize(
        &self,
        attempt: &str,
        checkout_id: &str,
        provider: &str,
        token: &str,
        amount: Money,
    ) -> Result<PaymentState, PortError> {
        let body = types::AuthorizeRequest {
            attempt: attempt.to_owned(),
            checkout_id: checkout_id.to_owned(),
            provider: provider.to_owned(),
            token: token.to_owned(),
            amount: amount.amount,
            currency: amount.currency.code().to_owned(),
        };
        // One payment per attempt, and the attempt is the gateway's idempotency key.
        let result = retried(|| async {
            self.0
                .internal_authorize_payment()
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map_err(|e| payment_error(&e))?
        .into_inner();
        match (result.status.as_str(), result.payment_id) {
            ("declined", _) => Err(PortError::refused(
                "payment_declined",
                format!(
                    "{}: {}",
                    result.decline_code.as_deref().unwrap_or("card_declined"),
                    result.message.as_deref().unwrap_or("the card was declined")
                ),
            )),
            ("requires_action", Some(payment_id)) => Ok(PaymentState::RequiresAction {
                payment_id,
                next_action: result.next_action.unwrap_or_default(),
            }),
            ("authorized" | "captured" | "partially_refunded" | "refunded", Some(payment_id)) => {
                Ok(PaymentState::Authorized { payment_id })
            }
            (other, _) => Err(PortError::refused(
                "payment_failed",
                format!("the payment is {other}"),
            )),
        }
    }

    async fn confirm(&self, attempt: &str) -> Result<(), PortError> {
        let payment = self.of_attempt(attempt).await?.ok_or_else(|| {
            PortError::refused("payment_failed", "no payment waits for this checkout")
        })?;
        // Not retried: see the module's note.
        self.0
            .internal_confirm_payment()
            .id(&payment.id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| payment_error(&e))
    }

    async fn capture(&self, attempt: &str, order_id: &str) -> Result<String, PortError> {
        let payment = self
            .of_attempt(attempt)
            .await?
            .ok_or_else(|| PortError::refused("payment_failed", "no payment for this checkout"))?;
        let body = types::CaptureRequest {
            order_id: order_id.to_owned(),
        };
        // A captured payment answers its capture.
        retried(|| async {
            self.0
                .internal_capture_payment()
                .id(&payment.id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|p| p.into_inner().id)
        .map_err(|e| payment_error(&e))
    }

    async fn cancel(&self, attempt: &str) -> Result<(), PortError> {
        let Some(payment) = self.of_attempt(attempt).await? else {
            return Ok(());
        };
        cancel_payment(&self.0, &payment.id)
            .await
            .map_err(|e| payment_error(&e))
    }
}

/// Lets a payment go in full; a payment let go already answers as done.
async fn cancel_payment(
    client: &weft_peer_client::Client,
    payment_id: &str,
) -> Result<(), SdkError> {
    retried(|| async { client.internal_cancel_payment().id(payment_id).send().await })
        .await
        .map(|_| ())
}

/// Orders of another process, as checkout makes and pays them.
#[derive(Debug, Clone)]
pub struct PeerOrders(pub weft_peer_client::Client);

/// Orders' refusals end a completion as `checkout_failed` (as `checkout_ports`).
fn order_error(err: &SdkError) -> PortError {
    match port_error("orders", err) {
        PortError::Refused { message, .. } => PortError::refused("checkout_failed", message),
        transient @ PortError::Transient(_) => transient,
    }
}

fn status(s: &str) -> Result<OrderStatus, PortError> {
    OrderStatus::parse(s)
        .ok_or_else(|| PortError::Transient(format!("orders: unknown order status `{s}`")))
}

/// A postal address as the SDK reads it, as orders keep it.
fn address(a: Option<types::PostalAddress>) -> Result<Option<PostalAddress>, PortError> {
    a.map(|a| {
        serde_json::to_value(a)
            .and_then(serde_json::from_value)
            .map_err(|e| PortError::Transient(format!("orders: an address is unreadable: {e}")))
    })
    .transpose()
}

/// The order as orders' endpoints show it, back into the order checkout answers with.
fn order_of(o: types::Order) -> Result<Order, PortError> {
    let history = o
        .history
        .into_iter()
        .map(|h| {
            // The DTO keeps the transition's kind beside its detail; put it back.
            let mut detail = h.detail;
            if let Some(map) = detail.as_object_mut() {
                map.insert("kind".into(), h.transition.into());
            }
            let transition: Transition = serde_json::from_value(detail).map_err(|e| {
                PortError::Transient(format!("orders: a history entry is unreadable: {e}"))
            })?;
            Ok(HistoryEntry {
                from: status(&h.from)?,
                to: status(&h.to)?,
                transition,
                actor: h.actor,
                at: h.at,
            })
        })
        .collect::<Result<Vec<_>, PortError>>()?;
    Ok(Order {
        status: status(&o.status)?,
        lines: o
            .lines
            .into_iter()
            .map(|l| OrderLine {
                variant_id: l.variant_id,
                title: l.title,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: l.unit_price.amount,
                line_total: l.line_total.amount,
            })
            .collect(),
        subtotal: o.subtotal.amount,
        discounts: o.discounts.amount,
        shipping: o.shipping.amount,
        tax: o.tax.amount,
        total: o.total.amount,
        refunded_total: o.refunded.amount,
        shipping_address: address(o.shipping_address)?,
        billing_address: address(o.billing_address)?,
        history,
        id: o.id,
        checkout_id: o.checkout_id,
        customer_id: o.customer_id,
        email: o.email,
        currency: o.currency,
        shipping_method_id: o.shipping_method_id,
        payment_id: o.payment_id,
        created_at: o.created_at,
        updated_at: o.updated_at,
    })
}

/// A kernel address as the SDK sends it.
fn sdk_address(a: Option<PostalAddress>) -> Result<Option<types::PostalAddress>, PortError> {
    a.map(|a| {
        serde_json::to_value(a)
            .and_then(serde_json::from_value)
            .map_err(|e| PortError::Transient(format!("orders: an address cannot be sent: {e}")))
    })
    .transpose()
}

#[async_trait::async_trait]
impl Orders for PeerOrders {
    async fn create(&self, new: NewOrder) -> Result<Order, PortError> {
        let body = types::NewOrderRequest {
            id: new.id,
            checkout_id: new.checkout_id,
            customer_id: new.customer_id,
            email: new.email,
            currency: new.currency.code().to_owned(),
            lines: new
                .lines
                .into_iter()
                .map(|l| types::NewOrderLineDto {
                    variant_id: l.variant_id,
                    title: l.title,
                    sku: l.sku,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    line_total: l.line_total,
                })
                .collect(),
            subtotal: new.subtotal,
            discounts: new.discounts,
            shipping: new.shipping,
            tax: new.tax,
            total: new.total,
            shipping_address: sdk_address(new.shipping_address)?,
            billing_address: sdk_address(new.billing_address)?,
            shipping_method_id: new.shipping_method_id,
        };
        // The caller chose the id: the same id again is the same order.
        let order = retried(|| async {
            self.0
                .internal_create_order()
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map_err(|e| order_error(&e))?;
        order_of(order.into_inner())
    }

    async fn paid(&self, order_id: &str, payment_id: &str) -> Result<(), PortError> {
        let body = types::MarkPaidRequest {
            payment_id: payment_id.to_owned(),
        };
        retried(|| async {
            self.0
                .internal_mark_order_paid()
                .id(order_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| order_error(&e))
    }

    async fn cancel(&self, order_id: &str, reason: &str) -> Result<(), PortError> {
        let body = types::CallOffRequest {
            reason: reason.to_owned(),
        };
        retried(|| async {
            self.0
                .internal_call_off_order()
                .id(order_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| order_error(&e))
    }

    async fn get(&self, order_id: &str) -> Result<Order, PortError> {
        let order = retried(|| async { self.0.internal_get_order().id(order_id).send().await })
            .await
            .map_err(|e| order_error(&e))?;
        order_of(order.into_inner())
    }
}

/// Payments of another process, as orders give money back.
#[derive(Debug, Clone)]
pub struct PeerOrderPayments(pub weft_peer_client::Client);

fn order_payment_error(err: &SdkError) -> weft_orders::ports::PaymentError {
    use weft_orders::ports::PaymentError;
    match port_error("payments", err) {
        PortError::Refused { message, .. } => PaymentError::Refused(message),
        PortError::Transient(m) => PaymentError::Transient(m),
    }
}

#[async_trait::async_trait]
impl weft_orders::ports::Payments for PeerOrderPayments {
    async fn cancel(&self, payment_id: &str) -> Result<(), weft_orders::ports::PaymentError> {
        cancel_payment(&self.0, payment_id)
            .await
            .map_err(|e| order_payment_error(&e))
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        key: &str,
    ) -> Result<String, weft_orders::ports::PaymentError> {
        let body = types::InternalRefundRequest {
            amount,
            key: key.to_owned(),
        };
        // The key makes it one refund however often it is asked.
        retried(|| async {
            self.0
                .internal_refund_payment()
                .id(payment_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|r| r.into_inner().reference)
        .map_err(|e| order_payment_error(&e))
    }
}
