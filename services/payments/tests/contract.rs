//! The payment contract on the `test` gateway, on SQLite and (when configured) PostgreSQL,
//! and on the `stripe` gateway against a local server answering as Stripe's API does,
//! with Stripe's published fixture objects ([`weft_payments::stripe::fake`]).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use weft_kernel::Clock;
use weft_payments::stripe::fake::{self, FakeStripe};
use weft_payments::testsuite::Cards;
use weft_payments::{PaymentProvider, StripeConfig, StripeGateway, TestGateway};
use weft_storage::testing::{TestDatabase, postgres_admin_url};

async fn gateway(database: TestDatabase) -> (Arc<dyn PaymentProvider>, Cards, TestDatabase) {
    let db = database.open(5).await.unwrap();
    weft_storage::migrate::run(
        &db,
        &[&weft_storage::migrate::PLATFORM, &weft_payments::MIGRATIONS],
    )
    .await
    .unwrap();
    (
        Arc::new(TestGateway::new(db, Clock::system())),
        Cards::test_gateway(),
        database,
    )
}

mod sqlite {
    use super::*;
    weft_payments::payment_contract!(async {
        Some(gateway(TestDatabase::sqlite().unwrap()).await)
    });
}

mod postgres {
    use super::*;
    weft_payments::payment_contract!(async {
        match postgres_admin_url() {
            Some(url) => Some(gateway(TestDatabase::postgres(&url).await.unwrap()).await),
            None => None,
        }
    });
}

/// Stripe's test payment methods for the suite's behaviours.
fn stripe_cards() -> Cards {
    Cards {
        good: "pm_card_visa".into(),
        declined: "pm_card_chargeDeclined".into(),
        insufficient_funds: "pm_card_visa_chargeDeclinedInsufficientFunds".into(),
        three_d_secure: "pm_card_threeDSecure2Required".into(),
    }
}

fn stripe_config(api_base: &str) -> StripeConfig {
    StripeConfig {
        secret_key: fake::SECRET_KEY.to_owned(),
        api_base: api_base.to_owned(),
        webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
        webhook_tolerance: std::time::Duration::from_mins(5),
    }
}

const WEBHOOK_SECRET: &str = "whsec_weft_contract";

/// The gateway, the cards, and the fake it talks to (which checks, when dropped by the
/// test, nothing: the checks are in the answers it gives).
async fn stripe_gateway() -> (Arc<dyn PaymentProvider>, Cards, StripeGuard) {
    let fake = FakeStripe::start().await;
    let gateway = StripeGateway::new(stripe_config(&fake.url), Clock::system()).unwrap();
    (Arc::new(gateway), stripe_cards(), StripeGuard(Some(fake)))
}

/// Fails the test if the gateway ever POSTed without an Idempotency-Key.
struct StripeGuard(Option<FakeStripe>);

impl Drop for StripeGuard {
    fn drop(&mut self) {
        if let Some(fake) = self.0.take() {
            let missing = futures::executor::block_on(fake.posts_without_key());
            if !std::thread::panicking() {
                assert_eq!(
                    missing, 0,
                    "every POST to Stripe carries an Idempotency-Key"
                );
            }
        }
    }
}

mod stripe {
    use super::*;
    weft_payments::payment_contract!(async { Some(stripe_gateway().await) });
}

#[path = "contract/webhooks.rs"]
mod webhooks;
