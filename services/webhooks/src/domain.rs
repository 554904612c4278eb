//! Webhook endpoints, their deliveries and each delivery's attempts; which events may be
//! subscribed to and by whom; how a delivery's body is built and when a failed one is
//! tried again.

use std::time::Duration;

use backon::BackoffBuilder as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use weft_kernel::FieldError;

weft_kernel::define_id!(EndpointId, "whe", "A webhook endpoint.");
weft_kernel::define_id!(
    DeliveryId,
    "whd",
    "One event's delivery to one webhook endpoint."
);

/// The event a "send test event" delivers; never subscribed to, always deliverable.
pub const TEST_EVENT: &str = "webhook.test";

/// The events an endpoint may subscribe to, each with the scope an app must hold to
/// receive it (admins may subscribe to any). Events that only move stock statuses
/// (`inventory.stock_status_changed`) are not offered: a bulk change emits thousands.
pub const TOPICS: &[(&str, &str)] = &[
    ("order.created", "orders:read"),
    ("order.fulfilled", "orders:read"),
    ("order.completed", "orders:read"),
    ("order.cancelled", "orders:read"),
    ("order.refunded", "orders:read"),
    ("order.return_received", "orders:read"),
    ("payment.succeeded", "payments:read"),
    ("payment.failed", "payments:read"),
    ("inventory.low", "inventory:read"),
    ("product.updated", "catalog:read"),
    ("review.product_rated", "catalog:read"),
    ("user.registered", "customers:read"),
    ("user.erased", "customers:read"),
];

/// What the webhooks consumer follows: every topic, and revocations of the credentials
/// that own endpoints (`identity.credential_revoked`).
pub const CONSUMED: &[&str] = &[
    "order.created",
    "order.fulfilled",
    "order.completed",
    "order.cancelled",
    "order.refunded",
    "order.return_received",
    "payment.succeeded",
    "payment.failed",
    "inventory.low",
    "product.updated",
    "review.product_rated",
    "user.registered",
    "user.erased",
    "identity.credential_revoked",
];

/// The wire names of [`TOPICS`] (what [`CONSUMED`] lists before the revocations).
pub const TOPIC_NAMES: &[&str] = CONSUMED.split_at(CONSUMED.len() - 1).0;

/// The scope an app needs to receive `topic`; `None` when it is not one.
pub fn scope_of(topic: &str) -> Option<&'static str> {
    TOPICS
        .iter()
        .find(|(name, _)| *name == topic)
        .map(|(_, scope)| *scope)
}

/// The customer whose personal data an event's payload carries (an e-mail address), so
/// that an erasure can find the copies: `None` for events that carry none.
pub fn customer_of(event_type: &str, payload: &serde_json::Value) -> Option<String> {
    let field = match event_type {
        "user.registered" => "user_id",
        "order.created" => "customer_id",
        _ => return None,
    };
    payload[field].as_str().map(str::to_owned)
}

/// Whether an endpoint receives deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointStatus {
    Enabled,
    /// By staff, or by Weft after a delivery failed for the whole retry window.
    Disabled,
}

impl EndpointStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "enabled" => Some(Self::Enabled),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt of the retry window failed (a dead letter; it can be redelivered).
    Failed,
    /// Never to be sent: the customer whose data it carried was erased first.
    Cancelled,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// A subscribed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    /// The app (`app_…`, `key_…`) that subscribed it; `None` for the shop's own (an
    /// admin's). Apps see and change only their own endpoints.
    pub owner_id: Option<String>,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    /// Until when deliveries are also signed with the secret before the last rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.iter().any(|e| e == event_type)
    }
}

/// One event on its way to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// Whose personal data the body carries (erasure finds it by this).
    pub customer_id: Option<String>,
    /// The exact body sent; `None` once erased.
    pub payload: Option<String>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// No automatic attempt after this; a failure then makes the delivery `failed`.
    pub retry_until: DateTime<Utc>,
    /// The status code of the last answer, if there was one.
    pub last_response_status: Option<i32>,
    /// Its next attempt was asked for by staff (a redelivery or a test event): a failure
    /// then does not disable the endpoint.
    pub manual: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One try at a delivery, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub number: i32,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub response_status: Option<i32>,
    /// The start of the receiver's answer (up to [`EXCERPT_BYTES`]).
    pub response_excerpt: Option<String>,
    /// Why there was no answer (timeout, refused target, connection error).
    pub error: Option<String>,
}

/// How much of a receiver's answer the log keeps.
pub const EXCERPT_BYTES: usize = 1024;

