//! The `none` provider: what an order whose total is 0 is "paid" with. No gateway is
//! asked and nothing is charged; the payments log still records the payment (provider
//! `none`, amount 0, authorized then captured), so the order is paid through the same
//! saga steps as any other, in both topologies (it lives inside the payments service).
//! Like Medusa's system provider for free orders. It refuses any amount but 0.

use weft_kernel::Money;

use crate::provider::{Authorization, Authorize, PaymentProvider, ProviderError, WebhookEvent};

/// The provider name zero-total payments are recorded under.
pub const NO_CHARGE: &str = "none";

/// Records zero-total payments without a gateway.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCharge;

fn nothing_to_charge(amount: Money) -> Result<(), ProviderError> {
    if amount.amount == 0 {
        Ok(())
    } else {
        Err(ProviderError::Invalid(
            "the `none` provider only records payments of 0".into(),
        ))
    }
}

/// Deterministic: the same attempt always names the same (empty) authorization.
fn reference(idempotency_key: &str) -> String {
    format!("none_{idempotency_key}")
}

#[async_trait::async_trait]
impl PaymentProvider for NoCharge {
    fn name(&self) -> &'static str {
        NO_CHARGE
    }

    async fn authorize(&self, request: &Authorize) -> Result<Authorization, ProviderError> {
        nothing_to_charge(request.amount)?;
        Ok(Authorization::Authorized {
            provider_ref: reference(&request.idempotency_key),
        })
    }

    async fn find_by_key(&self, idempotency_key: &str) -> Result<Option<String>, ProviderError> {
        Ok(Some(reference(idempotency_key)))
    }

    async fn confirm(&self, provider_ref: &str) -> Result<Authorization, ProviderError> {
        Ok(Authorization::Authorized {
            provider_ref: provider_ref.to_owned(),
        })
    }

    async fn capture(&self, _provider_ref: &str, amount: Money) -> Result<(), ProviderError> {
        nothing_to_charge(amount)
    }

    async fn void(&self, _provider_ref: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn refund(
        &self,
        _provider_ref: &str,
        _amount: Money,
        _idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        Err(ProviderError::Invalid(
            "nothing was charged: there is nothing to refund".into(),
        ))
    }

    async fn handle_webhook(
        &self,
        _headers: &[(String, String)],
        _body: &[u8],
    ) -> Result<WebhookEvent, ProviderError> {
        Err(ProviderError::Invalid(
            "the `none` provider sends no webhooks".into(),
        ))
    }
}
