//! Background work a service runs in the process that hosts it: its event consumers and
//! its long-running tasks (sweepers, settlers, recovery). Each service lists its own
//! (`workers()` on its service); the composition root starts the lists of the services it
//! hosts and knows nothing of what is in them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::EventHandler;

/// One piece of a service's background work.
pub enum Worker {
    /// Consumes events (subscribed on the process's bus).
    Consumer(Arc<dyn EventHandler>),
    /// Runs for as long as the process does, or until it is done (`name` for the logs).
    Task(&'static str, Pin<Box<dyn Future<Output = ()> + Send>>),
}

impl Worker {
    /// A task from a future.
    pub fn task(name: &'static str, run: impl Future<Output = ()> + Send + 'static) -> Self {
        Self::Task(name, Box::pin(run))
    }

    /// A consumer from a handler.
    pub fn consumer(handler: impl EventHandler) -> Self {
        Self::Consumer(Arc::new(handler))
    }
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Consumer(handler) => write!(f, "Consumer({})", handler.consumer()),
            Self::Task(name, _) => write!(f, "Task({name})"),
        }
    }
}
