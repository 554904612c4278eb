//! Step 8: the cart is closed and the checkout marked completed with its order and the
//! summary it was bought at. Both are safe to repeat; nothing can fail for good here.

use serde_json::Value;
use weft_kernel::Clock;
use weft_saga::{Step, StepError};
use weft_storage::{Db, DbConn};

use super::Completion;
use crate::domain::CheckoutStatus;
use crate::ports::CartOrders;
use crate::store;

pub(super) struct CloseCart {
    pub carts: std::sync::Arc<dyn CartOrders>,
    pub db: Db,
    pub clock: Clock,
}

#[async_trait::async_trait]
impl Step<Completion> for CloseCart {
    fn name(&self) -> &'static str {
        "close_cart"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        let summary = serde_json::to_string(cx.summary()?)
            .map_err(|e| StepError::failed("internal_error", e.to_string()))?;
        let now = self.clock.now().naive_utc();
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::complete(
                    conn,
                    &cx.checkout_id,
                    CheckoutStatus::Completed.as_str(),
                    &cx.order_id,
                    &summary,
                    now,
                )
                .await
            })
            .await
            .map_err(|e| StepError::Transient(e.to_string()))?;
        self.carts.close(&cx.cart_id).await?;
        Ok(Value::Null)
    }

    async fn undo(&self, _cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        Ok(())
    }
}
