//! Customers and sessions through the SDK: register, log in, refresh with rotation and
//! reuse detection, log out, `/v1/me`, and tokens that must not work.

use weft_sdk::types::{LoginRequest, RefreshRequest, RegisterRequest, UpdateMeRequest};
use weft_testkit::{TestApp, backend_tests};

use crate::support::{authed, create_admin, problem_of, registration, totp_now};

backend_tests!(
    a_customer_registers_signs_in_and_reads_themselves,
    bad_registrations_are_422_naming_each_field,
    wrong_email_and_wrong_password_get_the_same_401,
    a_refresh_token_works_once_and_its_reuse_revokes_the_session,
    logout_revokes_the_session,
    forged_expired_and_foreign_tokens_are_refused,
    admins_come_from_the_cli_and_admin_endpoints_refuse_everyone_else,
    repeated_failed_sign_ins_block_the_account_with_a_growing_wait,
    graphql_me_is_the_bearer_or_null,
);

async fn graphql_me_is_the_bearer_or_null(app: TestApp) {
    let session = app
        .client
        .register()
        .body(registration("gql@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let query = serde_json::json!({ "query": "{ me { id email role } }" });
    let guest: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(guest["data"]["me"], serde_json::Value::Null, "{guest}");
    let signed_in: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&session.access_token)
        .json(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        signed_in["data"]["me"]["id"],
        session.user.id.as_str(),
        "{signed_in}"
    );
    assert_eq!(signed_in["data"]["me"]["role"], "customer");
}

async fn repeated_failed_sign_ins_block_the_account_with_a_growing_wait(app: TestApp) {
    app.client
        .register()
        .body(registration("target@example.com"))
        .send()
        .await
        .unwrap();
    app.client
        .register()
        .body(registration("bystander@example.com"))
        .send()
        .await
        .unwrap();
    let login = |email: &str, password: &str| {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            totp_code: None,
        };
        let http = app.http.clone();
        let url = app.url("/v1/auth/login");
        async move { http.post(url).json(&body).send().await.unwrap() }
    };
    for attempt in 1..=5 {
        assert_eq!(
            login("target@example.com", "guess-number-x").await.status(),
            401,
            "attempt {attempt}"
        );
    }
    // Blocked now, even with the right password.
    let resp = login("TARGET@example.com", "linen-and-wool-2026").await;
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "login_throttled");
    // Other accounts are untouched.
    assert_eq!(
        login("bystander@example.com", "linen-and-wool-2026")
            .await
            .status(),
        200
    );
    // The block lapses, and a success clears the count.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        login("target@example.com", "linen-and-wool-2026")
            .await
            .status(),
        200
    );
    assert_eq!(
        login("target@example.com", "guess-number-y").await.status(),
        401,
        "counting starts over"
    );
    assert_eq!(
        login("target@example.com", "linen-and-wool-2026")
            .await
            .status(),
        200
    );
}

