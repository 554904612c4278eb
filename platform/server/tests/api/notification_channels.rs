//! What customers choose to receive, and the channels beyond e-mail, through the SDK on
//! SQLite and on PostgreSQL with RabbitMQ: order updates go by SMS (Twilio's Messages API)
//! and push (Expo's push API) to those who asked, through stand-ins that answer with the
//! providers' documented payloads — success, rate-limited, an invalid number, an
//! unregistered device; a quiet cart reminds only customers who allowed marketing, by an
//! e-mail with RFC 8058 one-click unsubscribe headers whose link works.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use poem::FromRequest as _;
use poem::listener::{Acceptor as _, Listener as _};
use serde_json::{Value, json};
use weft_sdk::types::{AddItemRequest, CreateCartRequest, PreferencesRequest, PushDeviceRequest};
use weft_testkit::{Backend, TestApp, spawn_app_with};

use crate::notifications::{SmtpSink, logged, python};
use crate::purchase::{Shop, complete, ready_checkout, shop, variant};
use crate::support::{authed, customer, problem_of, stored_strings};

const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "twilio-test-auth-token";
/// Twilio's documented magic numbers for test credentials: valid, and "not a valid
/// phone number" (error 21211).
const VALID_NUMBER: &str = "+15005550006";
const INVALID_NUMBER: &str = "+15005550001";
const GONE_DEVICE: &str = "ExponentPushToken[unregistered-device]";

/// One request a stand-in received.
#[derive(Debug, Clone)]
struct Request {
    authorization: Option<String>,
    form: HashMap<String, String>,
    json: Value,
}

/// Twilio's and Expo's APIs on 127.0.0.1, answering as their documentation shows. The
/// first `rate_limited` requests to each get its 429.
struct Providers {
    url: String,
    sms: Arc<Mutex<Vec<Request>>>,
    push: Arc<Mutex<Vec<Request>>>,
}

