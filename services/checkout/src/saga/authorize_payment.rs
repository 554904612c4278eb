//! Step 4: the total is held on the customer's card (not yet charged). A decline ends
//! the attempt (`payment_declined`: the hold on stock goes back, the cart stays). 3-D
//! Secure suspends the run until the customer acts; running the step again asks where
//! the same payment stands. A total of 0 is recorded by the payments service under the
//! `none` provider, no gateway asked; a completion without a payment whose total is
//! above 0 ends here (`payment_required`). Undo: the hold is voided (or a charge
//! refunded).

use std::sync::Arc;

use serde_json::{Value, json};
use weft_kernel::{Currency, Money};
use weft_saga::{Step, StepError};

use super::Completion;
use crate::ports::{PaymentState, Payments};

pub(super) struct AuthorizePayment(pub Arc<dyn Payments>);

#[async_trait::async_trait]
impl Step<Completion> for AuthorizePayment {
    fn name(&self) -> &'static str {
        "authorize_payment"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        let summary = cx.summary()?;
        let currency = Currency::parse(&summary.currency)
            .map_err(|e| StepError::failed("internal_error", e.to_string()))?;
        let amount = Money::new(summary.total, currency);
        if cx.provider == crate::service::NO_PAYMENT && amount.amount != 0 {
            // The cart grew after the completion was asked for without a payment.
            return Err(StepError::failed(
                "payment_required",
                "the total is above 0: a payment is required",
            ));
        }
        let state = self
            .0
            .authorize(
                &cx.attempt,
                &cx.checkout_id,
                &cx.provider,
                &cx.token,
                amount,
            )
            .await?;
        match state {
            PaymentState::Authorized { payment_id } => {
                cx.payment_id = Some(payment_id.clone());
                Ok(json!({ "payment_id": payment_id }))
            }
            PaymentState::RequiresAction {
                payment_id,
                next_action,
            } => Err(StepError::Suspend(json!({
                "payment_id": payment_id,
                "next_action": next_action,
            }))),
        }
    }

    async fn undo(&self, cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        // By attempt: a payment whose answer the crash lost is let go as well.
        Ok(self.0.cancel(&cx.attempt).await?)
    }
}
