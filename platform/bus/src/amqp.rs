//! The cluster transport: RabbitMQ through lapin.
//!
//! Topology, all durable:
//! - exchange `<ns>.events` (topic; `ns` is `weft` unless configured); an event's routing
//!   key is its type (`order.created`);
//! - per consumer `<ns>.<consumer>` bound to its event types, `<ns>.<consumer>.retry`
//!   (messages wait there for their backoff, then dead-letter back into the main queue)
//!   and `<ns>.<consumer>.dlq` (given up on).
//!
//! Publishing waits for publisher confirms, so the relay marks an event published only
//! once RabbitMQ has it on disk. A consumer acks a delivery only after its own transaction
//! committed; a failure is republished to the retry queue with `x-weft-attempts` + 1 and a
//! per-message expiration, and after the last attempt goes to the DLQ. Connections that
//! drop (a broker restart) are re-established with backoff; nothing unacked is lost.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;

use crate::{BusError, Consumer, Envelope, Transport};

const ATTEMPTS_HEADER: &str = "x-weft-attempts";

fn unavailable(err: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(err.to_string())
}

/// RabbitMQ transport for `amqp://…` URLs.
pub struct AmqpTransport {
    url: String,
    /// Prefix of the exchange and every queue (`weft`), so installations can share a broker.
    namespace: String,
    /// Deletes queues unused for this long (`x-expires`); only test brokers set it.
    idle_queue_expiry: Option<Duration>,
    /// The publishing connection and its confirm-mode channel, re-created after a failure.
    publisher: Mutex<Option<(Connection, Channel)>>,
}

impl std::fmt::Debug for AmqpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpTransport").finish_non_exhaustive()
    }
}

impl AmqpTransport {
    /// Connects to `url` and declares the exchange; fails when the broker is unreachable,
    /// so a cluster process refuses to start without its broker unless told otherwise.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, BusError> {
        let transport = Self::lazy(url, namespace);
        transport.publisher_channel().await?;
        Ok(transport)
    }

    /// As [`Self::connect`], but starting without a broker: publishing fails (and the
    /// outbox keeps the events) until it is reachable.
    pub fn lazy(url: &str, namespace: &str) -> Self {
        Self {
            url: url.to_owned(),
            namespace: namespace.to_owned(),
            idle_queue_expiry: None,
            publisher: Mutex::new(None),
        }
    }

    /// Lets RabbitMQ delete this transport's queues once unused for `after` — for
    /// throwaway namespaces such as tests', never for a shop's.
    #[must_use]
    pub fn with_idle_queue_expiry(mut self, after: Duration) -> Self {
        self.idle_queue_expiry = Some(after);
        self
    }

    fn exchange(&self) -> String {
        format!("{}.events", self.namespace)
    }

    /// Deletes the exchange and the queues of `consumers` (tests clean up with this).
    pub async fn delete_topology(&self, consumers: &[&str]) -> Result<(), BusError> {
        let channel = self.publisher_channel().await?;
        for consumer in consumers {
            let names = queue_names(&self.namespace, consumer);
            for queue in [names.0, names.1, names.2] {
                channel
                    .queue_delete(
                        queue.as_str().into(),
                        lapin::options::QueueDeleteOptions::default(),
                    )
                    .await
                    .map_err(unavailable)?;
            }
        }
        channel
            .exchange_delete(
                self.exchange().as_str().into(),
                lapin::options::ExchangeDeleteOptions::default(),
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn open(&self) -> Result<(Connection, Channel), BusError> {
        let conn = Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .map_err(unavailable)?;
        let channel = conn.create_channel().await.map_err(unavailable)?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(unavailable)?;
        declare_exchange(&channel, &self.exchange()).await?;
        Ok((conn, channel))
    }

    async fn publisher_channel(&self) -> Result<Channel, BusError> {
        let mut guard = self.publisher.lock().await;
        if let Some((conn, channel)) = guard.as_ref()
            && conn.status().connected()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let (conn, channel) = self.open().await?;
        let out = channel.clone();
        *guard = Some((conn, channel));
        Ok(out)
    }

    async fn forget_publisher(&self) {
        self.publisher.lock().await.take();
    }
}

fn properties(event: &Envelope, attempts: u32) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(ATTEMPTS_HEADER.into(), AMQPValue::LongUInt(attempts));
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_message_id(event.id.to_string().into())
        .with_type(event.event_type.clone().into())
        .with_headers(headers)
}

