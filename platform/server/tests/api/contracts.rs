//! The served contracts are the committed ones, and their UIs work offline.

use weft_testkit::{Backend, spawn_app};

fn committed(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
        .expect("committed contract")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_openapi_document_is_the_committed_one() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let served: serde_json::Value = app
        .http
        .get(app.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let spec: serde_json::Value = serde_json::from_str(&committed("openapi/v1.json")).unwrap();
    assert_eq!(served, spec, "run `cargo run -p weft-xtask -- codegen`");
    assert_eq!(served["openapi"], "3.0.0", "progenitor needs OpenAPI 3.0.x");
    assert_eq!(weft::graphql_sdl(), committed("openapi/schema.graphql"));

    // The cluster's plumbing is described apart, for the peer client only: no path of
    // the public document (nor the reference page) is internal, every one of the other is.
    let internal: serde_json::Value =
        serde_json::from_str(&committed("openapi/internal.json")).unwrap();
    assert_eq!(
        internal,
        serde_json::from_str::<serde_json::Value>(&weft::openapi_internal_json()).unwrap(),
        "run `cargo run -p weft-xtask -- codegen`"
    );
    let paths = |doc: &serde_json::Value| -> Vec<String> {
        doc["paths"].as_object().unwrap().keys().cloned().collect()
    };
    let public = paths(&served);
    assert!(public.len() > 80, "{}", public.len());
    assert!(
        public.iter().all(|p| !p.starts_with("/v1/internal")),
        "{public:?}"
    );
    let plumbing = paths(&internal);
    assert!(plumbing.len() >= 20, "{plumbing:?}");
    assert!(plumbing.iter().all(|p| p.starts_with("/v1/internal/")));
    let docs = app.http.get(app.url("/docs")).send().await.unwrap();
    assert!(!docs.text().await.unwrap().contains("/v1/internal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_and_the_playground_load_without_the_internet() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let docs = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "API reference page");
    for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !html.contains(external),
            "no external assets in the reference page: {external}"
        );
    }

    let playground = app.http.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(playground.status(), 200);
    let html = playground.text().await.unwrap();
    for src in [
        "/graphql/assets/graphiql.min.js",
        "/graphql/assets/graphiql.min.css",
        "/graphql/assets/react.production.min.js",
        "/graphql/assets/react-dom.production.min.js",
    ] {
        assert!(html.contains(src), "{src} referenced");
        let asset = app.http.get(app.url(src)).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{src} served");
        assert!(
            asset.bytes().await.unwrap().len() > 5_000,
            "{src} has content"
        );
    }
    assert!(!html.contains("unpkg") && !html.contains("cdn"), "no CDN");
    let missing = app
        .http
        .get(app.url("/graphql/assets/../../etc/passwd"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
