//! The envelope every event travels in, and the trait typed events implement.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use weft_kernel::id::{EventId, PrefixedId};
use weft_storage::events::OutboxRow;

/// A typed event. `TYPE` is its wire name (`order.created`), past tense; `VERSION`
/// changes when its payload changes incompatibly.
pub trait Event: Serialize + DeserializeOwned + Send + Sync {
    const TYPE: &'static str;
    const VERSION: u16 = 1;
    /// The id of the thing the event is about (`ord_…`), for ordering and tracing.
    fn aggregate_id(&self) -> String;
}

/// An event on the wire and in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u16,
    pub occurred_at: DateTime<Utc>,
    pub aggregate_id: String,
    pub payload: serde_json::Value,
    /// W3C `traceparent` of the span that wrote the event, so consumers continue its trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_context: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("expected a `{expected}` event, got `{actual}`")]
    WrongType {
        expected: &'static str,
        actual: String,
    },
    #[error("`{event_type}` payload does not match version {version}: {source}")]
    Payload {
        event_type: String,
        version: u16,
        source: serde_json::Error,
    },
    #[error("outbox row is corrupt: {0}")]
    Row(String),
}

impl Envelope {
    pub fn new<E: Event>(event: &E, now: DateTime<Utc>) -> Self {
        Self {
            id: EventId::generate(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            occurred_at: now,
            aggregate_id: event.aggregate_id(),
            // Typed events are plain data: serializing them cannot fail.
            payload: serde_json::to_value(event).unwrap_or_default(),
            trace_context: weft_telemetry::trace_context::current(),
        }
    }

    /// The typed event inside, if it is one.
    pub fn decode<E: Event>(&self) -> Result<E, DecodeError> {
        if self.event_type != E::TYPE {
            return Err(DecodeError::WrongType {
                expected: E::TYPE,
                actual: self.event_type.clone(),
            });
        }
        serde_json::from_value(self.payload.clone()).map_err(|source| DecodeError::Payload {
            event_type: self.event_type.clone(),
            version: self.version,
            source,
        })
    }

    pub fn to_outbox_row(&self) -> OutboxRow {
        OutboxRow {
            id: self.id.to_string(),
            event_type: self.event_type.clone(),
            event_version: i32::from(self.version),
            aggregate_id: self.aggregate_id.clone(),
            payload: self.payload.to_string(),
            trace_context: self.trace_context.clone(),
            occurred_at: self.occurred_at.naive_utc(),
        }
    }

    pub fn from_outbox_row(row: OutboxRow) -> Result<Self, DecodeError> {
        Ok(Self {
            id: row
                .id
                .parse()
                .map_err(|e| DecodeError::Row(format!("id: {e}")))?,
            event_type: row.event_type,
            version: u16::try_from(row.event_version)
                .map_err(|e| DecodeError::Row(format!("version: {e}")))?,
            occurred_at: row.occurred_at.and_utc(),
            aggregate_id: row.aggregate_id,
            payload: serde_json::from_str(&row.payload)
                .map_err(|e| DecodeError::Row(format!("payload: {e}")))?,
            trace_context: row.trace_context,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::OrderCancelled;

    #[test]
    fn an_envelope_round_trips_through_the_outbox_and_decodes_to_its_event() {
        let event = OrderCancelled {
            order_id: "ord_1".into(),
            reason: "customer asked".into(),
            ..OrderCancelled::default()
        };
        let env = Envelope::new(&event, Utc::now());
        assert_eq!(env.event_type, "order.cancelled");
        assert_eq!(env.aggregate_id, "ord_1");
        let back = Envelope::from_outbox_row(env.to_outbox_row()).unwrap();
        assert_eq!(back.id, env.id);
        assert_eq!(back.decode::<OrderCancelled>().unwrap(), event);
        assert!(matches!(
            back.decode::<crate::events::OrderCompleted>(),
            Err(DecodeError::WrongType { .. })
        ));
    }

    #[test]
    fn the_wire_format_names_the_type_field_type() {
        let env = Envelope::new(
            &OrderCancelled {
                order_id: "ord_1".into(),
                reason: String::new(),
                ..OrderCancelled::default()
            },
            Utc::now(),
        );
        let json = serde_json::to_value(&env).unwrap();
        assert_eq!(json["type"], "order.cancelled");
        assert!(json["id"].as_str().unwrap().starts_with("evt_"));
        assert!(
            json.get("trace_context").is_none(),
            "absent without a trace"
        );
    }
}
