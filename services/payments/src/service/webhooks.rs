//! Gateway events (`POST /v1/webhooks/<provider>`): verified by the provider, then
//! applied to the payments log at most once per event id. The event's id is recorded in
//! the same transaction as its effect, so a replayed delivery (Stripe retries until it
//! gets a 2xx, and a captured one could be sent again within the signature's tolerance)
//! finds it and changes nothing.
//!
//! What an event does (Stripe's event types; the event's object is a PaymentIntent, or a
//! charge naming one), always to the payment whose `provider_ref` is that PaymentIntent:
//!
//! | event | effect |
//! |---|---|
//! | `payment_intent.amount_capturable_updated` | a payment waiting for 3-D Secure becomes `authorized` (what `confirm` would record) |
//! | `payment_intent.succeeded`, `payment_intent.payment_failed`, `payment_intent.canceled` | recorded in the log only: Weft's own calls move the status, with their events (`PaymentSucceeded`, `PaymentFailed`), so a webhook arriving first must not take that from them |
//! | `charge.refunded` | each refund listed that Weft did not make (no `metadata.weft_key`: made in Stripe's dashboard) and has not recorded is added to `refunded`; Weft's own refunds are recorded by `refund` itself, so none is counted twice |
//!
//! Every event that concerns a payment of Weft's adds one `webhook` transaction (its
//! `status` is the event type); events about no payment of Weft's are recorded as
//! `ignored`.

use serde_json::Value;
use weft_storage::DbConn;

use super::{PaymentService, PaymentStatus, PaymentsError, txn};
use crate::provider::{ProviderError, WebhookEvent};
use crate::store::{self, PaymentRow, WebhookEventRow};

/// What a delivered event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Applied to the payments log now.
    Processed,
    /// Recorded, but about no payment of Weft's (or of a kind Weft does not act on).
    Ignored,
    /// Seen before: nothing done again.
    Replayed,
}

impl WebhookOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Ignored => "ignored",
            Self::Replayed => "replayed",
        }
    }
}

impl PaymentService {
    /// Verifies a gateway's event (`headers` with lower-case names, `body` the exact
    /// bytes received) and applies it once.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn receive_webhook(
        &self,
        provider: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(WebhookEvent, WebhookOutcome), PaymentsError> {
        let gateway = self
            .providers
            .get(provider)
            .ok_or_else(|| PaymentsError::WebhookNotConfigured(provider.to_owned()))?;
        let event = gateway
            .handle_webhook(headers, body)
            .await
            .map_err(|e| match e {
                ProviderError::Invalid(m) | ProviderError::Declined { message: m, .. } => {
                    PaymentsError::WebhookSignatureInvalid(m)
                }
                ProviderError::Unavailable(m) => PaymentsError::Unavailable(m),
            })?;
        let now = self.now();
        let claim = WebhookEventRow {
            provider: provider.to_owned(),
            event_id: event.id.clone(),
            kind: event.kind.clone(),
            provider_ref: event.provider_ref.clone(),
            outcome: WebhookOutcome::Ignored.as_str().to_owned(),
            received_at: now,
        };
        let outcome = self
            .db
            .transaction(async |conn: &mut DbConn| {
                if !store::claim_webhook_event(conn, &claim).await? {
                    return Ok::<_, PaymentsError>(WebhookOutcome::Replayed);
                }
                let Some(reference) = &event.provider_ref else {
                    return Ok(WebhookOutcome::Ignored);
                };
                let Some(row) = store::find_locked_by_ref(conn, provider, reference).await? else {
                    return Ok(WebhookOutcome::Ignored);
                };
                let outcome = apply(conn, row, &event, now).await?;
                store::set_webhook_outcome(conn, provider, &event.id, outcome.as_str()).await?;
                Ok(outcome)
            })
            .await?;
        tracing::info!(
            event_id = %event.id,
            kind = %event.kind,
            outcome = outcome.as_str(),
            "webhook received"
        );
        Ok((event, outcome))
    }
}

fn amount_of(object: &Value, field: &str) -> i64 {
    object[field].as_i64().unwrap_or(0)
}

/// The event's effect on its payment (locked), inside the claiming transaction.
async fn apply(
    conn: &mut DbConn,
    mut row: PaymentRow,
    event: &WebhookEvent,
    now: chrono::NaiveDateTime,
) -> Result<WebhookOutcome, PaymentsError> {
    let object = &event.payload;
    let mut log = txn(&row.id, "webhook", &event.kind, 0, now);
    log.provider_ref = event.provider_ref.clone();
    match event.kind.as_str() {
        "payment_intent.amount_capturable_updated" => {
            log.amount = amount_of(object, "amount_capturable");
            if row.status == PaymentStatus::RequiresAction.as_str() && log.amount > 0 {
                // The customer finished 3-D Secure and the hold is made.
                PaymentStatus::Authorized
                    .as_str()
                    .clone_into(&mut row.status);
                row.next_action = None;
                row.updated_at = now;
                store::update(conn, &row).await?;
            }
        }
        "payment_intent.succeeded" => log.amount = amount_of(object, "amount_received"),
        "payment_intent.payment_failed" => {
            log.amount = amount_of(object, "amount");
            let error = &object["last_payment_error"];
            log.code = error["decline_code"]
                .as_str()
                .filter(|c| *c != "generic_decline")
                .or_else(|| error["code"].as_str())
                .map(str::to_owned);
        }
        "charge.refunded" => {
            let external = external_refunds(conn, &row, object).await?;
            for (refund_id, amount) in external {
                let left = row.captured - row.refunded;
                let amount = amount.min(left);
                if amount <= 0 {
                    continue;
                }
                row.refunded += amount;
                let status = if row.refunded >= row.captured {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::PartiallyRefunded
                };
                status.as_str().clone_into(&mut row.status);
                row.updated_at = now;
                store::update(conn, &row).await?;
                let mut refund = txn(&row.id, "webhook", &event.kind, amount, now);
                refund.provider_ref = Some(refund_id);
                store::add_transaction(conn, refund).await?;
                tracing::info!(payment_id = %row.id, amount, "refund made outside Weft recorded");
            }
            // The charge's total, for the record; the refunds above carry the amounts.
            log.amount = amount_of(object, "amount_refunded");
        }
        _ => {}
    }
    store::add_transaction(conn, log).await?;
    Ok(WebhookOutcome::Processed)
}

/// The refunds a charge lists that Weft neither made nor recorded yet: `(id, amount)`.
async fn external_refunds(
    conn: &mut DbConn,
    row: &PaymentRow,
    charge: &Value,
) -> Result<Vec<(String, i64)>, PaymentsError> {
    let mut found = Vec::new();
    let listed = charge["refunds"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for refund in listed {
        let Some(id) = refund["id"].as_str() else {
            continue;
        };
        let weft_made = refund["metadata"][crate::stripe::WEFT_KEY].is_string();
        let failed = matches!(refund["status"].as_str(), Some("failed" | "canceled"));
        if weft_made || failed || store::has_transaction_ref(conn, &row.id, id).await? {
            continue;
        }
        found.push((id.to_owned(), amount_of(&refund, "amount")));
    }
    Ok(found)
}
