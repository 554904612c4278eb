//! Who may do what: admins' TOTP (enrolment, sign-in, replay, recovery codes), third-party
//! apps with the client-credentials grant, API keys, scopes, role changes, and the rule
//! that every admin endpoint answers a guest 401 and a customer 403.

use weft_sdk::types::{
    CreateCredentialRequest, LoginRequest, RefreshRequest, UpdateUserRequest, VerifyTotpRequest,
};
use weft_testkit::{TestApp, backend_tests};

use crate::support::{authed, customer, enrolled_admin, problem_of, totp_at};

backend_tests!(
    totp_sign_in_needs_a_fresh_code_and_refuses_replays,
    apps_trade_client_credentials_for_scoped_tokens,
    api_keys_are_shown_once_work_at_once_and_die_at_once,
    admins_change_roles_but_not_their_own,
    every_admin_endpoint_refuses_guests_and_customers,
    every_guarded_write_refuses_the_caller_before_reading_the_body,
    the_token_endpoint_answers_rfc6749_errors_to_any_unusable_body,
);

fn login(email: &str, totp_code: Option<String>) -> LoginRequest {
    LoginRequest {
        email: email.to_owned(),
        password: "tailor-made-2026!".to_owned(),
        totp_code,
    }
}

async fn totp_sign_in_needs_a_fresh_code_and_refuses_replays(app: TestApp) {
    crate::support::wait_for_fresh_totp_step().await;
    let password = "tailor-made-2026!";
    let out = crate::support::create_admin(&app, "mfa@example.com", password);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, secret, recovery, enrolment_code) =
        crate::support::enrol_with_code(&app.client, &app.address, "mfa@example.com", password)
            .await;
    assert_eq!(recovery.len(), 10);

    let p = problem_of(
        app.client
            .login()
            .body(login("mfa@example.com", None))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (401, "totp_required"));
    let p = problem_of(
        app.client
            .login()
            .body(login("mfa@example.com", Some("000000".into())))
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (401, "invalid_totp_code"));
    // The enrolment used this step's code: it cannot sign in again.
    let p = problem_of(
        app.client
            .login()
            .body(login("mfa@example.com", Some(enrolment_code)))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (401, "invalid_totp_code"),
        "replay of the enrolment code"
    );

    // The next step's code is within the allowed skew: accepted once, then a replay.
    let next = totp_at(&secret, 1);
    let session = app
        .client
        .login()
        .body(login("mfa@example.com", Some(next.clone())))
        .send()
        .await
        .unwrap()
        .into_inner();
    authed(&app, &session.access_token)
        .list_users()
        .send()
        .await
        .unwrap();
    let p = problem_of(
        app.client
            .login()
            .body(login("mfa@example.com", Some(next)))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (401, "invalid_totp_code"),
        "replayed code"
    );

    // A recovery code works once, in any case and spacing.
    let code = recovery[3].to_uppercase();
    app.client
        .login()
        .body(login("mfa@example.com", Some(code.clone())))
        .send()
        .await
        .unwrap();
    let p = problem_of(
        app.client
            .login()
            .body(login("mfa@example.com", Some(code)))
            .send()
            .await,
    )
    .await;
    assert_eq!(p.code, "invalid_totp_code", "spent recovery code");

    // Enrolment is once; refreshing keeps the unrestricted session.
    let me = authed(&app, &session.access_token);
    let p = problem_of(me.start_totp().send().await).await;
    assert_eq!((p.status, p.code.as_str()), (409, "mfa_already_enabled"));
    let refreshed = app
        .client
        .refresh()
        .body(RefreshRequest {
            refresh_token: session.refresh_token.clone(),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    authed(&app, &refreshed.access_token)
        .list_users()
        .send()
        .await
        .unwrap();

    // A customer may enrol too; a wrong code is a 422 on `code`, and verifying before
    // starting is a 409.
    let shopper = customer(&app, "careful@example.com").await;
    let client = authed(&app, &shopper.access_token);
    let p = problem_of(
        client
            .verify_totp()
            .body(VerifyTotpRequest {
                code: "123456".into(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "mfa_not_started"));
    let enrolment = client.start_totp().send().await.unwrap().into_inner();
    assert!(
        enrolment
            .otpauth_uri
            .starts_with("otpauth://totp/Weft:careful%40example.com?"),
        "{}",
        enrolment.otpauth_uri
    );
    let wrong = if totp_at(&enrolment.secret, 0) == "111111" {
        "222222"
    } else {
        "111111"
    };
    let p = problem_of(
        client
            .verify_totp()
            .body(VerifyTotpRequest { code: wrong.into() })
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "code"));
}

fn credential(name: &str, scopes: &[&str]) -> CreateCredentialRequest {
    CreateCredentialRequest {
        name: name.to_owned(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    }
}

async fn apps_trade_client_credentials_for_scoped_tokens(app: TestApp) {
    let (admin, _, _) = enrolled_admin(&app, "apps@example.com").await;
    let admin = authed(&app, &admin.access_token);
    let created = admin
        .create_app()
        .body(credential("ERP sync", &["customers:read", "orders:read"]))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(created.client_secret.starts_with("wcs_"));
    assert!(created.app.id.starts_with("app_"));
    let listed = admin.list_apps().send().await.unwrap().into_inner();
    assert_eq!(listed.data.len(), 1);
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&created.client_secret)
    );

    for (scopes, field) in [(vec!["catalog:fly"], "scopes[0]"), (vec![], "scopes")] {
        let p = problem_of(
            admin
                .create_app()
                .body(credential("x", &scopes))
                .send()
                .await,
        )
        .await;
        assert_eq!((p.status, p.errors[0].field.as_str()), (422, field));
    }

    let token_url = app.url("/v1/oauth/token");
    let form = |pairs: &[(&str, &str)]| {
        app.http.post(&token_url).form(
            &pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>(),
        )
    };
    let id = created.app.client_id.as_str();
    let secret = created.client_secret.as_str();

    // client_secret_post, all scopes.
    let resp = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ])
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let grant: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(grant["token_type"], "Bearer");
    assert_eq!(grant["expires_in"], 900);
    assert_eq!(grant["scope"], "customers:read orders:read");
    let full_token = grant["access_token"].as_str().unwrap().to_owned();

    // client_secret_basic, narrowed scope, through the SDK.
    let narrowed = app
        .http
        .post(&token_url)
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "orders:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(narrowed.status(), 200);
    let narrowed: serde_json::Value = narrowed.json().await.unwrap();
    assert_eq!(narrowed["scope"], "orders:read");

    // RFC 6749 §5.2 errors.
    for (case, request, status, error) in [
        (
            "wrong secret",
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", "wcs_nope"),
            ]),
            401,
            "invalid_client",
        ),
        (
            "unknown client",
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "wc_nope"),
                ("client_secret", secret),
            ]),
            401,
            "invalid_client",
        ),
        (
            "no client",
            form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            "password grant",
            form(&[
                ("grant_type", "password"),
                ("client_id", id),
                ("client_secret", secret),
            ]),
            400,
            "unsupported_grant_type",
        ),
        (
            "no grant type",
            form(&[("client_id", id), ("client_secret", secret)]),
            400,
            "invalid_request",
        ),
        (
            "scope not granted",
            form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("scope", "orders:write"),
            ]),
            400,
            "invalid_scope",
        ),
        (
            "two auth methods",
            form(&[
                ("grant_type", "client_credentials"),
                ("client_secret", secret),
            ])
            .basic_auth(id, Some(secret)),
            400,
            "invalid_request",
        ),
    ] {
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), status, "{case}");
        if status == 401 {
            assert!(resp.headers().contains_key("www-authenticate"), "{case}");
        }
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"], error, "{case}: {body}");
        assert!(body["error_description"].is_string(), "{case}");
    }

    // The app acts for the shop within its scopes, never as a person or an admin.
    let as_app = authed(&app, &full_token);
    let users = as_app.list_users().send().await.unwrap().into_inner();
    let first = &users.data[0];
    let one = as_app
        .get_user()
        .id(&first.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (one.id.as_str(), one.email.as_str()),
        (first.id.as_str(), first.email.as_str())
    );
    let p = problem_of(as_app.get_user().id("usr_nobody").send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "user_not_found"));
    let p = problem_of(
        authed(&app, narrowed["access_token"].as_str().unwrap())
            .get_user()
            .id(&first.id)
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (403, "missing_scope"));
    let p = problem_of(as_app.get_me().send().await).await;
    assert_eq!((p.status, p.code.as_str()), (403, "forbidden"));
    let p = problem_of(
        as_app
            .update_user()
            .id("usr_0")
            .body(UpdateUserRequest {
                role: "admin".into(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (403, "forbidden"));
    let p = problem_of(
        authed(&app, narrowed["access_token"].as_str().unwrap())
            .list_users()
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (403, "missing_scope"));
    assert!(p.detail.contains("customers:read"), "{}", p.detail);

    // Revoked: its live token stops at once.
    admin.revoke_app().id(&created.app.id).send().await.unwrap();
    let p = problem_of(as_app.list_users().send().await).await;
    assert_eq!(p.status, 401);
    let resp = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ])
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 401);
    let p = problem_of(admin.revoke_app().id(&created.app.id).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "app_not_found"));
    assert!(
        admin
            .list_apps()
            .send()
            .await
            .unwrap()
            .into_inner()
            .data
            .is_empty()
    );
}

