use weft_testkit::{Backend, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_budget_gets_429_with_retry_after_and_probes_are_exempt() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.rate_limit_per_minute = 3)
        .await
        .unwrap();
    for i in 0..3 {
        let resp = app.http.get(app.url("/v1/meta")).send().await.unwrap();
        assert_eq!(resp.status(), 200, "request {i} is within the budget");
    }
    let resp = app.http.get(app.url("/v1/meta")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=20).contains(&retry_after),
        "3/min refills one every 20 s: {retry_after}"
    );
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(body["status"], 429);

    // Through the SDK the refusal is a typed problem.
    match app.client.get_meta().send().await {
        Err(weft_sdk::Error::ErrorResponse(problem)) => {
            assert_eq!(problem.status(), 429);
            assert_eq!(problem.code, "rate_limited");
        }
        other => panic!("expected a 429 problem, got {other:?}"),
    }

    // Orchestrators' probes and scrapers are never throttled.
    for _ in 0..5 {
        assert_eq!(
            app.http
                .get(app.url("/health/ready"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(
            app.http
                .get(app.url("/metrics"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_turns_rate_limiting_off() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.rate_limit_per_minute = 0)
        .await
        .unwrap();
    for _ in 0..150 {
        assert_eq!(
            app.http
                .get(app.url("/v1/meta"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}
