//! Notifications through the SDK, on SQLite and on PostgreSQL with RabbitMQ carrying the
//! events, sent to a real SMTP server these tests start (aiosmtpd, from PyPI): every event
//! makes exactly one message even when delivered twice; an SMTP outage delays messages and
//! loses none; a refused address is a dead letter staff can resend; an erasure leaves no
//! address or body of the customer in the log.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;
use weft_sdk::types::{CreateFulfillmentRequest, SetStockRequest};
use weft_testkit::{Backend, TestApp, in_ci, spawn_app_with};

use crate::purchase::{complete, ready_checkout, shop, variant};
use crate::support::{authed, customer, execute_sql, problem_of};

/// The aiosmtpd pinned for these tests (`scripts/test` installs it).
const AIOSMTPD: &str = "aiosmtpd-1.4.6";

/// The Python that has aiosmtpd: `WEFT_TEST_SMTP_PYTHON`, or the venv `scripts/test`
/// makes. Missing under CI=true is a failure; elsewhere the tests say they were skipped.
pub fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("weft").join(AIOSMTPD).join("bin/python"));
    let found = std::env::var_os("WEFT_TEST_SMTP_PYTHON")
        .map(PathBuf::from)
        .or(venv)
        .filter(|p| p.exists());
    if found.is_none() {
        assert!(
            !in_ci(),
            "aiosmtpd is not installed under CI=true (scripts/test installs it)"
        );
        eprintln!(
            "skipped: the notification tests need aiosmtpd (./scripts/test installs it, or set WEFT_TEST_SMTP_PYTHON)"
        );
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail(Value);

impl Mail {
    pub fn to(&self) -> Vec<String> {
        serde_json::from_value(self.0["rcpt_tos"].clone()).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.0["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_owned())
    }

    fn part(&self, content_type: &str) -> String {
        self.0["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["content_type"] == content_type)
            .and_then(|p| p["content"].as_str())
            .unwrap_or_else(|| panic!("no {content_type} part in {:?}", self.0))
            .to_owned()
    }

    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    pub fn html(&self) -> String {
        self.part("text/html")
    }

    /// The one attachment of `content_type`: its filename and bytes.
    pub fn attachment(&self, content_type: &str) -> (String, Vec<u8>) {
        use base64::Engine as _;
        let part = self.0["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["content_type"] == content_type)
            .unwrap_or_else(|| panic!("no {content_type} attachment in {:?}", self.0));
        (
            part["filename"].as_str().unwrap_or_default().to_owned(),
            base64::engine::general_purpose::STANDARD
                .decode(part["base64"].as_str().unwrap())
                .unwrap(),
        )
    }

    pub fn has_attachment(&self) -> bool {
        self.0["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| !p["filename"].is_null())
    }

    pub fn subject(&self) -> String {
        self.header("subject").unwrap_or_default()
    }
}

/// aiosmtpd on 127.0.0.1:`port`, writing what it accepts to a directory.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<tokio::process::Child>,
    python: PathBuf,
}

impl SmtpSink {
    /// A sink on a port of its own that is not started yet (an outage).
    pub fn stopped(python: PathBuf) -> Self {
        Self {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
            python,
        }
    }

    /// Starts listening; the first `fail_first` messages get `451 try again later`.
    pub async fn start(&mut self, fail_first: u32) {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/fixtures/smtp_sink.py"
        );
        let mut child = tokio::process::Command::new(&self.python)
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .arg(fail_first.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("aiosmtpd did not start within 30 s")
            .unwrap();
        assert_eq!(ready.as_deref(), Some("ready"));
        self.child = Some(child);
    }

    /// Every message received so far, in order.
    pub fn mails(&self) -> Vec<Mail> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| Mail(serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap()))
            .collect()
    }

    /// Waits (up to 60 s) until `n` messages that `keep` selects arrived; returns them.
    pub async fn wait_for(&self, n: usize, keep: impl Fn(&Mail) -> bool) -> Vec<Mail> {
        for _ in 0..600 {
            let got: Vec<Mail> = self.mails().into_iter().filter(|m| keep(m)).collect();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{n} messages did not arrive within 60 s: {:?}",
            self.mails()
        );
    }
}

fn to(address: &'static str) -> impl Fn(&Mail) -> bool {
    move |m| m.to() == [address]
}

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

/// The app sending e-mail to `sink` over plain SMTP, retrying a second apart, with staff
/// to tell, and RabbitMQ carrying events on PostgreSQL.
async fn spawn(backend: Backend, sink: &SmtpSink) -> Option<TestApp> {
    let amqp = crate::support::amqp_for(backend, "notifications");
    let port = sink.port;
    spawn_app_with(backend, move |s| {
        s.amqp_url = amqp;
        let n = &mut s.notifications;
        n.email_transport = weft_config::EmailTransportKind::Smtp;
        n.smtp_host = "127.0.0.1".into();
        n.smtp_port = port;
        n.smtp_security = weft_config::SmtpSecurity::None;
        n.from = "Loom & Co <shop@loom.example>".into();
        n.shop_name = "Loom & Co".into();
        n.storefront_url = "https://loom.example".into();
        n.staff_emails = vec!["ops@loom.example".into()];
        n.first_retry_seconds = 1;
        n.max_retry_interval_seconds = 2;
        n.max_attempts = 30;
        n.timeout_seconds = 5;
    })
    .await
}

macro_rules! notification_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(python) = super::python() {
                        super::$name(python, weft_testkit::Backend::Sqlite).await;
                    }
                }
            )*
        }
        mod postgres_rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(python) = super::python() {
                        super::$name(python, weft_testkit::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}

notification_tests!(
    every_event_makes_exactly_one_message_even_when_delivered_twice,
    an_smtp_outage_delays_messages_and_loses_none,
    a_refused_address_is_a_dead_letter_staff_can_resend,
    an_erased_customer_leaves_no_address_or_body_in_the_log,
    the_links_in_the_e_mails_work_once_and_leave_the_log,
);

/// The log's messages to `recipient`, waiting (up to 60 s) until `n` of them are `status`.
pub async fn logged(
    admin: &weft_sdk::Client,
    recipient: &str,
    n: usize,
    status: &str,
) -> Vec<weft_sdk::types::Notification> {
    for _ in 0..600 {
        let page = admin
            .list_notifications()
            .recipient(recipient)
            .limit(100)
            .send()
            .await
            .unwrap()
            .into_inner();
        if page.data.iter().filter(|m| m.status == status).count() >= n {
            return page.data;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} messages to {recipient} were not {status} within 60 s");
}

async fn every_event_makes_exactly_one_message_even_when_delivered_twice(
    python: PathBuf,
    backend: Backend,
) {
    let mut sink = SmtpSink::stopped(python);
    sink.start(0).await;
    let Some(app) = spawn(backend, &sink).await else {
        return;
    };
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);

    // A customer signs up: welcome.
    let ada = customer(app, "ada-notified@example.com").await;
    let signed_up = sink.wait_for(2, to("ada-notified@example.com")).await;
    let welcome = signed_up
        .iter()
        .find(|m| m.subject().starts_with("Welcome"))
        .unwrap();
    let confirm = signed_up
        .iter()
        .find(|m| m.subject().starts_with("Confirm your e-mail"))
        .unwrap();
    assert!(
        confirm
            .text()
            .contains("https://loom.example/account/verify-email?token="),
        "{}",
        confirm.text()
    );
    assert_eq!(welcome.subject(), "Welcome to Loom & Co, Ada Lovelace");
    assert_eq!(
        welcome.header("from").as_deref(),
        Some("Loom & Co <shop@loom.example>")
    );
    assert!(
        welcome.text().contains("Hello Ada Lovelace"),
        "{}",
        welcome.text()
    );
    assert!(
        welcome.html().contains("Loom &amp; Co"),
        "{}",
        welcome.html()
    );
    let message_id = welcome.header("message-id").unwrap();

    // An order: confirmation; shipped with tracking; delivered. The last units sold
    // make stock low: the staff hear of it.
    let shirt = variant(admin, "NOTE-1", 3).await;
    admin
        .set_inventory()
        .variant_id(&shirt)
        .body(body::<SetStockRequest>(
            json!({"on_hand": 3, "low_stock_threshold": 1}),
        ))
        .send()
        .await
        .unwrap();
    let buyer = authed(app, &ada.access_token);
    let (_, checkout) = ready_checkout(&buyer, &[(&shirt, 2)]).await;
    let order = complete(&buyer, &checkout, "tok_visa", "note-key-1")
        .await
        .unwrap()
        .into_inner()
        .order
        .unwrap();
    admin
        .fulfill_order()
        .id(&order.id)
        .body(body::<CreateFulfillmentRequest>(
            json!({"tracking_number": "1Z999AA10123456784", "carrier": "UPS"}),
        ))
        .send()
        .await
        .unwrap();
    admin.deliver_order().id(&order.id).send().await.unwrap();

    let mails = sink.wait_for(3, to("ada@example.com")).await;
    // Sent side by side: they may arrive in any order.
    let about = |subject: String| {
        mails
            .iter()
            .find(|m| m.subject() == subject)
            .unwrap_or_else(|| panic!("no `{subject}` in {mails:?}"))
    };
    let confirmation = about(format!("Your Loom & Co order {}", order.id));
    let shipped = about(format!("Your order {} is on its way", order.id));
    about(format!("Your order {} was delivered", order.id));
    assert!(
        confirmation.text().contains("Total: 45.00 USD"),
        "{}",
        confirmation.text()
    );
    assert!(
        confirmation
            .text()
            .contains(&format!("https://loom.example/account/orders/{}", order.id))
    );
    assert!(
        shipped.text().contains("1Z999AA10123456784 (UPS)"),
        "{}",
        shipped.text()
    );
    // The confirmation carries the order's invoice; the other news none.
    let (filename, pdf) = confirmation.attachment("application/pdf");
    assert_eq!(filename, format!("invoice-{}.pdf", order.id));
    // The invoice as it stood when the order was confirmed (the one the customer
    // downloads now says `delivered`).
    let contains = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(contains(order.id.as_bytes()) && contains(b"Status: paid"));
    assert!(!shipped.has_attachment());
    let low = sink.wait_for(1, to("ops@loom.example")).await;
    assert!(
        low[0].subject().starts_with("Low stock: "),
        "{}",
        low[0].subject()
    );
    assert!(low[0].text().contains(&shirt));

    // Every event published again (as after a crash): no second message of any.
    let republished = execute_sql(
        app,
        "UPDATE platform_outbox SET published_at = NULL, claimed_by = NULL, claimed_until = NULL",
    )
    .await;
    assert!(republished >= 5, "{republished}");
    crate::after_sale::eventually("the events published again", || async {
        crate::support::stored_strings(
            app,
            "SELECT id AS v FROM platform_outbox WHERE published_at IS NULL",
        )
        .await
        .is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = sink.mails();
    for (recipient, n) in [
        ("ada-notified@example.com", 2),
        ("ada@example.com", 3),
        ("ops@loom.example", 1),
    ] {
        assert_eq!(
            all.iter().filter(|m| m.to() == [recipient]).count(),
            n,
            "{recipient}: {:?}",
            all.iter().map(Mail::subject).collect::<Vec<_>>()
        );
    }

    // The log has each once, sent, with what the server answered.
    let log = logged(admin, "ada@example.com", 3, "sent").await;
    let kinds: Vec<&str> = log.iter().rev().map(|m| m.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["order_confirmation", "order_shipped", "order_delivered"]
    );
    assert!(
        log.iter()
            .all(|m| m.attempt_count == 1 && m.sent_at.is_some())
    );
    assert!(
        log.iter()
            .all(|m| m.customer_id.as_deref() == Some(ada.user.id.as_str()))
    );
    let welcome_logged = logged(admin, "ada-notified@example.com", 2, "sent")
        .await
        .into_iter()
        .find(|m| m.kind == "welcome")
        .unwrap();
    assert_eq!(message_id, format!("<{}@loom.example>", welcome_logged.id));
    let detail = admin
        .get_notification()
        .id(&welcome_logged.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(detail.body_text.unwrap().contains("Hello Ada Lovelace"));
    assert_eq!(detail.locale, "en");
}

async fn an_smtp_outage_delays_messages_and_loses_none(python: PathBuf, backend: Backend) {
    let mut sink = SmtpSink::stopped(python);
    let Some(app) = spawn(backend, &sink).await else {
        return;
    };
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let emails: Vec<String> = (0..5).map(|i| format!("outage-{i}@example.com")).collect();
    for e in &emails {
        customer(app, e).await;
    }
    // Nothing listens: every message waits, saying why.
    for e in &emails {
        let waiting = logged(admin, e, 2, "pending").await;
        for _ in 0..100 {
            let m = &admin
                .list_notifications()
                .recipient(e)
                .send()
                .await
                .unwrap()
                .into_inner()
                .data[0];
            if m.attempt_count >= 1 {
                assert!(m.last_error.is_some(), "{m:?}");
                assert!(m.next_attempt_at.is_some());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(waiting.len(), 2, "a welcome and an e-mail confirmation");
    }
    // The server comes back, busy at first (451 to the first two): all arrive, once each.
    sink.start(2).await;
    for e in &emails {
        let addr: &'static str = Box::leak(e.clone().into_boxed_str());
        // A welcome and an e-mail confirmation each.
        sink.wait_for(2, to(addr)).await;
        let sent = logged(admin, e, 2, "sent").await;
        assert!(sent.iter().any(|m| m.attempt_count >= 2), "{sent:?}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.mails().len(), 2 * emails.len(), "no message twice");
}

async fn a_refused_address_is_a_dead_letter_staff_can_resend(python: PathBuf, backend: Backend) {
    let mut sink = SmtpSink::stopped(python);
    sink.start(0).await;
    let Some(app) = spawn(backend, &sink).await else {
        return;
    };
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let refused = customer(app, "reject-me@example.com").await;
    let failed = logged(admin, "reject-me@example.com", 2, "failed")
        .await
        .into_iter()
        .find(|m| m.kind == "welcome")
        .unwrap();
    let failed = &failed;
    assert_eq!(failed.kind, "welcome");
    assert_eq!(failed.attempt_count, 1, "a 550 is final: no retries");
    assert!(
        failed.last_error.as_deref().unwrap().contains("550"),
        "{failed:?}"
    );

    // Filters find it; the wrong ones are named.
    let by_status = admin
        .list_notifications()
        .status("failed")
        .kind("welcome")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_status.data.len(), 1);
    assert_eq!(by_status.data[0].id, failed.id);
    let bad = problem_of(
        admin
            .list_notifications()
            .status("lost")
            .kind("spam")
            .send()
            .await,
    )
    .await;
    assert_eq!(bad.status, 422);
    let fields: Vec<&str> = bad.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["status", "kind"]);

    // Staff resend it: tried again (and refused again), once.
    let resent = admin
        .resend_notification()
        .id(&failed.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resent.status, "pending");
    let mut again = None;
    for _ in 0..600 {
        let m = admin
            .get_notification()
            .id(&failed.id)
            .send()
            .await
            .unwrap()
            .into_inner();
        if m.status == "failed" {
            again = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = again.expect("the resent message was not tried within 60 s");
    assert_eq!(again.attempt_count, 1);
    assert!(again.updated_at > failed.updated_at);

    // Sent ones are not resent; unknown ids are 404.
    customer(app, "fine@example.com").await;
    let sent = &logged(admin, "fine@example.com", 2, "sent").await[0];
    let p = problem_of(admin.resend_notification().id(&sent.id).send().await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (409, "notification_not_failed")
    );
    let p = problem_of(admin.get_notification().id("ntf_nope").send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "notification_not_found"));

    // The log holds customers' addresses: customers and guests are refused.
    let as_customer = authed(app, &refused.access_token);
    let p = problem_of(as_customer.list_notifications().send().await).await;
    assert_eq!(p.status, 403);
    let p = problem_of(app.client.resend_notification().id(&failed.id).send().await).await;
    assert_eq!(p.status, 401);
}

async fn an_erased_customer_leaves_no_address_or_body_in_the_log(
    python: PathBuf,
    backend: Backend,
) {
    let mut sink = SmtpSink::stopped(python);
    sink.start(0).await;
    let Some(app) = spawn(backend, &sink).await else {
        return;
    };
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let gone = customer(app, "forget-me-too@example.com").await;
    let sent = logged(admin, "forget-me-too@example.com", 2, "sent").await;
    // Their number and device go too.
    let client = authed(app, &gone.access_token);
    client
        .update_notification_preferences()
        .body(body::<weft_sdk::types::PreferencesRequest>(
            json!({"phone": "+33612345678", "marketing_email": true}),
        ))
        .send()
        .await
        .unwrap();
    client
        .add_push_device()
        .body(body::<weft_sdk::types::PushDeviceRequest>(
            json!({"token": "ExponentPushToken[forget-me-device]", "platform": "ios"}),
        ))
        .send()
        .await
        .unwrap();
    authed(app, &gone.access_token)
        .delete_me()
        .send()
        .await
        .unwrap();
    crate::after_sale::eventually("the log forgot the customer", || async {
        admin
            .list_notifications()
            .recipient("forget-me-too@example.com")
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .is_empty()
    })
    .await;
    for m in sent {
        let d = admin
            .get_notification()
            .id(&m.id)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(d.recipient, "erased");
        assert_eq!(d.subject, "");
        assert_eq!(
            (d.body_text, d.body_html, d.customer_id),
            (None, None, None)
        );
        assert_eq!(d.status, "sent", "when and what kind stay");
    }
    let leftovers = crate::support::stored_strings(
        app,
        "SELECT id AS v FROM notification_messages WHERE recipient LIKE '%forget-me-too%' \
         OR body_text LIKE '%forget-me-too%' \
         UNION SELECT customer_id AS v FROM notification_contacts \
         WHERE email = 'forget-me-too@example.com' \
         UNION SELECT customer_id AS v FROM notification_preferences WHERE phone = '+33612345678' \
         UNION SELECT token AS v FROM notification_push_tokens \
         WHERE token = 'ExponentPushToken[forget-me-device]'",
    )
    .await;
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The token in a link of `mail`'s text part (`…?token=<token>`).
fn token_in(mail: &Mail) -> String {
    let text = mail.text();
    let start = text.find("?token=").expect("a link with a token") + "?token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn the_links_in_the_e_mails_work_once_and_leave_the_log(python: PathBuf, backend: Backend) {
    use weft_sdk::types::{
        ForgotPasswordRequest, LoginRequest, ResetPasswordRequest, VerifyEmailRequest,
    };
    let mut sink = SmtpSink::stopped(python);
    sink.start(0).await;
    let Some(app) = spawn(backend, &sink).await else {
        return;
    };
    let shop = shop(app).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let ada = customer(app, "linked@example.com").await;
    let me = authed(app, &ada.access_token);

    // The confirmation link from the e-mail verifies the address, once.
    let confirm = sink
        .wait_for(1, |m| {
            m.to() == ["linked@example.com"] && m.subject().starts_with("Confirm your e-mail")
        })
        .await;
    let token = token_in(&confirm[0]);
    let verify = || {
        app.client
            .verify_email()
            .body(VerifyEmailRequest {
                token: token.clone(),
            })
            .send()
    };
    verify().await.unwrap();
    assert!(
        me.get_me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .email_verified
    );
    assert_eq!(problem_of(verify().await).await.status, 422);

    // The reset link from the e-mail sets a new password, once.
    app.client
        .forgot_password()
        .body(ForgotPasswordRequest {
            email: "linked@example.com".into(),
        })
        .send()
        .await
        .unwrap();
    let reset_mail = sink
        .wait_for(1, |m| {
            m.to() == ["linked@example.com"] && m.subject().starts_with("Reset your")
        })
        .await;
    assert!(
        reset_mail[0]
            .text()
            .contains("https://loom.example/account/reset-password?token=")
    );
    assert!(
        reset_mail[0].text().contains("30 minutes"),
        "{}",
        reset_mail[0].text()
    );
    let token = token_in(&reset_mail[0]);
    let reset = || {
        app.client
            .reset_password()
            .body(ResetPasswordRequest {
                token: token.clone(),
                password: "new-linen-and-wool-2027".into(),
            })
            .send()
    };
    reset().await.unwrap();
    assert_eq!(problem_of(reset().await).await.status, 422);
    app.client
        .login()
        .body(LoginRequest {
            email: "linked@example.com".into(),
            password: "new-linen-and-wool-2027".into(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap();

    // The log keeps that the links were sent, never the links.
    let log = logged(admin, "linked@example.com", 3, "sent").await;
    for m in log.iter().filter(|m| m.kind != "welcome") {
        let d = admin
            .get_notification()
            .id(&m.id)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!((d.body_text, d.body_html), (None, None), "{}", m.kind);
    }
    let copies = crate::support::stored_strings(
        app,
        &format!("SELECT id AS v FROM notification_messages WHERE body_text LIKE '%{token}%'"),
    )
    .await;
    assert!(copies.is_empty());
}
