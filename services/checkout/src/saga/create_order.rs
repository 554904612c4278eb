//! Step 5, the pivot: the order is made (`pending`, `OrderCreated` in its transaction).
//! A run interrupted here or later is finished, not undone. Undo (when a later step
//! fails for good): the order is cancelled.

use std::sync::Arc;

use serde_json::Value;
use weft_kernel::Currency;
use weft_orders::{NewOrder, OrderLine};
use weft_saga::{Step, StepError};

use super::Completion;
use crate::ports::Orders;

pub(super) const NAME: &str = "create_order";

pub(super) struct CreateOrder(pub Arc<dyn Orders>);

#[async_trait::async_trait]
impl Step<Completion> for CreateOrder {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        let s = cx.summary()?;
        let currency = Currency::parse(&s.currency)
            .map_err(|e| StepError::failed("internal_error", e.to_string()))?;
        let order = self
            .0
            .create(NewOrder {
                id: cx.order_id.clone(),
                checkout_id: cx.checkout_id.clone(),
                customer_id: cx.customer_id.clone(),
                email: cx.email.clone(),
                currency,
                lines: s
                    .lines
                    .iter()
                    .map(|l| OrderLine {
                        variant_id: l.variant_id.clone(),
                        title: l.title.clone(),
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                        unit_price: l.unit_price.unwrap_or_default(),
                        line_total: l.line_total,
                    })
                    .collect(),
                subtotal: s.subtotal,
                discounts: s.discounts,
                shipping: s.shipping,
                tax: s.tax,
                total: s.total,
                shipping_address: Some(cx.shipping_address.clone()),
                billing_address: Some(cx.billing_address.clone()),
                shipping_method_id: s.shipping_method_id.clone(),
            })
            .await?;
        if order.id != cx.order_id {
            // An earlier attempt of this checkout made an order that a later failure
            // cancelled: one checkout, one order.
            return Err(StepError::failed(
                "checkout_failed",
                "this checkout's order was cancelled: start a new checkout",
            ));
        }
        Ok(Value::Null)
    }

    async fn undo(&self, cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        Ok(self.0.cancel(&cx.order_id, "checkout_failed").await?)
    }
}
