//! The stack end to end over a small test API (poem's in-memory client): how handler
//! errors, panics, bad parameters, bad bodies and wrong content types reach a client.

use poem::http::StatusCode;
use poem::test::TestClient;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, OpenApiService};
use serde::Deserialize;
use weft_kernel::{ErrorKind, define_id};

use crate::{ApiError, ApiResult, HttpStack, JsonBody};

define_id!(WidgetId, "wid", "A widget of the test API.");

#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWidget {
    name: String,
    quantity: i64,
}

#[derive(Debug, Object)]
struct Widget {
    id: WidgetId,
    name: String,
}

struct TestApi;

#[OpenApi]
impl TestApi {
    #[oai(path = "/v1/widgets", method = "post", operation_id = "create_widget")]
    async fn create(&self, body: JsonBody<NewWidget>) -> ApiResult<Json<Widget>> {
        if body.0.quantity < 1 {
            return Err(ApiError::validation(vec![weft_kernel::FieldError::new(
                "quantity",
                "must be at least 1",
            )]));
        }
        Ok(Json(Widget {
            id: weft_kernel::id::PrefixedId::generate(),
            name: body.0.name,
        }))
    }

    #[oai(path = "/v1/widgets/:id", method = "get", operation_id = "get_widget")]
    async fn get(&self, id: Path<WidgetId>) -> ApiResult<Json<Widget>> {
        Err(ApiError::not_found(format!("No widget {}.", id.0)))
    }

    #[oai(path = "/v1/widgets", method = "get", operation_id = "list_widgets")]
    async fn list(&self, limit: Query<Option<u32>>) -> ApiResult<Json<Vec<Widget>>> {
        let _ = limit;
        Ok(Json(vec![]))
    }

    #[oai(path = "/v1/explode", method = "get", operation_id = "explode")]
    async fn explode(&self) -> ApiResult<Json<Widget>> {
        panic!("secret internal state: password=hunter2");
    }

    #[oai(path = "/v1/database", method = "get", operation_id = "database")]
    async fn database(&self) -> ApiResult<Json<Widget>> {
        Err(ApiError::internal(std::io::Error::other(
            "relation \"users\" does not exist",
        )))
    }
}

fn client() -> TestClient<crate::stack::Edge> {
    let stack = HttpStack {
        body_limit_bytes: 1024,
        large_bodies: Vec::new(),
        rate_limits: None,
        trust_forwarded_for: false,
        cors_origins: vec!["https://shop.example.com".to_owned()],
        idempotency: None,
        authenticator: None,
        front_door: false,
        serves: None,
        forwards: None,
        refuse_bad_credentials: false,
    };
    TestClient::new(
        stack.wrap(poem::IntoEndpoint::into_endpoint(OpenApiService::new(
            TestApi, "test", "1",
        ))),
    )
}

async fn problem(resp: poem::test::TestResponse) -> serde_json::Value {
    resp.assert_content_type("application/problem+json");
    resp.0.into_body().into_json().await.expect("json problem")
}