fn twilio_error(status: u16, code: u32, message: &str) -> poem::Response {
    poem::Response::builder()
        .status(poem::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(
            json!({
                "code": code,
                "message": message,
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": status,
            })
            .to_string(),
        )
}

impl Providers {
    async fn start(rate_limited: u32) -> Self {
        let sms: Arc<Mutex<Vec<Request>>> = Arc::default();
        let push: Arc<Mutex<Vec<Request>>> = Arc::default();
        let limits = Arc::new(Mutex::new(VecDeque::from([rate_limited, rate_limited])));
        let twilio = {
            let (sms, limits) = (Arc::clone(&sms), Arc::clone(&limits));
            poem::endpoint::make(move |req: poem::Request| {
                let (sms, limits) = (Arc::clone(&sms), Arc::clone(&limits));
                async move {
                    let (req, mut body) = req.split();
                    let authorization = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let poem::web::Form(form) =
                        poem::web::Form::<HashMap<String, String>>::from_request(&req, &mut body)
                            .await
                            .unwrap();
                    sms.lock().unwrap().push(Request {
                        authorization: authorization.clone(),
                        form: form.clone(),
                        json: Value::Null,
                    });
                    let expected = format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
                    );
                    if authorization.as_deref() != Some(expected.as_str()) {
                        return twilio_error(401, 20003, "Authenticate");
                    }
                    {
                        let mut limits = limits.lock().unwrap();
                        if limits[0] > 0 {
                            limits[0] -= 1;
                            return twilio_error(429, 20429, "Too Many Requests");
                        }
                    }
                    let to = form.get("To").cloned().unwrap_or_default();
                    if to == INVALID_NUMBER {
                        return twilio_error(
                            400,
                            21211,
                            &format!("The 'To' number {to} is not a valid phone number."),
                        );
                    }
                    let n = sms.lock().unwrap().len();
                    let sid = format!("SM{n:032x}");
                    poem::Response::builder()
                        .status(poem::http::StatusCode::CREATED)
                        .content_type("application/json")
                        .body(
                            json!({
                                "account_sid": TWILIO_SID,
                                "api_version": "2010-04-01",
                                "body": form.get("Body"),
                                "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
                                "date_sent": null,
                                "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
                                "direction": "outbound-api",
                                "error_code": null,
                                "error_message": null,
                                "from": form.get("From"),
                                "messaging_service_sid": null,
                                "num_media": "0",
                                "num_segments": "1",
                                "price": null,
                                "price_unit": "USD",
                                "sid": sid,
                                "status": "queued",
                                "subresource_uris": {
                                    "media": format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}/Media.json")
                                },
                                "to": to,
                                "uri": format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages/{sid}.json"),
                            })
                            .to_string(),
                        )
                }
            })
        };
        let expo = {
            let (push, limits) = (Arc::clone(&push), Arc::clone(&limits));
            poem::endpoint::make(move |mut req: poem::Request| {
                let (push, limits) = (Arc::clone(&push), Arc::clone(&limits));
                async move {
                    let authorization = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let body = req.take_body().into_vec().await.unwrap_or_default();
                    let json: Value = serde_json::from_slice(&body).unwrap();
                    push.lock().unwrap().push(Request {
                        authorization,
                        form: HashMap::new(),
                        json: json.clone(),
                    });
                    {
                        let mut limits = limits.lock().unwrap();
                        if limits[1] > 0 {
                            limits[1] -= 1;
                            return poem::Response::builder()
                                .status(poem::http::StatusCode::TOO_MANY_REQUESTS)
                                .content_type("application/json")
                                .body(json!({"errors": [{
                                    "code": "TOO_MANY_REQUESTS",
                                    "message": "The request was rate limited. Please wait and retry.",
                                }]}).to_string());
                        }
                    }
                    let tickets: Vec<Value> = json
                        .as_array()
                        .unwrap()
                        .iter()
                        .enumerate()
                        .map(|(i, m)| {
                            let to = m["to"].as_str().unwrap_or_default();
                            if to == GONE_DEVICE {
                                json!({
                                    "status": "error",
                                    "message": format!("\"{to}\" is not a registered push notification recipient"),
                                    "details": {"error": "DeviceNotRegistered"},
                                })
                            } else {
                                json!({"status": "ok", "id": format!("XXXXXXXX-XXXX-XXXX-XXXX-{i:012}")})
                            }
                        })
                        .collect();
                    poem::Response::builder()
                        .content_type("application/json")
                        .body(json!({"data": tickets}).to_string())
                }
            })
        };
        let route = poem::Route::new()
            .at(
                format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"),
                twilio,
            )
            .at("/--/api/v2/push/send", expo);
        let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(route));
        Self {
            url: format!("http://127.0.0.1:{port}"),
            sms,
            push,
        }
    }

    fn sms_to(&self, number: &str) -> Vec<Request> {
        self.sms
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.form.get("To").map(String::as_str) == Some(number))
            .cloned()
            .collect()
    }

    fn pushes_to(&self, token: &str) -> Vec<Request> {
        self.push
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.json[0]["to"] == token)
            .cloned()
            .collect()
    }
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// The app with e-mail to `sink`, SMS and push to `providers`, carts abandoned after 2
/// quiet seconds, and RabbitMQ carrying events on PostgreSQL.
async fn spawn(backend: Backend, sink: &SmtpSink, providers: &Providers) -> Option<TestApp> {
    let amqp = crate::support::amqp_for(backend, "notification channels");
    let (port, api) = (sink.port, providers.url.clone());
    spawn_app_with(backend, move |s| {
        s.amqp_url = amqp;
        s.cart.abandoned_after_seconds = 2;
        let n = &mut s.notifications;
        n.email_transport = weft_config::EmailTransportKind::Smtp;
        n.smtp_host = "127.0.0.1".into();
        n.smtp_port = port;
        n.smtp_security = weft_config::SmtpSecurity::None;
        n.from = "Loom & Co <shop@loom.example>".into();
        n.shop_name = "Loom & Co".into();
        n.storefront_url = "https://loom.example".into();
        n.first_retry_seconds = 1;
        n.max_retry_interval_seconds = 2;
        n.max_attempts = 30;
        n.timeout_seconds = 5;
        n.twilio_account_sid = Some(TWILIO_SID.into());
        n.twilio_auth_token = Some(weft_config::Secret::new(TWILIO_TOKEN));
        n.twilio_from = Some("+15005550006".into());
        n.twilio_api_base.clone_from(&api);
        n.expo_push = true;
        n.expo_api_base = api;
    })
    .await
}