async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    props: BasicProperties,
) -> Result<(), BusError> {
    let confirm = channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            body,
            props,
        )
        .await
        .map_err(unavailable)?
        .await
        .map_err(unavailable)?;
    if confirm.is_ack() {
        Ok(())
    } else {
        Err(BusError::Nacked(1))
    }
}

#[async_trait::async_trait]
impl Transport for AmqpTransport {
    fn name(&self) -> &'static str {
        "amqp"
    }

    async fn publish(&self, batch: &[Envelope]) -> Result<(), BusError> {
        let channel = self.publisher_channel().await?;
        let exchange = self.exchange();
        let mut confirms = Vec::with_capacity(batch.len());
        let result = async {
            for event in batch {
                let body = serde_json::to_vec(event).map_err(unavailable)?;
                let confirm = channel
                    .basic_publish(
                        exchange.as_str().into(),
                        event.event_type.as_str().into(),
                        BasicPublishOptions::default(),
                        &body,
                        properties(event, 0),
                    )
                    .await
                    .map_err(unavailable)?;
                confirms.push(confirm);
            }
            // Pipelined: every publish is sent, then every confirm awaited.
            let mut nacked = 0;
            for confirm in confirms {
                if !confirm.await.map_err(unavailable)?.is_ack() {
                    nacked += 1;
                }
            }
            if nacked > 0 {
                Err(BusError::Nacked(nacked))
            } else {
                Ok(())
            }
        }
        .await;
        if result.is_err() {
            self.forget_publisher().await;
        }
        result
    }

    async fn subscribe(&self, consumer: Arc<Consumer>) -> Result<(), BusError> {
        let url = self.url.clone();
        let namespace = self.namespace.clone();
        let expiry = self.idle_queue_expiry;
        // Declared before returning, so events published from now on reach the queue.
        {
            let conn = Connection::connect(&url, ConnectionProperties::default())
                .await
                .map_err(unavailable)?;
            let channel = conn.create_channel().await.map_err(unavailable)?;
            declare(&channel, &namespace, expiry, &consumer).await?;
            let _ = conn.close(200, "declared".into()).await;
        }
        tokio::spawn(async move {
            let mut failures: u32 = 0;
            loop {
                match consume(&url, &namespace, expiry, &consumer, &mut failures).await {
                    Ok(()) => tracing::warn!(
                        consumer = consumer.name(),
                        "broker closed the consumer; reconnecting"
                    ),
                    Err(err) => {
                        tracing::warn!(consumer = consumer.name(), error = %err, "consumer disconnected; reconnecting");
                    }
                }
                failures += 1;
                tokio::time::sleep(
                    consumer
                        .policy
                        .backoff(failures)
                        .min(Duration::from_secs(5)),
                )
                .await;
            }
        });
        Ok(())
    }

    async fn health(&self) -> Result<(), BusError> {
        self.publisher_channel().await.map(|_| ())
    }
}

async fn declare_exchange(channel: &Channel, exchange: &str) -> Result<(), BusError> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(unavailable)
}

fn queue_names(namespace: &str, consumer: &str) -> (String, String, String) {
    let main = format!("{namespace}.{consumer}");
    (main.clone(), format!("{main}.retry"), format!("{main}.dlq"))
}

