//! Step 3: the uses of the codes the order was priced with (those that take something
//! off; one used up by others before is not among them) are counted for the order,
//! under each code's row lock, so a code limited to N uses is used N times however many
//! checkouts race. Undo: the uses are given back.

use std::sync::Arc;

use serde_json::Value;
use weft_saga::{Step, StepError};

use super::Completion;
use crate::ports::CartOrders;

pub(super) struct RedeemPromotions(pub Arc<dyn CartOrders>);

#[async_trait::async_trait]
impl Step<Completion> for RedeemPromotions {
    fn name(&self) -> &'static str {
        "redeem_promotions"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        // A code that takes nothing off the cart is not counted: nothing to do.
        let codes = &cx.summary()?.promotion_codes;
        if codes.is_empty() {
            return Ok(Value::Null);
        }
        let key = cx.customer_id.clone().unwrap_or_else(|| cx.email.clone());
        self.0
            .redeem(&cx.cart_id, &cx.order_id, &key, codes)
            .await?;
        Ok(Value::Null)
    }

    async fn undo(&self, cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        Ok(self.0.release_redemptions(&cx.order_id).await?)
    }
}
