//! The contract every [`CacheStore`] must meet, as plain async functions. `tests/contract.rs`
//! runs each against the in-process store and against a real Redis (`cache_contract!`).
//! Keys get a random prefix per run, so a shared Redis never sees two tests collide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::sync::Arc;
use std::time::Duration;

use crate::{CacheStore, Quota, RateDecision};

/// A key namespace unique to one test run.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("test:{prefix}:{nanos}:")
}

pub async fn a_value_set_can_be_read_back_and_deleted(store: Arc<dyn CacheStore>) {
    let k = unique("rw");
    assert_eq!(store.get(&format!("{k}missing")).await.unwrap(), None);
    store
        .set(&format!("{k}a"), b"hello".to_vec(), Duration::from_mins(1))
        .await
        .unwrap();
    assert_eq!(
        store.get(&format!("{k}a")).await.unwrap().as_deref(),
        Some(&b"hello"[..])
    );
    store
        .set(&format!("{k}a"), b"again".to_vec(), Duration::from_mins(1))
        .await
        .unwrap();
    assert_eq!(
        store.get(&format!("{k}a")).await.unwrap().as_deref(),
        Some(&b"again"[..])
    );
    store.delete(&format!("{k}a")).await.unwrap();
    assert_eq!(store.get(&format!("{k}a")).await.unwrap(), None);
}

pub async fn a_value_expires_after_its_ttl(store: Arc<dyn CacheStore>) {
    let k = unique("ttl");
    store
        .set(
            &format!("{k}short"),
            b"x".to_vec(),
            Duration::from_millis(200),
        )
        .await
        .unwrap();
    store
        .set(&format!("{k}long"), b"y".to_vec(), Duration::from_mins(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(store.get(&format!("{k}short")).await.unwrap(), None);
    assert!(store.get(&format!("{k}long")).await.unwrap().is_some());
}

pub async fn delete_prefix_removes_exactly_the_matching_keys(store: Arc<dyn CacheStore>) {
    let k = unique("prefix");
    for key in [
        "product:1:detail",
        "product:1:reviews",
        "product:10:detail",
        "product:*:x",
        "cart:1",
    ] {
        store
            .set(&format!("{k}{key}"), b"v".to_vec(), Duration::from_mins(1))
            .await
            .unwrap();
    }
    store
        .delete_prefix(&format!("{k}product:1:"))
        .await
        .unwrap();
    assert_eq!(
        store.get(&format!("{k}product:1:detail")).await.unwrap(),
        None
    );
    assert_eq!(
        store.get(&format!("{k}product:1:reviews")).await.unwrap(),
        None
    );
    assert!(
        store
            .get(&format!("{k}product:10:detail"))
            .await
            .unwrap()
            .is_some(),
        "10 is not 1"
    );
    assert!(store.get(&format!("{k}cart:1")).await.unwrap().is_some());
    // A glob character in the prefix is matched literally.
    store.delete_prefix(&format!("{k}product:*")).await.unwrap();
    assert_eq!(store.get(&format!("{k}product:*:x")).await.unwrap(), None);
    assert!(
        store
            .get(&format!("{k}product:10:detail"))
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn concurrent_increments_never_lose_a_count(store: Arc<dyn CacheStore>) {
    let k = format!("{}counter", unique("incr"));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            let k = k.clone();
            tokio::spawn(async move {
                store
                    .increment(&k, 1, Duration::from_mins(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=50).collect::<Vec<i64>>(),
        "every increment saw a distinct value"
    );
    assert_eq!(
        store
            .increment(&k, 5, Duration::from_mins(1))
            .await
            .unwrap(),
        55
    );
}

pub async fn a_counter_window_starts_at_creation_and_is_not_extended(store: Arc<dyn CacheStore>) {
    let k = format!("{}window", unique("window"));
    assert_eq!(
        store
            .increment(&k, 1, Duration::from_millis(400))
            .await
            .unwrap(),
        1
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        store
            .increment(&k, 1, Duration::from_millis(400))
            .await
            .unwrap(),
        2
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        store
            .increment(&k, 1, Duration::from_millis(400))
            .await
            .unwrap(),
        1,
        "a new window"
    );
}

pub async fn rate_limits_allow_the_burst_then_say_when_to_retry(store: Arc<dyn CacheStore>) {
    let k = unique("rl");
    let quota = Quota::per_minute(5);
    for i in 0..5 {
        assert_eq!(
            store.rate_limit(&format!("{k}ip"), quota).await.unwrap(),
            RateDecision::Allowed,
            "request {i}"
        );
    }
    match store.rate_limit(&format!("{k}ip"), quota).await.unwrap() {
        RateDecision::Limited { retry_after } => {
            assert!(
                retry_after > Duration::ZERO && retry_after <= Duration::from_secs(12),
                "{retry_after:?}"
            );
        }
        RateDecision::Allowed => panic!("the sixth request in a minute must be refused"),
    }
    assert_eq!(
        store.rate_limit(&format!("{k}other"), quota).await.unwrap(),
        RateDecision::Allowed
    );
}

pub async fn concurrent_requests_never_exceed_the_budget(store: Arc<dyn CacheStore>) {
    let k = format!("{}burst", unique("rlc"));
    let quota = Quota::per_minute(20);
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let store = Arc::clone(&store);
            let k = k.clone();
            tokio::spawn(async move { store.rate_limit(&k, quota).await.unwrap() })
        })
        .collect();
    let mut allowed = 0;
    for t in tasks {
        if t.await.unwrap() == RateDecision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 20);
}

pub async fn ping_answers(store: Arc<dyn CacheStore>) {
    store.ping().await.unwrap();
}

/// 16 readers missing one key at once load it once; every one gets the value, and a
/// later read is a hit.
pub async fn concurrent_misses_of_one_key_load_it_once(store: Arc<dyn CacheStore>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cache = crate::Cache::new(store);
    let key = format!("{}page", unique("coalesce"));
    let loads = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let (cache, key, loads) = (cache.clone(), key.clone(), Arc::clone(&loads));
            tokio::spawn(async move {
                cache
                    .get_or_load(&key, Duration::from_mins(1), async || {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, String>(vec![1, 2, 3])
                    })
                    .await
            })
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.await.unwrap().unwrap(), vec![1, 2, 3]);
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for 16 readers");
    let again: Result<Vec<i32>, String> = cache
        .get_or_load(&key, Duration::from_mins(1), async || Ok(vec![9]))
        .await;
    assert_eq!(again.unwrap(), vec![1, 2, 3], "then a hit");
}

/// Instantiates every contract test for the store `$make` (an async expression giving
/// `Option<Arc<dyn CacheStore>>`; `None` skips).
#[macro_export]
macro_rules! cache_contract {
    ($make:expr) => {
        $crate::cache_contract!(@each $make;
            a_value_set_can_be_read_back_and_deleted,
            a_value_expires_after_its_ttl,
            delete_prefix_removes_exactly_the_matching_keys,
            concurrent_increments_never_lose_a_count,
            a_counter_window_starts_at_creation_and_is_not_extended,
            rate_limits_allow_the_burst_then_say_when_to_retry,
            concurrent_requests_never_exceed_the_budget,
            concurrent_misses_of_one_key_load_it_once,
            ping_answers,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $make.await {
                    $crate::testsuite::$name(store).await;
                }
            }
        )*
    };
}
