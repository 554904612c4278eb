//! Per-IP, per-user and per-app budgets, with a stand-in authenticator (identity's
//! real one plugs into the same hook).

use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use weft_cache::Cache;
use weft_cache::memory::MemoryStore;

use crate::rate_limit::{Budgets, RateLimits};
use crate::{Authenticator, HttpStack, Principal, Role};

/// Trusts an `x-test-principal: usr_1` header: a test double for token checking.
struct HeaderAuthenticator;

#[async_trait::async_trait]
impl Authenticator for HeaderAuthenticator {
    async fn principal(&self, req: &poem::Request) -> Option<Principal> {
        let id = req
            .headers()
            .get("x-test-principal")?
            .to_str()
            .ok()?
            .to_owned();
        Some(if id.starts_with("app_peer") {
            Principal::app(id, vec!["internal".to_owned()])
        } else if id.starts_with("app_") {
            Principal::app(id, Vec::new())
        } else {
            Principal::user(id, Role::Customer)
        })
    }
}

fn client(budgets: Budgets) -> TestClient<crate::stack::Edge> {
    let cache = Cache::new(Arc::new(MemoryStore::new(16 * 1024 * 1024)));
    let stack = HttpStack {
        body_limit_bytes: 1024,
        large_bodies: Vec::new(),
        rate_limits: RateLimits::new(cache, budgets),
        // The in-memory client has no socket address; the test names the client IP.
        trust_forwarded_for: true,
        cors_origins: vec![],
        idempotency: None,
        authenticator: Some(Arc::new(HeaderAuthenticator)),
        front_door: false,
        serves: None,
        forwards: None,
        refuse_bad_credentials: false,
    };
    let ok = poem::endpoint::make_sync(|_| "ok");
    TestClient::new(stack.wrap(poem::Route::new().at("/v1/things", poem::get(ok))))
}

async fn status(client: &TestClient<crate::stack::Edge>, principal: Option<&str>) -> StatusCode {
    let mut req = client
        .get("/v1/things")
        .header("x-forwarded-for", "203.0.113.7");
    if let Some(p) = principal {
        req = req.header("x-test-principal", p);
    }
    req.send().await.0.status()
}

#[tokio::test]
async fn a_user_over_budget_is_refused_while_others_on_the_same_ip_are_not() {
    let c = client(Budgets {
        per_ip: 100,
        per_user: 2,
        per_app: 3,
    });
    assert_eq!(status(&c, Some("usr_a")).await, StatusCode::OK);
    assert_eq!(status(&c, Some("usr_a")).await, StatusCode::OK);
    assert_eq!(
        status(&c, Some("usr_a")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        status(&c, Some("usr_b")).await,
        StatusCode::OK,
        "each user has a budget"
    );
    assert_eq!(
        status(&c, None).await,
        StatusCode::OK,
        "guests count only against the IP"
    );
    for _ in 0..3 {
        assert_eq!(
            status(&c, Some("app_x")).await,
            StatusCode::OK,
            "apps have their own, larger budget"
        );
    }
    assert_eq!(
        status(&c, Some("app_x")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_ip_budget_still_caps_every_caller_behind_it() {
    let c = client(Budgets {
        per_ip: 3,
        per_user: 100,
        per_app: 100,
    });
    for user in ["usr_a", "usr_b", "usr_c"] {
        assert_eq!(status(&c, Some(user)).await, StatusCode::OK);
    }
    assert_eq!(
        status(&c, Some("usr_d")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_clusters_own_calls_count_against_no_budget() {
    let c = client(Budgets {
        per_ip: 2,
        per_user: 2,
        per_app: 2,
    });
    for _ in 0..10 {
        assert_eq!(status(&c, Some("app_peer")).await, StatusCode::OK);
    }
    assert_eq!(status(&c, Some("app_x")).await, StatusCode::OK);
    assert_eq!(status(&c, Some("app_x")).await, StatusCode::OK);
    assert_eq!(
        status(&c, Some("app_x")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the same IP, another app: counted"
    );
}
