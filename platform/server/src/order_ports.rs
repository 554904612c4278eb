//! What orders ask of payments when money goes back, in this process.

use weft_orders::ports::{PaymentError, Payments};
use weft_payments::{PaymentService, PaymentsError};

/// Payments, as orders use them.
#[derive(Debug, Clone)]
pub struct OrderPayments(pub PaymentService);

fn payment_error(e: PaymentsError) -> PaymentError {
    match e {
        PaymentsError::Refused(m) => PaymentError::Refused(m),
        PaymentsError::Declined { code, message } => {
            PaymentError::Refused(format!("{code}: {message}"))
        }
        PaymentsError::NotFound => PaymentError::Refused("no such payment".into()),
        PaymentsError::Invalid(errors) => PaymentError::Refused(
            errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => PaymentError::Transient(other.to_string()),
    }
}

#[async_trait::async_trait]
impl Payments for OrderPayments {
    async fn cancel(&self, payment_id: &str) -> Result<(), PaymentError> {
        self.0
            .cancel(payment_id)
            .await
            .map(|_| ())
            .map_err(payment_error)
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
            .map(|(_, reference)| reference)
            .map_err(payment_error)
    }
}
