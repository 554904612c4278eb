//! What Weft asks of a payment gateway. Shaped on Stripe's PaymentIntents with manual
//! capture, which the others fit too (docs/payments.md shows how Razorpay's orders and
//! PayPal's authorizations map): authorize an amount against a token, maybe after the
//! customer's 3-D Secure, capture it (all or part), void what was not captured, refund
//! what was. Card data never reaches Weft: only the gateway's tokens and references.

use weft_kernel::Money;

/// Authorize `amount` against `token`. `idempotency_key` makes a retried call the same
/// authorization (the gateway's own idempotency: one charge however often it is asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorize {
    pub idempotency_key: String,
    pub amount: Money,
    /// The gateway's token for the customer's card (`tok_visa`, `pm_…`).
    pub token: String,
    /// What the payment is for (a checkout id), shown in the gateway's dashboard.
    pub reference: String,
}

/// An authorization as the gateway sees it now.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// The amount is held; capture it or void it.
    Authorized { provider_ref: String },
    /// The customer must act (3-D Secure); `next_action` is what the client does
    /// (Stripe's `next_action`), then [`PaymentProvider::confirm`] asks again.
    RequiresAction {
        provider_ref: String,
        next_action: serde_json::Value,
    },
}

impl Authorization {
    pub fn provider_ref(&self) -> &str {
        match self {
            Self::Authorized { provider_ref } | Self::RequiresAction { provider_ref, .. } => {
                provider_ref
            }
        }
    }
}

/// A gateway event (`POST /v1/webhooks/<provider>`), verified.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// The gateway's event id: a replay carries the same one.
    pub id: String,
    /// `payment_intent.succeeded`, `charge.refunded`, …
    pub kind: String,
    pub provider_ref: Option<String>,
    pub payload: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The card was refused: `code` is the gateway's (`card_declined`,
    /// `insufficient_funds`).
    #[error("declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// The request cannot succeed as asked (unknown token, capture after a void, a
    /// refund over what was captured, a bad webhook signature).
    #[error("{0}")]
    Invalid(String),
    /// The gateway could not be reached or failed on its side: safe to retry with the
    /// same idempotency key.
    #[error("payment gateway unavailable: {0}")]
    Unavailable(String),
}

/// A payment gateway.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync + std::fmt::Debug + 'static {
    /// `test`, `stripe`, …
    fn name(&self) -> &'static str;
    /// Holds `amount` on the card (not charged until captured).
    async fn authorize(&self, request: &Authorize) -> Result<Authorization, ProviderError>;
    /// The reference of the authorization made under `idempotency_key`, if the gateway
    /// made one: what a caller that crashed before hearing the answer must let go.
    async fn find_by_key(&self, idempotency_key: &str) -> Result<Option<String>, ProviderError>;
    /// The authorization after the customer acted on `next_action`.
    async fn confirm(&self, provider_ref: &str) -> Result<Authorization, ProviderError>;
    /// Charges `amount` (at most what was authorized) of an authorization, once.
    async fn capture(&self, provider_ref: &str, amount: Money) -> Result<(), ProviderError>;
    /// Lets an authorization go without charging; voiding twice is fine.
    async fn void(&self, provider_ref: &str) -> Result<(), ProviderError>;
    /// Gives back `amount` of what was captured; returns the refund's reference. The
    /// same `idempotency_key` is the same refund.
    async fn refund(
        &self,
        provider_ref: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, ProviderError>;
    /// Verifies and reads a webhook (`headers` as received, lower-case names).
    async fn handle_webhook(
        &self,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<WebhookEvent, ProviderError>;
}
