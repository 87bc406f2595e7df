//! Tests of the password module: length rules, redaction, hashing, rehash detection and the
//! concurrency bound.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use argon2::{PasswordHasher as _, PasswordVerifier as _};

use super::*;

/// Counts the hashes running at once, and the most ever seen, to check the permit bound.
#[derive(Default)]
pub(super) struct Gauge {
    running: AtomicUsize,
    peak: AtomicUsize,
}

pub(super) struct Busy<'a>(&'a Gauge);

impl Gauge {
    pub(super) fn enter(&self) -> Busy<'_> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Busy(self)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

fn password(text: &str) -> Password {
    Password::parse(text.to_owned()).unwrap()
}

fn hasher() -> PasswordHasher {
    PasswordHasher::new(Argon2Params::default(), 2).unwrap()
}

#[test]
fn password_length_counts_characters_not_bytes() {
    assert_eq!(
        Password::parse("a".repeat(7)).unwrap_err(),
        PasswordError::TooShort
    );
    assert!(Password::parse("a".repeat(8)).is_ok());
    assert!(Password::parse("a".repeat(128)).is_ok());
    assert_eq!(
        Password::parse("a".repeat(129)).unwrap_err(),
        PasswordError::TooLong
    );
    // 7 two-byte characters are 14 bytes, still too short; 128 four-byte ones are fine.
    assert_eq!(
        Password::parse("é".repeat(7)).unwrap_err(),
        PasswordError::TooShort
    );
    assert!(Password::parse("é".repeat(8)).is_ok());
    assert!(Password::parse("🦀".repeat(128)).is_ok());
    assert_eq!(
        Password::parse("🦀".repeat(129)).unwrap_err(),
        PasswordError::TooLong
    );
    // Not trimmed: the spaces count.
    assert!(Password::parse("  abc   ".to_owned()).is_ok());
    assert_eq!(
        PasswordError::TooShort.to_string(),
        "must be at least 8 characters"
    );
}

#[test]
fn password_debug_is_redacted() {
    let debug = format!("{:?}", password("hunter2-secret"));
    assert_eq!(debug, "Password([REDACTED])");
}

#[test]
fn weaker_than_owasp_is_refused() {
    let min = Argon2Params::OWASP_MINIMUM;
    let cases = [
        (
            Argon2Params {
                memory_kib: 19_455,
                ..min
            },
            PasswordConfigError::MemoryTooLow,
        ),
        (
            Argon2Params {
                iterations: 1,
                ..min
            },
            PasswordConfigError::TooFewIterations,
        ),
        (
            Argon2Params {
                parallelism: 0,
                ..min
            },
            PasswordConfigError::NoParallelism,
        ),
        (
            Argon2Params {
                parallelism: u32::MAX,
                ..min
            },
            PasswordConfigError::Unsupported,
        ),
    ];
    for (params, expected) in cases {
        assert_eq!(params.validate(), Err(expected), "{params:?}");
        assert_eq!(PasswordHasher::new(params, 1).unwrap_err(), expected);
    }
    assert_eq!(
        PasswordHasher::new(min, 0).unwrap_err(),
        PasswordConfigError::NoConcurrency
    );
    assert_eq!(Argon2Params::default(), min);
    assert!(PasswordHasher::default_concurrency() >= 1);
}

#[tokio::test]
async fn hash_then_verify() {
    let hasher = hasher();
    let hash = hasher.hash(&password("correct horse")).await.unwrap();
    let phc = hash.expose_phc();
    assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
    assert!(phc.contains("m=19456,t=2,p=1"), "{phc}");
    assert_eq!(
        hasher
            .verify(&password("correct horse"), Some(&hash))
            .await
            .unwrap(),
        Verification::Valid {
            needs_rehash: false
        }
    );
    assert_eq!(
        hasher
            .verify(&password("correct horsf"), Some(&hash))
            .await
            .unwrap(),
        Verification::Invalid
    );
    // Salted: the same password never gives the same hash twice.
    let again = hasher.hash(&password("correct horse")).await.unwrap();
    assert_ne!(again.expose_phc(), phc);
}

#[tokio::test]
async fn unknown_account_is_invalid() {
    let hasher = hasher();
    for _ in 0..2 {
        let outcome = hasher.verify(&password("correct horse"), None).await;
        assert_eq!(outcome.unwrap(), Verification::Invalid);
    }
    assert!(hasher.inner.dummy.initialized());
}

#[tokio::test]
async fn other_params_need_a_rehash() {
    let stronger = Argon2Params {
        iterations: 3,
        ..Argon2Params::default()
    };
    let old = PasswordHasher::new(stronger, 1).unwrap();
    let hash = old.hash(&password("correct horse")).await.unwrap();
    let outcome = hasher()
        .verify(&password("correct horse"), Some(&hash))
        .await;
    assert_eq!(outcome.unwrap(), Verification::Valid { needs_rehash: true });
    // Another argon2 variant at the same costs.
    let argon2i = Argon2::new(
        Algorithm::Argon2i,
        Version::V0x13,
        argon2::Params::default(),
    );
    let phc = argon2i.hash_password(b"correct horse").unwrap().to_string();
    let hash = PasswordHash::from_phc(phc);
    let outcome = hasher()
        .verify(&password("correct horse"), Some(&hash))
        .await;
    assert_eq!(outcome.unwrap(), Verification::Valid { needs_rehash: true });
    // A wrong password says nothing about the hash's parameters.
    let outcome = hasher().verify(&password("wrong horse"), Some(&hash)).await;
    assert_eq!(outcome.unwrap(), Verification::Invalid);
}

#[tokio::test]
async fn malformed_stored_hash_is_an_error() {
    let hasher = hasher();
    let valid = hasher.hash(&password("correct horse")).await.unwrap();
    let salt_only = valid.expose_phc().rsplit_once('$').unwrap().0.to_owned();
    for bad in [
        String::new(),
        "not a hash".to_owned(),
        "$argon2id$v=19$m=19456,t=2,p=1".to_owned(),
        salt_only,
        "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        valid.expose_phc().replace("m=19456", "m=abc"),
        valid.expose_phc().replace("v=19", "v=7"),
    ] {
        let stored = PasswordHash::from_phc(bad.clone());
        let outcome = hasher
            .verify(&password("correct horse"), Some(&stored))
            .await;
        assert_eq!(outcome, Err(PasswordHashError::Malformed), "{bad}");
    }
    // The error never repeats the stored hash.
    let message = PasswordHashError::Malformed.to_string();
    assert!(!message.contains('$'), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permits_bound_the_hashes_running_at_once() {
    let hasher = PasswordHasher::new(Argon2Params::default(), 1).unwrap();
    let stored = hasher.hash(&password("correct horse")).await.unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let (hasher, stored) = (hasher.clone(), stored.clone());
            tokio::spawn(async move {
                let stored = (i % 2 == 0).then_some(&stored);
                hasher.verify(&password("correct horse"), stored).await
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await.unwrap().unwrap();
    }
    assert_eq!(hasher.inner.gauge.peak.load(Ordering::SeqCst), 1);
    assert_eq!(hasher.inner.gauge.running.load(Ordering::SeqCst), 0);
    assert_eq!(hasher.inner.permits.available_permits(), 1);
}

#[tokio::test]
async fn cancelled_requests_release_their_permits() {
    let hasher = PasswordHasher::new(Argon2Params::default(), 1).unwrap();
    let pw = password("correct horse");
    {
        // Polled once: the permit is taken and the work handed to its thread; then the
        // caller goes away.
        let mut started = std::pin::pin!(hasher.hash(&pw));
        std::future::poll_fn(|cx| {
            let _ = started.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        assert_eq!(hasher.inner.permits.available_permits(), 0);
    }
    {
        // Dropped while waiting for that permit.
        let mut waiting = std::pin::pin!(hasher.hash(&pw));
        std::future::poll_fn(|cx| Poll::Ready(waiting.as_mut().poll(cx).is_pending())).await;
    }
    // Completes once the abandoned hash finishes, so no permit is lost.
    let all = hasher.inner.permits.acquire_many(1).await.unwrap();
    drop(all);
    assert!(hasher.verify(&pw, None).await.is_ok());
    assert_eq!(hasher.inner.permits.available_permits(), 1);
}

#[tokio::test]
async fn hashes_agree_with_the_argon2_crate_both_ways() {
    let hasher = hasher();
    let ours = hasher.hash(&password("correct horse")).await.unwrap();
    let parsed = Phc::new(ours.expose_phc()).unwrap();
    assert!(
        Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok()
    );
    assert!(
        Argon2::default()
            .verify_password(b"wrong horse", &parsed)
            .is_err()
    );
    let theirs = Argon2::default().hash_password(b"correct horse").unwrap();
    let theirs = PasswordHash::from_phc(theirs.to_string());
    let outcome = hasher
        .verify(&password("correct horse"), Some(&theirs))
        .await;
    assert_eq!(
        outcome.unwrap(),
        Verification::Valid {
            needs_rehash: false
        }
    );
    let outcome = hasher.verify(&password("wrong horse"), Some(&theirs)).await;
    assert_eq!(outcome.unwrap(), Verification::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn working_memory_is_reused_one_buffer_per_permit_and_wiped() {
    let hasher = PasswordHasher::new(Argon2Params::default(), 2).unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(&password("correct horse")).await })
        })
        .collect();
    for task in tasks {
        let _ = task.await.unwrap().unwrap();
    }
    let pool = hasher.inner.memory.lock().unwrap();
    assert!(
        !pool.is_empty() && pool.len() <= 2,
        "{} buffers",
        pool.len()
    );
    let blocks = Argon2Params::default().to_argon2().unwrap().block_count();
    for buffer in pool.iter() {
        assert_eq!(buffer.len(), blocks);
        assert!(
            buffer
                .iter()
                .all(|block| block.as_ref().iter().all(|&w| w == 0))
        );
    }
}

/// The calling thread's nice value: field 19 of `/proc/thread-self/stat`.
#[cfg(target_os = "linux")]
fn nice() -> i32 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces, start
    // at field 3.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(19 - 3).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn hashing_runs_at_the_lowest_priority_and_leaves_the_caller_alone() {
    let before = nice();
    let hasher = hasher();
    let inside = hasher.run(|_, _| nice()).await.unwrap();
    assert_eq!(inside, 19);
    assert_eq!(nice(), before);
    // And so does the hashing a login does.
    let stored = hasher.hash(&password("correct horse")).await.unwrap();
    let outcome = hasher
        .verify(&password("correct horse"), Some(&stored))
        .await;
    assert!(matches!(outcome, Ok(Verification::Valid { .. })));
    assert_eq!(nice(), before);
}