async fn api_keys_are_shown_once_work_at_once_and_die_at_once(app: TestApp) {
    let (admin, _, _) = enrolled_admin(&app, "keys@example.com").await;
    let admin = authed(&app, &admin.access_token);
    let created = admin
        .create_api_key()
        .body(credential("Warehouse", &["customers:read"]))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(created.key.starts_with("wk_live_"), "{}", created.key);
    assert!(created.key.starts_with(&created.api_key.prefix));
    assert!(created.key.len() > 40);
    assert_eq!(created.api_key.last_used_at, None);

    authed(&app, &created.key)
        .list_users()
        .send()
        .await
        .unwrap();
    let by_header = app
        .http
        .get(app.url("/v1/admin/users"))
        .header("x-api-key", &created.key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);

    let listed = admin.list_api_keys().send().await.unwrap().into_inner();
    assert_eq!(listed.data.len(), 1);
    assert!(
        listed.data[0].last_used_at.is_some(),
        "the use was recorded"
    );
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&created.key)
    );
    let stored =
        crate::support::stored_strings(&app, "SELECT key_hash AS v FROM identity_api_keys").await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&created.key[8..]), "stored as a digest");

    // A key with other scopes is refused by name; a made-up key is a guest.
    let other = admin
        .create_api_key()
        .body(credential("Catalog feed", &["catalog:read"]))
        .send()
        .await
        .unwrap()
        .into_inner();
    let p = problem_of(authed(&app, &other.key).list_users().send().await).await;
    assert_eq!((p.status, p.code.as_str()), (403, "missing_scope"));
    let p = problem_of(authed(&app, "wk_live_madeup").list_users().send().await).await;
    assert_eq!(p.status, 401);

    admin
        .revoke_api_key()
        .id(&created.api_key.id)
        .send()
        .await
        .unwrap();
    let p = problem_of(authed(&app, &created.key).list_users().send().await).await;
    assert_eq!(
        (p.status, p.code.as_str()),
        (401, "unauthenticated"),
        "revoked at once"
    );
    let p = problem_of(admin.revoke_api_key().id(&created.api_key.id).send().await).await;
    assert_eq!((p.status, p.code.as_str()), (404, "api_key_not_found"));
    let left = admin.list_api_keys().send().await.unwrap().into_inner();
    assert_eq!(left.data.len(), 1);
    assert_eq!(left.data[0].id, other.api_key.id);
}