#[tokio::test]
async fn a_body_with_a_wrong_field_names_the_field() {
    let cases = [
        (
            "unknown field",
            r#"{"name":"a","quantity":1,"price":5}"#,
            422,
            "validation_failed",
            Some("price"),
        ),
        (
            "wrong type",
            r#"{"name":"a","quantity":"lots"}"#,
            422,
            "validation_failed",
            Some("quantity"),
        ),
        (
            "rule in the handler",
            r#"{"name":"a","quantity":0}"#,
            422,
            "validation_failed",
            Some("quantity"),
        ),
        ("malformed", r#"{"name":"a","#, 400, "malformed_json", None),
    ];
    for (case, body, status, code, field) in cases {
        let resp = client()
            .post("/v1/widgets")
            .content_type("application/json")
            .body(body)
            .send()
            .await;
        assert_eq!(resp.0.status().as_u16(), status, "{case}");
        let p = problem(resp).await;
        assert_eq!(p["code"], code, "{case}: {p}");
        assert_eq!(p["errors"][0]["field"].as_str(), field, "{case}: {p}");
    }
}

#[tokio::test]
async fn a_valid_body_is_accepted_and_the_wrong_content_type_is_415() {
    let ok = client()
        .post("/v1/widgets")
        .content_type("application/json; charset=utf-8")
        .body(r#"{"name":"a","quantity":1}"#)
        .send()
        .await;
    ok.assert_status_is_ok();
    let resp = client()
        .post("/v1/widgets")
        .content_type("text/plain")
        .body(r#"{"name":"a","quantity":1}"#)
        .send()
        .await;
    resp.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(problem(resp).await["code"], "unsupported_media_type");
    let resp = client()
        .post("/v1/widgets")
        .body(r#"{"name":"a","quantity":1}"#)
        .send()
        .await;
    resp.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn an_id_of_the_wrong_type_is_404_and_a_bad_query_parameter_is_422() {
    for bad in [
        "prod_01936f0e8c8a7b1c9d2e3f4a5b6c7d8e",
        "wid_123",
        "%27%20OR%201%3D1",
    ] {
        let resp = client().get(format!("/v1/widgets/{bad}")).send().await;
        resp.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(problem(resp).await["code"], "not_found", "{bad}");
    }
    let resp = client()
        .get("/v1/widgets")
        .query("limit", &"ten")
        .send()
        .await;
    resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let p = problem(resp).await;
    assert_eq!(p["errors"][0]["field"], "limit", "{p}");
}

#[tokio::test]
async fn a_panic_is_a_generic_500_that_leaks_nothing() {
    let resp = client().get("/v1/explode").send().await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let p = problem(resp).await;
    assert_eq!(p["code"], "internal_error");
    assert!(!p.to_string().contains("hunter2"), "{p}");
    assert!(p["request_id"].is_string());
    // The server keeps serving after a panic.
    client()
        .get("/v1/widgets")
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn an_internal_error_hides_its_cause() {
    let resp = client().get("/v1/database").send().await;
    resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let p = problem(resp).await;
    assert!(!p.to_string().contains("relation"), "{p}");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let resp = client()
        .options("/v1/widgets")
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_header("access-control-allow-origin", "https://shop.example.com");
    let resp = client()
        .options("/v1/widgets")
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::FORBIDDEN);
    assert!(
        resp.0
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let p = problem(resp).await;
    assert_eq!(p["status"], 403);
    assert!(p["request_id"].is_string(), "{p}");
}

/// CORS comes before every check: a preflight to a guarded route is answered (the
/// browser sends it without credentials), and refusals carry the CORS headers so a page
/// on the shop's origin can read the problem.
#[tokio::test]
async fn cors_answers_preflights_and_refusals_of_guarded_routes() {
    let origin = "https://shop.example.com";
    let resp = client()
        .options("/v1/admin/products")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_header("access-control-allow-origin", origin);
    assert!(resp.0.headers().contains_key(crate::stack::REQUEST_ID));

    let resp = client()
        .get("/v1/admin/products")
        .header("origin", origin)
        .send()
        .await;
    resp.assert_status(StatusCode::UNAUTHORIZED);
    resp.assert_header("access-control-allow-origin", origin);
    let exposed = resp.0.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );
    assert_eq!(problem(resp).await["code"], "unauthenticated");

    let resp = client()
        .post("/v1/widgets")
        .header("origin", origin)
        .content_type("application/json")
        .body(vec![b' '; 4096])
        .send()
        .await;
    resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    resp.assert_header("access-control-allow-origin", origin);
}

#[test]
fn every_error_kind_maps_to_its_status() {
    assert_eq!(
        ApiError::new(ErrorKind::Conflict, "out_of_stock", "x")
            .problem()
            .status,
        409
    );
    assert_eq!(
        ApiError::new(ErrorKind::PaymentRequired, "payment_declined", "x")
            .problem()
            .status,
        402
    );
}

mod budgets;
mod idempotency;
