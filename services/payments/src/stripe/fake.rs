//! A local stand-in for the part of Stripe's API the `stripe` gateway calls, for tests
//! (Stripe itself cannot be reached from them). It answers with Stripe's own published
//! fixture objects (`tests/fixtures/stripe.json`, from stripe/openapi's
//! `fixtures3.json`), adjusted as Stripe would: ids, amounts, statuses, capture state.
//! It keeps Stripe's rules that the contract relies on:
//!
//! - every POST must carry an `Idempotency-Key` (refused with 400 otherwise: the adapter
//!   must always send one); the same key with the same parameters replays the first
//!   answer, with other parameters it is a 400 `idempotency_error`;
//! - test payment methods as Stripe's: `pm_card_visa` is held,
//!   `pm_card_chargeDeclined` (`card_declined`/`generic_decline`) and
//!   `pm_card_visa_chargeDeclinedInsufficientFunds` (`insufficient_funds`) are declined
//!   with Stripe's documented 402 body, `pm_card_threeDSecure2Required` requires action;
//! - its customer completes 3-D Secure at once, so the PaymentIntent waits in
//!   `requires_confirmation` for the server's confirm (manual confirmation);
//! - captures at most the hold, once; cancels what is not captured; refunds at most
//!   what is left; `payment_intent_unexpected_state` otherwise;
//! - search by `metadata['weft_key']:'…'`.
//!
//! Requests are answered one at a time, as Stripe serializes requests on one object.
// A test server: it panics on what it was not built for, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::collections::HashMap;
use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, Endpoint, Request, Response};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Stripe's fixture objects, as published (see the file's `_source`).
pub const FIXTURES: &str = include_str!("../../tests/fixtures/stripe.json");

/// The secret key the fake accepts.
pub const SECRET_KEY: &str = "sk_test_weft_fake";

/// A running fake; stops when dropped.
#[derive(Debug)]
pub struct FakeStripe {
    pub url: String,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Debug)]
struct Intent {
    id: String,
    amount: i64,
    currency: String,
    status: String,
    captured: i64,
    refunded: i64,
    token: String,
    metadata: HashMap<String, String>,
    decline: Option<Value>,
    next_action: Option<Value>,
    created: i64,
}

#[derive(Debug)]
struct State {
    fixtures: Value,
    intents: Vec<Intent>,
    /// Idempotency-Key → (method + path + body, status, answer).
    keys: HashMap<String, (String, u16, String)>,
    /// Every refund made, as rendered.
    refunds: Vec<Value>,
    posts_without_key: usize,
    next: u64,
}

impl FakeStripe {
    /// Starts the fake on 127.0.0.1 with a free port.
    pub async fn start() -> Self {
        let fixtures: Value = serde_json::from_str(FIXTURES).expect("the fixtures are JSON");
        let state = Arc::new(Mutex::new(State {
            fixtures,
            intents: Vec::new(),
            keys: HashMap::new(),
            refunds: Vec::new(),
            posts_without_key: 0,
            next: 0,
        }));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind");
        let port = acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("tcp")
            .port();
        let endpoint = Fake {
            state: Arc::clone(&state),
        };
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor)
                .run(endpoint)
                .await;
        });
        Self {
            url: format!("http://127.0.0.1:{port}"),
            state,
            server,
        }
    }

    /// POSTs that came without an `Idempotency-Key` (the adapter must send none such).
    pub async fn posts_without_key(&self) -> usize {
        self.state.lock().await.posts_without_key
    }

    /// A refund of `amount` made in Stripe's dashboard (no `metadata.weft_key`), as a
    /// shop's staff might: its id.
    pub async fn dashboard_refund(&self, pi: &str, amount: i64) -> String {
        let (status, refund) = self.state.lock().await.refund(&HashMap::from([
            ("payment_intent".to_owned(), pi.to_owned()),
            ("amount".to_owned(), amount.to_string()),
        ]));
        assert_eq!(status, 200, "{refund}");
        refund["id"].as_str().unwrap().to_owned()
    }

    /// A charge of the PaymentIntent `pi` as Stripe's fixture shapes it, with `refunds`
    /// listed (`(id, amount, weft_key)`): the object of a `charge.refunded` event.
    pub fn charge_object(pi: &str, amount: i64, refunds: &[(&str, i64, Option<&str>)]) -> Value {
        let fixtures: Value = serde_json::from_str(FIXTURES).expect("JSON");
        let mut charge = fixtures["charge"].clone();
        let refunded: i64 = refunds.iter().map(|r| r.1).sum();
        charge["id"] = json!(format!("ch_{}", pi.trim_start_matches("pi_")));
        charge["payment_intent"] = json!(pi);
        charge["amount"] = json!(amount);
        charge["amount_captured"] = json!(amount);
        charge["amount_refunded"] = json!(refunded);
        charge["captured"] = json!(true);
        charge["refunded"] = json!(refunded >= amount);
        let mut listed = Vec::new();
        for (id, amount, key) in refunds {
            let mut r = fixtures["refund"].clone();
            r["id"] = json!(id);
            r["amount"] = json!(amount);
            r["payment_intent"] = json!(pi);
            r["charge"] = charge["id"].clone();
            r["metadata"] = key.map_or_else(|| json!({}), |k| json!({ "weft_key": k }));
            listed.push(r);
        }
        charge["refunds"]["data"] = json!(listed);
        charge
    }

    /// The PaymentIntent `pi` of `amount` as Stripe's fixture shapes it, in `status`,
    /// holding `capturable`: the object of a `payment_intent.*` event.
    pub fn payment_intent_object(pi: &str, amount: i64, status: &str, capturable: i64) -> Value {
        let fixtures: Value = serde_json::from_str(FIXTURES).expect("JSON");
        let mut object = fixtures["payment_intent"].clone();
        object["id"] = json!(pi);
        object["amount"] = json!(amount);
        object["amount_capturable"] = json!(capturable);
        object["status"] = json!(status);
        object["capture_method"] = json!("manual");
        object["last_payment_error"] = Value::Null;
        object["next_action"] = Value::Null;
        object
    }

    /// An event of `kind` about `object`, shaped as Stripe's fixture event.
    pub fn event(id: &str, kind: &str, object: Value) -> Value {
        let fixtures: Value = serde_json::from_str(FIXTURES).expect("JSON");
        let mut event = fixtures["event"].clone();
        event["id"] = json!(id);
        event["type"] = json!(kind);
        event["data"]["object"] = object;
        event
    }
}

