//! Every failure a client can provoke is a problem+json with the documented status.

use weft_testkit::{TestApp, backend_tests};

backend_tests!(
    unknown_routes_and_methods_are_problems,
    oversized_bodies_get_413_whether_or_not_they_declare_a_length,
    graphql_rejects_malformed_json,
);

async fn problem(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()["content-type"],
        "application/problem+json",
        "status {status} must be a problem"
    );
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = resp.json().await.expect("problem body is JSON");
    assert_eq!(
        body["request_id"], request_id,
        "the body quotes the request id"
    );
    (status, body)
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    let (status, body) = problem(
        app.http
            .get(app.url("/v1/nothing-here"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        serde_json::json!({
            "type": "https://weft.dev/problems/not_found",
            "title": "Not found",
            "status": 404,
            "detail": "No such route.",
            "code": "not_found",
            "request_id": body["request_id"],
        })
    );
    let (status, body) = problem(app.http.delete(app.url("/v1/meta")).send().await.unwrap()).await;
    assert_eq!(status, 405);
    assert_eq!(body["code"], "method_not_allowed");
}

async fn oversized_bodies_get_413_whether_or_not_they_declare_a_length(app: TestApp) {
    let big = vec![b'a'; 1024 * 1024 + 1];
    let (status, body) = problem(
        app.http
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload_too_large");

    // Chunked, with no Content-Length: the limit holds while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let stream = futures::stream::iter(chunks);
    let (status, _) = problem(
        app.http
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 413);

    // Exactly at the limit is accepted by the limit (and then judged by the endpoint).
    let head = r#"{"query": "{ meta { name } }""#;
    let padded = format!("{head}{}}}", " ".repeat(1024 * 1024 - head.len() - 1));
    assert_eq!(padded.len(), 1024 * 1024);
    let resp = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(padded)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

async fn graphql_rejects_malformed_json(app: TestApp) {
    let (status, body) = problem(
        app.http
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body("{\"query\": ")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let ok: serde_json::Value = app
        .http
        .post(app.url("/graphql"))
        .json(&serde_json::json!({ "query": "{ meta { name } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ok["errors"].is_null(), "{ok}");
}