/// `weft admin create` against the test app's own storage.
async fn admins_come_from_the_cli_and_admin_endpoints_refuse_everyone_else(app: TestApp) {
    let out = create_admin(&app, "boss@example.com", "tailor-made-2026!");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin usr_"));
    let again = create_admin(&app, "boss@example.com", "tailor-made-2026!");
    assert!(!again.status.success(), "the email is taken");
    let weak = create_admin(&app, "other@example.com", "password");
    assert!(!weak.status.success(), "admins get the password policy too");

    let pending = app
        .client
        .login()
        .body(LoginRequest {
            email: "boss@example.com".into(),
            password: "tailor-made-2026!".into(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pending.user.role, "admin");
    // Until TOTP is enrolled, an admin's token opens nothing but enrolment (and /v1/me).
    let p = problem_of(
        authed(&app, &pending.access_token)
            .list_users()
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (403, "mfa_enrollment_required")
    );
    authed(&app, &pending.access_token)
        .get_me()
        .send()
        .await
        .unwrap();
    let enrolment = authed(&app, &pending.access_token)
        .start_totp()
        .send()
        .await
        .unwrap()
        .into_inner();
    let admin = authed(&app, &pending.access_token)
        .verify_totp()
        .body(weft_sdk::types::VerifyTotpRequest {
            code: totp_now(&enrolment.secret),
        })
        .send()
        .await
        .unwrap()
        .into_inner()
        .session;
    let customer = app
        .client
        .register()
        .body(registration("shopper@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();

    let page = authed(&app, &admin.access_token)
        .list_users()
        .limit(1)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.data.len(), 1);
    let next = authed(&app, &admin.access_token)
        .list_users()
        .limit(1)
        .cursor(page.next_cursor.clone().unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.data.len(), 1);
    assert_ne!(next.data[0].id, page.data[0].id);
    let everyone: Vec<String> = [page.data, next.data]
        .concat()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(everyone, ["boss@example.com", "shopper@example.com"]);

    let p = problem_of(
        authed(&app, &customer.access_token)
            .list_users()
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (403, "forbidden"),
        "a customer"
    );
    let p = problem_of(app.client.list_users().send().await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (401, "unauthenticated"),
        "a guest"
    );
    let p = problem_of(
        authed(&app, &admin.access_token)
            .list_users()
            .limit(0)
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "limit"));
    let p = problem_of(
        authed(&app, &admin.access_token)
            .list_users()
            .cursor("forged")
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "cursor"));
}

async fn a_customer_registers_signs_in_and_reads_themselves(app: TestApp) {
    let resp = app
        .client
        .register()
        .body(registration(" Ada@Example.com "))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let session = resp.into_inner();
    assert!(session.user.id.starts_with("usr_"));
    assert_eq!(session.user.email, "ada@example.com", "stored normalised");
    assert_eq!(session.user.role, "customer");
    assert_eq!(
        (session.token_type.as_str(), session.expires_in),
        ("Bearer", 900)
    );

    let me = authed(&app, &session.access_token)
        .get_me()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.id, session.user.id);

    let login = app
        .client
        .login()
        .body(LoginRequest {
            email: "ADA@example.com".into(),
            password: "linen-and-wool-2026".into(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(login.user.id, session.user.id);

    let renamed = authed(&app, &login.access_token)
        .update_me()
        .body(UpdateMeRequest {
            name: Some("Ada King".into()),
            phone: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.name, "Ada King");

    let taken = problem_of(
        app.client
            .register()
            .body(registration("ada@example.com"))
            .send()
            .await,
    )
    .await;
    assert_eq!((taken.status, taken.code.as_str()), (409, "email_taken"));

    // The signing key is published, under the kid the token names.
    let jwks = app.client.get_jwks().send().await.unwrap().into_inner();
    let header: serde_json::Value = serde_json::from_slice(&base64_decode(
        session.access_token.split('.').next().unwrap(),
    ))
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert!(
        jwks.keys
            .iter()
            .any(|k| Some(k.kid.as_str()) == header["kid"].as_str() && k.crv == "Ed25519")
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

async fn bad_registrations_are_422_naming_each_field(app: TestApp) {
    let cases = [
        (
            "invalid email",
            RegisterRequest {
                email: "not-an-email".into(),
                ..registration("x@example.com")
            },
            vec!["email"],
        ),
        (
            "short password",
            RegisterRequest {
                password: "short".into(),
                ..registration("a@example.com")
            },
            vec!["password"],
        ),
        (
            "common password",
            RegisterRequest {
                password: "Password123".into(),
                ..registration("b@example.com")
            },
            vec!["password"],
        ),
        (
            "empty name",
            RegisterRequest {
                name: "  ".into(),
                ..registration("c@example.com")
            },
            vec!["name"],
        ),
        (
            "everything wrong",
            RegisterRequest {
                email: "@".into(),
                password: "x".into(),
                name: String::new(),
            },
            vec!["email", "password", "name"],
        ),
    ];
    for (case, body, fields) in cases {
        let p = problem_of(app.client.register().body(body).send().await).await;
        assert_eq!(
            (p.status, p.code.as_str()),
            (422, "validation_failed"),
            "{case}"
        );
        let got: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(got, fields, "{case}");
    }
    // Unknown fields are refused too (a client cannot set its own role).
    let resp = app
        .http
        .post(app.url("/v1/auth/register"))
        .json(&serde_json::json!({"email": "d@example.com", "password": "linen-and-wool-2026", "name": "D", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "role");
}

async fn wrong_email_and_wrong_password_get_the_same_401(app: TestApp) {
    app.client
        .register()
        .body(registration("grace@example.com"))
        .send()
        .await
        .unwrap();
    let attempt = |email: &str, password: &str| {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            totp_code: None,
        };
        let client = app.client.clone();
        async move { problem_of(client.login().body(body).send().await).await }
    };
    let wrong_password = attempt("grace@example.com", "not-her-password").await;
    let unknown_email = attempt("nobody@example.com", "not-her-password").await;
    let invalid_email = attempt("nobody", "not-her-password").await;
    for p in [&wrong_password, &unknown_email, &invalid_email] {
        assert_eq!(
            (p.status, p.code.as_str(), p.detail.as_str()),
            (401, "invalid_credentials", "email or password is incorrect")
        );
    }
}

async fn a_refresh_token_works_once_and_its_reuse_revokes_the_session(app: TestApp) {
    let first = app
        .client
        .register()
        .body(registration("lin@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let refresh = |token: &str| {
        let body = RefreshRequest {
            refresh_token: token.to_owned(),
        };
        let client = app.client.clone();
        async move { client.refresh().body(body).send().await }
    };
    let second = refresh(&first.refresh_token).await.unwrap().into_inner();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.user.id, first.user.id);

    // The first token again: refused, and the whole family with it.
    let reuse = problem_of(refresh(&first.refresh_token).await).await;
    assert_eq!(
        (reuse.status, reuse.code.as_str()),
        (401, "invalid_refresh_token")
    );
    let revoked = problem_of(refresh(&second.refresh_token).await).await;
    assert_eq!(revoked.status, 401, "the thief's rotation is dead too");

    let garbage = problem_of(refresh("not-a-token").await).await;
    assert_eq!(garbage.status, 401);
}

async fn logout_revokes_the_session(app: TestApp) {
    let session = app
        .client
        .register()
        .body(registration("kit@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let resp = app
        .client
        .logout()
        .body(RefreshRequest {
            refresh_token: session.refresh_token.clone(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let p = problem_of(
        app.client
            .refresh()
            .body(RefreshRequest {
                refresh_token: session.refresh_token,
            })
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 401);
}

async fn forged_expired_and_foreign_tokens_are_refused(app: TestApp) {
    let session = app
        .client
        .register()
        .body(registration("eve@example.com"))
        .send()
        .await
        .unwrap()
        .into_inner();
    let parts: Vec<&str> = session.access_token.split('.').collect();
    let b64 = |v: &serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let claims: serde_json::Value = serde_json::from_slice(&base64_decode(parts[1])).unwrap();
    let mut admin_claims = claims.clone();
    admin_claims["role"] = "admin".into();
    let none_token = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    );
    let tampered = format!("{}.{}.{}", parts[0], b64(&admin_claims), parts[2]);
    let unknown_kid = format!(
        "{}.{}.{}",
        b64(&serde_json::json!({"alg": "EdDSA", "kid": "k-unknown"})),
        parts[1],
        parts[2]
    );
    let hs256 = format!(
        "{}.{}.{}",
        b64(&serde_json::json!({"alg": "HS256", "typ": "JWT"})),
        parts[1],
        parts[2]
    );
    for (case, token) in [
        ("alg none", none_token.as_str()),
        ("tampered claims", tampered.as_str()),
        ("unknown key id", unknown_kid.as_str()),
        ("algorithm swap", hs256.as_str()),
        ("not a jwt", "abc"),
        ("a refresh token", session.refresh_token.as_str()),
    ] {
        let p = problem_of(authed(&app, token).get_me().send().await).await;
        assert_eq!(
            (p.status, p.code.as_str()),
            (401, "unauthenticated"),
            "{case}"
        );
    }
    let p = problem_of(app.client.get_me().send().await).await;
    assert_eq!(p.status, 401, "no token at all");

    // Signed with the server's own key, but expired a minute ago.
    let mut expired_claims = claims.clone();
    expired_claims["exp"] = (chrono::Utc::now().timestamp() - 60).into();
    let expired = sign_with_server_key(&app, &expired_claims);
    let p = problem_of(authed(&app, &expired).get_me().send().await).await;
    assert_eq!(p.status, 401, "expired");
    // The same signing path with a live expiry works, so the refusal above is the expiry.
    let mut live_claims = claims.clone();
    live_claims["exp"] = (chrono::Utc::now().timestamp() + 60).into();
    let live = sign_with_server_key(&app, &live_claims);
    assert_eq!(
        authed(&app, &live)
            .get_me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .email,
        "eve@example.com"
    );
}

/// Signs `claims` with the key the server generated in its data dir.
fn sign_with_server_key(app: &TestApp, claims: &serde_json::Value) -> String {
    let dir = app.settings.data_dir.join("keys");
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "ed25519"))
        .unwrap();
    let kid = path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .strip_suffix(".ed25519")
        .unwrap()
        .to_owned();
    let hex = std::fs::read_to_string(&path).unwrap();
    let seed: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex.trim()[i * 2..i * 2 + 2], 16).unwrap())
        .collect();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(kid);
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&der),
    )
    .unwrap()
}
