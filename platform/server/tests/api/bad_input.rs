//! Every failure a client can provoke is a problem+json with the documented status.

use weft_testkit::{TestApp, backend_tests};

backend_tests!(
    unknown_routes_and_methods_are_problems,
    oversized_bodies_get_413_whether_or_not_they_declare_a_length,
    graphql_rejects_malformed_json,
    bodiless_errors_and_overlong_targets_are_problems,
    a_nul_character_is_refused_in_every_text_field_query_and_path,
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

async fn bodiless_errors_and_overlong_targets_are_problems(app: TestApp) {
    // A handler's bare 404 (a demo picture that does not exist).
    let (status, body) = problem(
        app.http
            .get(app.url("/media/demo/no-such-picture.svg"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        (
            body["status"].as_u64(),
            body["code"].as_str(),
            body["title"].as_str()
        ),
        (Some(404), Some("not_found"), Some("Not found")),
        "{body}"
    );
    // A request target past the 8 KiB the stack serves.
    let long = format!("/v1/products?q={}", "a".repeat(9 * 1024));
    let (status, body) = problem(app.http.get(app.url(&long)).send().await.unwrap()).await;
    assert_eq!(status, 414);
    assert_eq!(
        (
            body["status"].as_u64(),
            body["code"].as_str(),
            body["title"].as_str(),
            body["detail"].as_str()
        ),
        (
            Some(414),
            Some("uri_too_long"),
            Some("URI Too Long"),
            Some("URI Too Long.")
        ),
        "{body}"
    );
}

async fn a_nul_character_is_refused_in_every_text_field_query_and_path(app: TestApp) {
    let shopper = crate::support::customer(&app, "nul@example.com").await;
    let cases = [
        (
            "a top-level field",
            reqwest::Method::PATCH,
            "/v1/me",
            r#"{"name": "Ada\u0000Lovelace"}"#,
            vec!["name"],
        ),
        (
            "two fields of one body",
            reqwest::Method::POST,
            "/v1/me/addresses",
            r#"{"name": "Ada", "line1": "1 Loom St\u0000", "city": "Leeds\u0000", "postal_code": "LS1 1AA", "country": "GB"}"#,
            vec!["city", "line1"],
        ),
        (
            "a guest's body",
            reqwest::Method::POST,
            "/v1/carts",
            r#"{"currency": "\u0000USD"}"#,
            vec!["currency"],
        ),
    ];
    for (case, method, path, body, fields) in cases {
        let (status, problem) = problem(
            app.http
                .request(method, app.url(path))
                .bearer_auth(&shopper.access_token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let named: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            (status, problem["code"].as_str(), named),
            (422, Some("validation_failed"), fields),
            "{case}: {problem}"
        );
        assert_eq!(
            problem["errors"][0]["message"], "must not contain a NUL character (U+0000)",
            "{case}"
        );
    }
    // Nothing was stored: the name is still the registered one.
    let me: serde_json::Value = app
        .http
        .get(app.url("/v1/me"))
        .bearer_auth(&shopper.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "Ada Lovelace");

    let (status, body) = problem(
        app.http
            .get(app.url("/v1/products?limit=2&q=linen%00dress"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("q")),
        "{body}"
    );
    let (status, body) = problem(
        app.http
            .get(app.url("/v1/products/linen%00dress"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}
