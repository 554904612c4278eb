//! E-mail verification, end to end. Identity sends no mail: the link's
//! token travels only in the event it publishes, so these tests read it where the
//! notifications service would, from the outbox.

use serde_json::{Value, json};
use weft_sdk::types::VerifyEmailRequest;
use weft_testkit::{TestApp, backend_tests};

use crate::support::{authed, customer, execute_sql, problem_of, stored_strings};

backend_tests!(
    verifying_the_address_shows_in_me_and_graphql_and_the_link_works_once,
    a_guest_cannot_ask_for_a_new_link_and_a_customer_gets_one_that_replaces_the_last,
    bad_verification_bodies_are_400_or_422,
    erasure_forgets_pending_links,
);

/// The payloads of the outbox's events of `event_type`, oldest first.
async fn events(app: &TestApp, event_type: &str) -> Vec<Value> {
    stored_strings(
        app,
        &format!(
            "SELECT payload AS v FROM platform_outbox WHERE event_type = '{event_type}' ORDER BY id"
        ),
    )
    .await
    .iter()
    .map(|p| serde_json::from_str(p).unwrap())
    .collect()
}

/// The token of the newest link of `event_type` sent to `user_id`.
async fn latest_token(app: &TestApp, event_type: &str, user_id: &str) -> String {
    events(app, event_type)
        .await
        .iter()
        .rev()
        .find(|e| e["user_id"] == user_id)
        .and_then(|e| e["token"].as_str())
        .unwrap_or_else(|| panic!("no {event_type} for {user_id}"))
        .to_owned()
}

async fn verify(
    app: &TestApp,
    token: &str,
) -> Result<(), weft_sdk::Error<weft_sdk::types::Problem>> {
    app.client
        .verify_email()
        .body(VerifyEmailRequest {
            token: token.to_owned(),
        })
        .send()
        .await
        .map(|_| ())
}

/// The time left until `expires_at` (RFC 3339), in minutes.
fn minutes_left(expires_at: &Value) -> i64 {
    let at = chrono::DateTime::parse_from_rfc3339(expires_at.as_str().unwrap()).unwrap();
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes()
}

async fn graphql_email_verified(app: &TestApp, access_token: &str) -> Value {
    let answer: Value = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(access_token)
        .json(&json!({ "query": "{ me { emailVerified } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["data"]["me"]["emailVerified"].clone()
}

async fn verifying_the_address_shows_in_me_and_graphql_and_the_link_works_once(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    assert!(!ada.user.email_verified);
    let me = authed(&app, &ada.access_token);
    assert!(
        !me.get_me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .email_verified
    );
    assert_eq!(
        graphql_email_verified(&app, &ada.access_token).await,
        Value::Bool(false)
    );

    // Registration asked for the e-mail, in the same transaction.
    let sent = events(&app, "user.email_verification_requested").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let event = &sent[0];
    assert_eq!(event["user_id"], ada.user.id.as_str());
    assert_eq!(event["email"], "ada@example.com");
    assert_eq!(event["name"], "Ada Lovelace");
    let days_left = minutes_left(&event["expires_at"]) / 60 / 24;
    assert_eq!(days_left, 6, "seven days, less the seconds since: {event}");
    let token = event["token"].as_str().unwrap().to_owned();

    verify(&app, &token).await.unwrap();
    assert!(
        me.get_me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .email_verified
    );
    assert_eq!(
        graphql_email_verified(&app, &ada.access_token).await,
        Value::Bool(true)
    );
    let p = problem_of(verify(&app, &token).await).await;
    assert_eq!(
        (p.status, p.code.as_str(), p.errors[0].field.as_str()),
        (422, "invalid_verification_token", "token"),
        "a spent link"
    );
    let p = problem_of(me.request_email_verification().send().await).await;
    assert_eq!((p.status, p.code.as_str()), (409, "already_verified"));

    // An expired link is refused.
    let bob = customer(&app, "bob@example.com").await;
    let bobs = latest_token(&app, "user.email_verification_requested", &bob.user.id).await;
    execute_sql(
        &app,
        &format!(
            "UPDATE identity_account_tokens SET expires_at = '2000-01-01 00:00:00' \
             WHERE user_id = '{}'",
            bob.user.id
        ),
    )
    .await;
    let p = problem_of(verify(&app, &bobs).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (422, "invalid_verification_token")
    );
    let bob = authed(&app, &bob.access_token);
    assert!(
        !bob.get_me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .email_verified
    );
}

async fn a_guest_cannot_ask_for_a_new_link_and_a_customer_gets_one_that_replaces_the_last(
    app: TestApp,
) {
    for (case, content_type, body) in [
        ("malformed json", Some("application/json"), "{not json"),
        ("no body", None, ""),
    ] {
        let mut request = app
            .http
            .post(app.url("/v1/me/email/verification"))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{case}");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["code"], "unauthenticated", "{case}");
    }

    let ada = customer(&app, "ada@example.com").await;
    let first = latest_token(&app, "user.email_verification_requested", &ada.user.id).await;
    let me = authed(&app, &ada.access_token);
    let answer = me.request_email_verification().send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 202);
    assert!(!answer.into_inner().message.is_empty());
    let second = latest_token(&app, "user.email_verification_requested", &ada.user.id).await;
    assert_ne!(first, second);
    let p = problem_of(verify(&app, &first).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (422, "invalid_verification_token"),
        "replaced"
    );

    // Asking again is rationed: a burst of three per address.
    for attempt in 2..=3 {
        me.request_email_verification()
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {attempt}: {e:?}"));
    }
    let p = problem_of(me.request_email_verification().send().await).await;
    assert_eq!((p.status, p.code.as_str()), (429, "email_throttled"));
    assert_eq!(
        events(&app, "user.email_verification_requested")
            .await
            .len(),
        4,
        "the registration's and three more"
    );
    let newest = latest_token(&app, "user.email_verification_requested", &ada.user.id).await;
    verify(&app, &newest).await.unwrap();
    assert!(
        me.get_me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .email_verified
    );
}

async fn bad_verification_bodies_are_400_or_422(app: TestApp) {
    let cases: [(&str, u16, &str); 5] = [
        ("{", 400, "malformed_json"),
        (r#"{"token": "t", "extra": true}"#, 422, "validation_failed"),
        (r#"{"token": 7}"#, 422, "validation_failed"),
        ("{}", 422, "validation_failed"),
        (r#"{"token": "made-up"}"#, 422, "invalid_verification_token"),
    ];
    for (body, status, code) in cases {
        let resp = app
            .http
            .post(app.url("/v1/auth/email/verify"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{body}");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["code"], code, "{body}: {problem}");
        if status == 422 {
            assert!(
                problem["errors"].as_array().is_some_and(|e| !e.is_empty()),
                "{body}: a 422 names its fields: {problem}"
            );
        }
    }
}

async fn erasure_forgets_pending_links(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    let links = format!(
        "SELECT purpose AS v FROM identity_account_tokens WHERE user_id = '{}'",
        ada.user.id
    );
    assert_eq!(stored_strings(&app, &links).await, ["email_verification"]);
    let token = latest_token(&app, "user.email_verification_requested", &ada.user.id).await;
    authed(&app, &ada.access_token)
        .delete_me()
        .send()
        .await
        .unwrap();
    assert!(stored_strings(&app, &links).await.is_empty());
    let p = problem_of(verify(&app, &token).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (422, "invalid_verification_token")
    );
}
