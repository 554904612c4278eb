//! What orders ask of payments when money goes back. In-process in the embedded
//! profile; the server supplies the implementation.

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
