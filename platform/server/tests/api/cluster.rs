//! The cluster backends from the outside: Redis shared by processes, and what a process
//! does when Redis or RabbitMQ is missing.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use weft_testkit::{WeftProcess, in_ci};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_weft"))
}

fn redis_url() -> Option<String> {
    match std::env::var("WEFT_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(!in_ci(), "WEFT_TEST_REDIS_URL is unset under CI=true");
            eprintln!("skipped: WEFT_TEST_REDIS_URL unset (Redis scenario not run)");
            None
        }
    }
}

fn namespace() -> String {
    format!("t{}", uuid::Uuid::now_v7().simple())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_redis_share_one_rate_limit_budget() {
    let Some(redis) = redis_url() else { return };
    let ns = namespace();
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let envs = [
        ("WEFT_REDIS_URL", redis.as_str()),
        ("WEFT_NAMESPACE", ns.as_str()),
        ("WEFT_RATE_LIMIT_PER_MINUTE", "5"),
    ];
    let a = WeftProcess::serve(
        bin(),
        &["--data-dir", a_dir.path().to_str().unwrap()],
        &envs,
    );
    let b = WeftProcess::serve(
        bin(),
        &["--data-dir", b_dir.path().to_str().unwrap()],
        &envs,
    );
    let http = reqwest::Client::new();
    let get = |base: String| {
        let http = http.clone();
        async move { http.get(format!("{base}/v1/meta")).send().await.unwrap() }
    };
    for base in [
        a.address(),
        b.address(),
        a.address(),
        b.address(),
        a.address(),
    ] {
        assert_eq!(get(base).await.status(), 200);
    }
    // The sixth request within the minute is refused, whichever process gets it.
    for base in [b.address(), a.address()] {
        let resp = get(base).await;
        assert_eq!(resp.status(), 429);
        assert!(resp.headers().contains_key("retry-after"));
    }
}

/// A redis-server of this test's own, so it can be killed.
struct OwnRedis(Child);

impl OwnRedis {
    fn start(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        let redis = Self(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(redis);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_dies_the_shop_keeps_serving_and_reports_itself_degraded() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(redis) = OwnRedis::start(port) else {
        assert!(!in_ci(), "redis-server must be installed in CI");
        eprintln!("skipped: redis-server not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let weft = WeftProcess::serve(
        bin(),
        &["--data-dir", dir.path().to_str().unwrap()],
        &[
            ("WEFT_REDIS_URL", url.as_str()),
            ("WEFT_RATE_LIMIT_PER_MINUTE", "1000"),
        ],
    );
    let client = weft_sdk::Client::new(&weft.address());
    let ready = client.get_health_ready().send().await.unwrap().into_inner();
    assert_eq!(ready.status, weft_sdk::types::ReadinessStatus::Up);
    assert_eq!(client.get_meta().send().await.unwrap().cache, "redis");

    drop(redis);

    // Rate limiting and caching fall through; requests keep succeeding.
    for _ in 0..5 {
        client
            .get_meta()
            .send()
            .await
            .expect("served without Redis");
    }
    let resp = reqwest::get(format!("{}/health/ready", weft.address()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "degraded is still ready");
    let ready: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(ready["status"], "degraded");
    let cache = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cache")
        .unwrap();
    assert_eq!(cache["status"], "down");
    let metrics = reqwest::get(format!("{}/metrics", weft.address()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("cache_errors_total{")),
        "counted in /metrics"
    );
}

#[test]
fn an_unreachable_redis_or_rabbitmq_stops_start_up_unless_starting_degraded_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    for (var, url, setting) in [
        ("WEFT_REDIS_URL", "redis://127.0.0.1:1", "redis_url"),
        (
            "WEFT_AMQP_URL",
            "amqp://guest:guest@127.0.0.1:1/%2f",
            "amqp_url",
        ),
    ] {
        let out = Command::new(bin())
            .args([
                "serve",
                "--port",
                "0",
                "--data-dir",
                dir.path().to_str().unwrap(),
            ])
            .env(var, url)
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{setting}: refused to start");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(setting) && stderr.contains("start_degraded"),
            "{setting}: {stderr}"
        );
        assert!(
            !stderr.contains("guest:guest"),
            "no credentials in the message: {stderr}"
        );
    }

    let weft = WeftProcess::serve(
        bin(),
        &["--data-dir", dir.path().to_str().unwrap()],
        &[
            ("WEFT_REDIS_URL", "redis://127.0.0.1:1"),
            ("WEFT_AMQP_URL", "amqp://guest:guest@127.0.0.1:1/%2f"),
            ("WEFT_START_DEGRADED", "true"),
        ],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ready: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("{}/health/ready", weft.address()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(ready["status"], "degraded");
    let down: Vec<&str> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "down")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(down, ["cache", "events"]);
}

/// Processes of a cluster share one keys directory (a mounted secret): each verifies the
/// tokens the others sign and opens the personal data they sealed. A process with other
/// keys trusts none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_keys_dir_trust_each_others_tokens_and_read_each_others_pii() {
    let Some(admin_url) = weft_testkit::postgres_admin_url() else {
        eprintln!("skipped: WEFT_TEST_DATABASE_URL unset (shared-keys scenario not run)");
        return;
    };
    let database = weft_storage::testing::TestDatabase::postgres(&admin_url)
        .await
        .unwrap();
    let url = database.url().unwrap().to_owned();
    let keys = tempfile::tempdir().unwrap();
    let (a_dir, b_dir, c_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let shared = [
        ("WEFT_DATABASE_URL", url.as_str()),
        ("WEFT_KEYS_DIR", keys.path().to_str().unwrap()),
    ];
    let a = WeftProcess::serve(
        bin(),
        &["--data-dir", a_dir.path().to_str().unwrap()],
        &shared,
    );
    let b = WeftProcess::serve(
        bin(),
        &["--data-dir", b_dir.path().to_str().unwrap()],
        &shared,
    );
    let c = WeftProcess::serve(
        bin(),
        &["--data-dir", c_dir.path().to_str().unwrap()],
        &[("WEFT_DATABASE_URL", url.as_str())],
    );
    let http = reqwest::Client::new();
    let session: serde_json::Value = http
        .post(format!("{}/v1/auth/register", a.address()))
        .json(&serde_json::json!({"email": "shared@example.com", "password": "linen-and-wool-2026", "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap();
    let resp = http
        .patch(format!("{}/v1/me", a.address()))
        .bearer_auth(token)
        .json(&serde_json::json!({"phone": "+44 20 7946 0958"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let me: serde_json::Value = http
        .get(format!("{}/v1/me", b.address()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["phone"], "+442079460958",
        "B verified A's token and opened A's seal: {me}"
    );
    let jwks = |base: String| {
        let http = http.clone();
        async move {
            http.get(format!("{base}/.well-known/jwks.json"))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(jwks(a.address()).await, jwks(b.address()).await);

    let foreign = http
        .get(format!("{}/v1/me", c.address()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        foreign.status(),
        401,
        "C has its own keys and does not trust A's"
    );
    assert_ne!(jwks(a.address()).await, jwks(c.address()).await);
}

/// Rotation: a newer key file takes over signing and sealing, while tokens and data from
/// the older keys stay good; once the old signing key is removed its tokens are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_without_breaking_live_tokens_or_sealed_data() {
    let data = tempfile::tempdir().unwrap();
    let keys = data.path().join("keys");
    let args = ["--data-dir", data.path().to_str().unwrap()];
    let mut first = WeftProcess::serve(bin(), &args, &[]);
    let http = reqwest::Client::new();
    let get = |base: String, path: &'static str, token: String| {
        let http = http.clone();
        async move {
            http.get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let kid_of = |token: &str| -> String {
        use base64::Engine as _;
        let header = token.split('.').next().unwrap();
        let header: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(header)
                .unwrap(),
        )
        .unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };

    let session: serde_json::Value = http
        .post(format!("{}/v1/auth/register", first.address()))
        .json(&serde_json::json!({"email": "rotate@example.com", "password": "linen-and-wool-2026", "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old_token = session["access_token"].as_str().unwrap().to_owned();
    let resp = http
        .patch(format!("{}/v1/me", first.address()))
        .bearer_auth(&old_token)
        .json(&serde_json::json!({"phone": "+49 30 1234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    first.signal_and_wait(15);
    let old_kid = kid_of(&old_token);

    // An operator adds newer keys (kids sort by time).
    let new_kid = format!("k{}", uuid::Uuid::now_v7().simple());
    assert!(new_kid > old_kid);
    let hex = |byte: u8| format!("{byte:02x}").repeat(32);
    std::fs::write(keys.join(format!("{new_kid}.ed25519")), hex(7)).unwrap();
    std::fs::write(keys.join(format!("{new_kid}.aes256")), hex(9)).unwrap();

    let mut second = WeftProcess::serve(bin(), &args, &[]);
    let me = get(second.address(), "/v1/me", old_token.clone()).await;
    assert_eq!(me.status(), 200, "a token of the old key still works");
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(
        me["phone"], "+49301234567",
        "data sealed with the old key still opens"
    );
    let fresh: serde_json::Value = http
        .post(format!("{}/v1/auth/login", second.address()))
        .json(
            &serde_json::json!({"email": "rotate@example.com", "password": "linen-and-wool-2026"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_token = fresh["access_token"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&new_token), new_kid, "the newest key signs");
    let jwks: serde_json::Value = http
        .get(format!("{}/.well-known/jwks.json", second.address()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
    second.signal_and_wait(15);

    // After the old tokens' 15 minutes, the old signing key goes.
    std::fs::remove_file(keys.join(format!("{old_kid}.ed25519"))).unwrap();
    let third = WeftProcess::serve(bin(), &args, &[]);
    assert_eq!(
        get(third.address(), "/v1/me", old_token).await.status(),
        401
    );
    assert_eq!(
        get(third.address(), "/v1/me", new_token).await.status(),
        200
    );
}

/// A gateway with `peers.identity` verifies people's tokens by identity's published keys:
/// a token of a key it has not seen (identity rotated, then restarted) makes it fetch
/// the keys again, with no restart of its own; a forged one is refused at the edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_on_identitys_jwks_follows_a_key_rotation_and_refuses_forgeries() {
    let data = tempfile::tempdir().unwrap();
    let keys = data.path().join("keys");
    let mut shop = WeftProcess::serve(bin(), &["--data-dir", data.path().to_str().unwrap()], &[]);
    let gateway_dir = tempfile::tempdir().unwrap();
    crate::processes::migrate(gateway_dir.path(), Some("gateway"));
    let upstream = shop.address();
    let gateway = WeftProcess::serve(
        bin(),
        &[
            "--service",
            "gateway",
            "--data-dir",
            gateway_dir.path().to_str().unwrap(),
        ],
        &[
            ("WEFT_PEERS__IDENTITY", upstream.as_str()),
            ("WEFT_GATEWAY__SERVICES__IDENTITY", upstream.as_str()),
            ("WEFT_RATE_LIMIT_PER_MINUTE", "0"),
        ],
    );
    let front = gateway.address();
    let http = reqwest::Client::new();
    let sign_in = |path: &'static str| {
        let (http, front) = (http.clone(), front.clone());
        async move {
            let mut body = serde_json::json!({"email": "edge@example.com",
                "password": "linen-and-wool-2026"});
            if path.ends_with("register") {
                body["name"] = "Ada".into();
            }
            let resp = http
                .post(format!("{front}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            let session: serde_json::Value = resp.json().await.unwrap();
            session["access_token"].as_str().unwrap().to_owned()
        }
    };
    let me = |token: String| {
        let (http, front) = (http.clone(), front.clone());
        async move {
            http.get(format!("{front}/v1/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let old_token = sign_in("/v1/auth/register").await;
    let fetched = std::time::Instant::now();
    assert_eq!(me(old_token.clone()).await.status(), 200);

    // Identity rotates: a newer key signs from its restart on.
    let new_kid = format!("k{}", uuid::Uuid::now_v7().simple());
    std::fs::write(
        keys.join(format!("{new_kid}.ed25519")),
        format!("{:02x}", 7u8).repeat(32),
    )
    .unwrap();
    shop.restart();
    // The gateway refetches at most every few seconds (forged key ids cannot flood it).
    let wait = weft_identity::client::REFETCH_AFTER.saturating_sub(fetched.elapsed());
    tokio::time::sleep(wait).await;
    let new_token = sign_in("/v1/auth/login").await;
    assert!(
        new_token.split('.').next() != old_token.split('.').next(),
        "another key"
    );
    assert_eq!(
        me(new_token.clone()).await.status(),
        200,
        "the new key, unseen before"
    );
    assert_eq!(
        me(old_token).await.status(),
        200,
        "the old key still verifies"
    );

    // Signed by no key of identity's: refused at the gateway, which names the reason.
    let mut parts: Vec<&str> = new_token.split('.').collect();
    let forged_signature = "A".repeat(parts[2].len());
    parts[2] = &forged_signature;
    let refused = me(parts.join(".")).await;
    assert_eq!(refused.status(), 401);
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_token");
}