/// Declares the consumer's queues and bindings on `channel`.
async fn declare(
    channel: &Channel,
    namespace: &str,
    expiry: Option<Duration>,
    consumer: &Consumer,
) -> Result<(), BusError> {
    let (main, retry, dlq) = queue_names(namespace, consumer.name());
    let exchange = format!("{namespace}.events");
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    let base_args = || {
        let mut args = FieldTable::default();
        if let Some(after) = expiry {
            args.insert(
                "x-expires".into(),
                AMQPValue::LongUInt(u32::try_from(after.as_millis()).unwrap_or(u32::MAX)),
            );
        }
        args
    };
    declare_exchange(channel, &exchange).await?;
    channel
        .queue_declare(main.as_str().into(), durable, base_args())
        .await
        .map_err(unavailable)?;
    let mut retry_args = base_args();
    retry_args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString("".into()),
    );
    retry_args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(main.as_str().into()),
    );
    channel
        .queue_declare(retry.as_str().into(), durable, retry_args)
        .await
        .map_err(unavailable)?;
    channel
        .queue_declare(dlq.as_str().into(), durable, base_args())
        .await
        .map_err(unavailable)?;
    for event_type in consumer.event_types() {
        channel
            .queue_bind(
                main.as_str().into(),
                exchange.as_str().into(),
                (*event_type).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

fn attempts_of(props: &BasicProperties) -> u32 {
    props
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(&ShortString::from(ATTEMPTS_HEADER)).cloned())
        .and_then(|v| match v {
            AMQPValue::LongUInt(n) => Some(n),
            AMQPValue::LongInt(n) => u32::try_from(n).ok(),
            AMQPValue::LongLongInt(n) => u32::try_from(n).ok(),
            _ => None,
        })
        .unwrap_or(0)
}

/// One connection's worth of consuming; returns when the connection ends.
async fn consume(
    url: &str,
    namespace: &str,
    expiry: Option<Duration>,
    consumer: &Consumer,
    failures: &mut u32,
) -> Result<(), BusError> {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .map_err(unavailable)?;
    let channel = conn.create_channel().await.map_err(unavailable)?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(unavailable)?;
    channel
        .basic_qos(32, BasicQosOptions::default())
        .await
        .map_err(unavailable)?;
    declare(&channel, namespace, expiry, consumer).await?;
    let (main, retry, dlq) = queue_names(namespace, consumer.name());
    let mut deliveries = channel
        .basic_consume(
            main.as_str().into(),
            format!("{}-{}", consumer.name(), uuid::Uuid::now_v7().simple()).into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(unavailable)?;
    tracing::info!(consumer = consumer.name(), queue = %main, "consuming");
    *failures = 0;

    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery.map_err(unavailable)?;
        let attempts = attempts_of(&delivery.properties) + 1;
        match serde_json::from_slice::<Envelope>(&delivery.data) {
            Err(err) => {
                // Not an envelope: no retry can fix it.
                tracing::error!(consumer = consumer.name(), error = %err, "undecodable message sent to the DLQ");
                publish_confirmed(
                    &channel,
                    "",
                    &dlq,
                    &delivery.data,
                    delivery.properties.clone(),
                )
                .await?;
            }
            Ok(event) => match consumer.apply(&event).await {
                Ok(_) => {}
                Err(err) if attempts >= consumer.policy.max_attempts => {
                    consumer
                        .dead_letter(&event, attempts, &err.to_string())
                        .await;
                    publish_confirmed(
                        &channel,
                        "",
                        &dlq,
                        &delivery.data,
                        properties(&event, attempts),
                    )
                    .await?;
                }
                Err(err) => {
                    let wait = consumer.policy.backoff(attempts);
                    tracing::warn!(consumer = consumer.name(), event_id = %event.id, attempts, error = %err, "event handler failed; retrying");
                    let props = properties(&event, attempts)
                        .with_expiration(wait.as_millis().to_string().into());
                    publish_confirmed(&channel, "", &retry, &delivery.data, props).await?;
                }
            },
        }
        // Only now: the effect committed, or the message is safely in the retry queue or DLQ.
        delivery
            .ack(BasicAckOptions::default())
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}
