//! Step 6: the held amount is charged (`PaymentSucceeded` in the payment's transaction)
//! and the order is paid. Both are safe to repeat. Nothing to undo here: undoing the
//! authorization refunds a charged payment.

use std::sync::Arc;

use serde_json::Value;
use weft_saga::{Step, StepError};

use super::Completion;
use crate::ports::{Orders, Payments};

pub(super) struct CapturePayment {
    pub payments: Arc<dyn Payments>,
    pub orders: Arc<dyn Orders>,
}

#[async_trait::async_trait]
impl Step<Completion> for CapturePayment {
    fn name(&self) -> &'static str {
        "capture_payment"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        let payment_id = self.payments.capture(&cx.attempt, &cx.order_id).await?;
        self.orders.paid(&cx.order_id, &payment_id).await?;
        cx.payment_id = Some(payment_id);
        Ok(Value::Null)
    }

    async fn undo(&self, _cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        Ok(())
    }
}
