//! How other services reach payments: one trait, [`Payments`], served in-process by
//! [`Local`] or over HTTP by [`Remote`] (`/v1/internal/payments…`, an API key with the
//! `internal` scope). Refusals come back in payments' own words
//! ([`ClientError::Refused`]); a declined card is an answer, not an error
//! ([`Authorization::Declined`]).
//!
//! Remote calls are retried (three tries at most) only where repeating cannot act twice:
//! reads, and writes keyed by what they act for (the attempt, the payment, a refund's
//! key). Confirming after 3-D Secure is not retried: it asks the gateway to act again,
//! and the customer's client repeats it when it must.

use weft_kernel::Money;
use weft_peer_client::{ClientError, Peer, retried, types};

use crate::service::{NewPayment, PaymentService, PaymentsError};

const SERVICE: &str = "payments";

/// What authorizing a payment came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// The amount is held (or was captured already: asked again).
    Authorized { payment_id: String },
    /// The customer must act (3-D Secure) before it is held.
    RequiresAction {
        payment_id: String,
        next_action: serde_json::Value,
    },
    /// The card was refused: the gateway's code and message.
    Declined { code: String, message: String },
    /// The payment is in no state to hold money (`canceled`, `failed`).
    Failed { status: String },
}

/// Payments, as other services use them. `attempt` names one payment (a checkout
/// attempt), and is the gateway's idempotency key.
#[async_trait::async_trait]
pub trait Payments: Send + Sync + 'static {
    /// The gateways a payment may name.
    async fn providers(&self) -> Result<Vec<String>, ClientError>;
    async fn authorize(
        &self,
        attempt: &str,
        checkout_id: &str,
        provider: &str,
        token: &str,
        amount: Money,
    ) -> Result<Authorization, ClientError>;
    /// The id of the attempt's payment, if it has one.
    async fn of_attempt(&self, attempt: &str) -> Result<Option<String>, ClientError>;
    /// Asks the gateway again after the customer acted on `next_action`.
    async fn confirm(&self, payment_id: &str) -> Result<(), ClientError>;
    /// Charges the held amount for `order_id`; answers the payment's id.
    async fn capture(&self, payment_id: &str, order_id: &str) -> Result<String, ClientError>;
    /// Gives back what is left in full (a hold voided, a charge refunded); asking twice
    /// is safe.
    async fn cancel(&self, payment_id: &str) -> Result<(), ClientError>;
    /// Gives back `amount` (minor units); the same `key` is the same refund. Answers the
    /// gateway's refund reference.
    async fn refund(&self, payment_id: &str, amount: i64, key: &str)
    -> Result<String, ClientError>;
}

/// Payments in this process.
#[derive(Debug, Clone)]
pub struct Local(pub PaymentService);

fn local_error(err: &PaymentsError) -> ClientError {
    ClientError::of(SERVICE, err)
}

/// What a payment's state says of its authorization.
fn authorization(
    payment_id: String,
    status: &str,
    next_action: Option<serde_json::Value>,
) -> Authorization {
    match status {
        "requires_action" => Authorization::RequiresAction {
            payment_id,
            next_action: next_action.unwrap_or_default(),
        },
        "authorized" | "captured" | "partially_refunded" | "refunded" => {
            Authorization::Authorized { payment_id }
        }
        other => Authorization::Failed {
            status: other.to_owned(),
        },
    }
}

#[async_trait::async_trait]
impl Payments for Local {
    async fn providers(&self) -> Result<Vec<String>, ClientError> {
        Ok(self
            .0
            .provider_names()
            .into_iter()
            .map(str::to_owned)
            .collect())
    }

    async fn authorize(
        &self,
        attempt: &str,
        checkout_id: &str,
        provider: &str,
        token: &str,
        amount: Money,
    ) -> Result<Authorization, ClientError> {
        let authorized = self
            .0
            .authorize(NewPayment {
                attempt: attempt.to_owned(),
                checkout_id: checkout_id.to_owned(),
                provider: provider.to_owned(),
                token: token.to_owned(),
                amount,
            })
            .await;
        match authorized {
            Ok(payment) => Ok(authorization(
                payment.id,
                payment.status.as_str(),
                payment.next_action,
            )),
            Err(PaymentsError::Declined { code, message }) => {
                Ok(Authorization::Declined { code, message })
            }
            Err(err) => Err(local_error(&err)),
        }
    }

    async fn of_attempt(&self, attempt: &str) -> Result<Option<String>, ClientError> {
        self.0
            .of_attempt(attempt)
            .await
            .map(|p| p.map(|p| p.id))
            .map_err(|e| local_error(&e))
    }