struct Fake {
    state: Arc<Mutex<State>>,
}

impl Endpoint for Fake {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let body = req.take_body().into_string().await.unwrap_or_default();
        let authorized = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {SECRET_KEY}"));
        if !authorized {
            return Ok(reply(
                401,
                &error_body(
                    "invalid_request_error",
                    None,
                    "Invalid API Key provided.",
                    None,
                ),
            ));
        }
        let key = req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or_default().to_owned();
        let method = req.method().clone();
        let mut state = self.state.lock().await;
        if method == Method::POST {
            let Some(key) = key else {
                state.posts_without_key += 1;
                return Ok(reply(
                    400,
                    &error_body(
                        "invalid_request_error",
                        None,
                        "fake Stripe: every POST must carry an Idempotency-Key",
                        None,
                    ),
                ));
            };
            // Stripe compares the parameters, not their order (async-stripe sends
            // metadata in a map's order).
            let mut params: Vec<_> = form(&body).into_iter().collect();
            params.sort();
            let fingerprint = format!("{method} {path} {params:?}");
            if let Some((seen, status, answer)) = state.keys.get(&key) {
                return Ok(if *seen == fingerprint {
                    let mut r = reply(*status, &serde_json::from_str(answer).unwrap());
                    r.headers_mut()
                        .insert("idempotent-replayed", "true".parse().unwrap());
                    r
                } else {
                    reply(
                        400,
                        &error_body(
                            "idempotency_error",
                            None,
                            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                            None,
                        ),
                    )
                });
            }
            let (status, answer) = state.post(&path, &form(&body));
            if status < 500 && status != 409 {
                state
                    .keys
                    .insert(key, (fingerprint, status, answer.to_string()));
            }
            return Ok(reply(status, &answer));
        }
        let (status, answer) = state.get(&path, &form(&query));
        Ok(reply(status, &answer))
    }
}

fn reply(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(Body::from_string(body.to_string()))
}

/// Stripe's error body (docs.stripe.com/api/errors).
fn error_body(kind: &str, code: Option<&str>, message: &str, extra: Option<Value>) -> Value {
    let mut error = json!({ "type": kind, "message": message });
    if let Some(code) = code {
        error["code"] = json!(code);
        error["doc_url"] = json!(format!("https://stripe.com/docs/error-codes/{code}"));
    }
    if let Some(Value::Object(extra)) = extra {
        for (k, v) in extra {
            error[k] = v;
        }
    }
    json!({ "error": error })
}

fn unexpected_state(status: &str) -> (u16, Value) {
    (
        400,
        error_body(
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            &format!("This PaymentIntent's status is {status}, which does not allow it."),
            None,
        ),
    )
}

