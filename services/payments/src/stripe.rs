//! The `stripe` gateway: [`PaymentProvider`] on Stripe's PaymentIntents, through
//! async-stripe (`=1.0.0-rc.10`, rustls on ring), pointed at `stripe_api_base`.
//!
//! | trait method | Stripe call |
//! |---|---|
//! | `authorize` | `POST /v1/payment_intents` with `capture_method=manual`, `confirm=true`, `confirmation_method=manual`, `allowed_payment_method_types[]=card`, `payment_method=<token>`, `metadata[weft_key]` |
//! | `find_by_key` | `GET /v1/payment_intents/search?query=metadata['weft_key']:'<key>'` |
//! | `confirm` | `GET /v1/payment_intents/{id}`, then `POST …/{id}/confirm` when it `requires_confirmation` |
//! | `capture` | `POST /v1/payment_intents/{id}/capture` with `amount_to_capture` |
//! | `void` | `POST /v1/payment_intents/{id}/cancel` |
//! | `refund` | `POST /v1/refunds` with `payment_intent`, `amount`, `metadata[weft_key]` |
//! | `handle_webhook` | no call: `Stripe-Signature` verified ([`signature`]), the event read |
//!
//! Every POST carries an `Idempotency-Key` (Stripe's own idempotency: a retry gets the
//! first answer). Stripe answers 409 while a request with the same key is still running;
//! that is waited out here. Only ids, amounts and statuses are logged: never the secret
//! key, never card details (async-stripe's generated `Debug` is redacted too).

#[cfg(feature = "testsuite")]
pub mod fake;
/// Stripe signs webhooks with the scheme Weft's own webhooks use (`weft_secrets::signature`).
pub use weft_secrets::signature;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use stripe::{
    ApiErrors, ApiErrorsType, Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError,
    StripeRequest,
};
use stripe_core::payment_intent::{
    CancelPaymentIntent, CapturePaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent,
    RetrievePaymentIntent, SearchPaymentIntent,
};
use stripe_core::refund::{CreateRefund, ListRefund};
use stripe_core::{
    PaymentIntent, PaymentIntentAllowedPaymentMethodTypes, PaymentIntentCaptureMethod,
    PaymentIntentConfirmationMethod, PaymentIntentStatus,
};
use weft_kernel::{Clock, Money};

use crate::provider::{Authorization, Authorize, PaymentProvider, ProviderError, WebhookEvent};

/// The metadata key holding Weft's idempotency key on a PaymentIntent and a refund:
/// how [`PaymentProvider::find_by_key`] finds an authorization, and how a webhook tells
/// Weft's own refunds from those made in Stripe's dashboard.
pub const WEFT_KEY: &str = "weft_key";

/// How long one call to Stripe may take before it is given up (and reported as
/// unavailable, safe to retry with the same key). Below the checkout saga's lease.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// What the gateway needs; built from `[payments]` settings by the server.
#[derive(Clone)]
pub struct StripeConfig {
    pub secret_key: String,
    /// `https://api.stripe.com` (tests: a local server).
    pub api_base: String,
    /// The webhook endpoint's signing secret (`whsec_…`); `None` refuses every webhook.
    pub webhook_secret: Option<String>,
    pub webhook_tolerance: Duration,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("webhook_secret_set", &self.webhook_secret.is_some())
            .field("webhook_tolerance", &self.webhook_tolerance)
            .finish_non_exhaustive()
    }
}

/// The `stripe` gateway.
#[derive(Clone)]
pub struct StripeGateway {
    client: Client,
    api_base: String,
    webhook_secret: Option<String>,
    tolerance: Duration,
    clock: Clock,
}

impl std::fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeGateway")
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

impl StripeGateway {
    /// A gateway calling `config.api_base` with `config.secret_key`; `clock` dates
    /// webhook signatures.
    pub fn new(config: StripeConfig, clock: Clock) -> Result<Self, ProviderError> {
        // async-stripe appends `v1/…` to the base: it must end with a slash.
        let mut api_base = config.api_base.trim_end_matches('/').to_owned();
        api_base.push('/');
        let client = ClientBuilder::new(config.secret_key)
            .url(api_base.clone())
            .timeout(CALL_TIMEOUT)
            .app_info("weft", Some(env!("CARGO_PKG_VERSION").to_owned()), None)
            .build()
            // The error names the setting, never the key.
            .map_err(|_| {
                ProviderError::Invalid(
                    "payments.stripe_secret_key or payments.stripe_api_base is unusable".into(),
                )
            })?;
        Ok(Self {
            client,
            api_base,
            webhook_secret: config.webhook_secret,
            tolerance: config.webhook_tolerance,
            clock,
        })
    }

