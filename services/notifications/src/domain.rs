//! Notification messages: what kinds there are and which are marketing, the channels
//! they go out on, where a message is in its life, and when a failed one is tried again.

use std::time::Duration;

use backon::BackoffBuilder as _;
use chrono::{DateTime, Utc};

weft_kernel::define_id!(MessageId, "ntf", "A notification message.");

/// What a message is about; each has its templates (`templates/<locale>/<kind>.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Welcome,
    VerifyEmail,
    PasswordReset,
    AccountLocked,
    OrderConfirmation,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    OrderRefunded,
    ReturnReceived,
    /// To the shop's staff.
    LowStock,
    /// To the shop's staff.
    WebhookDisabled,
    /// Marketing: a signed-in customer's cart went quiet with lines in it. Only to those
    /// who opted in, always with a one-click unsubscribe.
    CartReminder,
}

impl Kind {
    pub const ALL: [Self; 13] = [
        Self::Welcome,
        Self::VerifyEmail,
        Self::PasswordReset,
        Self::AccountLocked,
        Self::OrderConfirmation,
        Self::OrderShipped,
        Self::OrderDelivered,
        Self::OrderCancelled,
        Self::OrderRefunded,
        Self::ReturnReceived,
        Self::LowStock,
        Self::WebhookDisabled,
        Self::CartReminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::AccountLocked => "account_locked",
            Self::OrderConfirmation => "order_confirmation",
            Self::OrderShipped => "order_shipped",
            Self::OrderDelivered => "order_delivered",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderRefunded => "order_refunded",
            Self::ReturnReceived => "return_received",
            Self::LowStock => "low_stock",
            Self::WebhookDisabled => "webhook_disabled",
            Self::CartReminder => "cart_reminder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Its body carries a secret (a single-use link): the log forgets the body once the
    /// message is sent or has failed.
    pub fn carries_secret(self) -> bool {
        matches!(self, Self::VerifyEmail | Self::PasswordReset)
    }

    /// Sent only to customers who opted in to marketing, with an unsubscribe link;
    /// everything else is transactional (always sent).
    pub fn is_marketing(self) -> bool {
        matches!(self, Self::CartReminder)
    }

    /// Also goes by SMS and push to customers who asked for order updates there (a short
    /// text, `<kind>.short.txt`).
    pub fn is_order_update(self) -> bool {
        matches!(
            self,
            Self::OrderConfirmation
                | Self::OrderShipped
                | Self::OrderDelivered
                | Self::OrderCancelled
        )
    }
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
    Push,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Push => "push",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            "push" => Some(Self::Push),
            _ => None,
        }
    }
}

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for its next attempt.
    Pending,
    /// The provider accepted it.
    Sent,
    /// A dead letter: refused for good, or every attempt failed. Staff may send it again.
    Failed,
    /// Never to be sent: its recipient was erased first.
    Cancelled,
}

impl Status {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Sent, Self::Failed, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One message to one recipient on one channel, made once per event (a unique key on
/// the event, kind, channel and recipient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub event_id: String,
    pub kind: Kind,
    pub channel: Channel,
    /// An e-mail address, a phone number or a push token; `erased` once its customer is.
    pub recipient: String,
    /// The customer it is for, if it is for one (erasure finds it by this).
    pub customer_id: Option<String>,
    pub locale: String,
    pub subject: String,
    /// The text part; `None` once forgotten (a secret link, an erasure).
    pub body_text: Option<String>,
    /// The HTML part (e-mail only).
    pub body_html: Option<String>,
    /// Marketing e-mail: the one-click unsubscribe URL (RFC 8058 `List-Unsubscribe`).
    pub unsubscribe_url: Option<String>,
    /// An order confirmation e-mail: the order whose invoice is attached (fetched from
    /// orders when it is sent).
    pub invoice_order_id: Option<String>,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The provider's id for what it accepted (SMTP's answer, Twilio's `sid`…).
    pub provider_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A file sent with an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// When a message a provider could not take is tried again: exponential backoff from
/// `first`, doubling up to `max`, with jitter; after `attempts` tries it is a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub first: Duration,
    pub max: Duration,
    pub attempts: u32,
}

impl Retry {
    /// The wait after the `attempt`-th (1-based) failure; `None` when that was the last.
    pub fn after(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.attempts {
            return None;
        }
        backon::ExponentialBuilder::default()
            .with_min_delay(self.first)
            .with_max_delay(self.max.max(self.first))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(attempt.saturating_sub(1) as usize)
    }
}

/// Cuts `text` to at most `max` bytes at a character boundary (errors kept in the log).
pub fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for c in [Channel::Email, Channel::Sms, Channel::Push] {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Kind::parse("spam"), None);
    }

    #[test]
    fn retries_back_off_then_stop() {
        let retry = Retry {
            first: Duration::from_secs(30),
            max: Duration::from_mins(10),
            attempts: 5,
        };
        for attempt in 1..5 {
            let base = (30u64 << (attempt - 1)).min(600);
            let d = retry.after(attempt).unwrap();
            assert!(
                d >= Duration::from_secs(base) && d < Duration::from_secs(base * 2),
                "{attempt}: {d:?}"
            );
        }
        assert_eq!(retry.after(5), None);
        assert_eq!(retry.after(9), None);
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("héllo", 2), "h");
        assert_eq!(clip("ok", 10), "ok");
    }
}