/// `application/x-www-form-urlencoded` pairs, decoded.
fn form(body: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}_fake{:08}{}", self.next, "xYz")
    }

    fn intent(&self, id: &str) -> Option<usize> {
        self.intents.iter().position(|i| i.id == id)
    }

    /// The PaymentIntent as Stripe renders it: the fixture, adjusted.
    fn render(&self, i: &Intent) -> Value {
        let mut pi = self.fixtures["payment_intent"].clone();
        let capturable = if i.status == "requires_capture" {
            i.amount
        } else {
            0
        };
        pi["id"] = json!(i.id);
        pi["amount"] = json!(i.amount);
        pi["amount_capturable"] = json!(capturable);
        pi["amount_received"] = json!(i.captured);
        pi["currency"] = json!(i.currency);
        pi["status"] = json!(i.status);
        pi["capture_method"] = json!("manual");
        pi["confirmation_method"] = json!("manual");
        pi["client_secret"] = json!(format!("{}_secret_fake", i.id));
        pi["created"] = json!(i.created);
        pi["metadata"] = json!(i.metadata);
        pi["payment_method"] = json!(i.token);
        pi["automatic_payment_methods"] = Value::Null;
        pi["processing"] = Value::Null;
        pi["transfer_data"] = Value::Null;
        pi["canceled_at"] = if i.status == "canceled" {
            json!(i.created)
        } else {
            Value::Null
        };
        pi["latest_charge"] = if i.status == "requires_capture" || i.status == "succeeded" {
            json!(format!("ch_{}", i.id.trim_start_matches("pi_")))
        } else {
            Value::Null
        };
        pi["next_action"] = if i.status == "requires_action" {
            i.next_action.clone().unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        pi["last_payment_error"] = i.decline.clone().unwrap_or(Value::Null);
        pi
    }

    fn get(&self, path: &str, query: &HashMap<String, String>) -> (u16, Value) {
        if path == "/v1/payment_intents/search" {
            let q = query.get("query").cloned().unwrap_or_default();
            let Some(key) = q
                .strip_prefix("metadata['weft_key']:'")
                .and_then(|rest| rest.strip_suffix('\''))
            else {
                return (
                    400,
                    error_body("invalid_request_error", None, "unsupported query", None),
                );
            };
            let key = key.replace("\\'", "'").replace("\\\\", "\\");
            let data: Vec<Value> = self
                .intents
                .iter()
                .filter(|i| i.metadata.get("weft_key") == Some(&key))
                .map(|i| self.render(i))
                .collect();
            return (
                200,
                json!({
                    "object": "search_result",
                    "data": data,
                    "has_more": false,
                    "next_page": null,
                    "url": "/v1/payment_intents/search",
                }),
            );
        }
        if path == "/v1/refunds" {
            let pi = query.get("payment_intent");
            let data: Vec<&Value> = self
                .refunds
                .iter()
                .filter(|r| pi.is_none_or(|pi| r["payment_intent"] == **pi))
                .collect();
            return (
                200,
                json!({ "object": "list", "data": data, "has_more": false, "url": "/v1/refunds" }),
            );
        }
        if let Some(id) = path.strip_prefix("/v1/payment_intents/")
            && let Some(at) = self.intent(id)
        {
            return (200, self.render(&self.intents[at]));
        }
        (404, missing(path))
    }

    fn post(&mut self, path: &str, f: &HashMap<String, String>) -> (u16, Value) {
        let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
        match parts.as_slice() {
            ["payment_intents"] => self.create(f),
            ["payment_intents", id, action] => {
                let Some(at) = self.intent(id) else {
                    return (404, missing(path));
                };
                self.act(at, action, f)
            }
            ["refunds"] => self.refund(f),
            _ => (404, missing(path)),
        }
    }

    fn create(&mut self, f: &HashMap<String, String>) -> (u16, Value) {
        let bad = |m: &str| (400, error_body("invalid_request_error", None, m, None));
        // What the adapter promises to ask for: a manual-capture, confirmed, card intent.
        if f.get("capture_method").map(String::as_str) != Some("manual")
            || f.get("confirm").map(String::as_str) != Some("true")
            || f.get("confirmation_method").map(String::as_str) != Some("manual")
        {
            return bad(
                "fake Stripe: expected capture_method=manual, confirm=true, confirmation_method=manual",
            );
        }
        let amount: i64 = f.get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
        if amount < 1 {
            return bad("Amount must be at least 1");
        }
        let token = f.get("payment_method").cloned().unwrap_or_default();
        let mut decline = None;
        let (status, next_action) = match token.as_str() {
            "pm_card_visa" => ("requires_capture", None),
            "pm_card_threeDSecure2Required" => (
                "requires_action",
                Some(json!({
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": "https://hooks.stripe.com/3d_secure_2/hosted"}
                })),
            ),
            "pm_card_chargeDeclined" => {
                decline = Some((
                    "card_declined",
                    "generic_decline",
                    "Your card was declined.",
                ));
                ("requires_payment_method", None)
            }
            "pm_card_visa_chargeDeclinedInsufficientFunds" => {
                decline = Some((
                    "card_declined",
                    "insufficient_funds",
                    "Your card has insufficient funds.",
                ));
                ("requires_payment_method", None)
            }
            other => {
                return (
                    400,
                    error_body(
                        "invalid_request_error",
                        Some("resource_missing"),
                        &format!("No such PaymentMethod: '{other}'"),
                        Some(json!({"param": "payment_method"})),
                    ),
                );
            }
        };
        let metadata = f
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("metadata[")
                    .and_then(|k| k.strip_suffix(']'))
                    .map(|k| (k.to_owned(), v.clone()))
            })
            .collect();
        let id = self.id("pi");
        let decline_error = decline.map(|(code, decline_code, message)| {
            json!({
                "type": "card_error",
                "code": code,
                "decline_code": decline_code,
                "message": message,
                "doc_url": format!("https://stripe.com/docs/error-codes/{code}"),
            })
        });
        let intent = Intent {
            id,
            amount,
            currency: f.get("currency").cloned().unwrap_or_default(),
            status: status.to_owned(),
            captured: 0,
            refunded: 0,
            token,
            metadata,
            decline: decline_error.clone(),
            next_action,
            created: chrono::Utc::now().timestamp(),
        };
        let rendered = self.render(&intent);
        if intent.status == "requires_action" {
            // The fake's customer completes 3-D Secure the moment it is asked: what
            // Weft reads next is an intent waiting for the server's confirmation.
            self.intents.push(Intent {
                status: "requires_confirmation".into(),
                ..intent
            });
        } else {
            self.intents.push(intent);
        }
        match decline_error {
            // Stripe's 402: the error, carrying the PaymentIntent it left behind.
            Some(mut error) => {
                error["payment_intent"] = rendered;
                error["request_log_url"] = json!("https://dashboard.stripe.com/test/logs");
                (402, json!({ "error": error }))
            }
            None => (200, rendered),
        }
    }

    fn act(&mut self, at: usize, action: &str, f: &HashMap<String, String>) -> (u16, Value) {
        let i = &mut self.intents[at];
        match action {
            "capture" => {
                if i.status != "requires_capture" {
                    return unexpected_state(&i.status);
                }
                let amount = f
                    .get("amount_to_capture")
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(i.amount);
                if amount < 1 || amount > i.amount {
                    return (
                        400,
                        error_body(
                            "invalid_request_error",
                            Some("amount_too_large"),
                            "The amount to capture is greater than the amount capturable.",
                            Some(json!({"param": "amount_to_capture"})),
                        ),
                    );
                }
                i.captured = amount;
                i.status = "succeeded".into();
            }
            "cancel" => {
                if matches!(i.status.as_str(), "succeeded" | "canceled") {
                    return unexpected_state(&i.status);
                }
                i.status = "canceled".into();
            }
            "confirm" => {
                if i.status != "requires_confirmation" {
                    return unexpected_state(&i.status);
                }
                i.status = "requires_capture".into();
            }
            _ => return (404, missing(action)),
        }
        (200, self.render(&self.intents[at]))
    }

    fn refund(&mut self, f: &HashMap<String, String>) -> (u16, Value) {
        let pi = f.get("payment_intent").cloned().unwrap_or_default();
        let Some(at) = self.intent(&pi) else {
            return (404, missing(&pi));
        };
        let amount: i64 = f.get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
        let id = self.id("re");
        let i = &mut self.intents[at];
        if i.status != "succeeded" {
            return (
                400,
                error_body(
                    "invalid_request_error",
                    Some("charge_not_refundable"),
                    "This PaymentIntent does not have a successful charge to refund.",
                    None,
                ),
            );
        }
        if amount < 1 || amount > i.captured - i.refunded {
            return (
                400,
                error_body(
                    "invalid_request_error",
                    Some("amount_too_large"),
                    &format!(
                        "Refund amount ({amount}) is greater than unrefunded amount on charge ({}).",
                        i.captured - i.refunded
                    ),
                    Some(json!({"param": "amount"})),
                ),
            );
        }
        i.refunded += amount;
        let charge = format!("ch_{}", i.id.trim_start_matches("pi_"));
        let currency = i.currency.clone();
        let mut refund = self.fixtures["refund"].clone();
        refund["id"] = json!(id);
        refund["amount"] = json!(amount);
        refund["currency"] = json!(currency);
        refund["payment_intent"] = json!(pi);
        refund["charge"] = json!(charge);
        refund["status"] = json!("succeeded");
        refund["metadata"] = json!(
            f.get("metadata[weft_key]")
                .map_or_else(|| json!({}), |k| json!({ "weft_key": k }))
        );
        self.refunds.push(refund.clone());
        (200, refund)
    }
}

fn missing(what: &str) -> Value {
    error_body(
        "invalid_request_error",
        Some("resource_missing"),
        &format!("No such object: '{what}'"),
        None,
    )
}
