//! The embedded transport: "publishing" hands each event to every in-process consumer
//! that wants it and waits until each has applied it (or dead-lettered it), so the relay
//! marks an event published only after it has been handled. Each consumer takes the
//! batch's events it wants in order (several in one transaction where its handler
//! allows); consumers run side by side.

use std::sync::{Arc, RwLock};

use futures::future::join_all;

use crate::{BusError, Consumer, Envelope, Transport};

#[derive(Default)]
pub struct MemoryTransport {
    consumers: RwLock<Vec<Arc<Consumer>>>,
}

impl std::fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTransport").finish_non_exhaustive()
    }
}

impl MemoryTransport {
    pub fn new() -> Self {
        Self::default()
    }

    fn consumers(&self) -> Vec<Arc<Consumer>> {
        self.consumers.read().map(|c| c.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Transport for MemoryTransport {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn publish(&self, batch: &[Envelope]) -> Result<(), BusError> {
        let consumers = self.consumers();
        let deliveries = consumers.iter().map(|consumer| async move {
            let wanted: Vec<&Envelope> = batch
                .iter()
                .filter(|e| consumer.wants(&e.event_type))
                .collect();
            if !wanted.is_empty() {
                consumer.deliver_all(&wanted).await;
            }
        });
        join_all(deliveries).await;
        Ok(())
    }

    async fn subscribe(&self, consumer: Arc<Consumer>) -> Result<(), BusError> {
        if let Ok(mut consumers) = self.consumers.write() {
            consumers.push(consumer);
        }
        Ok(())
    }

    async fn health(&self) -> Result<(), BusError> {
        Ok(())
    }
}