/// The start of `text`, cut at a character boundary at most `EXCERPT_BYTES` in.
pub fn excerpt(text: &str) -> String {
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// What a subscription asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
}

pub const MAX_URL: usize = 2048;
pub const MAX_DESCRIPTION: usize = 200;

/// Checks the event list: known topics, at least one, no repeats (returned in the
/// order given). Whether the caller may receive them is the service's business.
pub fn check_events(events: &[String]) -> Result<Vec<String>, FieldError> {
    if events.is_empty() {
        return Err(FieldError::new("events", "name at least one event"));
    }
    let mut out: Vec<String> = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        if scope_of(e).is_none() {
            return Err(FieldError::new(
                format!("events[{i}]"),
                format!("unknown event `{e}`; one of {}", TOPIC_NAMES.join(", ")),
            ));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

pub fn check_description(description: &str) -> Result<String, FieldError> {
    let d = description.trim();
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(FieldError::new(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(d.to_owned())
}

/// A new signing secret: `whsec_` and 32 random bytes (URL-safe base64). Receivers use
/// the whole string as the HMAC key.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("whsec_{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The body every delivery of an event carries: the event's id (for de-duplication), its
/// type, when it happened and its payload.
pub fn body(
    event_id: &str,
    event_type: &str,
    occurred_at: DateTime<Utc>,
    data: &serde_json::Value,
) -> String {
    serde_json::json!({
        "id": event_id,
        "type": event_type,
        "created_at": occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string()
}

/// When failed deliveries are tried again: exponential backoff from `first`, doubling up
/// to `max`, each wait with up to as much again of random jitter; for `window` after the
/// delivery was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub first: Duration,
    pub max: Duration,
    pub window: Duration,
}

impl Retry {
    /// The wait after the `attempt`-th (1-based) failed attempt.
    pub fn delay(&self, attempt: u32) -> Duration {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.first)
            .with_max_delay(self.max.max(self.first))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(attempt.saturating_sub(1) as usize)
            .unwrap_or(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_has_a_known_scope_and_the_names_match() {
        let names: Vec<&str> = TOPICS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, TOPIC_NAMES);
        assert_eq!(&CONSUMED[..TOPIC_NAMES.len()], TOPIC_NAMES);
        assert_eq!(
            CONSUMED[TOPIC_NAMES.len()..],
            ["identity.credential_revoked"]
        );
        for (_, scope) in TOPICS {
            assert!(weft_http::authz::SCOPES.contains(scope), "{scope}");
        }
    }

    #[test]
    fn events_are_checked_by_name_and_repeats_collapse() {
        let ok = check_events(&["order.created".into(), "order.created".into()]).unwrap();
        assert_eq!(ok, ["order.created"]);
        let err = check_events(&["order.created".into(), "order.eaten".into()]).unwrap_err();
        assert_eq!(err.field, "events[1]");
        assert_eq!(check_events(&[]).unwrap_err().field, "events");
        assert_eq!(
            check_events(&[TEST_EVENT.into()]).unwrap_err().field,
            "events[0]",
            "the test event is sent on request, not subscribed to"
        );
    }

    #[test]
    fn backoff_doubles_within_its_bounds() {
        let retry = Retry {
            first: Duration::from_mins(1),
            max: Duration::from_hours(1),
            window: Duration::from_hours(72),
        };
        for attempt in 1..30 {
            let d = retry.delay(attempt);
            let base = (60u64 << (attempt - 1).min(6)).min(3600);
            assert!(
                d >= Duration::from_secs(base) && d < Duration::from_secs(base * 2),
                "attempt {attempt}: {d:?} not in [{base}, {}) s",
                base * 2
            );
        }
    }

    #[test]
    fn only_events_carrying_personal_data_name_a_customer() {
        let p = serde_json::json!({"user_id": "usr_1", "customer_id": "usr_2"});
        assert_eq!(customer_of("user.registered", &p).as_deref(), Some("usr_1"));
        assert_eq!(customer_of("order.created", &p).as_deref(), Some("usr_2"));
        assert_eq!(customer_of("user.erased", &p), None);
        assert_eq!(customer_of("order.cancelled", &p), None);
    }

    #[test]
    fn excerpts_stop_at_a_character_boundary() {
        let long = "é".repeat(EXCERPT_BYTES);
        let cut = excerpt(&long);
        assert!(cut.len() <= EXCERPT_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn secrets_are_prefixed_and_differ() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert!(a.starts_with("whsec_") && a.len() == 6 + 43);
        assert_ne!(a, b);
    }
}
