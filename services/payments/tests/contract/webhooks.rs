//! `POST /v1/webhooks/stripe` over real HTTP, in front of the payments log on SQLite and
//! (when configured) PostgreSQL, with payments made through the stripe gateway against
//! the fake Stripe: signatures are checked over the exact bytes, and an event applies
//! once however often it is delivered.

use poem::EndpointExt;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem_openapi::OpenApiService;
use serde_json::{Value, json};
use weft_kernel::{Currency, Money};
use weft_payments::stripe::signature;
use weft_payments::{NewPayment, Payment, PaymentService, PaymentStatus, WebhookApi};

use super::*;

struct Shop {
    svc: PaymentService,
    url: String,
    http: reqwest::Client,
    fake: FakeStripe,
    _db: TestDatabase,
    _server: tokio::task::JoinHandle<()>,
}

async fn shop(database: TestDatabase) -> Shop {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = database.open(5).await.unwrap();
    weft_storage::migrate::run(
        &db,
        &[&weft_storage::migrate::PLATFORM, &weft_payments::MIGRATIONS],
    )
    .await
    .unwrap();
    let fake = FakeStripe::start().await;
    let stripe = StripeGateway::new(stripe_config(&fake.url), Clock::system()).unwrap();
    let svc = PaymentService::new(db, Clock::system(), vec![Arc::new(stripe)]);
    let api = OpenApiService::new(WebhookApi, "test", "1");
    let app = poem::Route::new().nest("/", api).data(svc.clone());
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    Shop {
        svc,
        url: format!("http://127.0.0.1:{port}/v1/webhooks/stripe"),
        http: reqwest::Client::new(),
        fake,
        _db: database,
        _server: server,
    }
}

async fn on_each_backend(test: impl AsyncFn(Shop)) {
    test(shop(TestDatabase::sqlite().unwrap()).await).await;
    if let Some(url) = postgres_admin_url() {
        test(shop(TestDatabase::postgres(&url).await.unwrap()).await).await;
    }
}

fn usd(amount: i64) -> Money {
    Money::new(amount, Currency::parse("USD").unwrap())
}

impl Shop {
    async fn pay(&self, token: &str, amount: i64) -> Payment {
        self.svc
            .authorize(NewPayment {
                attempt: uuid::Uuid::now_v7().to_string(),
                checkout_id: "chk_webhooks".into(),
                provider: "stripe".into(),
                token: token.into(),
                amount: usd(amount),
            })
            .await
            .unwrap()
    }

    /// POSTs `body` with `signature` as `Stripe-Signature` (none when `None`).
    async fn deliver(&self, body: &[u8], signature: Option<String>) -> (u16, Value) {
        let mut req = self
            .http
            .post(&self.url)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_vec());
        if let Some(s) = signature {
            req = req.header("stripe-signature", s);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }
}

fn signed(body: &[u8]) -> String {
    signature::header(
        WEBHOOK_SECRET.as_bytes(),
        chrono::Utc::now().timestamp(),
        body,
    )
}

