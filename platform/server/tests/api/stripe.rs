//! The `stripe` provider through the whole application: a purchase paid with a Stripe
//! test payment method (against the fake Stripe, `weft_payments::stripe::fake`, set as
//! `payments.stripe_api_base`), then `POST /v1/webhooks/stripe`: forged events are 400
//! `webhook_signature_invalid`, and a refund made in Stripe's dashboard is recorded once
//! however often its event is delivered.

use serde_json::{Value, json};
use weft_config::Secret;
use weft_payments::stripe::fake::{FakeStripe, SECRET_KEY};
use weft_payments::stripe::signature;
use weft_sdk::types::CompleteCheckoutRequest;
use weft_testkit::{Backend, TestApp};

use crate::purchase::{ready_checkout, shop, variant};

const WEBHOOK_SECRET: &str = "whsec_api_tests";

async fn stripe_app(backend: Backend, fake: &FakeStripe) -> Option<TestApp> {
    let api_base = fake.url.clone();
    weft_testkit::spawn_app_with(backend, move |s| {
        s.payments.stripe_secret_key = Some(Secret::new(SECRET_KEY));
        s.payments.stripe_webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
        s.payments.stripe_api_base = api_base;
    })
    .await
}

async fn deliver(app: &TestApp, body: &[u8], signature: Option<String>) -> (u16, Value) {
    let mut req = app
        .http
        .post(app.url("/v1/webhooks/stripe"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("stripe-signature", s);
    }
    let resp = req.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

async fn a_stripe_payment_takes_a_dashboard_refund_once_and_refuses_forged_events(
    backend: Backend,
) {
    let fake = FakeStripe::start().await;
    let Some(app) = stripe_app(backend, &fake).await else {
        return;
    };
    let shop = shop(app).await;
    let shirt = variant(&shop.admin, "STRIPE-1", 5).await;
    let guest = &shop.app.client;
    let (_, checkout) = ready_checkout(guest, &[(&shirt, 1)]).await;
    let done = guest
        .complete_checkout()
        .id(&checkout)
        .idempotency_key(format!("key-{}", uuid::Uuid::now_v7().simple()))
        .body(
            serde_json::from_value::<CompleteCheckoutRequest>(
                json!({"payment": {"provider": "stripe", "token": "pm_card_visa"}}),
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 201);
    let payment = || async {
        let page = shop
            .admin
            .list_payments()
            .checkout_id(&checkout)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.data.len(), 1);
        page.data[0].clone()
    };
    let paid = payment().await;
    assert_eq!(
        (paid.provider.as_str(), paid.status.as_str()),
        ("stripe", "captured")
    );
    let pi = paid.provider_ref.clone().unwrap();
    assert!(pi.starts_with("pi_"), "{pi}");

    let charge = FakeStripe::charge_object(&pi, paid.captured, &[("re_dashboard_api", 500, None)]);
    let event =
        serde_json::to_vec(&FakeStripe::event("evt_api_1", "charge.refunded", charge)).unwrap();
    let now = chrono::Utc::now().timestamp();
    let forged = signature::header(b"whsec_not_ours", now, &event);
    let (status, problem) = deliver(&shop.app, &event, Some(forged)).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["code"], "webhook_signature_invalid", "{problem}");
    let (status, problem) = deliver(&shop.app, &event, None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("webhook_signature_invalid"))
    );
    assert_eq!(payment().await.refunded, 0, "forged events change nothing");

    let signed = signature::header(WEBHOOK_SECRET.as_bytes(), now, &event);
    let (status, receipt) = deliver(&shop.app, &event, Some(signed.clone())).await;
    assert_eq!(
        (status, receipt["outcome"].as_str()),
        (200, Some("processed")),
        "{receipt}"
    );
    let (status, receipt) = deliver(&shop.app, &event, Some(signed)).await;
    assert_eq!(
        (status, receipt["outcome"].as_str()),
        (200, Some("replayed")),
        "{receipt}"
    );
    let refunded = payment().await;
    assert_eq!(refunded.refunded, 500, "recorded once");
    assert_eq!(refunded.status, "partially_refunded");
    let webhook_rows = refunded
        .transactions
        .iter()
        .filter(|t| t.kind == "webhook")
        .count();
    assert_eq!(
        webhook_rows, 2,
        "the refund and the event: {:?}",
        refunded.transactions
    );
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stripe_payment_takes_a_dashboard_refund_once_and_refuses_forged_events() {
        super::a_stripe_payment_takes_a_dashboard_refund_once_and_refuses_forged_events(
            weft_testkit::Backend::Sqlite,
        )
        .await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stripe_payment_takes_a_dashboard_refund_once_and_refuses_forged_events() {
        super::a_stripe_payment_takes_a_dashboard_refund_once_and_refuses_forged_events(
            weft_testkit::Backend::Postgres,
        )
        .await;
    }
}
