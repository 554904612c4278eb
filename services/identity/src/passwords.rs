//! Password hashing with Argon2id at OWASP's recommended parameters (m = 19 MiB, t = 2,
//! p = 1). Hashing runs on the blocking pool: at tens of milliseconds a hash, it must not
//! stall the async workers. At most one hash per core runs at a time: each takes 19 MiB
//! and a core, so a burst of sign-ins queues instead of holding 19 MiB per request (a
//! thousand at once would be 19 GB) or the blocking threads the database needs.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::IdentityError;

/// One permit per core (see the module's doc).
static HASHING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(cores()));

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: Argon2id, 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Runs `work` on the blocking pool once one of [`HASHING`]'s permits is free.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, IdentityError> {
    let permit = HASHING
        .acquire()
        .await
        .map_err(|e| IdentityError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| IdentityError::Internal(e.to_string()))
}

/// Hashes `password` with a fresh random salt into a PHC string.
pub async fn hash(password: String) -> Result<String, IdentityError> {
    hashing(move || {
        argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| IdentityError::Internal(e.to_string()))
    })
    .await?
}

/// Whether `password` matches `phc`. A malformed stored hash counts as no match.
pub async fn verify(password: String, phc: String) -> bool {
    hashing(move || {
        PasswordHash::new(&phc).is_ok_and(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    // Many sign-ins at once: never more hashes running than cores, and every one runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_hashes_run_at_once_than_there_are_cores() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..4 * cores() + 8 {
            let (running, most) = (running.clone(), most.clone());
            calls.spawn(hashing(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        let done = calls.join_all().await;
        assert_eq!(done.len(), 4 * cores() + 8);
        assert!(done.iter().all(Result::is_ok));
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=cores()).contains(&most),
            "{most} hashes ran at once on {} cores",
            cores()
        );
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse".to_owned()).await.unwrap();
        assert!(verify("correct horse".to_owned(), phc.clone()).await);
        assert!(!verify("wrong horse".to_owned(), phc).await);
        assert!(!verify("correct horse".to_owned(), "not a hash".to_owned()).await);
    }
}
