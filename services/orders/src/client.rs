//! How other services reach orders: one trait, [`Orders`], served in-process by
//! [`Local`] or over HTTP by [`Remote`] (`/v1/internal/orders…`, an API key with the
//! `internal` scope), answering orders' own refusals as [`ClientError::Refused`].
//! Every call is safe to repeat (the caller chooses a new order's id), so remote calls
//! are retried, three tries at most.

use weft_kernel::PostalAddress;
use weft_peer_client::{ClientError, Peer, retried, types};

use crate::domain::{HistoryEntry, OrderStatus, Transition};
use crate::service::{NewOrder, Order, OrderLine, OrderService};

const SERVICE: &str = "orders";

/// Orders, as other services use them.
#[async_trait::async_trait]
pub trait Orders: Send + Sync + 'static {
    /// Makes the order (its id chosen by the caller); again answers the same order.
    async fn create(&self, new: NewOrder) -> Result<Order, ClientError>;
    /// The order's payment was captured.
    async fn paid(&self, order_id: &str, payment_id: &str) -> Result<(), ClientError>;
    /// Calls the order off before it was fulfilled; a cancelled order stays cancelled.
    async fn call_off(&self, order_id: &str, reason: &str) -> Result<(), ClientError>;
    async fn get(&self, order_id: &str) -> Result<Order, ClientError>;
    /// The order's invoice, a PDF.
    async fn invoice(&self, order_id: &str) -> Result<Vec<u8>, ClientError>;
}

/// Orders in this process.
#[derive(Debug, Clone)]
pub struct Local(pub OrderService);

#[async_trait::async_trait]
impl Orders for Local {
    async fn create(&self, new: NewOrder) -> Result<Order, ClientError> {
        self.0
            .create(new)
            .await
            .map_err(|e| ClientError::of(SERVICE, &e))
    }

    async fn paid(&self, order_id: &str, payment_id: &str) -> Result<(), ClientError> {
        self.0
            .mark_paid(order_id, payment_id)
            .await
            .map_err(|e| ClientError::of(SERVICE, &e))
    }

    async fn call_off(&self, order_id: &str, reason: &str) -> Result<(), ClientError> {
        self.0
            .call_off(order_id, reason)
            .await
            .map_err(|e| ClientError::of(SERVICE, &e))
    }

    async fn get(&self, order_id: &str) -> Result<Order, ClientError> {
        self.0
            .get(order_id)
            .await
            .map_err(|e| ClientError::of(SERVICE, &e))
    }

    async fn invoice(&self, order_id: &str) -> Result<Vec<u8>, ClientError> {
        self.0
            .invoice(order_id)
            .await
            .map(|(_, pdf)| pdf)
            .map_err(|e| ClientError::of(SERVICE, &e))
    }
}

/// Orders of another process.
#[derive(Debug, Clone)]
pub struct Remote(pub Peer);

fn unavailable(message: String) -> ClientError {
    ClientError::Unavailable {
        service: SERVICE,
        message,
    }
}

fn status(s: &str) -> Result<OrderStatus, ClientError> {
    OrderStatus::parse(s).ok_or_else(|| unavailable(format!("unknown order status `{s}`")))
}

/// A postal address as the endpoints show it, as orders keep it.
fn address(a: Option<types::PostalAddress>) -> Result<Option<PostalAddress>, ClientError> {
    a.map(|a| {
        serde_json::to_value(a)
            .and_then(serde_json::from_value)
            .map_err(|e| unavailable(format!("an address is unreadable: {e}")))
    })
    .transpose()
}

/// The order as orders' endpoints show it, back into the order.
fn order_of(o: types::Order) -> Result<Order, ClientError> {
    let history = o
        .history
        .into_iter()
        .map(|h| {
            // The DTO keeps the transition's kind beside its detail; put it back.
            let mut detail = h.detail;
            if let Some(map) = detail.as_object_mut() {
                map.insert("kind".into(), h.transition.into());
            }
            let transition: Transition = serde_json::from_value(detail)
                .map_err(|e| unavailable(format!("a history entry is unreadable: {e}")))?;
            Ok(HistoryEntry {
                from: status(&h.from)?,
                to: status(&h.to)?,
                transition,
                actor: h.actor,
                at: h.at,
            })
        })
        .collect::<Result<Vec<_>, ClientError>>()?;
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

/// A kernel address as the endpoints take it.
fn sdk_address(a: Option<PostalAddress>) -> Result<Option<types::PostalAddress>, ClientError> {
    a.map(|a| {
        serde_json::to_value(a)
            .and_then(serde_json::from_value)
            .map_err(|e| unavailable(format!("an address cannot be sent: {e}")))
    })
    .transpose()
}

#[async_trait::async_trait]
impl Orders for Remote {
    async fn create(&self, new: NewOrder) -> Result<Order, ClientError> {
        let client = self.0.internal();
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
            client
                .internal_create_order()
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map_err(|e| ClientError::call(SERVICE, &e))?;
        order_of(order.into_inner())
    }

    async fn paid(&self, order_id: &str, payment_id: &str) -> Result<(), ClientError> {
        let client = self.0.internal();
        let body = types::MarkPaidRequest {
            payment_id: payment_id.to_owned(),
        };
        retried(|| async {
            client
                .internal_mark_order_paid()
                .id(order_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| ClientError::call(SERVICE, &e))
    }

    async fn call_off(&self, order_id: &str, reason: &str) -> Result<(), ClientError> {
        let client = self.0.internal();
        let body = types::CallOffRequest {
            reason: reason.to_owned(),
        };
        retried(|| async {
            client
                .internal_call_off_order()
                .id(order_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|_| ())
        .map_err(|e| ClientError::call(SERVICE, &e))
    }

    async fn get(&self, order_id: &str) -> Result<Order, ClientError> {
        let client = self.0.internal();
        let order = retried(|| async { client.internal_get_order().id(order_id).send().await })
            .await
            .map_err(|e| ClientError::call(SERVICE, &e))?;
        order_of(order.into_inner())
    }

    async fn invoice(&self, order_id: &str) -> Result<Vec<u8>, ClientError> {
        use futures::TryStreamExt as _;
        let client = self.0.internal();
        let answer = retried(|| async {
            client
                .internal_get_order_invoice()
                .id(order_id)
                .send()
                .await
        })
        .await
        .map_err(|e| ClientError::call(SERVICE, &e))?;
        let chunks: Vec<_> = answer
            .into_inner()
            .into_inner()
            .try_collect()
            .await
            .map_err(|e| unavailable(format!("the invoice did not arrive whole: {e}")))?;
        Ok(chunks.concat())
    }
}
