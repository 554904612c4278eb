//! A `weft` process SIGKILLed at every step of a checkout's completion in turn: after a
//! restart, each checkout is either a paid order with its stock committed, or fully
//! undone — nothing held, nothing charged, no order. Never anything in between.

use std::path::Path;
use std::time::{Duration, Instant};

use weft_testkit::WeftProcess;

use crate::purchase::{complete, ready_checkout, stock, variant};
use crate::support::authed_at;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_weft"))
}

/// The completion's steps, in order, and whether a run killed before each is finished
/// (from the pivot, `create_order`, on) or undone.
const STEPS: &[(&str, bool)] = &[
    ("validate_cart", false),
    ("reserve_stock", false),
    ("redeem_promotions", false),
    ("authorize_payment", false),
    ("create_order", true),
    ("capture_payment", true),
    ("commit_stock", true),
    ("close_cart", true),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_checkout_killed_at_any_step_is_finished_or_undone_after_a_restart() {
    killed_at_every_step(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_checkout_killed_at_any_step_is_finished_or_undone_after_a_restart() {
    let Some(url) = weft_testkit::postgres_admin_url() else {
        return;
    };
    let database = weft_storage::testing::TestDatabase::postgres(&url)
        .await
        .unwrap();
    killed_at_every_step(database.url()).await;
}

/// `database_url`: PostgreSQL (with Redis and RabbitMQ when configured), else SQLite.
async fn killed_at_every_step(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let namespace = format!("crash{}", uuid::Uuid::now_v7().simple());
    let env_of = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (redis, amqp) = match database_url {
        Some(_) => (env_of("WEFT_TEST_REDIS_URL"), env_of("WEFT_TEST_AMQP_URL")),
        None => (None, None),
    };
    let mut envs: Vec<(&str, String)> = vec![
        // Longer than killing a paused process takes, so its own recovery cannot take
        // the run over first; short enough for the restart to take it soon.
        ("WEFT_CHECKOUT__SAGA_LEASE_SECONDS", "3".into()),
        ("WEFT_CHECKOUT__RECOVERY_INTERVAL_SECONDS", "1".into()),
        ("WEFT_RATE_LIMIT_PER_MINUTE", "0".into()),
        ("WEFT_NAMESPACE", namespace.clone()),
    ];
    for (name, value) in [
        ("WEFT_DATABASE_URL", database_url.map(str::to_owned)),
        ("WEFT_REDIS_URL", redis),
        ("WEFT_AMQP_URL", amqp),
    ] {
        if let Some(v) = value {
            envs.push((name, v));
        }
    }

    // The shop is set up once, by a process on the same storage.
    let env: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut setup = WeftProcess::serve(bin(), &["--data-dir", &data_dir], &env);
    // The admin's session outlives the process: the signing keys are in the data dir.
    let token = admin_session(&setup.address(), &data_dir, database_url).await;
    let admin = authed_at(&setup.address(), &token);
    let shirt = variant(&admin, "CRASH-1", 100).await;
    assert!(setup.signal_and_wait(15).success());

    let mut orders_made = 0;
    for (step, finished) in STEPS {
        let mut with_pause = envs.clone();
        with_pause.push(("WEFT_CHECKOUT__PAUSE_BEFORE_STEP", (*step).to_owned()));
        let env: Vec<(&str, &str)> = with_pause.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut doomed = WeftProcess::serve(bin(), &["--data-dir", &data_dir], &env);
        let client = weft_sdk::Client::new(&doomed.address());
        let (_, checkout) = ready_checkout(&client, &[(&shirt, 2)]).await;
        let (on_hand, reserved) = stock(&client, &shirt).await;
        assert_eq!(reserved, 0, "{step}: nothing held before");
        let waiting = {
            let (client, checkout) = (client.clone(), checkout.clone());
            tokio::spawn(async move {
                complete(&client, &checkout, "tok_visa", &format!("crash-{checkout}")).await
            })
        };
        assert!(
            doomed
                .wait_for_log("paused before step", Duration::from_secs(20))
                .is_some(),
            "{step}: the saga did not reach the step"
        );
        doomed.kill();
        assert!(
            waiting.await.unwrap().is_err(),
            "{step}: the request died with it"
        );

        let env: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let restarted = WeftProcess::serve(bin(), &["--data-dir", &data_dir], &env);
        let settled = wait_for(&restarted, &checkout, Duration::from_secs(30));
        assert_eq!(
            settled.contains("saga completed"),
            *finished,
            "{step}: {settled}"
        );

        let client = weft_sdk::Client::new(&restarted.address());
        let admin = authed_at(&restarted.address(), &token);
        let view = client
            .get_checkout()
            .id(&checkout)
            .send()
            .await
            .unwrap()
            .into_inner();
        let payments = admin
            .list_payments()
            .checkout_id(&checkout)
            .send()
            .await
            .unwrap()
            .into_inner()
            .data;
        if *finished {
            orders_made += 1;
            let order_id = view
                .order_id
                .clone()
                .expect("a finished run made its order");
            let order = admin
                .admin_get_order()
                .id(&order_id)
                .send()
                .await
                .unwrap()
                .into_inner();
            assert_eq!(order.status, "paid", "{step}");
            assert_eq!(view.status, "completed", "{step}");
            assert_eq!(stock(&client, &shirt).await, (on_hand - 2, 0), "{step}");
            assert_eq!(payments.len(), 1, "{step}");
            assert_eq!(
                (payments[0].status.as_str(), payments[0].captured),
                ("captured", order.total.amount),
                "{step}"
            );
        } else {
            assert_eq!(
                (view.status.as_str(), view.order_id),
                ("open", None),
                "{step}"
            );
            assert_eq!(
                stock(&client, &shirt).await,
                (on_hand, 0),
                "{step}: released"
            );
            assert!(
                payments
                    .iter()
                    .all(|p| p.status == "voided" && p.captured == 0),
                "{step}: nothing charged: {payments:?}"
            );
        }
        let orders = admin
            .list_orders()
            .limit(100)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            orders.data.len(),
            orders_made,
            "{step}: one order per finished run"
        );
        assert!(orders.data.iter().all(|o| o.status == "paid"), "{step}");
    }
}

/// An admin made by the CLI, signed in and enrolled in TOTP at `address`: its token.
async fn admin_session(address: &str, data_dir: &str, database_url: Option<&str>) -> String {
    let (email, password) = ("crash-admin@example.com", "tailor-made-2026!");
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["admin", "create", "--email", email, "--data-dir", data_dir])
        .env("WEFT_ADMIN_PASSWORD", password)
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL");
    if let Some(url) = database_url {
        cmd.env("WEFT_DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::support::enrol(&weft_sdk::Client::new(address), address, email, password)
        .await
        .0
        .access_token
}

/// The log line where the restarted process settled `checkout`'s run.
fn wait_for(process: &WeftProcess, checkout: &str, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(line) = process.logs().into_iter().find(|l| {
            l.contains(checkout) && (l.contains("saga completed") || l.contains("saga compensated"))
        }) {
            return line;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{checkout} was not settled: {:?}", process.logs());
}
