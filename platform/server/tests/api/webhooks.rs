//! Outbound webhooks through the SDK, on SQLite and on PostgreSQL with RabbitMQ carrying
//! the events, delivered to a receiver these tests run: a receiver that fails three times
//! gets the event on the fourth try, every try signed; a duplicate event makes no second
//! delivery; secrets rotate with an overlap; a delivery failing for the whole window
//! disables its endpoint; apps manage only their own endpoints, for events their scopes
//! allow; an erasure leaves no copy of the customer in the log; loopback targets are
//! refused unless the shop allows them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::listener::{Acceptor as _, Listener as _};
use serde_json::{Value, json};
use weft_sdk::types::{CreateCredentialRequest, CreateWebhookRequest, WebhookPatch};
use weft_sdk::webhooks;
use weft_testkit::{Backend, TestApp, spawn_app_with};

use crate::purchase::shop;
use crate::support::{authed, customer, enrolled_admin, execute_sql, problem_of};

const TOLERANCE: Duration = Duration::from_mins(5);

/// What the receiver answers to each request, in order (then `Ok`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Fail,
    Slow,
    Ok,
}

#[derive(Debug, Clone)]
pub struct Received {
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook receiver on 127.0.0.1 answering by `script`.
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Receiver {
    pub async fn start(script: &[Reply]) -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let endpoint = {
            let (got, script) = (Arc::clone(&got), Arc::clone(&script));
            poem::endpoint::make(move |mut req: poem::Request| {
                let (got, script) = (Arc::clone(&got), Arc::clone(&script));
                async move {
                    let headers = req
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect();
                    let body = req.take_body().into_vec().await.unwrap_or_default();
                    got.lock().unwrap().push(Received { headers, body });
                    let reply = script.lock().unwrap().pop_front().unwrap_or(Reply::Ok);
                    match reply {
                        Reply::Fail => poem::Response::builder()
                            .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
                            .body("down for maintenance"),
                        Reply::Slow => {
                            tokio::time::sleep(Duration::from_secs(4)).await;
                            poem::Response::builder().body("too late")
                        }
                        Reply::Ok => poem::Response::builder().body("thanks"),
                    }
                }
            })
        };
        let route = poem::Route::new().at("/hook", endpoint);
        let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(route));
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            got,
            script,
        }
    }

    /// Answers every request from now on with 200.
    fn recover(&self) {
        self.script.lock().unwrap().clear();
    }

    /// What arrived that `keep` selects.
    fn matching(&self, keep: impl Fn(&Received) -> bool) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }

    /// Waits (up to 60 s) until `n` requests that `keep` selects arrived; returns them.
    pub async fn wait_for(&self, n: usize, keep: impl Fn(&Received) -> bool) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.matching(&keep);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{n} deliveries did not arrive within 60 s");
    }
}

