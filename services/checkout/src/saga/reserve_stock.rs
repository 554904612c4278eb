//! Step 2: every line's units are held for the attempt, all or none (`out_of_stock`:
//! nothing is held and nothing will be charged). Undo: the hold is given back.

use std::sync::Arc;

use serde_json::Value;
use weft_saga::{Step, StepError};

use super::Completion;
use weft_inventory::client::Inventory;

use crate::ports::stock_error;

pub(super) struct ReserveStock(pub Arc<dyn Inventory>);

#[async_trait::async_trait]
impl Step<Completion> for ReserveStock {
    fn name(&self) -> &'static str {
        "reserve_stock"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        self.0
            .hold(&cx.attempt, &cx.lines()?)
            .await
            .map_err(stock_error)?;
        Ok(Value::Null)
    }

    async fn undo(&self, cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        // By reference, so a hold made by a run that died mid-step is found too.
        Ok(self.0.release(&cx.attempt).await.map_err(stock_error)?)
    }
}
