//! Password reset and e-mail verification, end to end. Identity sends no mail: the link's
//! token travels only in the event it publishes, so these tests read it where the
//! notifications service would, from the outbox.

use serde_json::{Value, json};
use weft_sdk::types::{
    ForgotPasswordRequest, LoginRequest, RefreshRequest, ResetPasswordRequest, VerifyEmailRequest,
};
use weft_testkit::{TestApp, backend_tests};

use crate::support::{authed, customer, execute_sql, problem_of, stored_strings};

backend_tests!(
    forgetting_an_unknown_address_answers_like_a_known_one_and_sends_nothing,
    a_reset_link_sets_the_password_once_and_ends_every_session,
    an_expired_reset_link_is_refused_and_changes_nothing,
    twenty_concurrent_resets_with_one_link_set_exactly_one_password,
    a_reset_lifts_the_sign_in_block_of_the_account,
    e_mail_requests_are_throttled_per_address_known_or_not_and_per_client,
    bad_reset_bodies_are_400_or_422_and_a_refused_password_leaves_the_link_unspent,
    verifying_the_address_shows_in_me_and_graphql_and_the_link_works_once,
    a_guest_cannot_ask_for_a_new_link_and_a_customer_gets_one_that_replaces_the_last,
    bad_verification_bodies_are_400_or_422,
    erasure_forgets_pending_links,
);

const PASSWORD: &str = "linen-and-wool-2026";
const NEW_PASSWORD: &str = "harris-tweed-jacket-77";

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

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    app.http
        .post(app.url("/v1/auth/password/forgot"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap()
}

async fn reset(
    app: &TestApp,
    token: &str,
    password: &str,
) -> Result<(), weft_sdk::Error<weft_sdk::types::Problem>> {
    app.client
        .reset_password()
        .body(ResetPasswordRequest {
            token: token.to_owned(),
            password: password.to_owned(),
        })
        .send()
        .await
        .map(|_| ())
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

async fn login_status(app: &TestApp, email: &str, password: &str) -> u16 {
    match app
        .client
        .login()
        .body(LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            totp_code: None,
        })
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.status().map_or(0, |s| s.as_u16()),
    }
}

/// The whole refusal of a spent, expired or made-up reset token.
fn assert_bad_reset_token(p: &weft_sdk::types::Problem, case: &str) {
    assert_eq!(
        (
            p.status,
            p.code.as_str(),
            p.errors.len(),
            p.errors.first().map(|e| e.field.as_str())
        ),
        (422, "invalid_reset_token", 1, Some("token")),
        "{case}: {p:?}"
    );
}

/// The time left until `expires_at` (RFC 3339), in minutes.
fn minutes_left(expires_at: &Value) -> i64 {
    let at = chrono::DateTime::parse_from_rfc3339(expires_at.as_str().unwrap()).unwrap();
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes()
}

async fn forgetting_an_unknown_address_answers_like_a_known_one_and_sends_nothing(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    let known = forgot(&app, "  ADA@example.com ").await;
    let unknown = forgot(&app, "nobody@example.com").await;
    let answer = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        (status, content_type, r.text().await.unwrap())
    };
    let (known, unknown) = (answer(known).await, answer(unknown).await);
    assert_eq!(known, unknown, "the answer tells nothing");
    assert_eq!(known.0, 202);
    let body: Value = serde_json::from_str(&known.2).unwrap();
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );

    // One event, for the known address only, with everything a mailer needs.
    let sent = events(&app, "user.password_reset_requested").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let event = &sent[0];
    assert_eq!(event["user_id"], ada.user.id.as_str());
    assert_eq!(event["email"], "ada@example.com");
    assert_eq!(event["name"], "Ada Lovelace");
    let token = event["token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "32 bytes, base64url without padding");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(
        (29..=30).contains(&minutes_left(&event["expires_at"])),
        "{event}"
    );

    // Stored as a digest only.
    let stored = stored_strings(
        &app,
        "SELECT token_hash || '|' || email || '|' || user_id AS v FROM identity_account_tokens \
         WHERE purpose = 'password_reset'",
    )
    .await;
    assert_eq!(stored.len(), 1);
    let (hash, rest) = stored[0].split_once('|').unwrap();
    assert_eq!(rest, format!("ada@example.com|{}", ada.user.id));
    assert_eq!(hash.len(), 64);
    assert!(
        hash.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert!(
        !hash.contains(token) && !token.contains(hash),
        "the token itself is not stored"
    );
}

