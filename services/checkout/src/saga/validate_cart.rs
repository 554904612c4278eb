//! Step 1: the cart is read and priced once more, as it will be bought. Nothing to undo.

use std::sync::Arc;

use serde_json::Value;
use weft_saga::{Step, StepError};

use super::Completion;
use crate::error::CheckoutError;
use crate::service::Carts;

pub(super) struct ValidateCart(pub Arc<dyn Carts>);

#[async_trait::async_trait]
impl Step<Completion> for ValidateCart {
    fn name(&self) -> &'static str {
        "validate_cart"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        let summary = match self.0.cart(&cx.cart_id, cx.customer_id.as_deref()).await {
            Ok(s) => s,
            Err(CheckoutError::Upstream(m)) => return Err(StepError::Transient(m)),
            Err(e) => {
                return Err(StepError::failed(
                    weft_kernel::ServiceError::code(&e),
                    e.to_string(),
                ));
            }
        };
        if summary.lines.is_empty() {
            return Err(StepError::failed("cart_empty", "the cart is empty"));
        }
        if summary.lines.iter().any(|l| !l.purchasable) {
            return Err(StepError::failed(
                "cart_not_purchasable",
                "a line of the cart cannot be bought now: remove it first",
            ));
        }
        if summary.shipping_method_id.is_none() {
            return Err(StepError::failed(
                "checkout_incomplete",
                "choose a shipping method offered for the shipping address",
            ));
        }
        cx.summary = Some(summary);
        Ok(Value::Null)
    }

    async fn undo(&self, _cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        Ok(())
    }
}
