//! Step 2: every line's units are held for the attempt, all or none (`out_of_stock`:
//! nothing is held and nothing will be charged). Undo: the hold is given back.

use std::sync::Arc;

use serde_json::Value;
use weft_saga::{Step, StepError};

use super::Completion;
use crate::ports::Stock;

pub(super) struct ReserveStock(pub Arc<dyn Stock>);

#[async_trait::async_trait]
impl Step<Completion> for ReserveStock {
    fn name(&self) -> &'static str {
        "reserve_stock"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        self.0.reserve(&cx.attempt, &cx.lines()?).await?;
        Ok(Value::Null)
    }

    async fn undo(&self, cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        // By reference, so a hold made by a run that died mid-step is found too.
        Ok(self.0.release(&cx.attempt).await?)
    }
}
