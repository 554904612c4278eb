//! Step 7: the held units leave the shelf, in one transaction. A hold that lapsed
//! meanwhile (a 3-D Secure challenge left open past the reservation's time) is taken
//! from what is available now; if that is gone too the run is undone: the order
//! cancelled, the payment refunded. Nothing to undo here: it commits all or nothing.

use std::sync::Arc;

use serde_json::Value;
use weft_saga::{Step, StepError};

use super::Completion;
use weft_inventory::client::Inventory;

use crate::ports::stock_error;

pub(super) struct CommitStock(pub Arc<dyn Inventory>);

#[async_trait::async_trait]
impl Step<Completion> for CommitStock {
    fn name(&self) -> &'static str {
        "commit_stock"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        self.0
            .commit(&cx.attempt, &cx.lines()?)
            .await
            .map_err(stock_error)?;
        Ok(Value::Null)
    }

    async fn undo(&self, _cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        Ok(())
    }
}