notification_tests!(
    preferences_are_each_customers_own_and_checked,
    order_updates_go_by_sms_and_push_to_those_who_asked,
    a_quiet_cart_reminds_only_those_who_opted_in_and_unsubscribes_in_one_click,
);

/// A shop e-mailing a running SMTP sink, with stand-in providers rate-limiting their
/// first `rate_limited` requests; `None` when the backend is not available here.
async fn started(
    python: PathBuf,
    backend: Backend,
    rate_limited: u32,
) -> Option<(SmtpSink, Providers, Shop)> {
    let mut sink = SmtpSink::stopped(python);
    sink.start(0).await;
    let providers = Providers::start(rate_limited).await;
    let app = spawn(backend, &sink, &providers).await?;
    Some((sink, providers, shop(app).await))
}

async fn preferences_are_each_customers_own_and_checked(python: PathBuf, backend: Backend) {
    let sink = SmtpSink::stopped(python);
    let providers = Providers::start(0).await;
    let Some(app) = spawn(backend, &sink, &providers).await else {
        return;
    };
    let ada_token = customer(&app, "ada-prefs@example.com").await.access_token;
    let ada = authed(&app, &ada_token);
    let bob = authed(
        &app,
        &customer(&app, "bob-prefs@example.com").await.access_token,
    );

    // Nothing chosen yet: transactional only, push on for devices they register.
    let prefs = ada
        .get_notification_preferences()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!prefs.marketing_email && !prefs.sms_order_updates && prefs.push_order_updates);
    assert_eq!((prefs.phone, prefs.push_devices.len()), (None, 0));

    // Refused, each naming its field; nothing is saved.
    for (patch, field) in [
        (json!({"phone": "0612345678"}), "phone"),
        (json!({"phone": "+1 555 0100"}), "phone"),
        (json!({"sms_order_updates": true}), "sms_order_updates"),
    ] {
        let p = problem_of(
            ada.update_notification_preferences()
                .body(body::<PreferencesRequest>(patch.clone()))
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (p.status, p.code.as_str()),
            (422, "validation_failed"),
            "{patch}"
        );
        assert!(p.errors.iter().any(|e| e.field == field), "{patch}: {p:?}");
    }
    for (wrong, status) in [
        (r#"{"marketing_email": true, "newsletter": true}"#, 422),
        (r#"{"marketing_email": "yes"}"#, 422),
        (r#"{"marketing_email": true"#, 400),
    ] {
        let answer = app
            .http
            .patch(format!("{}/v1/me/notification-preferences", app.address))
            .bearer_auth(&ada_token)
            .header("content-type", "application/json")
            .body(wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{wrong}");
    }
    let prefs = ada
        .get_notification_preferences()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!prefs.marketing_email && prefs.phone.is_none());

    // A guest is refused before the body is read.
    let guest = app
        .http
        .patch(format!("{}/v1/me/notification-preferences", app.address))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(guest.status(), 401);

    // Set, then partly changed: what is omitted stays; null clears the number (SMS first).
    let prefs = ada
        .update_notification_preferences()
        .body(body::<PreferencesRequest>(json!({
            "marketing_email": true, "phone": VALID_NUMBER, "sms_order_updates": true
        })))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(prefs.marketing_email && prefs.sms_order_updates);
    assert_eq!(prefs.phone.as_deref(), Some(VALID_NUMBER));
    // (`null` by raw HTTP: the SDK leaves a null field out, which means "unchanged".)
    let patch = |json: &'static str| {
        app.http
            .patch(format!("{}/v1/me/notification-preferences", app.address))
            .bearer_auth(&ada_token)
            .header("content-type", "application/json")
            .body(json)
            .send()
    };
    let refused = patch(r#"{"phone": null}"#).await.unwrap();
    assert_eq!(refused.status(), 422, "SMS is still on");
    let prefs: Value = patch(r#"{"phone": null, "sms_order_updates": false}"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let prefs: weft_sdk::types::NotificationPreferences = body(prefs);
    assert!(prefs.marketing_email && prefs.phone.is_none() && !prefs.sms_order_updates);

    // Devices: a well-formed token and platform only; each customer sees and removes
    // only their own; a device that signs in as someone else moves to them.
    let p = problem_of(
        ada.add_push_device()
            .body(body::<PushDeviceRequest>(
                json!({"token": "not-a-token", "platform": "windows"}),
            ))
            .send()
            .await,
    )
    .await;
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["token", "platform"]);
    let phone = "ExponentPushToken[ada-phone]";
    let device = ada
        .add_push_device()
        .body(body::<PushDeviceRequest>(
            json!({"token": phone, "platform": "ios"}),
        ))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (device.token.as_str(), device.platform.as_str()),
        (phone, "ios")
    );
    assert!(
        bob.get_notification_preferences()
            .send()
            .await
            .unwrap()
            .into_inner()
            .push_devices
            .is_empty()
    );
    let p = problem_of(bob.remove_push_device().token(phone).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "push_token_not_found"));
    let ada_devices = ada
        .get_notification_preferences()
        .send()
        .await
        .unwrap()
        .into_inner()
        .push_devices;
    assert_eq!(ada_devices.len(), 1);
    bob.add_push_device()
        .body(body::<PushDeviceRequest>(
            json!({"token": phone, "platform": "ios"}),
        ))
        .send()
        .await
        .unwrap();
    assert!(
        ada.get_notification_preferences()
            .send()
            .await
            .unwrap()
            .into_inner()
            .push_devices
            .is_empty()
    );
    bob.remove_push_device().token(phone).send().await.unwrap();
    assert!(
        bob.get_notification_preferences()
            .send()
            .await
            .unwrap()
            .into_inner()
            .push_devices
            .is_empty()
    );

    // A made-up unsubscribe token is refused; nothing changes.
    let p = problem_of(
        app.client
            .unsubscribe_marketing()
            .token("v1:bm9wZQ")
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (422, "invalid_unsubscribe_token")
    );
    assert!(
        ada.get_notification_preferences()
            .send()
            .await
            .unwrap()
            .into_inner()
            .marketing_email
    );
}