fn bytes(event: &Value) -> Vec<u8> {
    serde_json::to_vec(event).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_made_in_stripe_s_dashboard_is_recorded_once_however_often_it_is_delivered() {
    on_each_backend(async |shop: Shop| {
        let paid = shop.pay("pm_card_visa", 5000).await;
        let pi = paid.provider_ref.clone().unwrap();
        shop.svc.capture(&paid.id, "ord_webhooks").await.unwrap();
        let (_, weft_refund) = shop.svc.refund(&paid.id, 1000, "r1").await.unwrap();

        // Stripe lists every refund of the charge: Weft's own (metadata weft_key) and
        // one made in the dashboard.
        let charge = FakeStripe::charge_object(
            &pi,
            5000,
            &[
                (&weft_refund, 1000, Some("whatever-weft-sent")),
                ("re_dashboard1", 2000, None),
            ],
        );
        let event = bytes(&FakeStripe::event(
            "evt_refund_1",
            "charge.refunded",
            charge.clone(),
        ));
        let signature = Some(signed(&event));
        let (status, receipt) = shop.deliver(&event, signature.clone()).await;
        assert_eq!(status, 200, "{receipt}");
        assert_eq!(receipt["outcome"], "processed");
        let after = shop.svc.get(&paid.id).await.unwrap();
        assert_eq!(
            after.refunded, 3000,
            "Weft's 10.00 once, the dashboard's 20.00 once"
        );
        assert_eq!(after.status, PaymentStatus::PartiallyRefunded);

        // The same delivery again (Stripe retries; the signature is still fresh).
        let (status, receipt) = shop.deliver(&event, signature).await;
        assert_eq!(
            (status, receipt["outcome"].as_str()),
            (200, Some("replayed"))
        );
        let replayed = shop.svc.get(&paid.id).await.unwrap();
        assert_eq!(replayed, after, "a replayed event changes nothing");

        // Another event about the same charge, listing the same refunds.
        let again = bytes(&FakeStripe::event(
            "evt_refund_2",
            "charge.refunded",
            charge,
        ));
        let (status, receipt) = shop.deliver(&again, Some(signed(&again))).await;
        assert_eq!(
            (status, receipt["outcome"].as_str()),
            (200, Some("processed"))
        );
        let later = shop.svc.get(&paid.id).await.unwrap();
        assert_eq!(
            later.refunded, 3000,
            "a refund already recorded is not counted again"
        );
        let dashboard: Vec<_> = later
            .transactions
            .iter()
            .filter(|t| t.provider_ref.as_deref() == Some("re_dashboard1"))
            .collect();
        assert_eq!(dashboard.len(), 1, "{:?}", later.transactions);
        assert_eq!(
            (dashboard[0].kind.as_str(), dashboard[0].amount),
            ("webhook", 2000)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_event_without_its_refunds_listed_is_completed_from_stripe_s_refund_list() {
    on_each_backend(async |shop: Shop| {
        let paid = shop.pay("pm_card_visa", 5000).await;
        let pi = paid.provider_ref.clone().unwrap();
        shop.svc.capture(&paid.id, "ord_webhooks").await.unwrap();
        shop.svc.refund(&paid.id, 1000, "r1").await.unwrap();
        let dashboard = shop.fake.dashboard_refund(&pi, 1500).await;

        // As API versions since 2022-11-15 send it: the charge without `refunds`.
        let mut charge = FakeStripe::charge_object(&pi, 5000, &[]);
        charge.as_object_mut().unwrap().remove("refunds");
        charge["amount_refunded"] = json!(2500);
        let event = bytes(&FakeStripe::event(
            "evt_unlisted",
            "charge.refunded",
            charge,
        ));
        let (status, receipt) = shop.deliver(&event, Some(signed(&event))).await;
        assert_eq!(
            (status, receipt["outcome"].as_str()),
            (200, Some("processed")),
            "{receipt}"
        );
        let after = shop.svc.get(&paid.id).await.unwrap();
        assert_eq!(
            after.refunded, 2500,
            "Weft's 10.00 and the dashboard's 15.00, once each"
        );
        assert!(
            after
                .transactions
                .iter()
                .any(|t| t.provider_ref.as_deref() == Some(dashboard.as_str()) && t.amount == 1500),
            "{:?}",
            after.transactions
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_d_secure_finished_elsewhere_authorizes_the_waiting_payment() {
    on_each_backend(async |shop: Shop| {
        let waiting = shop.pay("pm_card_threeDSecure2Required", 7000).await;
        assert_eq!(waiting.status, PaymentStatus::RequiresAction);
        let pi = waiting.provider_ref.clone().unwrap();
        let object = FakeStripe::payment_intent_object(&pi, 7000, "requires_capture", 7000);
        let event = bytes(&FakeStripe::event(
            "evt_capturable",
            "payment_intent.amount_capturable_updated",
            object,
        ));
        let (status, receipt) = shop.deliver(&event, Some(signed(&event))).await;
        assert_eq!(
            (status, receipt["outcome"].as_str()),
            (200, Some("processed"))
        );
        let held = shop.svc.get(&waiting.id).await.unwrap();
        assert_eq!(held.status, PaymentStatus::Authorized);
        assert_eq!(held.next_action, None);

        // About no payment of Weft's: recorded, ignored, 200 (Stripe stops retrying).
        let other = FakeStripe::payment_intent_object("pi_elsewhere", 100, "succeeded", 0);
        let event = bytes(&FakeStripe::event(
            "evt_other",
            "payment_intent.succeeded",
            other,
        ));
        let (status, receipt) = shop.deliver(&event, Some(signed(&event))).await;
        assert_eq!(
            (status, receipt["outcome"].as_str()),
            (200, Some("ignored"))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverifiable_events_are_400_webhook_signature_invalid_and_change_nothing() {
    on_each_backend(async |shop: Shop| {
        let paid = shop.pay("pm_card_visa", 5000).await;
        let pi = paid.provider_ref.clone().unwrap();
        shop.svc.capture(&paid.id, "ord_webhooks").await.unwrap();
        let charge = FakeStripe::charge_object(&pi, 5000, &[("re_dashboard2", 5000, None)]);
        let event = bytes(&FakeStripe::event("evt_forged", "charge.refunded", charge));
        let now = chrono::Utc::now().timestamp();
        let mut tampered = event.clone();
        let at = tampered.len() - 2;
        tampered[at] = b' ';
        let cases = [
            (
                "wrong secret",
                event.clone(),
                Some(signature::header(b"whsec_someone_else", now, &event)),
            ),
            ("tampered body", tampered, Some(signed(&event))),
            ("missing header", event.clone(), None),
            (
                "old timestamp",
                event.clone(),
                Some(signature::header(
                    WEBHOOK_SECRET.as_bytes(),
                    now - 301,
                    &event,
                )),
            ),
            ("garbage header", event.clone(), Some("t=abc,v1=zz".into())),
        ];
        for (case, body, header) in cases {
            let (status, problem) = shop.deliver(&body, header).await;
            assert_eq!(status, 400, "{case}: {problem}");
            assert_eq!(
                problem["code"], "webhook_signature_invalid",
                "{case}: {problem}"
            );
        }
        let untouched = shop.svc.get(&paid.id).await.unwrap();
        assert_eq!(untouched.refunded, 0);
        assert_eq!(untouched.status, PaymentStatus::Captured);

        // Refused events were not recorded: the genuine one still applies.
        let (status, receipt) = shop.deliver(&event, Some(signed(&event))).await;
        assert_eq!(
            (status, receipt["outcome"].as_str()),
            (200, Some("processed"))
        );
        assert_eq!(
            shop.svc.get(&paid.id).await.unwrap().status,
            PaymentStatus::Refunded
        );
    })
    .await;
}

#[test]
fn payload_helpers_keep_stripe_s_shapes() {
    let event = FakeStripe::event("evt_x", "charge.refunded", json!({"object": "charge"}));
    assert_eq!(event["object"], "event");
    assert_eq!(event["data"]["object"]["object"], "charge");
}