async fn a_reset_link_sets_the_password_once_and_ends_every_session(app: TestApp) {
    let first = customer(&app, "ada@example.com").await;
    let second = app
        .client
        .login()
        .body(LoginRequest {
            email: "ada@example.com".into(),
            password: PASSWORD.into(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    let user_id = first.user.id.clone();
    assert!(!first.user.email_verified);

    assert_eq!(forgot(&app, "ada@example.com").await.status(), 202);
    let replaced = latest_token(&app, "user.password_reset_requested", &user_id).await;
    assert_eq!(forgot(&app, "ada@example.com").await.status(), 202);
    let token = latest_token(&app, "user.password_reset_requested", &user_id).await;
    assert_ne!(replaced, token);
    assert_bad_reset_token(
        &problem_of(reset(&app, &replaced, NEW_PASSWORD).await).await,
        "a link replaced by a newer one",
    );

    reset(&app, &token, NEW_PASSWORD).await.unwrap();
    assert_eq!(
        login_status(&app, "ada@example.com", PASSWORD).await,
        401,
        "old password"
    );
    assert_eq!(
        login_status(&app, "ada@example.com", NEW_PASSWORD).await,
        200,
        "new password"
    );
    for (which, session) in [("first", &first), ("second", &second)] {
        let p = problem_of(
            app.client
                .refresh()
                .body(RefreshRequest {
                    refresh_token: session.refresh_token.clone(),
                })
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (p.status, p.code.as_str()),
            (401, "invalid_refresh_token"),
            "the {which} session ended"
        );
    }
    assert_bad_reset_token(
        &problem_of(reset(&app, &token, "another-fine-password").await).await,
        "a spent link",
    );
    assert_eq!(
        login_status(&app, "ada@example.com", NEW_PASSWORD).await,
        200,
        "the refused second use changed nothing"
    );

    // Whoever opened the link reads the mailbox: the address counts as verified.
    let session = app
        .client
        .login()
        .body(LoginRequest {
            email: "ada@example.com".into(),
            password: NEW_PASSWORD.into(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(session.user.email_verified);
    let me = authed(&app, &session.access_token)
        .get_me()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(me.email_verified);
}

async fn an_expired_reset_link_is_refused_and_changes_nothing(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    forgot(&app, "ada@example.com").await;
    let token = latest_token(&app, "user.password_reset_requested", &ada.user.id).await;
    let aged = execute_sql(
        &app,
        "UPDATE identity_account_tokens SET expires_at = '2000-01-01 00:00:00' \
         WHERE purpose = 'password_reset'",
    )
    .await;
    assert_eq!(aged, 1);
    assert_bad_reset_token(
        &problem_of(reset(&app, &token, NEW_PASSWORD).await).await,
        "an expired link",
    );
    assert_eq!(login_status(&app, "ada@example.com", PASSWORD).await, 200);
    app.client
        .refresh()
        .body(RefreshRequest {
            refresh_token: ada.refresh_token,
        })
        .send()
        .await
        .expect("the session goes on");
}

async fn twenty_concurrent_resets_with_one_link_set_exactly_one_password(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    forgot(&app, "ada@example.com").await;
    let token = latest_token(&app, "user.password_reset_requested", &ada.user.id).await;
    let passwords: Vec<String> = (0..20)
        .map(|i| format!("harris-tweed-coat-{i:02}"))
        .collect();
    let outcomes =
        futures::future::join_all(passwords.iter().map(|p| reset(&app, &token, p))).await;
    let mut winners = Vec::new();
    for (password, outcome) in passwords.iter().zip(outcomes) {
        match outcome {
            Ok(()) => winners.push(password.clone()),
            Err(e) => assert_bad_reset_token(&problem_of::<()>(Err(e)).await, "a losing racer"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one reset: {winners:?}");
    assert_eq!(
        login_status(&app, "ada@example.com", &winners[0]).await,
        200
    );
    let loser = passwords.iter().find(|p| **p != winners[0]).unwrap();
    assert_eq!(login_status(&app, "ada@example.com", loser).await, 401);
}

async fn a_reset_lifts_the_sign_in_block_of_the_account(app: TestApp) {
    let ada = customer(&app, "ada@example.com").await;
    // Five failures block for 2 s, the sixth for 4, the seventh for 8.
    for attempt in 1..=7 {
        if attempt > 5 {
            let seconds = 1u64 << (attempt - 5);
            tokio::time::sleep(std::time::Duration::from_millis(seconds * 1000 + 100)).await;
        }
        assert_eq!(
            login_status(&app, "ada@example.com", "guess-number-x").await,
            401,
            "failure {attempt}"
        );
    }
    assert_eq!(login_status(&app, "ada@example.com", PASSWORD).await, 429);
    forgot(&app, "ada@example.com").await;
    let token = latest_token(&app, "user.password_reset_requested", &ada.user.id).await;
    reset(&app, &token, NEW_PASSWORD).await.unwrap();
    assert_eq!(
        login_status(&app, "ada@example.com", NEW_PASSWORD).await,
        200,
        "the 8 s block ended with the reset"
    );
}

async fn e_mail_requests_are_throttled_per_address_known_or_not_and_per_client(app: TestApp) {
    customer(&app, "ada@example.com").await;
    let mut refusals = Vec::new();
    for email in ["ada@example.com", "ghost@example.com"] {
        for attempt in 1..=3 {
            assert_eq!(
                forgot(&app, email).await.status(),
                202,
                "{email} #{attempt}"
            );
        }
        let refused = forgot(&app, email).await;
        assert_eq!(refused.status(), 429, "{email}: a fourth request");
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let wait: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&wait), "{email}: Retry-After {wait}");
        let mut problem: Value = refused.json().await.unwrap();
        problem.as_object_mut().unwrap().remove("request_id");
        refusals.push((wait.div_ceil(60), problem));
    }
    assert_eq!(
        refusals[0], refusals[1],
        "a known and an unknown address are throttled alike"
    );
    assert_eq!(refusals[0].1["code"], "email_throttled");
    assert_eq!(refusals[0].1["status"], 429);
    assert_eq!(
        events(&app, "user.password_reset_requested").await.len(),
        3,
        "the refused request sent nothing"
    );

    // Eight requests so far from this client; twenty pass, whatever the addresses.
    for i in 9..=20 {
        assert_eq!(
            forgot(&app, &format!("someone-{i}@example.com"))
                .await
                .status(),
            202,
            "request {i}"
        );
    }
    let refused = forgot(&app, "someone-else@example.com").await;
    assert_eq!(refused.status(), 429, "the client's 21st request");
    assert!(refused.headers().contains_key("retry-after"));
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "email_throttled");
}

async fn bad_reset_bodies_are_400_or_422_and_a_refused_password_leaves_the_link_unspent(
    app: TestApp,
) {
    let cases: [(&str, &str, u16, &str); 9] = [
        (
            "/v1/auth/password/forgot",
            "{\"email\":",
            400,
            "malformed_json",
        ),
        (
            "/v1/auth/password/forgot",
            r#"{"email": "a@example.com", "name": "Ada"}"#,
            422,
            "validation_failed",
        ),
        (
            "/v1/auth/password/forgot",
            r#"{"email": 7}"#,
            422,
            "validation_failed",
        ),
        (
            "/v1/auth/password/forgot",
            r#"{"email": "not-an-address"}"#,
            422,
            "validation_failed",
        ),
        ("/v1/auth/password/reset", "not json", 400, "malformed_json"),
        (
            "/v1/auth/password/reset",
            r#"{"token": "t", "password": "harris-tweed-99", "email": "a@example.com"}"#,
            422,
            "validation_failed",
        ),
        (
            "/v1/auth/password/reset",
            r#"{"token": ["t"], "password": "harris-tweed-99"}"#,
            422,
            "validation_failed",
        ),
        (
            "/v1/auth/password/reset",
            r#"{"token": "t"}"#,
            422,
            "validation_failed",
        ),
        (
            "/v1/auth/password/reset",
            r#"{"token": "made-up", "password": "harris-tweed-99"}"#,
            422,
            "invalid_reset_token",
        ),
    ];
    for (path, body, status, code) in cases {
        let resp = app
            .http
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let case = format!("{path} {body}");
        assert_eq!(resp.status().as_u16(), status, "{case}");
        let problem: Value = resp.json().await.unwrap();
        assert_eq!(problem["code"], code, "{case}: {problem}");
        if status == 422 {
            assert!(
                problem["errors"].as_array().is_some_and(|e| !e.is_empty()),
                "{case}: a 422 names its fields: {problem}"
            );
        }
    }

    let ada = customer(&app, "ada@example.com").await;
    let p = problem_of(
        app.client
            .forgot_password()
            .body(ForgotPasswordRequest {
                email: "ada@".into(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "email"));

    forgot(&app, "ada@example.com").await;
    let token = latest_token(&app, "user.password_reset_requested", &ada.user.id).await;
    for (case, weak) in [
        ("too short", "tweed"),
        ("common", "Password123"),
        ("the address itself", "ada@example.com"),
    ] {
        let p = problem_of(reset(&app, &token, weak).await).await;
        assert_eq!(
            (p.status, p.code.as_str(), p.errors[0].field.as_str()),
            (422, "validation_failed", "password"),
            "{case}"
        );
    }
    reset(&app, &token, NEW_PASSWORD)
        .await
        .expect("refused passwords did not spend the link");
    assert_eq!(
        login_status(&app, "ada@example.com", NEW_PASSWORD).await,
        200
    );
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

    // A link is good at its own endpoint only.
    assert_bad_reset_token(
        &problem_of(reset(&app, &token, NEW_PASSWORD).await).await,
        "a verification link used to reset",
    );

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
    forgot(&app, "ada@example.com").await;
    let links = format!(
        "SELECT purpose AS v FROM identity_account_tokens WHERE user_id = '{}' ORDER BY purpose",
        ada.user.id
    );
    assert_eq!(
        stored_strings(&app, &links).await,
        ["email_verification", "password_reset"]
    );
    let reset_token = latest_token(&app, "user.password_reset_requested", &ada.user.id).await;
    let verify_token = latest_token(&app, "user.email_verification_requested", &ada.user.id).await;
    authed(&app, &ada.access_token)
        .delete_me()
        .send()
        .await
        .unwrap();
    assert!(stored_strings(&app, &links).await.is_empty());
    assert_bad_reset_token(
        &problem_of(reset(&app, &reset_token, NEW_PASSWORD).await).await,
        "a link of an erased account",
    );
    let p = problem_of(verify(&app, &verify_token).await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (422, "invalid_verification_token")
    );
    // The erased address has no account now: the same answer, and nothing sent.
    assert_eq!(forgot(&app, "ada@example.com").await.status(), 202);
    assert_eq!(events(&app, "user.password_reset_requested").await.len(), 1);
}
