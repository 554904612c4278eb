//! Live notices: "this cart changed", fanned out to every process that may have a
//! watcher (a WebSocket or a GraphQL subscription) for it.
//!
//! Unlike events they are ephemeral and carry no data, only a topic and a key: a watcher
//! that hears one re-reads the thing through its own use case (with its own caller's
//! rights), and one that misses one (a broker restart) is behind only until the next
//! change. So there is no outbox, no inbox and no acknowledgement here.
//!
//! Embedded, a `tokio::sync::broadcast` channel; in a cluster, a RabbitMQ fanout exchange
//! `<ns>.live` that every process binds its own exclusive, auto-deleted queue to.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{Mutex, broadcast};

/// The topic of "answers of service `key` that gateways keep are stale".
pub const PURGE: &str = "purge";

/// One change: `topic` names the kind of thing (`cart`), `key` which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub topic: String,
    pub key: String,
}

impl Notice {
    fn encode(&self) -> Vec<u8> {
        format!("{}\n{}", self.topic, self.key).into_bytes()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (topic, key) = text.split_once('\n')?;
        Some(Self {
            topic: topic.to_owned(),
            key: key.to_owned(),
        })
    }
}

/// Notices a process receives are kept this many deep for a slow watcher; one that falls
/// further behind is told it lagged and re-reads.
const BUFFER: usize = 1024;

/// Where live notices go, and where watchers hear them.
#[async_trait::async_trait]
pub trait Fanout: Send + Sync + std::fmt::Debug + 'static {
    /// Tells every process; best effort (a failure is logged, never returned: the change
    /// itself is already committed).
    async fn publish(&self, notice: Notice);
    /// Every notice from now on, from any process.
    fn subscribe(&self) -> broadcast::Receiver<Notice>;
}

/// One process: notices go straight to its watchers.
#[derive(Debug, Clone)]
pub struct MemoryFanout {
    tx: broadcast::Sender<Notice>,
}

impl Default for MemoryFanout {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BUFFER).0,
        }
    }
}

#[async_trait::async_trait]
impl Fanout for MemoryFanout {
    async fn publish(&self, notice: Notice) {
        // No receiver is no watcher: nothing to tell.
        let _ = self.tx.send(notice);
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }
}

/// A cluster: notices go through RabbitMQ to every process, this one included.
pub struct AmqpFanout {
    url: String,
    exchange: String,
    tx: broadcast::Sender<Notice>,
    publisher: Mutex<Option<(Connection, Channel)>>,
}

impl std::fmt::Debug for AmqpFanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpFanout")
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

impl AmqpFanout {
    /// Starts listening (and keeps re-connecting, with backoff, for as long as the process
    /// runs). Returns once the first listener is bound, so a notice published after this
    /// returns reaches this process too; a broker that is down is retried in the
    /// background.
    pub async fn start(url: &str, namespace: &str) -> Arc<Self> {
        let fanout = Arc::new(Self {
            url: url.to_owned(),
            exchange: format!("{namespace}.live"),
            tx: broadcast::channel(BUFFER).0,
            publisher: Mutex::new(None),
        });
        let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(Arc::clone(&fanout).listen(bound_tx));
        // Bounded: a broker that is down must not hold up start-up.
        let _ = tokio::time::timeout(Duration::from_secs(5), bound_rx).await;
        fanout
    }

    async fn open(&self) -> Result<(Connection, Channel), lapin::Error> {
        let conn = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = conn.create_channel().await?;
        channel
            .exchange_declare(
                self.exchange.as_str().into(),
                ExchangeKind::Fanout,
                ExchangeDeclareOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok((conn, channel))
    }

    async fn listen(self: Arc<Self>, bound: tokio::sync::oneshot::Sender<()>) {
        let mut bound = Some(bound);
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.listen_once(&mut bound).await {
                Ok(()) => {
                    // It was up: start the backoff over.
                    tracing::warn!("live notices: broker connection closed; reconnecting");
                    backoff = Duration::from_millis(200);
                }
                Err(err) => {
                    tracing::warn!(error = %err, "live notices: broker unavailable; retrying");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    async fn listen_once(
        &self,
        bound: &mut Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), lapin::Error> {
        let (_conn, channel) = self.open().await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                queue.name().as_str().into(),
                self.exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut deliveries = channel
            .basic_consume(
                queue.name().as_str().into(),
                "live".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        if let Some(bound) = bound.take() {
            let _ = bound.send(());
        }
        while let Some(delivery) = deliveries.next().await {
            if let Some(notice) = Notice::decode(&delivery?.data) {
                let _ = self.tx.send(notice);
            }
        }
        Ok(())
    }

    async fn publish_once(&self, body: &[u8]) -> Result<(), lapin::Error> {
        let mut guard = self.publisher.lock().await;
        let fresh = match guard.as_ref() {
            Some((conn, channel)) if conn.status().connected() && channel.status().connected() => {
                None
            }
            _ => Some(self.open().await?),
        };
        if let Some(opened) = fresh {
            *guard = Some(opened);
        }
        let Some((_, channel)) = guard.as_ref() else {
            return Ok(());
        };
        channel
            .basic_publish(
                self.exchange.as_str().into(),
                "".into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default(),
            )
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Fanout for AmqpFanout {
    async fn publish(&self, notice: Notice) {
        let body = notice.encode();
        if let Err(err) = self.publish_once(&body).await {
            // One retry on a fresh connection (the broker restarted since the last one).
            self.publisher.lock().await.take();
            if let Err(err2) = self.publish_once(&body).await {
                tracing::warn!(error = %err, retry_error = %err2, topic = %notice.topic,
                    "live notice not published; watchers catch up at the next change");
            }
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_survive_the_wire() {
        let n = Notice {
            topic: "cart".into(),
            key: "cart_0192".into(),
        };
        assert_eq!(Notice::decode(&n.encode()), Some(n));
        assert_eq!(Notice::decode(b"no separator"), None);
    }

    #[tokio::test]
    async fn memory_fanout_reaches_every_subscriber() {
        let fanout = MemoryFanout::default();
        let (mut a, mut b) = (fanout.subscribe(), fanout.subscribe());
        let n = Notice {
            topic: "cart".into(),
            key: "x".into(),
        };
        fanout.publish(n.clone()).await;
        assert_eq!(a.recv().await.unwrap(), n);
        assert_eq!(b.recv().await.unwrap(), n);
    }
}
