//! What orders ask of payments when money goes back: payments' own client
//! ([`weft_payments::client`]), in-process or over HTTP, through [`PaymentsClient`].

/// Why the gateway did not give money back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// Refused for good (more than was captured, a payment that cannot be refunded).
    #[error("{0}")]
    Refused(String),
    /// Not reached: safe to ask again with the same key.
    #[error("{0}")]
    Transient(String),
}

/// Payments, as orders use them.
#[async_trait::async_trait]
pub trait Payments: Send + Sync {
    /// Gives back what is left of `payment_id` in full (a hold is voided, a capture
    /// refunded). Asking twice is safe.
    async fn cancel(&self, payment_id: &str) -> Result<(), PaymentError>;
    /// Gives back `amount` (minor units) of `payment_id`; the same `key` is the same
    /// refund. Returns the gateway's refund reference.
    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        key: &str,
    ) -> Result<String, PaymentError>;
}

/// Payments' client as orders' [`Payments`]: payments' refusals are final, anything
/// else may be asked again with the same key.
#[derive(Clone)]
pub struct PaymentsClient(pub std::sync::Arc<dyn weft_payments::client::Payments>);

fn payment_error(err: weft_peer_client::ClientError) -> PaymentError {
    match err {
        refused @ weft_peer_client::ClientError::Refused { .. } => {
            PaymentError::Refused(refused.detail())
        }
        unavailable @ weft_peer_client::ClientError::Unavailable { .. } => {
            PaymentError::Transient(unavailable.detail())
        }
    }
}

#[async_trait::async_trait]
impl Payments for PaymentsClient {
    async fn cancel(&self, payment_id: &str) -> Result<(), PaymentError> {
        self.0.cancel(payment_id).await.map_err(payment_error)
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount: i64,
        key: &str,
    ) -> Result<String, PaymentError> {
        self.0
            .refund(payment_id, amount, key)
            .await
            .map_err(payment_error)
    }
}
