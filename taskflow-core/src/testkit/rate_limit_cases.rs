//! Conformance cases of [`RateLimitRepository`](crate::ports::RateLimitRepository), run
//! through [`AuthRateLimits`] on a manual clock: a burst then rejections, replenishment as the
//! clock moves, concurrent checks that never admit more than the quota, independent keys, and
//! state that is never more than the TAT (so it expires with it).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::{Repositories, at};
use crate::auth::client_net::ClientNet;
use crate::auth::gcra::Gcra;
use crate::auth::rate_limit::{RateDecision, RateLimitConfig};
use crate::clock::ManualClock;
use crate::domain::{Email, UserId};
use crate::service::AuthRateLimits;

fn limits(repos: &Repositories, per_minute: u32) -> (AuthRateLimits, Arc<ManualClock>) {
    let config = RateLimitConfig {
        auth_per_minute: NonZeroU32::new(per_minute).expect("not zero"),
        ..RateLimitConfig::default()
    };
    let clock = Arc::new(ManualClock::new(at(0)));
    let limits = AuthRateLimits::new(config, repos.rate_limits.clone(), clock.clone());
    (limits, clock)
}

/// A client network no other test uses (the low bytes of a fresh id).
fn client() -> ClientNet {
    let id = UserId::generate().to_bytes();
    ClientNet::of(std::net::IpAddr::from([10, id[9], id[10], id[11]]))
}

fn email() -> Email {
    Email::parse(&format!("limited-{}@example.com", UserId::generate())).expect("valid email")
}

async fn ip(limits: &AuthRateLimits, client: ClientNet) -> RateDecision {
    limits.check_auth_ip(client).await.expect("check")
}

async fn account(limits: &AuthRateLimits, email: &Email) -> RateDecision {
    limits.check_auth_account(email).await.expect("check")
}

/// A burst of the quota is admitted at once, counting down, then requests are rejected with
/// the wait of one interval; rejections change nothing.
pub async fn rate_limit_admits_a_burst_then_rejects(repos: &Repositories) {
    let (limits, _) = limits(repos, 5);
    let me = client();
    for i in 0..5 {
        let d = ip(&limits, me).await;
        assert!(d.is_allowed(), "request {i}");
        assert_eq!(d.remaining, 4 - i, "request {i}");
        assert_eq!(d.reset_after, Duration::from_secs(12 * u64::from(i + 1)));
        assert_eq!(d.policy, "auth-ip");
    }
    for _ in 0..3 {
        let d = ip(&limits, me).await;
        assert_eq!(d.retry_after, Some(Duration::from_secs(12)), "{d:?}");
        assert_eq!((d.remaining, d.reset_after), (0, Duration::from_secs(60)));
    }
}

/// One request comes back every interval of the clock, and the whole quota after a minute.
pub async fn rate_limit_replenishes_with_the_clock(repos: &Repositories) {
    let (limits, clock) = limits(repos, 5);
    let who = email();
    for _ in 0..5 {
        assert!(account(&limits, &who).await.is_allowed());
    }
    clock.advance(Duration::from_millis(11_999));
    let early = account(&limits, &who).await;
    assert_eq!(early.retry_after, Some(Duration::from_millis(1)));
    clock.advance(Duration::from_millis(1));
    assert!(account(&limits, &who).await.is_allowed(), "one back");
    assert!(!account(&limits, &who).await.is_allowed());
    clock.advance(Duration::from_secs(36));
    for i in 0..3 {
        assert!(account(&limits, &who).await.is_allowed(), "three back: {i}");
    }
    assert!(!account(&limits, &who).await.is_allowed());
    clock.advance(Duration::from_secs(60));
    let whole = account(&limits, &who).await;
    assert_eq!(
        (whole.remaining, whole.reset_after),
        (4, Duration::from_secs(12))
    );
}