    async fn confirm(&self, payment_id: &str) -> Result<(), ClientError> {
        self.0
            .confirm(payment_id)
            .await
            .map(drop)
            .map_err(|e| local_error(&e))
    }

    async fn capture(&self, payment_id: &str, order_id: &str) -> Result<String, ClientError> {
        self.0
            .capture(payment_id, order_id)
            .await
            .map(|p| p.id)
            .map_err(|e| local_error(&e))
    }

    async fn cancel(&self, payment_id: &str) -> Result<(), ClientError> {
        self.0
            .cancel(payment_id)
            .await
            .map(drop)
            .map_err(|e| local_error(&e))
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        key: &str,
    ) -> Result<String, ClientError> {
        self.0
            .refund(payment_id, amount, key)
            .await
            .map(|(_, reference)| reference)
            .map_err(|e| local_error(&e))
    }
}

/// Payments of another process.
#[derive(Debug, Clone)]
pub struct Remote(pub Peer);

fn remote_error(err: &weft_peer_client::Error<types::Problem>) -> ClientError {
    ClientError::call(SERVICE, err)
}

#[async_trait::async_trait]
impl Payments for Remote {
    async fn providers(&self) -> Result<Vec<String>, ClientError> {
        let client = self.0.internal();
        retried(|| async { client.internal_list_payment_providers().send().await })
            .await
            .map(|r| r.into_inner().data)
            .map_err(|e| remote_error(&e))
    }

    async fn authorize(
        &self,
        attempt: &str,
        checkout_id: &str,
        provider: &str,
        token: &str,
        amount: Money,
    ) -> Result<Authorization, ClientError> {
        let client = self.0.internal();
        let body = types::AuthorizeRequest {
            attempt: attempt.to_owned(),
            checkout_id: checkout_id.to_owned(),
            provider: provider.to_owned(),
            token: token.to_owned(),
            amount: amount.amount,
            currency: amount.currency.code().to_owned(),
        };
        // One payment per attempt, and the attempt is the gateway's idempotency key.
        let result = retried(|| async {
            client
                .internal_authorize_payment()
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map_err(|e| remote_error(&e))?
        .into_inner();
        match (result.status.as_str(), result.payment_id) {
            ("declined", _) => Ok(Authorization::Declined {
                code: result
                    .decline_code
                    .unwrap_or_else(|| "card_declined".to_owned()),
                message: result
                    .message
                    .unwrap_or_else(|| "the card was declined".to_owned()),
            }),
            (status, Some(payment_id)) => Ok(authorization(payment_id, status, result.next_action)),
            (status, None) => Ok(Authorization::Failed {
                status: status.to_owned(),
            }),
        }
    }

    async fn of_attempt(&self, attempt: &str) -> Result<Option<String>, ClientError> {
        let client = self.0.internal();
        match retried(|| async {
            client
                .internal_get_attempt_payment()
                .attempt(attempt)
                .send()
                .await
        })
        .await
        {
            Ok(p) => Ok(Some(p.into_inner().id)),
            // Payments' own answer, not any 404 (a peer URL pointing at the wrong
            // process must not read as "no payment").
            Err(e) => match remote_error(&e) {
                refused if refused.code() == Some("payment_not_found") => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn confirm(&self, payment_id: &str) -> Result<(), ClientError> {
        // Not retried: see the module's note.
        self.0
            .internal()
            .internal_confirm_payment()
            .id(payment_id)
            .send()
            .await
            .map(drop)
            .map_err(|e| remote_error(&e))
    }

    async fn capture(&self, payment_id: &str, order_id: &str) -> Result<String, ClientError> {
        let client = self.0.internal();
        let body = types::CaptureRequest {
            order_id: order_id.to_owned(),
        };
        // A captured payment answers its capture.
        retried(|| async {
            client
                .internal_capture_payment()
                .id(payment_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|p| p.into_inner().id)
        .map_err(|e| remote_error(&e))
    }

    async fn cancel(&self, payment_id: &str) -> Result<(), ClientError> {
        let client = self.0.internal();
        // A payment let go already answers as done.
        retried(|| async { client.internal_cancel_payment().id(payment_id).send().await })
            .await
            .map(drop)
            .map_err(|e| remote_error(&e))
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        key: &str,
    ) -> Result<String, ClientError> {
        let client = self.0.internal();
        let body = types::InternalRefundRequest {
            amount,
            key: key.to_owned(),
        };
        // The key makes it one refund however often it is asked.
        retried(|| async {
            client
                .internal_refund_payment()
                .id(payment_id)
                .body(body.clone())
                .send()
                .await
        })
        .await
        .map(|r| r.into_inner().reference)
        .map_err(|e| remote_error(&e))
    }
}
