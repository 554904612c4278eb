//! The search contract on tantivy, and on Elasticsearch when `WEFT_TEST_ELASTICSEARCH_URL`
//! names one (it cannot run on the CI machine: the output says when it was skipped).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use weft_search::testsuite::Fixture;
use weft_search::{ElasticIndex, TantivyIndex};

async fn tantivy() -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let (index, fresh) = TantivyIndex::open(&dir.path().join("search")).unwrap();
    assert!(fresh, "a new index asks to be filled");
    Some(Fixture {
        index: Arc::new(index),
        cleanup: None,
        keep: Some(Box::new(dir)),
    })
}

async fn elasticsearch() -> Option<Fixture> {
    let Ok(url) = std::env::var("WEFT_TEST_ELASTICSEARCH_URL") else {
        // Straight to stderr, past the test harness's capture, so a passing run says it.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: WEFT_TEST_ELASTICSEARCH_URL unset (Elasticsearch search contract not run)"
            );
        });
        return None;
    };
    let name = format!("weft-test-{}", uuid::Uuid::now_v7().simple());
    let (index, fresh) = ElasticIndex::open(&url, &name).await.unwrap();
    assert!(fresh);
    let dropper = index.clone();
    Some(Fixture {
        index: Arc::new(index),
        cleanup: Some(Box::pin(async move {
            dropper.drop_index().await.unwrap();
        })),
        keep: None,
    })
}

mod tantivy_index {
    weft_search::search_contract!(super::tantivy());
}

mod elastic_index {
    weft_search::search_contract!(super::elasticsearch());
}

/// One writer per directory, across processes: a second opener gets a clear refusal.
#[tokio::test]
async fn a_second_writer_is_refused_while_the_first_holds_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    let (first, _) = TantivyIndex::open(&path).unwrap();
    let err = TantivyIndex::open(&path).unwrap_err().to_string();
    assert!(err.contains("in use by another weft process"), "{err}");
    drop(first);
    // Dropping the holder frees the lock (and commits what it wrote).
    let (_again, fresh) = TantivyIndex::open(&path).unwrap();
    assert!(fresh);
}

/// Writes become visible on their own within the commit delay.
#[tokio::test]
async fn writes_show_without_an_explicit_refresh() {
    use weft_search::SearchIndex;
    let dir = tempfile::tempdir().unwrap();
    let (index, _) = TantivyIndex::open(&dir.path().join("search")).unwrap();
    let doc = weft_search::ProductDoc {
        id: "p_1".into(),
        title: "Denim Jacket".into(),
        brand: "Indigo".into(),
        description: String::new(),
        tags: vec![],
        status: "active".into(),
        category_id: None,
        sizes: vec![],
        colors: vec![],
        prices: std::collections::BTreeMap::default(),
        created_at_ms: 1,
        in_stock: true,
        rating: 0,
        card: serde_json::json!({}),
    };
    index.upsert(vec![doc]).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while index.count().await.unwrap() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "not visible after 2 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
