//! Step 7: the held units leave the shelf, in one transaction. A hold that lapsed
//! meanwhile (a 3-D Secure challenge left open past the reservation's time) is taken
//! from what is available now; if that is gone too the run is undone: the order
//! cancelled, the payment refunded. Nothing to undo here: it commits all or nothing.

use std::sync::Arc;

use serde_json::Value;
use weft_saga::{Step, StepError};

use super::Completion;
use crate::ports::Stock;

pub(super) struct CommitStock(pub Arc<dyn Stock>);

#[async_trait::async_trait]
impl Step<Completion> for CommitStock {
    fn name(&self) -> &'static str {
        "commit_stock"
    }

    async fn run(&self, cx: &mut Completion) -> Result<Value, StepError> {
        self.0.commit(&cx.attempt, &cx.lines()?).await?;
        Ok(Value::Null)
    }

    async fn undo(&self, _cx: &mut Completion, _undo: Option<Value>) -> Result<(), StepError> {
        Ok(())
    }
}