/// Twenty simultaneous checks of one key with a quota of 5 never admit more than 5. On a
/// fresh key (racing first writes) the store counts exactly 5, so the next check finds the key
/// full, and reports at most 5 admissions (a store that cannot tell what a racing first write
/// found refuses it, see [`GcraUpdate::unknown_outcome`](crate::auth::gcra::GcraUpdate::unknown_outcome));
/// on a key with state it reports exactly the replenished ones: 5 after a minute, 2 after 24 s.
pub async fn rate_limit_concurrent_checks_never_exceed_the_quota(repos: &Repositories) {
    let (limits, clock) = limits(repos, 5);
    let me = client();
    let burst = || async {
        let checks: Vec<_> = (0..20)
            .map(|_| {
                let limits = limits.clone();
                tokio::spawn(async move { limits.check_auth_ip(me).await.expect("check") })
            })
            .collect();
        let mut admitted = Vec::new();
        for check in checks {
            let d = check.await.expect("join");
            if d.is_allowed() {
                admitted.push(d.remaining);
            }
        }
        admitted.sort_unstable();
        admitted
    };
    let first = burst().await;
    assert!((1..=5).contains(&first.len()), "a fresh key: {first:?}");
    let full = ip(&limits, me).await;
    assert_eq!(
        (full.retry_after, full.reset_after),
        (Some(Duration::from_secs(12)), Duration::from_secs(60)),
        "exactly 5 counted: {first:?}"
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(burst().await, [0, 1, 2, 3, 4], "a whole quota again");
    clock.advance(Duration::from_secs(24));
    assert_eq!(burst().await, [0, 1], "two replenished");
}

/// Keys are independent: across subjects, across policies with the same quota, and an IPv6
/// client is one key for its whole /64.
pub async fn rate_limit_keys_are_independent(repos: &Repositories) {
    let (limits, _) = limits(repos, 2);
    let (a, b) = (client(), client());
    let who = email();
    for _ in 0..2 {
        assert!(ip(&limits, a).await.is_allowed());
    }
    assert!(!ip(&limits, a).await.is_allowed());
    assert!(ip(&limits, b).await.is_allowed(), "another client");
    assert!(account(&limits, &who).await.is_allowed(), "another policy");
    // The same text under two policies is two keys.
    let quota = Gcra::per_minute("auth-ip", NonZeroU32::new(1).expect("not zero"));
    let other = Gcra::per_minute("auth-account", NonZeroU32::new(1).expect("not zero"));
    let subject = format!("shared-{}", UserId::generate());
    for q in [quota, other] {
        let found = repos
            .rate_limits
            .apply_rate_limit(&q.key(&subject), &q.update_at(at(0)))
            .await
            .expect("apply");
        assert_eq!(found, None, "{}", q.policy());
    }
    let id = UserId::generate().to_bytes();
    let prefix = format!("2001:db8:{:x}{:02x}:{:x}", id[9], id[10], id[11]);
    let net = |host: &str| ClientNet::of(format!("{prefix}::{host}").parse().expect("ipv6"));
    assert!(ip(&limits, net("1")).await.is_allowed());
    assert!(ip(&limits, net("ffff:ffff:ffff")).await.is_allowed());
    assert!(!ip(&limits, net("abcd:1")).await.is_allowed(), "same /64");
}

/// A key's state is its TAT, exactly: each admission moves it by one interval, rejections
/// leave it (so it is never more than a minute ahead of the clock), and once it has passed the key
/// is a fresh one (whether or not the store has forgotten it yet: that is the expiry the
/// stores' TTL index and sweep rely on).
pub async fn rate_limit_state_expires_with_its_tat(repos: &Repositories) {
    let quota = Gcra::per_minute("auth-ip", NonZeroU32::new(3).expect("not zero"));
    let key = quota.key(&client());
    let apply = |now| {
        let (key, rate_limits) = (key.clone(), repos.rate_limits.clone());
        async move {
            rate_limits
                .apply_rate_limit(&key, &quota.update_at(now))
                .await
                .expect("apply")
        }
    };
    assert_eq!(apply(at(0)).await, None, "a fresh key");
    assert_eq!(apply(at(0)).await, Some(at(20)), "one interval of debt");
    assert_eq!(apply(at(0)).await, Some(at(40)));
    for _ in 0..3 {
        assert_eq!(
            apply(at(10)).await,
            Some(at(60)),
            "full: rejected, unchanged"
        );
    }
    assert!(!quota.decide(Some(at(60)), at(10)).is_allowed());
    // The TAT passes at 60 s: from then on the key is fresh.
    let found = apply(at(61)).await;
    assert!(found.is_none_or(|tat| tat <= at(61)), "{found:?}");
    assert_eq!(quota.decide(found, at(61)), quota.decide(None, at(61)));
    assert_eq!(apply(at(61)).await, Some(at(81)));
}