    /// Sends `request` with `key` as its `Idempotency-Key`, waiting out Stripe's 409 for
    /// a request with the same key still in flight (a concurrent retry of ours).
    async fn send<R>(&self, request: &R, key: &IdempotencyKey) -> Result<R::Output, StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let mut wait = Duration::from_millis(25);
        let mut attempt = 0;
        loop {
            let answer = request
                .customize()
                .request_strategy(RequestStrategy::Idempotent(key.clone()))
                .send(&self.client)
                .await;
            match answer {
                Err(StripeError::Stripe(e, 409)) if attempt < 8 && in_flight(&e) => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    async fn retrieve(&self, id: &str) -> Result<PaymentIntent, ProviderError> {
        RetrievePaymentIntent::new(id)
            .send(&self.client)
            .await
            .map_err(classify)
    }
}

/// Stripe's answer to a second request with a key whose first is still running.
fn in_flight(e: &ApiErrors) -> bool {
    e.type_ == ApiErrorsType::IdempotencyError
        || e.code
            .as_ref()
            .is_some_and(|c| c.as_str() == "lock_timeout")
}

/// An `Idempotency-Key` for `kind` of call on `key`. Stripe's keys are account-wide and
/// at most 255 characters: prefixed per kind so two kinds never collide, and hashed when
/// that would be too long.
fn idempotency_key(kind: &str, key: &str) -> IdempotencyKey {
    let plain = format!("weft:{kind}:{key}");
    let value = if plain.len() <= 255 {
        plain
    } else {
        let digest = Sha256::digest(key.as_bytes());
        let mut hashed = format!("weft:{kind}:sha256:");
        for b in digest {
            use std::fmt::Write as _;
            let _ = write!(hashed, "{b:02x}");
        }
        hashed
    };
    // Never empty, never over 255 by construction.
    IdempotencyKey::new(value).unwrap_or_else(|_| unreachable!("a bounded, non-empty key"))
}

/// Stripe's error as Weft's: a card error is a decline, 5xx/429/transport is
/// "unavailable, retry with the same key", any other 4xx is "invalid as asked".
fn classify(err: StripeError) -> ProviderError {
    match err {
        StripeError::Stripe(e, status) => {
            let message = e
                .message
                .clone()
                .unwrap_or_else(|| format!("Stripe answered {status}"));
            if e.type_ == ApiErrorsType::CardError {
                ProviderError::Declined {
                    code: decline_code(&e),
                    message,
                }
            } else if status >= 500 || status == 429 || status == 409 {
                ProviderError::Unavailable(format!("Stripe answered {status}: {message}"))
            } else {
                ProviderError::Invalid(message)
            }
        }
        // Never `{err}` for these: keep the log free of anything but the kind of failure.
        StripeError::ClientError(_) => {
            ProviderError::Unavailable("Stripe could not be reached".into())
        }
        StripeError::Timeout => ProviderError::Unavailable("Stripe did not answer in time".into()),
        StripeError::JSONDeserialize(_) => {
            ProviderError::Unavailable("Stripe's answer could not be read".into())
        }
        StripeError::ConfigError(_) => {
            ProviderError::Invalid("the Stripe client is misconfigured".into())
        }
    }
}

/// The decline's code: Stripe's `decline_code` when it says more than the generic
/// "declined" (`insufficient_funds`, `lost_card`), else the error's `code`
/// (`card_declined`, `expired_card`, `incorrect_cvc`).
fn decline_code(e: &ApiErrors) -> String {
    match e.decline_code.as_deref() {
        Some(d) if d != "generic_decline" && !d.is_empty() => d.to_owned(),
        _ => e
            .code
            .as_ref()
            .map_or_else(|| "card_declined".to_owned(), |c| c.as_str().to_owned()),
    }
}

/// Whether Stripe refused the call because the PaymentIntent is not in a state for it
/// (capturing a captured one, cancelling a cancelled one).
fn unexpected_state(err: &StripeError) -> bool {
    matches!(err, StripeError::Stripe(e, 400)
        if e.code.as_ref().is_some_and(|c| c.as_str() == "payment_intent_unexpected_state"))
}

/// What the client needs to take the customer through 3-D Secure: Stripe's
/// `next_action` (its `type` and, for redirects, the URL) and the PaymentIntent's
/// `client_secret`, which Stripe.js's `handleNextAction` takes. The client secret is
/// meant for the paying customer's browser; it cannot move money.
fn next_action(pi: &PaymentIntent) -> Value {
    let mut action = json!({ "type": "use_stripe_sdk" });
    if let Some(next) = &pi.next_action {
        action["type"] = json!(next.type_);
        if let Some(r) = &next.redirect_to_url {
            action["redirect_to_url"] = json!({ "url": r.url, "return_url": r.return_url });
        }
    }
    if let Some(secret) = &pi.client_secret {
        action["client_secret"] = json!(secret);
    }
    action
}

/// A PaymentIntent's state as an [`Authorization`].
fn answer(pi: &PaymentIntent) -> Result<Authorization, ProviderError> {
    let provider_ref = pi.id.as_str().to_owned();
    match &pi.status {
        // Held; or already captured (asked again after the capture).
        PaymentIntentStatus::RequiresCapture | PaymentIntentStatus::Succeeded => {
            Ok(Authorization::Authorized { provider_ref })
        }
        PaymentIntentStatus::RequiresAction | PaymentIntentStatus::RequiresConfirmation => {
            Ok(Authorization::RequiresAction {
                next_action: next_action(pi),
                provider_ref,
            })
        }
        // The card was refused (or 3-D Secure failed): the error Stripe recorded.
        PaymentIntentStatus::RequiresPaymentMethod => Err(match &pi.last_payment_error {
            Some(e) => ProviderError::Declined {
                code: decline_code(e),
                message: e
                    .message
                    .clone()
                    .unwrap_or_else(|| "The card was declined.".into()),
            },
            None => ProviderError::Declined {
                code: "card_declined".into(),
                message: "The payment needs another card.".into(),
            },
        }),
        PaymentIntentStatus::Canceled => Err(ProviderError::Invalid(
            "the authorization was voided".into(),
        )),
        PaymentIntentStatus::Processing => Err(ProviderError::Unavailable(
            "Stripe is still processing the payment; ask again".into(),
        )),
        other => Err(ProviderError::Unavailable(format!(
            "Stripe answered an unknown PaymentIntent status {:?}",
            other.as_str()
        ))),
    }
}

/// The search query finding the PaymentIntent made under `key`.
fn search_query(key: &str) -> String {
    // Search string values are single-quoted; a quote or backslash inside is escaped.
    let escaped = key.replace('\\', "\\\\").replace('\'', "\\'");
    format!("metadata['{WEFT_KEY}']:'{escaped}'")
}

#[async_trait::async_trait]
impl PaymentProvider for StripeGateway {
    fn name(&self) -> &'static str {
        "stripe"
    }

    #[tracing::instrument(skip_all, fields(provider = "stripe"))]
    async fn authorize(&self, request: &Authorize) -> Result<Authorization, ProviderError> {
        if request.amount.amount <= 0 {
            return Err(ProviderError::Invalid("the amount must be above 0".into()));
        }
        let currency = request.amount.currency.code().to_ascii_lowercase();
        let currency = currency
            .parse::<stripe_types::Currency>()
            .unwrap_or_else(|never| match never {});
        let metadata = HashMap::from([
            (WEFT_KEY.to_owned(), request.idempotency_key.clone()),
            ("weft_reference".to_owned(), request.reference.clone()),
        ]);
        let create = CreatePaymentIntent::new(request.amount.amount, currency)
            .capture_method(PaymentIntentCaptureMethod::Manual)
            .confirm(true)
            // 3-D Secure: the customer acts in Stripe.js, then Weft confirms (`confirm`).
            .confirmation_method(PaymentIntentConfirmationMethod::Manual)
            .allowed_payment_method_types(vec![PaymentIntentAllowedPaymentMethodTypes::Card])
            .payment_method(request.token.clone())
            .description(format!("Weft {}", request.reference))
            .metadata(metadata);
        let pi = self
            .send(
                &create,
                &idempotency_key("authorize", &request.idempotency_key),
            )
            .await
            .map_err(classify)?;
        tracing::info!(payment_intent = %pi.id.as_str(), status = pi.status.as_str(), "stripe authorized");
        answer(&pi)
    }

    async fn find_by_key(&self, idempotency_key: &str) -> Result<Option<String>, ProviderError> {
        // Stripe cannot look a request up by its Idempotency-Key: the key is also the
        // PaymentIntent's `metadata[weft_key]`, which the Search API finds. Search is
        // eventually consistent (Stripe: usually under a minute); a caller that finds
        // nothing right after a crash must not conclude nothing was made until then.
        let found = SearchPaymentIntent::new(search_query(idempotency_key))
            .limit(2)
            .send(&self.client)
            .await
            .map_err(classify)?;
        Ok(found
            .data
            .iter()
            .min_by_key(|pi| pi.created)
            .map(|pi| pi.id.as_str().to_owned()))
    }

    #[tracing::instrument(skip_all, fields(payment_intent = %provider_ref))]
    async fn confirm(&self, provider_ref: &str) -> Result<Authorization, ProviderError> {
        let pi = self.retrieve(provider_ref).await?;
        if pi.status != PaymentIntentStatus::RequiresConfirmation {
            return answer(&pi);
        }
        // The customer finished 3-D Secure: confirm on the server (manual confirmation).
        // A key per call: a later confirm, after another try by the customer, is new.
        let key = idempotency_key(
            "confirm",
            &format!("{provider_ref}:{}", uuid::Uuid::now_v7().simple()),
        );
        match self
            .send(&ConfirmPaymentIntent::new(provider_ref), &key)
            .await
        {
            Ok(pi) => answer(&pi),
            Err(e) if unexpected_state(&e) => answer(&self.retrieve(provider_ref).await?),
            Err(e) => Err(classify(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(payment_intent = %provider_ref, amount = amount.amount))]
    async fn capture(&self, provider_ref: &str, amount: Money) -> Result<(), ProviderError> {
        let capture = CapturePaymentIntent::new(provider_ref).amount_to_capture(amount.amount);
        let key = idempotency_key("capture", &format!("{provider_ref}:{}", amount.amount));
        match self.send(&capture, &key).await {
            Ok(_) => return Ok(()),
            Err(e) if unexpected_state(&e) => {}
            Err(e) => return Err(classify(e)),
        }
        // Stripe keeps a key's first answer, refusals included: ask where the intent is.
        let pi = self.retrieve(provider_ref).await?;
        let currency = pi.currency.to_string().to_ascii_uppercase();
        match pi.status {
            // Captured already (by this call's first try, or a retry of it): the same
            // capture again is the same capture.
            PaymentIntentStatus::Succeeded
                if pi.amount_received == amount.amount && currency == amount.currency.code() =>
            {
                Ok(())
            }
            // Refused earlier under this key (before 3-D Secure was done), capturable now:
            // a fresh key, since the old one answers its refusal for 24 hours.
            PaymentIntentStatus::RequiresCapture => {
                let fresh = idempotency_key(
                    "capture",
                    &format!(
                        "{provider_ref}:{}:{}",
                        amount.amount,
                        uuid::Uuid::now_v7().simple()
                    ),
                );
                self.send(&capture, &fresh).await.map_err(classify)?;
                Ok(())
            }
            other => Err(ProviderError::Invalid(format!(
                "cannot capture a payment that is {}",
                other.as_str()
            ))),
        }
    }

    #[tracing::instrument(skip_all, fields(payment_intent = %provider_ref))]
    async fn void(&self, provider_ref: &str) -> Result<(), ProviderError> {
        let cancel = CancelPaymentIntent::new(provider_ref);
        let refused = match self
            .send(&cancel, &idempotency_key("void", provider_ref))
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if unexpected_state(&e) => e,
            Err(e) => return Err(classify(e)),
        };
        let pi = self.retrieve(provider_ref).await?;
        match pi.status {
            PaymentIntentStatus::Canceled => Ok(()),
            PaymentIntentStatus::Succeeded => Err(ProviderError::Invalid(
                "cannot void a captured payment: refund it".into(),
            )),
            // Refused earlier under this key, cancellable now: a fresh key.
            PaymentIntentStatus::RequiresCapture
            | PaymentIntentStatus::RequiresAction
            | PaymentIntentStatus::RequiresConfirmation
            | PaymentIntentStatus::RequiresPaymentMethod => {
                let fresh = idempotency_key(
                    "void",
                    &format!("{provider_ref}:{}", uuid::Uuid::now_v7().simple()),
                );
                self.send(&cancel, &fresh).await.map_err(classify)?;
                Ok(())
            }
            _ => Err(classify(refused)),
        }
    }

    #[tracing::instrument(skip_all, fields(payment_intent = %provider_ref, amount = amount.amount))]
    async fn refund(
        &self,
        provider_ref: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        if amount.amount <= 0 {
            return Err(ProviderError::Invalid("the amount must be above 0".into()));
        }
        let create = CreateRefund::new()
            .payment_intent(provider_ref)
            .amount(amount.amount)
            .metadata(HashMap::from([(
                WEFT_KEY.to_owned(),
                idempotency_key.to_owned(),
            )]));
        let refund = self
            .send(&create, &self::idempotency_key("refund", idempotency_key))
            .await
            .map_err(classify)?;
        tracing::info!(refund = %refund.id.as_str(), "stripe refunded");
        Ok(refund.id.as_str().to_owned())
    }

    async fn handle_webhook(
        &self,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<WebhookEvent, ProviderError> {
        let Some(secret) = &self.webhook_secret else {
            return Err(ProviderError::Invalid(
                "payments.stripe_webhook_secret is not set: Stripe webhooks cannot be verified"
                    .into(),
            ));
        };
        let header = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("stripe-signature"))
            .map(|(_, value)| value.as_str());
        signature::verify(
            secret.as_bytes(),
            header,
            body,
            self.clock.now().timestamp(),
            self.tolerance.as_secs(),
        )
        .map_err(|e| ProviderError::Invalid(format!("Stripe-Signature: {e}")))?;
        let mut event = read_event(body)?;
        if event.kind == "charge.refunded"
            && !event.payload["refunds"]["data"].is_array()
            && let Some(pi) = event.provider_ref.clone()
        {
            // API versions since 2022-11-15 do not expand a charge's `refunds`: list them,
            // so the payments log can tell refunds made in the dashboard from Weft's own.
            event.payload["refunds"] = self.refunds_of(&pi).await?;
        }
        Ok(event)
    }
}

impl StripeGateway {
    /// The refunds of a PaymentIntent (`GET /v1/refunds?payment_intent=…`), as the
    /// `refunds` list a charge carries when expanded: ids, amounts, statuses, metadata.
    async fn refunds_of(&self, pi: &str) -> Result<Value, ProviderError> {
        let list = ListRefund::new()
            .payment_intent(pi)
            .limit(100)
            .send(&self.client)
            .await
            .map_err(classify)?;
        let data: Vec<Value> = list
            .data
            .iter()
            .map(|r| {
                json!({
                    "id": r.id.as_str(),
                    "object": "refund",
                    "amount": r.amount,
                    "status": r.status,
                    "metadata": r.metadata,
                })
            })
            .collect();
        Ok(json!({ "object": "list", "data": data, "has_more": list.has_more }))
    }
}

/// A verified event's body as a [`WebhookEvent`]: its id, type, and the PaymentIntent
/// it concerns (the object itself, or a charge's or refund's `payment_intent`).
fn read_event(body: &[u8]) -> Result<WebhookEvent, ProviderError> {
    let event: Value = serde_json::from_slice(body)
        .map_err(|_| ProviderError::Invalid("the event is not JSON".into()))?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let id = text(&event["id"])
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ProviderError::Invalid("the event has no id".into()))?;
    let kind = text(&event["type"])
        .ok_or_else(|| ProviderError::Invalid("the event has no type".into()))?;
    let object = event["data"]["object"].clone();
    let provider_ref = if object["object"] == "payment_intent" {
        text(&object["id"])
    } else {
        // A charge or refund names its PaymentIntent by id, or expanded.
        text(&object["payment_intent"]).or_else(|| text(&object["payment_intent"]["id"]))
    };
    Ok(WebhookEvent {
        id,
        kind,
        provider_ref,
        payload: object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_per_kind_and_never_too_long() {
        assert_eq!(idempotency_key("void", "pi_1").as_str(), "weft:void:pi_1");
        let long = "k".repeat(300);
        let hashed = idempotency_key("refund", &long);
        assert!(hashed.as_str().starts_with("weft:refund:sha256:"));
        assert!(hashed.as_str().len() <= 255);
        assert_eq!(hashed, idempotency_key("refund", &long), "stable");
    }

    #[test]
    fn search_values_are_quoted_safely() {
        assert_eq!(search_query("abc"), "metadata['weft_key']:'abc'");
        assert_eq!(search_query("a'b\\c"), "metadata['weft_key']:'a\\'b\\\\c'");
    }

    #[test]
    fn events_name_their_payment_intent() {
        let pi = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"object":"payment_intent","id":"pi_1"}}}"#;
        assert_eq!(
            read_event(pi).unwrap().provider_ref.as_deref(),
            Some("pi_1")
        );
        let charge = br#"{"id":"evt_2","type":"charge.refunded","data":{"object":{"object":"charge","id":"ch_1","payment_intent":"pi_2"}}}"#;
        let event = read_event(charge).unwrap();
        assert_eq!(
            (event.id.as_str(), event.kind.as_str()),
            ("evt_2", "charge.refunded")
        );
        assert_eq!(event.provider_ref.as_deref(), Some("pi_2"));
        assert!(matches!(read_event(b"[]"), Err(ProviderError::Invalid(_))));
        assert!(matches!(
            read_event(b"not json"),
            Err(ProviderError::Invalid(_))
        ));
    }
}
