//! Social sign-in end to end against a real OpenID Connect provider (`oidc-provider` from
//! npm, started here): the redirect to the provider with PKCE and state, the provider's
//! own sign-in and consent, the code exchange, userinfo, and linking by verified email.

use std::collections::HashMap;

use weft_config::ProviderSettings;
use weft_testkit::oidc::{OidcClient, OidcProvider};
use weft_testkit::{Backend, TestApp, in_ci, spawn_app_with};

use crate::support::{create_admin, customer, problem_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_sign_in_on_sqlite() {
    social_sign_in(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn social_sign_in_on_postgres() {
    social_sign_in(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sign_in_provider_is_listed_or_started_unless_configured() {
    let app = weft_testkit::spawn_app(Backend::Sqlite).await.unwrap();
    let listed = app.client.list_sign_in_providers().send().await.unwrap();
    assert!(listed.into_inner().data.is_empty());
    let p = problem_of(
        app.client
            .oauth_start()
            .provider("google")
            .send()
            .await
            .map(|_| "a redirect"),
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (404, "unknown_provider"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn social_sign_in(backend: Backend) {
    let port = free_port();
    let callback =
        |provider: &str| format!("http://127.0.0.1:{port}/v1/auth/oauth/{provider}/callback");
    let provider = match OidcProvider::start(&[
        OidcClient {
            client_id: "weft-google".into(),
            client_secret: "google-secret-for-tests".into(),
            redirect_uris: vec![callback("google")],
            token_endpoint_auth_method: "client_secret_basic".into(),
        },
        OidcClient {
            client_id: "weft-facebook".into(),
            client_secret: "facebook-secret-for-tests".into(),
            redirect_uris: vec![callback("facebook")],
            token_endpoint_auth_method: "client_secret_post".into(),
        },
    ]) {
        Ok(p) => p,
        Err(why) => {
            assert!(!in_ci(), "the OIDC provider must run under CI=true: {why}");
            eprintln!("skipped: local OIDC provider unavailable ({why})");
            return;
        }
    };
    let issuer = provider.issuer.clone();
    let settings = |client_id: &str, secret: &str, name: &str| ProviderSettings {
        client_id: client_id.into(),
        client_secret: secret.into(),
        redirect_url: callback(name),
        auth_url: Some(format!("{issuer}/auth")),
        token_url: Some(format!("{issuer}/token")),
        userinfo_url: Some(format!("{issuer}/me")),
        scopes: Some(vec!["openid".into(), "email".into(), "profile".into()]),
    };
    let google = settings("weft-google", "google-secret-for-tests", "google");
    let facebook = settings("weft-facebook", "facebook-secret-for-tests", "facebook");
    let Some(app) = spawn_app_with(backend, |s| {
        s.port = port;
        s.social.google = Some(google);
        s.social.facebook = Some(facebook);
    })
    .await
    else {
        return;
    };

    // The configured providers are listed, for a storefront's buttons.
    let listed = app
        .client
        .list_sign_in_providers()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data;
    let listed: Vec<(&str, &str, &str)> = listed
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str(), p.start_path.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("facebook", "Facebook", "/v1/auth/oauth/facebook/start"),
            ("google", "Google", "/v1/auth/oauth/google/start"),
        ]
    );

    // The redirect carries PKCE (S256), a state and the hint.
    let start = app
        .http
        .get(app.url("/v1/auth/oauth/google/start?login_hint=alice@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/auth?", provider.issuer)),
        "{location}"
    );
    let query: HashMap<String, String> = url_query(&location);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["client_id"], "weft-google");
    assert!(query["state"].len() >= 40);
    assert_eq!(query["login_hint"], "alice@example.com");

    // A new customer, created from the verified email; signing in again finds them by
    // the provider's subject.
    let first = sign_in(&app, "google", Some("alice@example.com")).await;
    assert_eq!(first.status(), 200);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["user"]["email"], "alice@example.com");
    assert_eq!(first["user"]["role"], "customer");
    assert_eq!(
        first["user"]["email_verified"], true,
        "the provider vouched for the address"
    );
    let again: serde_json::Value = sign_in(&app, "google", Some("alice@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["user"]["id"], first["user"]["id"]);
    let export: serde_json::Value = app
        .http
        .get(app.url("/v1/me/export"))
        .bearer_auth(first["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["linked_accounts"][0]["provider"], "google");

    // An existing password account is linked by its verified email, through Facebook's
    // client too (which sends its secret in the form).
    let bob = customer(&app, "bob@example.com").await;
    assert!(!bob.user.email_verified);
    let linked: serde_json::Value = sign_in(&app, "facebook", Some("bob@example.com"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(linked["user"]["id"], bob.user.id.as_str());
    assert_eq!(
        linked["user"]["email_verified"], true,
        "linking by a vouched-for address verifies it"
    );

    // Unverified email: no account is created or linked.
    let resp = sign_in(&app, "google", Some("unverified.carol@example.com")).await;
    assert_eq!(resp.status(), 403);
    let p: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(p["code"], "email_not_verified");

    // The person declined at the provider.
    let resp = sign_in(&app, "google", None).await;
    assert_eq!(resp.status(), 401);
    let p: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(p["code"], "oauth_denied");

    // A callback is good once, and only with a state Weft issued.
    let callback_url = provider_round_trip(&app, "google", Some("dave@example.com")).await;
    let resp = app.http.get(&callback_url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let replay = app.http.get(&callback_url).send().await.unwrap();
    assert_eq!(replay.status(), 401, "replayed callback");
    let p: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(p["code"], "invalid_oauth_state");
    let p = problem_of(
        app.client
            .oauth_callback()
            .provider("google")
            .code("whatever")
            .state("forged")
            .send()
            .await,
    )
    .await;
    assert_eq!((p.status, p.code.as_str()), (401, "invalid_oauth_state"));
    // A state issued for one provider does not finish at another.
    let google_callback = provider_round_trip(&app, "google", Some("erin@example.com")).await;
    let crossed = google_callback.replace("/oauth/google/", "/oauth/facebook/");
    let resp = app.http.get(&crossed).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    let resp = app
        .http
        .get(app.url("/v1/auth/oauth/twitter/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let p: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(p["code"], "unknown_provider");

    // Admins need their second factor, which cannot ride along a redirect.
    let out = create_admin(&app, "frank@example.com", "tailor-made-2026!");
    assert!(out.status.success());
    let resp = sign_in(&app, "google", Some("frank@example.com")).await;
    assert_eq!(resp.status(), 401);
    let p: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(p["code"], "totp_required");
    drop(provider);
}

fn url_query(url: &str) -> HashMap<String, String> {
    let parsed = reqwest::Url::parse(url).unwrap();
    parsed.query_pairs().into_owned().collect()
}

/// Starts at Weft, walks the provider's redirects like a browser (keeping its cookies),
/// and returns the URL the provider sends back to Weft's callback.
async fn provider_round_trip(app: &TestApp, provider: &str, hint: Option<&str>) -> String {
    let start = match hint {
        Some(hint) => format!("/v1/auth/oauth/{provider}/start?login_hint={hint}"),
        None => format!("/v1/auth/oauth/{provider}/start"),
    };
    let resp = app.http.get(app.url(&start)).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let mut url = resp.headers()["location"].to_str().unwrap().to_owned();
    let mut cookies: HashMap<String, String> = HashMap::new();
    for _ in 0..20 {
        if url.starts_with(&app.address) {
            return url;
        }
        let cookie_header = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let resp = app
            .http
            .get(&url)
            .header("cookie", cookie_header)
            .send()
            .await
            .unwrap();
        for set in resp.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                cookies.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
        assert!(
            resp.status().is_redirection(),
            "the provider stopped at {url} with {}",
            resp.status()
        );
        let next = resp.headers()["location"].to_str().unwrap();
        url = reqwest::Url::parse(&url)
            .unwrap()
            .join(next)
            .unwrap()
            .to_string();
    }
    panic!("too many redirects");
}

async fn sign_in(app: &TestApp, provider: &str, hint: Option<&str>) -> reqwest::Response {
    let callback = provider_round_trip(app, provider, hint).await;
    app.http.get(&callback).send().await.unwrap()
}