async fn admins_change_roles_but_not_their_own(app: TestApp) {
    let (admin_session, _, _) = enrolled_admin(&app, "chief@example.com").await;
    let admin = authed(&app, &admin_session.access_token);
    let shopper = customer(&app, "promoted@example.com").await;

    let p = problem_of(
        admin
            .update_user()
            .id(&admin_session.user.id)
            .body(UpdateUserRequest {
                role: "customer".into(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (409, "cannot_change_own_role"));
    let p = problem_of(
        admin
            .update_user()
            .id(&shopper.user.id)
            .body(UpdateUserRequest {
                role: "owner".into(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "role"));
    let p = problem_of(
        admin
            .update_user()
            .id("usr_00000000000000000000000000000000")
            .body(UpdateUserRequest {
                role: "admin".into(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "user_not_found"));

    let promoted = admin
        .update_user()
        .id(&shopper.user.id)
        .body(UpdateUserRequest {
            role: "admin".into(),
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(promoted.role, "admin");
    // Their sessions ended; signing in again gives an admin who must enrol TOTP.
    let p = problem_of(
        app.client
            .refresh()
            .body(RefreshRequest {
                refresh_token: shopper.refresh_token.clone(),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!(p.status, 401);
    let again = app
        .client
        .login()
        .body(LoginRequest {
            email: "promoted@example.com".into(),
            password: "linen-and-wool-2026".into(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.user.role, "admin");
    let p = problem_of(authed(&app, &again.access_token).list_users().send().await).await;
    assert_eq!(p.code, "mfa_enrollment_required");
}

async fn every_admin_endpoint_refuses_guests_and_customers(app: TestApp) {
    let shopper = customer(&app, "nosy@example.com").await;
    let credential = serde_json::json!({"name": "x", "scopes": ["catalog:read"]});
    let role = serde_json::json!({"role": "admin"});
    let endpoints: Vec<(reqwest::Method, String, Option<serde_json::Value>)> = vec![
        (reqwest::Method::GET, "/v1/admin/users".into(), None),
        (
            reqwest::Method::PATCH,
            format!("/v1/admin/users/{}", shopper.user.id),
            Some(role),
        ),
        (reqwest::Method::GET, "/v1/admin/apps".into(), None),
        (
            reqwest::Method::POST,
            "/v1/admin/apps".into(),
            Some(credential.clone()),
        ),
        (reqwest::Method::DELETE, "/v1/admin/apps/app_0".into(), None),
        (reqwest::Method::GET, "/v1/admin/api-keys".into(), None),
        (
            reqwest::Method::POST,
            "/v1/admin/api-keys".into(),
            Some(credential),
        ),
        (
            reqwest::Method::DELETE,
            "/v1/admin/api-keys/key_0".into(),
            None,
        ),
    ];
    for (method, path, body) in endpoints {
        for (who, token, status, code) in [
            ("guest", None, 401, "unauthenticated"),
            (
                "customer",
                Some(shopper.access_token.as_str()),
                403,
                "forbidden",
            ),
        ] {
            let mut request = app.http.request(method.clone(), app.url(&path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            let resp = request.send().await.unwrap();
            assert_eq!(resp.status(), status, "{who} {method} {path}");
            assert_eq!(
                resp.headers()["content-type"],
                "application/problem+json",
                "{who} {method} {path}"
            );
            let problem: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(problem["code"], code, "{who} {method} {path}");
        }
    }
    // Refused before the body is read: a malformed one changes nothing.
    for (token, status) in [(None, 401), (Some(shopper.access_token.as_str()), 403)] {
        let mut request = app
            .http
            .post(app.url("/v1/admin/products"))
            .header("content-type", "application/json")
            .body("{not json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status(), status);
    }
    // Nothing was written by the refused calls.
    assert!(
        crate::support::stored_strings(&app, "SELECT id AS v FROM identity_apps")
            .await
            .is_empty()
    );
    assert!(
        crate::support::stored_strings(&app, "SELECT id AS v FROM identity_api_keys")
            .await
            .is_empty()
    );
    assert_eq!(
        crate::support::stored_strings(&app, "SELECT role AS v FROM identity_users").await,
        ["customer"]
    );
}

/// Writes anyone may make: sign-up and sign-in, the OAuth token endpoint, guest carts and
/// checkouts, the signed payment webhooks, and marketing e-mail's one-click unsubscribe
/// (its sealed token is the proof). Every other write in the served document is guarded,
/// so a new endpoint is covered here without being listed.
const OPEN_WRITES: &[&str] = &[
    "/v1/auth/",
    "/v1/oauth/token",
    "/v1/carts",
    "/v1/checkouts",
    "/v1/webhooks/",
    "/v1/notifications/unsubscribe",
];

async fn every_guarded_write_refuses_the_caller_before_reading_the_body(app: TestApp) {
    let shopper = customer(&app, "prober@example.com").await;
    let mut spec: serde_json::Value = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The cluster's internal endpoints are served too, and guarded the same way.
    let internal: serde_json::Value = serde_json::from_str(&weft::openapi_internal_json()).unwrap();
    let paths = spec["paths"].as_object_mut().unwrap();
    for (path, operations) in internal["paths"].as_object().unwrap() {
        paths.insert(path.clone(), operations.clone());
    }
    let bodies: [(&str, Option<&str>, &str); 4] = [
        ("malformed json", Some("application/json"), "{not json"),
        ("missing fields", Some("application/json"), "{}"),
        ("wrong content type", Some("text/plain"), "hello"),
        ("no content type", None, "{}"),
    ];
    let mut checked = 0;
    for (template, operations) in spec["paths"].as_object().unwrap() {
        if OPEN_WRITES.iter().any(|open| template.starts_with(open)) {
            continue;
        }
        // Any value for the path's ids: refusal comes before the resource is looked up.
        let path = template
            .split('/')
            .map(|s| if s.starts_with('{') { "x_0" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        // A customer's own writes: their account, their orders, their reviews.
        let personal = template.starts_with("/v1/me")
            || template.starts_with("/v1/orders")
            || template.starts_with("/v1/reviews")
            || (template.starts_with("/v1/products/") && template.contains("/reviews"));
        for method in operations.as_object().unwrap().keys() {
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            if method == reqwest::Method::GET {
                continue;
            }
            let mut callers = vec![("guest", None, 401, "unauthenticated")];
            if !personal {
                callers.push((
                    "customer",
                    Some(shopper.access_token.as_str()),
                    403,
                    "forbidden",
                ));
            }
            for (who, token, status, code) in &callers {
                for (case, content_type, body) in bodies {
                    let mut request = app.http.request(method.clone(), app.url(&path)).body(body);
                    if let Some(content_type) = content_type {
                        request = request.header("content-type", content_type);
                    }
                    if let Some(token) = token {
                        request = request.bearer_auth(token);
                    }
                    let resp = request.send().await.unwrap();
                    let got = resp.status().as_u16();
                    let problem: serde_json::Value = resp.json().await.unwrap();
                    assert_eq!(
                        (got, problem["code"].as_str()),
                        (*status, Some(*code)),
                        "{who}, {case}: {method} {template}: {problem}"
                    );
                    checked += 1;
                }
            }
        }
    }
    // The nine internal writes, the back office's and the personal ones, at least.
    assert!(checked > 200, "only {checked} requests made");
}

async fn the_token_endpoint_answers_rfc6749_errors_to_any_unusable_body(app: TestApp) {
    let cases: [(&str, Option<&str>, &str); 4] = [
        (
            "a JSON body",
            Some("application/json"),
            r#"{"grant_type": "client_credentials"}"#,
        ),
        ("no content type", None, "grant_type=client_credentials"),
        ("plain text", Some("text/plain"), "hello"),
        (
            "a form that is not one",
            Some("application/x-www-form-urlencoded"),
            "grant_type=a&grant_type=b",
        ),
    ];
    for (case, content_type, body) in cases {
        let mut request = app.http.post(app.url("/v1/oauth/token")).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 400, "{case}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/json; charset=utf-8",
            "{case}"
        );
        assert_eq!(resp.headers()["cache-control"], "no-store", "{case}");
        let error: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(error["error"], "invalid_request", "{case}: {error}");
        assert!(
            error["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{case}: {error}"
        );
        assert_eq!(
            error.as_object().unwrap().len(),
            2,
            "only RFC 6749 fields: {error}"
        );
    }
}