fn about(email: &'static str) -> impl Fn(&Received) -> bool {
    move |r| r.json()["data"]["email"] == email
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// The app with deliveries allowed to this machine (the receiver listens on 127.0.0.1)
/// and retries one second apart, with RabbitMQ carrying events on PostgreSQL.
async fn spawn(backend: Backend) -> Option<TestApp> {
    let amqp = crate::support::amqp_for(backend, "webhooks");
    spawn_app_with(backend, |s| {
        s.amqp_url = amqp;
        s.webhooks.allow_private_targets = true;
        s.webhooks.require_https = false;
        s.webhooks.first_retry_seconds = 1;
        s.webhooks.max_retry_interval_seconds = 2;
        s.webhooks.timeout_seconds = 2;
    })
    .await
}

macro_rules! webhook_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = super::spawn(weft_testkit::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres_rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::spawn(weft_testkit::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

webhook_tests!(
    a_receiver_failing_three_times_gets_the_event_on_the_fourth_try_signed,
    a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends,
    an_endpoint_failing_for_the_whole_window_is_disabled_and_can_be_resumed,
    apps_manage_their_own_endpoints_for_events_their_scopes_allow,
    an_erased_customer_leaves_no_copy_in_the_delivery_log,
    bad_subscriptions_are_refused_naming_the_field,
    graphql_manages_endpoints_with_the_same_rules,
);

async fn subscribe(
    admin: &weft_sdk::Client,
    url: &str,
    events: &[&str],
) -> weft_sdk::types::WebhookEndpointWithSecret {
    admin
        .create_webhook()
        .body(CreateWebhookRequest {
            url: url.to_owned(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            description: Some("Warehouse sync".into()),
        })
        .send()
        .await
        .unwrap()
        .into_inner()
}

/// Waits (up to 60 s) until the endpoint's delivery of `event_id` has `status`.
async fn delivery_of(
    admin: &weft_sdk::Client,
    endpoint: &str,
    event_id: &str,
    status: &str,
) -> weft_sdk::types::WebhookDelivery {
    for _ in 0..600 {
        let page = admin
            .list_webhook_deliveries()
            .id(endpoint)
            .limit(100)
            .send()
            .await
            .unwrap()
            .into_inner();
        let ours: Vec<_> = page
            .data
            .into_iter()
            .filter(|d| d.event_id == event_id)
            .collect();
        assert!(ours.len() <= 1, "one delivery per event: {ours:?}");
        if let Some(d) = ours.into_iter().next()
            && d.status == status
        {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivery of {event_id} did not become {status} within 60 s");
}

async fn a_receiver_failing_three_times_gets_the_event_on_the_fourth_try_signed(app: TestApp) {
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let rx = Receiver::start(&[Reply::Fail, Reply::Fail, Reply::Fail]).await;
    let endpoint = subscribe(admin, &rx.url, &["user.registered"]).await;
    assert!(endpoint.secret.starts_with("whsec_"));
    assert_eq!(endpoint.status, "enabled");

    let ada = customer(app, "hooked@example.com").await;
    let got = rx.wait_for(4, about("hooked@example.com")).await;

    let first = webhooks::verify(
        &endpoint.secret,
        got[0].header(webhooks::SIGNATURE_HEADER),
        &got[0].body,
        TOLERANCE,
    )
    .unwrap();
    assert_eq!(first.event_type, "user.registered");
    assert_eq!(first.data["user_id"], ada.user.id.as_str());
    for (i, try_) in got.iter().enumerate() {
        let event = webhooks::verify(
            &endpoint.secret,
            try_.header("weft-signature"),
            &try_.body,
            TOLERANCE,
        )
        .unwrap_or_else(|e| panic!("try {} was not signed: {e}", i + 1));
        assert_eq!(event.id, first.id, "every try carries the event's id");
        assert_eq!(try_.header("weft-event-id"), Some(first.id.as_str()));
        assert_eq!(try_.header("weft-event-type"), Some("user.registered"));
        assert_eq!(
            try_.header("weft-delivery-attempt"),
            Some((i + 1).to_string().as_str())
        );
        assert_eq!(try_.header("content-type"), Some("application/json"));
        // Another secret, or a changed body, does not verify.
        assert_eq!(
            webhooks::verify(
                "whsec_other",
                try_.header("weft-signature"),
                &try_.body,
                TOLERANCE
            ),
            Err(webhooks::Refused::Mismatch)
        );
    }

    let done = delivery_of(admin, &endpoint.id, &first.id, "succeeded").await;
    assert_eq!(done.attempt_count, 4);
    assert_eq!(done.last_response_status, Some(200));
    assert_eq!(
        done.request_body.as_deref().map(str::as_bytes),
        Some(got[0].body.as_slice()),
        "the log keeps the exact body sent"
    );
    let detail = admin
        .get_webhook_delivery()
        .id(&endpoint.id)
        .delivery_id(&done.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let statuses: Vec<Option<i32>> = detail.attempts.iter().map(|a| a.response_status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(503), Some(200)]);
    assert_eq!(
        detail.attempts[0].response_body.as_deref(),
        Some("down for maintenance")
    );
    assert!(
        detail
            .attempts
            .windows(2)
            .all(|w| w[1].attempted_at > w[0].attempted_at)
    );

    // The relay publishing the event again (as after a crash) makes no second delivery.
    let reset = execute_sql(
        app,
        &format!(
            "UPDATE platform_outbox SET published_at = NULL, claimed_by = NULL, \
             claimed_until = NULL WHERE id = '{}'",
            first.id
        ),
    )
    .await;
    assert_eq!(reset, 1, "the event is still in the outbox");
    crate::after_sale::eventually("the event published again", || async {
        crate::support::stored_strings(
            app,
            &format!(
                "SELECT id AS v FROM platform_outbox WHERE id = '{}' AND published_at IS NOT NULL",
                first.id
            ),
        )
        .await
        .len()
            == 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.matching(about("hooked@example.com")).len(), 4);
    delivery_of(admin, &endpoint.id, &first.id, "succeeded").await;
}

async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(app: TestApp) {
    let shop = shop(app).await;
    let admin = &shop.admin;
    let rx = Receiver::start(&[]).await;
    let endpoint = subscribe(admin, &rx.url, &["order.created"]).await;
    let old = endpoint.secret.clone();

    let rotated = admin
        .rotate_webhook_secret()
        .id(&endpoint.id)
        .overlap_seconds(3600)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_ne!(rotated.secret, old);
    assert!(rotated.previous_secret_expires_at.is_some());
    let test = admin
        .send_webhook_test()
        .id(&endpoint.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(test.event_type, "webhook.test");
    let got = rx
        .wait_for(1, |r| {
            r.header("weft-event-id") == Some(test.event_id.as_str())
        })
        .await;
    let sig = got[0].header("weft-signature").unwrap();
    assert_eq!(sig.matches("v1=").count(), 2, "{sig}");
    for secret in [&old, &rotated.secret] {
        let event = webhooks::verify(secret, Some(sig), &got[0].body, TOLERANCE).unwrap();
        assert_eq!(event.data["endpoint_id"], endpoint.id.as_str());
    }

    // Without an overlap the old secret stops at once.
    let again = admin
        .rotate_webhook_secret()
        .id(&endpoint.id)
        .overlap_seconds(0)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.previous_secret_expires_at, None);
    let test = admin
        .send_webhook_test()
        .id(&endpoint.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let got = rx
        .wait_for(1, |r| {
            r.header("weft-event-id") == Some(test.event_id.as_str())
        })
        .await;
    let sig = got[0].header("weft-signature");
    assert!(webhooks::verify(&again.secret, sig, &got[0].body, TOLERANCE).is_ok());
    for stale in [&old, &rotated.secret] {
        assert_eq!(
            webhooks::verify(stale, sig, &got[0].body, TOLERANCE),
            Err(webhooks::Refused::Mismatch)
        );
    }
    let p = problem_of(
        admin
            .rotate_webhook_secret()
            .id(&endpoint.id)
            .overlap_seconds(8 * 86_400)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "overlap_seconds")
    );
}

async fn an_endpoint_failing_for_the_whole_window_is_disabled_and_can_be_resumed(app: TestApp) {
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let rx = Receiver::start(&[Reply::Slow, Reply::Fail, Reply::Fail, Reply::Fail]).await;
    let endpoint = subscribe(admin, &rx.url, &["user.registered"]).await;
    customer(app, "unlucky@example.com").await;
    let first = rx.wait_for(1, about("unlucky@example.com")).await;
    let event_id = first[0].json()["id"].as_str().unwrap().to_owned();
    let pending = delivery_of(admin, &endpoint.id, &event_id, "pending").await;

    // The window closes (as three days would): the next failure is the last.
    execute_sql(
        app,
        &format!(
            "UPDATE webhook_deliveries SET retry_until = created_at WHERE id = '{}'",
            pending.id
        ),
    )
    .await;
    let failed = delivery_of(admin, &endpoint.id, &event_id, "failed").await;
    assert_eq!(failed.next_attempt_at, None);
    let detail = admin
        .get_webhook_delivery()
        .id(&endpoint.id)
        .delivery_id(&failed.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(detail.attempts[0].response_status, None);
    assert!(
        detail.attempts[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "a slow receiver times out: {:?}",
        detail.attempts[0]
    );
    let shown = admin
        .get_webhook()
        .id(&endpoint.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown.status, "disabled");
    assert!(shown.disabled_reason.unwrap().contains(&failed.id));
    crate::after_sale::eventually("staff told through an event", || async {
        crate::support::stored_strings(
            app,
            &format!(
                "SELECT id AS v FROM platform_outbox WHERE event_type = \
                 'webhook.endpoint_disabled' AND aggregate_id = '{}'",
                endpoint.id
            ),
        )
        .await
        .len()
            == 1
    })
    .await;

    // Disabled: nothing is sent or redelivered until staff enable it again.
    let p = problem_of(
        admin
            .redeliver_webhook()
            .id(&endpoint.id)
            .delivery_id(&failed.id)
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "webhook_disabled"));
    admin
        .update_webhook()
        .id(&endpoint.id)
        .body(WebhookPatch {
            enabled: Some(true),
            ..body(json!({}))
        })
        .send()
        .await
        .unwrap();
    let before = rx.matching(about("unlucky@example.com")).len();
    rx.recover();
    let queued = admin
        .redeliver_webhook()
        .id(&endpoint.id)
        .delivery_id(&failed.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queued.status, "pending");
    let done = delivery_of(admin, &endpoint.id, &event_id, "succeeded").await;
    assert_eq!(
        rx.matching(about("unlucky@example.com")).len(),
        before + 1,
        "a redelivery is one attempt"
    );
    assert_eq!(done.last_response_status, Some(200));
    let p = problem_of(
        admin
            .redeliver_webhook()
            .id(&endpoint.id)
            .delivery_id("whd_unknown")
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "delivery_not_found"));
}

async fn apps_manage_their_own_endpoints_for_events_their_scopes_allow(app: TestApp) {
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let key = |scopes: &[&str]| {
        admin.create_api_key().body(CreateCredentialRequest {
            name: "Fulfilment app".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        })
    };
    let fulfilment = key(&["webhooks:write", "orders:read"])
        .send()
        .await
        .unwrap()
        .into_inner();
    let reader = key(&["orders:read"]).send().await.unwrap().into_inner();
    let app_client = authed(app, &fulfilment.key);
    let rx = Receiver::start(&[]).await;

    let own = subscribe(&app_client, &rx.url, &["order.created", "order.refunded"]).await;
    assert_eq!(
        own.owner_id.as_deref(),
        Some(fulfilment.api_key.id.as_str())
    );
    let p = problem_of(
        app_client
            .create_webhook()
            .body(body::<CreateWebhookRequest>(
                json!({"url": rx.url, "events": ["user.registered"]}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (403, "missing_scope"));
    assert!(p.detail.contains("customers:read"), "{}", p.detail);

    // The shop's own endpoint is invisible to the app; the app's is visible to admins.
    let shops = subscribe(admin, &rx.url, &["user.registered"]).await;
    let listed = app_client
        .list_webhooks()
        .send()
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = listed.data.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [own.id.as_str()]);
    for call in [
        app_client
            .get_webhook()
            .id(&shops.id)
            .send()
            .await
            .map(drop),
        app_client
            .delete_webhook()
            .id(&shops.id)
            .send()
            .await
            .map(drop),
        app_client
            .list_webhook_deliveries()
            .id(&shops.id)
            .send()
            .await
            .map(drop),
    ] {
        let p = problem_of(call).await;
        assert_eq!((p.status, p.code.as_str()), (404, "webhook_not_found"));
    }
    let all = admin.list_webhooks().send().await.unwrap().into_inner();
    assert!(all.data.iter().any(|e| e.id == own.id));
    assert!(all.data.iter().all(|e| !e.url.is_empty()));

    // Without `webhooks:write`, a customer, a guest: refused before the body is read.
    let p = problem_of(authed(app, &reader.key).list_webhooks().send().await).await;
    assert_eq!((p.status, p.code.as_str()), (403, "missing_scope"));
    let shopper = customer(app, "nosy@example.com").await;
    let p = problem_of(
        authed(app, &shopper.access_token)
            .list_webhooks()
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 403);
    let raw = app
        .http
        .post(app.url("/v1/admin/webhooks"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);

    let second = subscribe(&app_client, &rx.url, &["order.cancelled"]).await;
    app_client
        .delete_webhook()
        .id(&own.id)
        .send()
        .await
        .unwrap();
    let p = problem_of(admin.get_webhook().id(&own.id).send().await).await;
    assert_eq!(p.status, 404);

    // A revoked key's endpoints stop receiving: nothing is sent for a gone credential.
    admin
        .revoke_api_key()
        .id(&fulfilment.api_key.id)
        .send()
        .await
        .unwrap();
    crate::after_sale::eventually("the revoked key's endpoint disabled", || async {
        let e = admin
            .get_webhook()
            .id(&second.id)
            .send()
            .await
            .unwrap()
            .into_inner();
        e.status == "disabled"
            && e.disabled_reason.as_deref() == Some("the app that made it was revoked")
    })
    .await;
    let shops_own = admin.get_webhook().id(&shops.id).send().await.unwrap();
    assert_eq!(shops_own.status, "enabled", "the shop's own endpoint stays");
}

async fn an_erased_customer_leaves_no_copy_in_the_delivery_log(app: TestApp) {
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let rx = Receiver::start(&[]).await;
    let endpoint = subscribe(admin, &rx.url, &["user.registered", "user.erased"]).await;
    let gone = customer(app, "forget-me@example.com").await;
    let got = rx.wait_for(1, about("forget-me@example.com")).await;
    let registered = got[0].json()["id"].as_str().unwrap().to_owned();
    delivery_of(admin, &endpoint.id, &registered, "succeeded").await;

    authed(app, &gone.access_token)
        .delete_me()
        .send()
        .await
        .unwrap();

    // The app hears of the erasure (to erase its own copies)...
    let erased = rx
        .wait_for(1, |r| {
            let e = r.json();
            e["type"] == "user.erased" && e["data"]["user_id"] == gone.user.id.as_str()
        })
        .await;
    assert!(
        webhooks::verify(
            &endpoint.secret,
            erased[0].header("weft-signature"),
            &erased[0].body,
            TOLERANCE
        )
        .is_ok()
    );
    // ...and the log keeps no copy of what it was sent about them.
    let scrubbed = {
        let mut found = None;
        for _ in 0..600 {
            let page = admin
                .list_webhook_deliveries()
                .id(&endpoint.id)
                .send()
                .await
                .unwrap()
                .into_inner();
            let d = page
                .data
                .into_iter()
                .find(|d| d.event_id == registered)
                .unwrap();
            if d.request_body.is_none() {
                found = Some(d);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        found.expect("the erasure reached the webhook log")
    };
    assert_eq!(scrubbed.status, "succeeded");
    let detail = admin
        .get_webhook_delivery()
        .id(&endpoint.id)
        .delivery_id(&scrubbed.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(detail.attempts.iter().all(|a| a.response_body.is_none()));
    let left = crate::support::stored_strings(
        app,
        "SELECT COALESCE(payload, '') AS v FROM webhook_deliveries \
         UNION ALL SELECT COALESCE(customer_id, '') AS v FROM webhook_deliveries",
    )
    .await;
    assert!(
        left.iter().all(
            |v| !v.contains("forget-me@example.com") && !v.contains(&gone.user.id)
                || v.contains("user.erased")
        ),
        "{left:?}"
    );
    let p = problem_of(
        admin
            .redeliver_webhook()
            .id(&endpoint.id)
            .delivery_id(&scrubbed.id)
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "delivery_erased"));
}

async fn bad_subscriptions_are_refused_naming_the_field(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "hooks-admin@example.com").await;
    let admin = &authed(&app, &session.access_token);
    let app = &app;
    let p = problem_of(
        admin
            .create_webhook()
            .body(body::<CreateWebhookRequest>(json!({
                "url": "ftp://example.com/hook",
                "events": ["order.created", "order.eaten"],
                "description": "x".repeat(201),
            })))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (422, "validation_failed"));
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["description", "events[1]", "url"]);

    let p = problem_of(
        admin
            .create_webhook()
            .body(body::<CreateWebhookRequest>(
                json!({"url": "https://hooks.example.com", "events": []}),
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(p.errors[0].field, "events");

    let post = |raw: String| {
        app.http
            .post(app.url("/v1/admin/webhooks"))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", session.access_token))
            .body(raw)
            .send()
    };
    let malformed = post("{\"url\": ".into()).await.unwrap();
    assert_eq!(malformed.status(), 400);
    let unknown = post(
        json!({"url": "https://a.example", "events": ["order.created"], "secret": "mine"})
            .to_string(),
    )
    .await
    .unwrap();
    assert_eq!(unknown.status(), 422);
    let wrong_type =
        post(json!({"url": "https://a.example", "events": "order.created"}).to_string())
            .await
            .unwrap();
    assert_eq!(wrong_type.status(), 422);
    let huge = post(format!(
        "{{\"url\": \"https://a.example\", \"events\": [\"order.created\"], \"description\": \"{}\"}}",
        "x".repeat(3 << 20)
    ))
    .await
    .unwrap();
    assert_eq!(huge.status(), 413);

    for id in ["whe_unknown", "usr_not_an_endpoint"] {
        let p = problem_of(admin.get_webhook().id(id).send().await).await;
        assert_eq!((p.status, p.code.as_str()), (404, "webhook_not_found"));
    }
    let rx = Receiver::start(&[]).await;
    let endpoint = subscribe(admin, &rx.url, &["order.created"]).await;
    let p = problem_of(
        admin
            .list_webhook_deliveries()
            .id(&endpoint.id)
            .status("lost")
            .send()
            .await,
    )
    .await;
    assert_eq!(p.errors[0].field, "status");
    assert!(
        admin
            .list_webhook_deliveries()
            .id(&endpoint.id)
            .send()
            .await
            .unwrap()
            .data
            .is_empty(),
        "nothing delivered, nothing logged"
    );
}

/// Loopback, private and link-local targets are refused with the shop's default
/// settings, by address and by name; plain `http://` is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_in_private_networks_are_refused() {
    let app = weft_testkit::spawn_app(Backend::Sqlite).await.unwrap();
    let shop = shop(app).await;
    let admin = &shop.admin;
    for (url, says) in [
        ("https://127.0.0.1/hook", "127.0.0.1"),
        ("https://localhost:8443/hook", "public hosts only"),
        (
            "https://169.254.169.254/latest/meta-data",
            "169.254.169.254",
        ),
        ("https://[::1]/hook", "::1"),
        ("https://10.0.0.7/hook", "10.0.0.7"),
        ("http://hooks.example.com/hook", "https"),
        ("https://user:pw@hooks.example.com/hook", "credentials"),
    ] {
        let p = problem_of(
            admin
                .create_webhook()
                .body(body::<CreateWebhookRequest>(
                    json!({"url": url, "events": ["order.created"]}),
                ))
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (p.status, p.errors[0].field.as_str()),
            (422, "url"),
            "{url}"
        );
        assert!(
            p.errors[0].message.contains(says),
            "{url}: {}",
            p.errors[0].message
        );
    }
    assert!(admin.list_webhooks().send().await.unwrap().data.is_empty());
}

async fn graphql_manages_endpoints_with_the_same_rules(app: TestApp) {
    let (session, _, _) = enrolled_admin(&app, "gql-hooks@example.com").await;
    let shopper = customer(&app, "gql-shopper@example.com").await;
    let app = &app;
    let gql = |query: &str, variables: Value, token: Option<&str>| {
        let mut req = app
            .http
            .post(app.url("/graphql"))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let rx = Receiver::start(&[]).await;
    let create = "mutation($url: String!) { createWebhookEndpoint(input: \
                  {url: $url, events: [\"order.created\"]}) { secret endpoint { id status events } } }";

    let guest = gql(create, json!({"url": rx.url}), None).await;
    assert_eq!(guest["errors"][0]["extensions"]["code"], "unauthenticated");
    let customer = gql(create, json!({"url": rx.url}), Some(&shopper.access_token)).await;
    assert_eq!(customer["errors"][0]["extensions"]["code"], "forbidden");
    let refused = gql(
        create,
        json!({"url": "https://127.0.0.1.nip.invalid/hook"}),
        Some(&session.access_token),
    )
    .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "validation_failed"
    );

    let created = gql(create, json!({"url": rx.url}), Some(&session.access_token)).await;
    assert!(created["errors"].is_null(), "{created}");
    let made = &created["data"]["createWebhookEndpoint"];
    let (id, secret) = (
        made["endpoint"]["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    );
    assert_eq!(made["endpoint"]["status"], "enabled");

    let sent = gql(
        "mutation($id: String!) { sendWebhookTest(id: $id) { id eventId status } }",
        json!({"id": id}),
        Some(&session.access_token),
    )
    .await;
    let event_id = sent["data"]["sendWebhookTest"]["eventId"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = rx
        .wait_for(1, |r| r.header("weft-event-id") == Some(event_id.as_str()))
        .await;
    assert!(
        webhooks::verify(
            &secret,
            got[0].header("weft-signature"),
            &got[0].body,
            TOLERANCE
        )
        .is_ok()
    );
    let mut log = Value::Null;
    for _ in 0..100 {
        log = gql(
            "query($id: String!) { webhookEndpoints { nodes { id } } \
             webhookDeliveries(endpointId: $id) { nodes { eventId status attemptCount } } }",
            json!({"id": id}),
            Some(&session.access_token),
        )
        .await;
        if log["data"]["webhookDeliveries"]["nodes"][0]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        log["data"]["webhookEndpoints"]["nodes"][0]["id"],
        id.as_str()
    );
    let delivery = &log["data"]["webhookDeliveries"]["nodes"][0];
    assert_eq!(delivery["eventId"], event_id.as_str());
    assert_eq!(
        (
            delivery["status"].as_str(),
            delivery["attemptCount"].as_i64()
        ),
        (Some("succeeded"), Some(1))
    );

    let disabled = gql(
        "mutation($id: String!) { updateWebhookEndpoint(id: $id, input: {enabled: false}) { status disabledReason } }",
        json!({"id": id}),
        Some(&session.access_token),
    )
    .await;
    assert_eq!(
        disabled["data"]["updateWebhookEndpoint"]["status"],
        "disabled"
    );
    let test_refused = gql(
        "mutation($id: String!) { sendWebhookTest(id: $id) { id } }",
        json!({"id": id}),
        Some(&session.access_token),
    )
    .await;
    assert_eq!(
        test_refused["errors"][0]["extensions"]["code"],
        "webhook_disabled"
    );
    let deleted = gql(
        "mutation($id: String!) { deleteWebhookEndpoint(id: $id) }",
        json!({"id": id}),
        Some(&session.access_token),
    )
    .await;
    assert_eq!(deleted["data"]["deleteWebhookEndpoint"], true);
}
