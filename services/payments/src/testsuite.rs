//! The contract every payment provider passes: the `test` gateway here, Stripe's adapter
//! against a server replaying Stripe's published fixtures. Each function takes the
//! provider and the cards that behave as named on it.
// A contract asserts by unwrapping: a failure stops the test where it happened.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use weft_kernel::{Currency, Money};

use crate::provider::{Authorization, Authorize, PaymentProvider, ProviderError};

/// A provider's tokens for the behaviours the suite needs.
#[derive(Debug, Clone)]
pub struct Cards {
    pub good: String,
    pub declined: String,
    pub insufficient_funds: String,
    pub three_d_secure: String,
}

impl Cards {
    /// The `test` gateway's.
    pub fn test_gateway() -> Self {
        Self {
            good: "tok_visa".into(),
            declined: "tok_chargeDeclined".into(),
            insufficient_funds: "tok_insufficientFunds".into(),
            three_d_secure: "tok_threeDSecureRequired".into(),
        }
    }
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::parse("USD").expect("USD is a currency"))
}

fn request(key: &str, amount: i64, token: &str) -> Authorize {
    Authorize {
        idempotency_key: format!("{key}-{}", uuid::Uuid::now_v7().simple()),
        amount: usd(amount),
        token: token.to_owned(),
        reference: "chk_contract".to_owned(),
    }
}

fn authorized(answer: Result<Authorization, ProviderError>) -> String {
    match answer {
        Ok(Authorization::Authorized { provider_ref }) => provider_ref,
        other => panic!("expected an authorization, got {other:?}"),
    }
}

pub async fn a_good_card_is_held_captured_and_refunded_in_parts(
    p: Arc<dyn PaymentProvider>,
    cards: Cards,
) {
    let held = authorized(p.authorize(&request("good", 5000, &cards.good)).await);
    p.capture(&held, usd(4500))
        .await
        .expect("capture part of the hold");
    p.capture(&held, usd(4500))
        .await
        .expect("the same capture again is the same capture");
    let first = p
        .refund(&held, usd(1000), &format!("{held}-r1"))
        .await
        .expect("refund part");
    let again = p
        .refund(&held, usd(1000), &format!("{held}-r1"))
        .await
        .expect("a retried refund");
    assert_eq!(first, again, "one refund per idempotency key");
    p.refund(&held, usd(3500), &format!("{held}-r2"))
        .await
        .expect("the rest");
    assert!(
        matches!(
            p.refund(&held, usd(1), &format!("{held}-r3")).await,
            Err(ProviderError::Invalid(_))
        ),
        "nothing left to refund"
    );
}

pub async fn declines_say_why(p: Arc<dyn PaymentProvider>, cards: Cards) {
    for (token, code) in [
        (&cards.declined, "card_declined"),
        (&cards.insufficient_funds, "insufficient_funds"),
    ] {
        match p.authorize(&request("declined", 5000, token)).await {
            Err(ProviderError::Declined { code: c, .. }) => assert_eq!(c, code),
            other => panic!("{token}: expected a decline, got {other:?}"),
        }
    }
}

pub async fn three_d_secure_waits_for_the_customer_then_holds(
    p: Arc<dyn PaymentProvider>,
    cards: Cards,
) {
    let waiting = match p
        .authorize(&request("3ds", 7000, &cards.three_d_secure))
        .await
    {
        Ok(Authorization::RequiresAction {
            provider_ref,
            next_action,
        }) => {
            assert!(next_action["type"].is_string(), "{next_action}");
            provider_ref
        }
        other => panic!("expected requires_action, got {other:?}"),
    };
    assert!(
        matches!(
            p.capture(&waiting, usd(7000)).await,
            Err(ProviderError::Invalid(_))
        ),
        "nothing to capture before the customer acts"
    );
    let held = authorized(p.confirm(&waiting).await);
    assert_eq!(held, waiting);
    p.capture(&held, usd(7000))
        .await
        .expect("capture after 3-D Secure");
}

pub async fn one_key_is_one_authorization(p: Arc<dyn PaymentProvider>, cards: Cards) {
    let req = request("once", 2500, &cards.good);
    let answers = futures::future::join_all((0..10).map(|_| {
        let (p, req) = (Arc::clone(&p), req.clone());
        async move { p.authorize(&req).await }
    }))
    .await;
    let refs: std::collections::BTreeSet<String> = answers.into_iter().map(authorized).collect();
    assert_eq!(refs.len(), 1, "ten concurrent retries, one authorization");
    assert_eq!(
        p.find_by_key(&req.idempotency_key)
            .await
            .unwrap()
            .as_deref(),
        refs.first().map(String::as_str),
        "the authorization is found by its key (for a caller that never heard the answer)"
    );
    assert_eq!(p.find_by_key("never-used").await.unwrap(), None);
    let mut other = req.clone();
    other.amount = usd(2600);
    assert!(
        matches!(p.authorize(&other).await, Err(ProviderError::Invalid(_))),
        "the same key for another amount is refused"
    );
}

pub async fn voided_holds_cannot_be_captured_and_captures_cannot_be_voided(
    p: Arc<dyn PaymentProvider>,
    cards: Cards,
) {
    let held = authorized(p.authorize(&request("void", 3000, &cards.good)).await);
    p.void(&held).await.expect("void");
    p.void(&held).await.expect("voiding twice is fine");
    assert!(matches!(
        p.capture(&held, usd(3000)).await,
        Err(ProviderError::Invalid(_))
    ));
    let charged = authorized(p.authorize(&request("charged", 3000, &cards.good)).await);
    assert!(
        matches!(
            p.capture(&charged, usd(3001)).await,
            Err(ProviderError::Invalid(_))
        ),
        "more than the hold"
    );
    p.capture(&charged, usd(3000)).await.expect("capture");
    assert!(matches!(
        p.void(&charged).await,
        Err(ProviderError::Invalid(_))
    ));
    assert!(matches!(
        p.refund(&held, usd(100), &format!("{held}-r")).await,
        Err(ProviderError::Invalid(_))
    ));
}

pub async fn racing_refunds_never_give_back_more_than_was_charged(
    p: Arc<dyn PaymentProvider>,
    cards: Cards,
) {
    let held = authorized(p.authorize(&request("race", 5000, &cards.good)).await);
    p.capture(&held, usd(5000)).await.expect("capture");
    let answers = futures::future::join_all((0..10).map(|i| {
        let (p, held) = (Arc::clone(&p), held.clone());
        async move {
            p.refund(&held, usd(1000), &format!("{held}-race-{i}"))
                .await
        }
    }))
    .await;
    let refunded = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(
        refunded, 5,
        "ten refunds of 10.00 race for 50.00: {answers:?}"
    );
}

/// Declares one `#[tokio::test]` per contract function over `$make`, an async expression
/// giving `Option<(Arc<dyn PaymentProvider>, Cards, guard)>` (`None`: skipped here).
#[macro_export]
macro_rules! payment_contract {
    ($make:expr) => {
        $crate::payment_contract!(@each $make;
            a_good_card_is_held_captured_and_refunded_in_parts,
            declines_say_why,
            three_d_secure_waits_for_the_customer_then_holds,
            one_key_is_one_authorization,
            voided_holds_cannot_be_captured_and_captures_cannot_be_voided,
            racing_refunds_never_give_back_more_than_was_charged,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some((provider, cards, _guard)) = $make.await {
                    $crate::testsuite::$name(provider, cards).await;
                }
            }
        )*
    };
}