async fn order_updates_go_by_sms_and_push_to_those_who_asked(python: PathBuf, backend: Backend) {
    // Both providers rate-limit the first request: it is tried again and goes once.
    let Some((sink, providers, shop)) = started(python, backend, 1).await else {
        return;
    };
    let (app, admin) = (&shop.app, &shop.admin);
    let shirt = variant(admin, "CHAN-1", 10).await;

    // Ada wants SMS and push (two devices, one of them uninstalled since); Cy gave a
    // number Twilio refuses and no push.
    let ada = authed(
        app,
        &customer(app, "ada-chan@example.com").await.access_token,
    );
    ada.update_notification_preferences()
        .body(body::<PreferencesRequest>(
            json!({"phone": VALID_NUMBER, "sms_order_updates": true}),
        ))
        .send()
        .await
        .unwrap();
    for token in ["ExponentPushToken[ada-phone]", GONE_DEVICE] {
        ada.add_push_device()
            .body(body::<PushDeviceRequest>(
                json!({"token": token, "platform": "android"}),
            ))
            .send()
            .await
            .unwrap();
    }
    let cy = authed(
        app,
        &customer(app, "cy-chan@example.com").await.access_token,
    );
    cy.update_notification_preferences()
        .body(body::<PreferencesRequest>(
            json!({"phone": INVALID_NUMBER, "sms_order_updates": true, "push_order_updates": false}),
        ))
        .send()
        .await
        .unwrap();
    // Bo chose nothing, but his app registered his phone: push is on by default.
    let bo = authed(
        app,
        &customer(app, "bo-chan@example.com").await.access_token,
    );
    bo.add_push_device()
        .body(body::<PushDeviceRequest>(
            json!({"token": "ExponentPushToken[bo-phone]", "platform": "ios"}),
        ))
        .send()
        .await
        .unwrap();

    let mut orders = HashMap::new();
    for (who, client) in [("ada", &ada), ("cy", &cy), ("bo", &bo)] {
        let (_, checkout) = ready_checkout(client, &[(&shirt, 1)]).await;
        let order = complete(client, &checkout, "tok_visa", &format!("chan-{who}"))
            .await
            .unwrap()
            .into_inner()
            .order
            .unwrap();
        orders.insert(who, order.id);
    }

    // Ada: the confirmation by e-mail, SMS and push.
    let sms = logged(admin, VALID_NUMBER, 1, "sent").await;
    let sms = sms.iter().find(|m| m.kind == "order_confirmation").unwrap();
    assert_eq!(sms.channel, "sms");
    assert!(sms.attempt_count >= 2, "the 429 was retried: {sms:?}");
    assert!(
        sms.provider_id.as_deref().unwrap().starts_with("SM"),
        "{sms:?}"
    );
    let got = providers.sms_to(VALID_NUMBER);
    let text = &got.last().unwrap().form["Body"];
    assert!(
        text.contains(&orders["ada"]) && text.starts_with("Loom & Co: thank you!"),
        "{text}"
    );
    assert_eq!(got.last().unwrap().form["From"], "+15005550006");
    assert!(
        got.last()
            .unwrap()
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    let push = logged(admin, "ExponentPushToken[ada-phone]", 1, "sent").await;
    assert_eq!(
        (push[0].channel.as_str(), push[0].kind.as_str()),
        ("push", "order_confirmation")
    );
    let sent = providers.pushes_to("ExponentPushToken[ada-phone]");
    let last = &sent.last().unwrap().json[0];
    assert_eq!(
        last["title"],
        format!("Your Loom & Co order {}", orders["ada"])
    );
    assert!(
        last["body"].as_str().unwrap().contains(&orders["ada"]),
        "{last}"
    );
    assert_eq!(last["data"]["kind"], "order_confirmation");
    assert!(sent.last().unwrap().authorization.is_none());

    // The uninstalled device: a dead letter, and Ada's devices forget it.
    let gone = logged(admin, GONE_DEVICE, 1, "failed").await;
    assert!(
        gone[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("DeviceNotRegistered"),
        "{gone:?}"
    );
    let devices = ada
        .get_notification_preferences()
        .send()
        .await
        .unwrap()
        .into_inner()
        .push_devices;
    let tokens: Vec<&str> = devices.iter().map(|d| d.token.as_str()).collect();
    assert_eq!(tokens, ["ExponentPushToken[ada-phone]"]);

    // Cy's number: refused for good after one try, Twilio's code in the log.
    let refused = logged(admin, INVALID_NUMBER, 1, "failed").await;
    assert_eq!(refused[0].attempt_count, 1, "{refused:?}");
    assert!(
        refused[0].last_error.as_deref().unwrap().contains("21211"),
        "{refused:?}"
    );

    let bo_push = logged(admin, "ExponentPushToken[bo-phone]", 1, "sent").await;
    assert_eq!(bo_push[0].kind, "order_confirmation");

    // Every order's e-mail (the checkouts' address); Bo no SMS; each message once.
    for order in orders.values() {
        sink.wait_for(1, |m| {
            m.subject() == format!("Your Loom & Co order {order}")
        })
        .await;
    }
    let mut channels = stored_strings(
        app,
        "SELECT channel || ':' || recipient AS v FROM notification_messages \
         WHERE kind = 'order_confirmation' AND customer_id IS NOT NULL",
    )
    .await;
    channels.sort();
    assert_eq!(
        channels,
        [
            "email:ada@example.com",
            "email:ada@example.com",
            "email:ada@example.com",
            "push:ExponentPushToken[ada-phone]",
            "push:ExponentPushToken[bo-phone]",
            &format!("push:{GONE_DEVICE}"),
            &format!("sms:{INVALID_NUMBER}"),
            &format!("sms:{VALID_NUMBER}"),
        ]
    );
    assert_eq!(
        providers.sms_to(VALID_NUMBER).len(),
        2,
        "one 429, one accepted"
    );
}

async fn a_quiet_cart_reminds_only_those_who_opted_in_and_unsubscribes_in_one_click(
    python: PathBuf,
    backend: Backend,
) {
    let Some((sink, _providers, shop)) = started(python, backend, 0).await else {
        return;
    };
    let (app, admin) = (&shop.app, &shop.admin);
    let shirt = variant(admin, "QUIET-1", 10).await;

    let ada = authed(
        app,
        &customer(app, "ada-quiet@example.com").await.access_token,
    );
    ada.update_notification_preferences()
        .body(body::<PreferencesRequest>(json!({"marketing_email": true})))
        .send()
        .await
        .unwrap();
    let bob = authed(
        app,
        &customer(app, "bob-quiet@example.com").await.access_token,
    );
    let mut carts = HashMap::new();
    for (who, client) in [("ada", &ada), ("bob", &bob)] {
        let cart = client
            .create_cart()
            .body(body::<CreateCartRequest>(json!({})))
            .send()
            .await
            .unwrap()
            .into_inner()
            .id;
        client
            .add_cart_item()
            .id(&cart)
            .body(body::<AddItemRequest>(
                json!({"variant_id": shirt, "quantity": 2}),
            ))
            .send()
            .await
            .unwrap();
        carts.insert(who, cart);
    }

    // Two quiet seconds later: a reminder to Ada, who allowed marketing, with the
    // one-click headers; none to Bob.
    let reminders = sink
        .wait_for(1, |m| {
            m.to() == ["ada-quiet@example.com"] && m.subject().contains("cart")
        })
        .await;
    let mail = &reminders[0];
    assert_eq!(mail.subject(), "You left something in your cart");
    assert!(mail.text().contains("You left 2 items"), "{}", mail.text());
    assert_eq!(
        mail.header("list-unsubscribe-post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let header = mail.header("list-unsubscribe").unwrap();
    let one_click = header
        .strip_prefix('<')
        .and_then(|h| h.strip_suffix('>'))
        .unwrap_or_else(|| panic!("{header}"));
    assert!(
        one_click.contains("/v1/notifications/unsubscribe?token="),
        "{one_click}"
    );
    assert!(
        mail.text()
            .contains("https://loom.example/account/unsubscribe?token="),
        "{}",
        mail.text()
    );
    // Bob's cart is reported too (once, however many sweeps pass); he gets nothing.
    let mut expected = vec![carts["ada"].clone(), carts["bob"].clone()];
    expected.sort();
    let mut events = Vec::new();
    for _ in 0..100 {
        events = stored_strings(
            app,
            "SELECT aggregate_id AS v FROM platform_outbox WHERE event_type = 'cart.abandoned'",
        )
        .await;
        events.sort();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events, expected, "one report per quiet cart");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bob_log = admin
        .list_notifications()
        .recipient("bob-quiet@example.com")
        .kind("cart_reminder")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(bob_log.data.is_empty(), "{:?}", bob_log.data);

    // A mail client's one-click: POST `List-Unsubscribe=One-Click` to the header's URL
    // (on this app's port), no sign-in. Twice is fine.
    let path = &one_click[one_click.find("/v1/").unwrap()..];
    for _ in 0..2 {
        let answer = app
            .http
            .post(format!("{}{path}", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 204);
    }
    let prefs = ada
        .get_notification_preferences()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!prefs.marketing_email);

    // Ada's cart changes and goes quiet again: reported again, but no e-mail now.
    ada.add_cart_item()
        .id(&carts["ada"])
        .body(body::<AddItemRequest>(
            json!({"variant_id": shirt, "quantity": 1}),
        ))
        .send()
        .await
        .unwrap();
    for _ in 0..100 {
        let n = stored_strings(
            app,
            "SELECT id AS v FROM platform_outbox WHERE event_type = 'cart.abandoned'",
        )
        .await
        .len();
        if n == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ada_log = admin
        .list_notifications()
        .recipient("ada-quiet@example.com")
        .kind("cart_reminder")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ada_log.data.len(), 1, "{:?}", ada_log.data);
    assert_eq!(
        stored_strings(
            app,
            "SELECT id AS v FROM platform_outbox WHERE event_type = 'cart.abandoned'"
        )
        .await
        .len(),
        3,
        "the second quiet spell was reported"
    );
    assert_eq!(
        sink.mails()
            .iter()
            .filter(|m| m.subject().contains("cart"))
            .count(),
        1
    );
}
