//! Rate limits: the decision the adapters turn into a `429 rate_limited` answer with
//! `Retry-After`, `RateLimit-Policy` and `RateLimit`, and the two kinds of limiter behind it.
//!
//! Policies (names appear in the headers):
//! - `auth-ip`: login, token and register, per client IP;
//! - `auth-account`: login, token and register, per (normalised) email;
//! - `refresh-ip`: the cookie refresh, per client IP, checked before the refresh token is
//!   verified (a presented token names a user, but only verification proves it: a quota of
//!   that user charged before it would let anyone spend it);
//! - `api-user`: every other endpoint, per authenticated user.
//!
//! [`AuthRateLimits`](crate::service::AuthRateLimits) counts `auth-ip` and `auth-account` in
//! storage, behind the [`RateLimitRepository`](crate::ports::RateLimitRepository) port with the GCRA arithmetic of [`super::gcra`], so that they hold
//! for every instance sharing the store: they bound password guessing and account creation,
//! which a client could otherwise multiply by the number of instances behind a balancer. A
//! check is one atomic storage command, at an instant of the wall clock ([`crate::Clock`]),
//! which every instance shares where a monotonic clock is per process.
//!
//! [`RateLimits`] counts `refresh-ip` and `api-user` in process (governor, a keyed GCRA; a
//! check costs tens of nanoseconds and no storage command): they protect the instance that
//! serves the request, not an account, so N instances may together admit N times the quota.
//! `refresh-ip` bounds what one address can make an instance do with made-up refresh tokens
//! (a token's tag is checked before any storage command, and its 256-bit secret cannot be
//! guessed anyway, so there is nothing to bound deployment-wide), and every cookie refresh,
//! the commonest auth request, would pay a second storage command for sharing it.
//!
//! Client IPs are counted by [`ClientNet`]: IPv6 clients per /64, IPv4-mapped addresses as
//! their IPv4 address.
//!
//! Each quota is "N a minute": a burst of N, replenished evenly (one every `60 s / N`), so a
//! client that waits `Retry-After` always gets through, and nobody waits a whole minute.
//!
//! Header format: the IETF httpapi "RateLimit header fields" draft (structured fields, the form
//! of draft-08 and later): `RateLimit-Policy: "auth-ip";q=10;w=60` (quota, window in seconds)
//! and `RateLimit: "auth-ip";r=3;t=12` (remaining, seconds until the quota is whole again,
//! rounded up). Older drafts used three separate `RateLimit-Limit/-Remaining/-Reset` fields; the
//! structured form names the policy, which matters when one request is under two of them.
//!
//! Memory of the in-process limiter: keyed state grows with every new key (an attacker
//! rotating IPs). Every [`HOUSEKEEPING_EVERY`] checks of one policy, that policy's stale keys
//! are dropped (governor's `retain_recent`, then `shrink_to_fit`); a key is stale once it is
//! indistinguishable from a fresh one, at most a minute plus one replenish interval after its
//! last request. Live keys are thus bounded by the distinct keys of about the last minute plus
//! [`HOUSEKEEPING_EVERY`]; a sweep costs time linear in the live keys.
//! [`RateLimits::housekeeping`] does the same on demand (for instance from a timer). The
//! stored state of [`AuthRateLimits`](crate::service::AuthRateLimits) expires by itself (see the
//! port).

use std::cmp::Reverse;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::client_net::ClientNet;
use crate::domain::UserId;
use crate::error::ErrorCode;

/// How many checks of one policy trigger a sweep of its stale keys (in process, and in the
/// embedded store's shared state).
pub const HOUSEKEEPING_EVERY: u32 = 4096;
/// Every quota is per minute: the `w` of `RateLimit-Policy`.
const WINDOW_SECS: u64 = 60;

/// The quotas, per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Login, token and register requests per client IP, and per account, each (default 10).
    pub auth_per_minute: NonZeroU32,
    /// Other requests per authenticated user (default 600).
    pub api_per_minute: NonZeroU32,
    /// Cookie refreshes per client IP (default 600). A browser session refreshes about once
    /// per access-token lifetime (15 min by default), so 600 a minute lets some 9,000 active
    /// sessions share one address (a corporate or carrier NAT) while bounding what one
    /// address can make the server look up with made-up tokens.
    pub refresh_per_minute: NonZeroU32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            auth_per_minute: NonZeroU32::new(10).expect("10 is not zero"),
            api_per_minute: NonZeroU32::new(600).expect("600 is not zero"),
            refresh_per_minute: NonZeroU32::new(600).expect("600 is not zero"),
        }
    }
}

/// The outcome of one rate-limit check, with what the response headers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// The policy's name: `auth-ip`, `auth-account`, `refresh-ip` or `api-user`.
    pub policy: &'static str,
    /// Requests a minute (also the burst).
    pub limit: u32,
    /// Requests that would still be admitted right now (0 when rejected).
    pub remaining: u32,
    /// Time until the whole quota is available again: exact for the auth policies; for an
    /// admitted request of the in-process ones an upper bound exact to one replenish interval
    /// (governor exposes whole cells only).
    pub reset_after: Duration,
    /// When rejected, the time until one request would be admitted; `None` when admitted.
    pub retry_after: Option<Duration>,
}

/// A request was rejected by a rate limit: the `429 rate_limited` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limit {} exceeded", .0.policy)]
pub struct RateLimited(pub RateDecision);

impl RateLimited {
    /// The stable code of this failure.
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::RateLimited
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl RateDecision {
    /// Whether the request may proceed.
    pub const fn is_allowed(&self) -> bool {
        self.retry_after.is_none()
    }

    /// `Retry-After` in whole seconds, rounded up and at least 1 (0 would invite a busy loop);
    /// `None` when admitted.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after.map(|d| ceil_secs(d).max(1))
    }

    /// The `RateLimit-Policy` value, e.g. `"auth-ip";q=10;w=60`.
    pub fn policy_header(&self) -> String {
        format!("\"{}\";q={};w={WINDOW_SECS}", self.policy, self.limit)
    }

    /// The `RateLimit` value, e.g. `"auth-ip";r=3;t=12` (`t` rounded up to whole seconds).
    pub fn ratelimit_header(&self) -> String {
        format!(
            "\"{}\";r={};t={}",
            self.policy,
            self.remaining,
            ceil_secs(self.reset_after)
        )
    }

    /// The decision to act on and report when one request is under two policies (login is
    /// checked per IP and per account): a rejection beats an admission (the longer wait
    /// between two rejections), otherwise the smaller remaining (then the later reset).
    #[must_use]
    pub fn most_restrictive(a: Self, b: Self) -> Self {
        let severity = |d: &Self| (d.retry_after, Reverse(d.remaining), d.reset_after);
        if severity(&b) > severity(&a) { b } else { a }
    }

    /// `Ok(self)` when admitted, so that callers can use `?`.
    ///
    /// # Errors
    /// [`RateLimited`] carrying this decision when the request was rejected.
    pub fn into_result(self) -> Result<Self, RateLimited> {
        if self.is_allowed() {
            Ok(self)
        } else {
            Err(RateLimited(self))
        }
    }
}

type Limiter<K, C> = RateLimiter<K, DashMapStateStore<K>, C, StateInformationMiddleware>;

/// One policy: its keyed limiter and the counter that schedules its housekeeping.
struct Policy<K: std::hash::Hash + Eq + Clone, C: Clock> {
    name: &'static str,
    limit: u32,
    period: Duration,
    limiter: Limiter<K, C>,
    checks: AtomicU32,
}

impl<K: std::hash::Hash + Eq + Clone, C: Clock> Policy<K, C> {
    fn new(name: &'static str, per_minute: NonZeroU32, clock: C) -> Self {
        let quota = Quota::per_minute(per_minute);
        Self {
            name,
            limit: per_minute.get(),
            period: quota.replenish_interval(),
            limiter: RateLimiter::dashmap_with_clock(quota, clock)
                .with_middleware::<StateInformationMiddleware>(),
            checks: AtomicU32::new(0),
        }
    }

    fn check(&self, key: &K) -> RateDecision {
        // Relaxed: the counter only paces housekeeping; an off-by-a-few sweep is harmless. It
        // wraps at 2^32, a multiple of HOUSEKEEPING_EVERY, so the pace survives the wrap.
        if self.checks.fetch_add(1, Ordering::Relaxed) % HOUSEKEEPING_EVERY
            == HOUSEKEEPING_EVERY - 1
        {
            self.housekeeping();
        }
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                RateDecision {
                    policy: self.name,
                    limit: self.limit,
                    remaining,
                    reset_after: self.period * self.limit.saturating_sub(remaining),
                    retry_after: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                RateDecision {
                    policy: self.name,
                    limit: self.limit,
                    remaining: 0,
                    // The next cell is `wait` away; the other `limit - 1` follow one period each.
                    reset_after: wait + self.period * (self.limit - 1),
                    retry_after: Some(wait),
                }
            }
        }
    }

    fn housekeeping(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The in-process policies (`refresh-ip`, `api-user`): their limiters, shared by every
/// request of a process (wrap in an `Arc`).
///
/// Generic over governor's clock so that tests can drive time with `FakeRelativeClock`.
pub struct RateLimits<C: Clock = DefaultClock> {
    refresh_ip: Policy<ClientNet, C>,
    api_user: Policy<UserId, C>,
}

impl<C: Clock> std::fmt::Debug for RateLimits<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("api_per_minute", &self.api_user.limit)
            .field("refresh_per_minute", &self.refresh_ip.limit)
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    /// Limiters with `config`'s quotas on the real monotonic clock.
    pub fn new(config: RateLimitConfig) -> Self {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimits<C> {
    /// Limiters with `config`'s quotas on `clock` (all of them share it).
    pub fn with_clock(config: RateLimitConfig, clock: C) -> Self {
        Self {
            refresh_ip: Policy::new("refresh-ip", config.refresh_per_minute, clock.clone()),
            api_user: Policy::new("api-user", config.api_per_minute, clock),
        }
    }
}

impl<C: Clock> RateLimits<C> {
    /// Counts one refresh from `client` (policy `refresh-ip`), before its token is verified.
    pub fn check_refresh_ip(&self, client: ClientNet) -> RateDecision {
        self.refresh_ip.check(&client)
    }

    /// Counts one API request of `user` (policy `api-user`). `user` must be verified (an
    /// access token, a refresh token that was exchanged): a quota charged on a claim is a
    /// quota anyone can spend.
    pub fn check_api_user(&self, user: &UserId) -> RateDecision {
        self.api_user.check(user)
    }

    /// Drops every key whose state is indistinguishable from a fresh one, in all policies, and
    /// releases the memory. Runs by itself every [`HOUSEKEEPING_EVERY`] checks of a policy.
    pub fn housekeeping(&self) {
        self.refresh_ip.housekeeping();
        self.api_user.housekeeping();
    }

    /// Live keys per policy (`refresh-ip`, `api-user`), for metrics and tests.
    pub fn tracked_keys(&self) -> [usize; 2] {
        [self.refresh_ip.limiter.len(), self.api_user.limiter.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, Timestamp};
    use crate::domain::Email;
    use crate::error::StorageError;
    use crate::memory::MemoryStore;
    use crate::ports::RateLimitRepository;
    use crate::service::AuthRateLimits;
    use governor::clock::FakeRelativeClock;
    use proptest::prelude::*;
    use std::net::IpAddr;
    use std::sync::Arc;

    fn limits(refresh: u32) -> (RateLimits<FakeRelativeClock>, FakeRelativeClock) {
        let config = RateLimitConfig {
            refresh_per_minute: NonZeroU32::new(refresh).unwrap(),
            ..RateLimitConfig::default()
        };
        let clock = FakeRelativeClock::default();
        (RateLimits::with_clock(config, clock.clone()), clock)
    }

    /// The auth policies over a fresh embedded store, on a manual clock.
    fn auth_limits(auth: u32) -> (AuthRateLimits, Arc<ManualClock>, MemoryStore) {
        let config = RateLimitConfig {
            auth_per_minute: NonZeroU32::new(auth).unwrap(),
            ..RateLimitConfig::default()
        };
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_millis(0).unwrap()));
        let store = MemoryStore::new();
        let limits = AuthRateLimits::new(config, Arc::new(store.clone()), clock.clone());
        (limits, clock, store)
    }

    fn ip(last: u8) -> ClientNet {
        ClientNet::of(IpAddr::from([192, 0, 2, last]))
    }

    fn net(text: &str) -> ClientNet {
        ClientNet::of(text.parse().unwrap())
    }

    async fn auth_ip(limits: &AuthRateLimits, client: ClientNet) -> RateDecision {
        limits.check_auth_ip(client).await.unwrap()
    }

    #[tokio::test]
    async fn ten_a_minute_admits_ten_then_rejects_for_six_seconds() {
        let (limits, _, _) = auth_limits(10);
        for i in 0..10 {
            let d = auth_ip(&limits, ip(1)).await;
            assert!(d.is_allowed(), "request {i}");
            assert_eq!(d.remaining, 9 - i);
            assert_eq!(d.reset_after, Duration::from_secs(6 * u64::from(i + 1)));
        }
        let rejected = auth_ip(&limits, ip(1)).await;
        assert!(!rejected.is_allowed());
        assert_eq!(rejected.remaining, 0);
        assert_eq!(rejected.retry_after, Some(Duration::from_secs(6)));
        assert_eq!(rejected.retry_after_secs(), Some(6));
        assert_eq!(rejected.reset_after, Duration::from_secs(60));
        let err = rejected.into_result().unwrap_err();
        assert_eq!(err.code(), ErrorCode::RateLimited);
        assert_eq!(err.to_string(), "rate limit auth-ip exceeded");
    }

    #[tokio::test]
    async fn replenishes_one_every_six_seconds_on_the_given_clock() {
        let (limits, clock, _) = auth_limits(10);
        for _ in 0..10 {
            assert!(auth_ip(&limits, ip(1)).await.is_allowed());
        }
        clock.advance(Duration::from_millis(5_999));
        let early = auth_ip(&limits, ip(1)).await;
        assert_eq!(early.retry_after, Some(Duration::from_millis(1)));
        assert_eq!(early.retry_after_secs(), Some(1), "never 0");
        clock.advance(Duration::from_millis(1));
        assert!(auth_ip(&limits, ip(1)).await.is_allowed());
        assert!(!auth_ip(&limits, ip(1)).await.is_allowed());
        clock.advance(Duration::from_secs(12));
        assert!(auth_ip(&limits, ip(1)).await.is_allowed());
        assert!(auth_ip(&limits, ip(1)).await.is_allowed());
        assert!(!auth_ip(&limits, ip(1)).await.is_allowed());
        clock.advance(Duration::from_secs(60));
        assert_eq!(auth_ip(&limits, ip(1)).await.remaining, 9, "whole again");
    }

    #[tokio::test]
    async fn keys_and_policies_are_independent() {
        let (limits, _, _) = auth_limits(2);
        let email = Email::parse("a@example.com").unwrap();
        for _ in 0..2 {
            assert!(auth_ip(&limits, ip(1)).await.is_allowed());
            assert!(
                limits
                    .check_auth_account(&email)
                    .await
                    .unwrap()
                    .is_allowed()
            );
        }
        assert!(!auth_ip(&limits, ip(1)).await.is_allowed());
        assert!(auth_ip(&limits, ip(2)).await.is_allowed());
        let rejected = limits.check_auth_account(&email).await.unwrap();
        assert_eq!(rejected.policy, "auth-account");
        assert!(!rejected.is_allowed());
        let other = Email::parse("b@example.com").unwrap();
        assert!(
            limits
                .check_auth_account(&other)
                .await
                .unwrap()
                .is_allowed()
        );

        let (limits, _) = self::limits(600);
        let (alice, bob) = (UserId::generate(), UserId::generate());
        for _ in 0..600 {
            assert!(limits.check_api_user(&alice).is_allowed());
        }
        let rejected = limits.check_api_user(&alice);
        assert_eq!(rejected.policy, "api-user");
        assert_eq!(rejected.retry_after, Some(Duration::from_millis(100)));
        assert!(limits.check_api_user(&bob).is_allowed());
    }

    #[tokio::test]
    async fn ipv6_clients_share_the_quota_of_their_slash_64() {
        let (limits, _, _) = auth_limits(3);
        // An attacker rotating through the addresses of its /64 gets one quota, not 2^64.
        for address in [
            "2001:db8:1:2::1",
            "2001:db8:1:2::2",
            "2001:db8:1:2:ffff:ffff:ffff:ffff",
        ] {
            assert!(
                auth_ip(&limits, net(address)).await.is_allowed(),
                "{address}"
            );
        }
        let rotated = auth_ip(&limits, net("2001:db8:1:2:a1b2:c3d4:e5f6:7890")).await;
        assert_eq!(rotated.policy, "auth-ip");
        assert!(!rotated.is_allowed(), "another address of the same /64");
        assert!(
            auth_ip(&limits, net("2001:db8:1:3::1")).await.is_allowed(),
            "next /64"
        );
        // A dual-stack socket's IPv4-mapped form is the same client as the IPv4 address.
        for _ in 0..3 {
            assert!(
                auth_ip(&limits, net("::ffff:198.51.100.7"))
                    .await
                    .is_allowed()
            );
        }
        assert!(!auth_ip(&limits, net("198.51.100.7")).await.is_allowed());
        assert!(auth_ip(&limits, net("198.51.100.8")).await.is_allowed());

        // The in-process refresh-ip policy keys the same way.
        let (limits, _) = self::limits(1);
        assert!(limits.check_refresh_ip(net("2001:db8:1:2::1")).is_allowed());
        assert!(!limits.check_refresh_ip(net("2001:db8:1:2::9")).is_allowed());
    }

    /// A store that cannot be reached.
    struct Unreachable;

    #[async_trait::async_trait]
    impl RateLimitRepository for Unreachable {
        async fn apply_rate_limit(
            &self,
            _: &crate::auth::gcra::RateLimitKey,
            _: &crate::auth::gcra::GcraUpdate,
        ) -> Result<Option<Timestamp>, StorageError> {
            Err(StorageError::Unavailable("connection refused".into()))
        }
    }

    #[tokio::test]
    async fn a_store_failure_is_an_error_never_an_admission() {
        let limits = AuthRateLimits::new(
            RateLimitConfig::default(),
            Arc::new(Unreachable),
            Arc::new(crate::SystemClock),
        );
        let err = limits.check_auth_ip(ip(1)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::StorageUnavailable);
        let email = Email::parse("a@example.com").unwrap();
        assert!(limits.check_auth_account(&email).await.is_err());
    }

    #[test]
    fn refresh_ip_is_its_own_policy_and_quota() {
        let config = RateLimitConfig {
            auth_per_minute: NonZeroU32::new(1).unwrap(),
            refresh_per_minute: NonZeroU32::new(2).unwrap(),
            ..RateLimitConfig::default()
        };
        let limits = RateLimits::with_clock(config, FakeRelativeClock::default());
        for _ in 0..2 {
            assert!(
                limits.check_refresh_ip(ip(1)).is_allowed(),
                "the auth quota is apart"
            );
        }
        let rejected = limits.check_refresh_ip(ip(1));
        assert!(!rejected.is_allowed());
        assert_eq!(rejected.policy_header(), "\"refresh-ip\";q=2;w=60");
        assert_eq!(rejected.retry_after, Some(Duration::from_secs(30)));
        assert!(limits.check_refresh_ip(net("2001:db8::1")).is_allowed());
        assert_eq!(limits.tracked_keys(), [2, 0]);
    }

    #[tokio::test]
    async fn header_values_follow_the_structured_field_draft() {
        let (limits, clock, _) = auth_limits(10);
        let first = auth_ip(&limits, ip(1)).await;
        assert_eq!(first.policy_header(), "\"auth-ip\";q=10;w=60");
        assert_eq!(first.ratelimit_header(), "\"auth-ip\";r=9;t=6");
        clock.advance(Duration::from_millis(1_500));
        let second = auth_ip(&limits, ip(1)).await;
        // 10.5 s until the quota is whole, rounded up.
        assert_eq!(second.ratelimit_header(), "\"auth-ip\";r=8;t=11");
        let account = limits
            .check_auth_account(&Email::parse("a@example.com").unwrap())
            .await
            .unwrap();
        assert_eq!(account.policy_header(), "\"auth-account\";q=10;w=60");
        let (local, _) = self::limits(600);
        let api = local.check_api_user(&UserId::generate());
        assert_eq!(api.policy_header(), "\"api-user\";q=600;w=60");
        assert_eq!(api.ratelimit_header(), "\"api-user\";r=599;t=1");
    }

    #[test]
    fn most_restrictive_prefers_rejections_then_fewer_remaining() {
        let d = |remaining, reset, retry: Option<u64>| RateDecision {
            policy: "p",
            limit: 10,
            remaining,
            reset_after: Duration::from_secs(reset),
            retry_after: retry.map(Duration::from_secs),
        };
        let (low, high) = (d(2, 48, None), d(7, 18, None));
        assert_eq!(RateDecision::most_restrictive(low, high), low);
        assert_eq!(RateDecision::most_restrictive(high, low), low);
        let rejected = d(0, 60, Some(6));
        assert_eq!(RateDecision::most_restrictive(low, rejected), rejected);
        assert_eq!(RateDecision::most_restrictive(rejected, low), rejected);
        let longer = d(0, 64, Some(10));
        assert_eq!(RateDecision::most_restrictive(rejected, longer), longer);
        let later = d(2, 54, None);
        assert_eq!(RateDecision::most_restrictive(low, later), later);
    }

    #[test]
    fn housekeeping_forgets_idle_keys_on_demand_and_by_itself() {
        let (limits, clock) = limits(10);
        for last in 0..=255 {
            limits.check_refresh_ip(ip(last));
        }
        limits.check_api_user(&UserId::generate());
        assert_eq!(limits.tracked_keys(), [256, 1]);
        clock.advance(Duration::from_secs(5));
        limits.housekeeping();
        // Each IP's one request takes 6 s to replenish; the user's took 100 ms.
        assert_eq!(limits.tracked_keys(), [256, 0]);
        clock.advance(Duration::from_secs(60));
        limits.check_refresh_ip(ip(1));
        limits.housekeeping();
        assert_eq!(limits.tracked_keys(), [1, 0]);
        // 4096 checks in all (257 above) trigger a sweep without being asked.
        for i in 0..HOUSEKEEPING_EVERY - 258 {
            limits.check_refresh_ip(ClientNet::of(IpAddr::from((i + 1000).to_be_bytes())));
        }
        assert_eq!(limits.tracked_keys()[0], 3_839);
        clock.advance(Duration::from_secs(61));
        limits.check_refresh_ip(ip(1));
        assert_eq!(limits.tracked_keys()[0], 1);
    }

    proptest! {
        /// GCRA with burst `q` and emission interval `T` (`60 s / q`, as governor computes it)
        /// admits a request at `t` iff `t >= TAT - (q-1)T`, and every admission moves TAT
        /// forward by at least `T`. So if `n` requests of one key are admitted at
        /// `a_1 <= ... <= a_n`, then `a_n >= TAT_{n-1} - (q-1)T >= a_1 + (n-1)T - (q-1)T`, that
        /// is `n <= q + floor((a_n - a_1) / T)`. Hence in any window of length `W` at most
        /// `q + floor(W / T)` are admitted (2q for a 60 s window: a full burst at its start
        /// and a replenished one through it), and the bound is tight. The same bound holds
        /// over any horizon `H` from an empty limiter (take `a_1 >= 0`); it is not stronger,
        /// since an idle key is the worst case for every window. Also checked: a rejection
        /// never asks to wait more than `T`, and a key idle for a minute is always admitted.
        /// (The same for the auth policies' arithmetic: `gcra`'s tests.)
        #[test]
        fn never_admits_more_than_gcra_allows(
            q in prop::sample::select(vec![1_u32, 3, 7, 10]),
            // Mostly bursts and short gaps, so that the limit is actually reached.
            events in prop::collection::vec(
                (0_usize..3, prop_oneof![3 => Just(0_u64), 2 => 0_u64..1_000, 1 => 0_u64..20_000]),
                1..300,
            ),
        ) {
            let (limits, clock) = limits(q);
            let period = Quota::per_minute(NonZeroU32::new(q).unwrap()).replenish_interval();
            let t_ns = period.as_nanos();
            let mut admitted: [Vec<u128>; 3] = Default::default();
            let mut last_seen: [Option<u128>; 3] = [None; 3];
            let mut now: u128 = 0;
            for (key, advance) in events {
                clock.advance(Duration::from_millis(advance));
                now += u128::from(advance) * 1_000_000;
                let decision = limits.check_refresh_ip(ip(u8::try_from(key).unwrap()));
                if last_seen[key].is_none_or(|t| now - t >= 60_000_000_000) {
                    prop_assert!(decision.is_allowed(), "idle key rejected");
                }
                last_seen[key] = Some(now);
                match decision.retry_after {
                    None => admitted[key].push(now),
                    Some(wait) => prop_assert!(wait > Duration::ZERO && wait <= period),
                }
            }
            for times in &admitted {
                let cap = |span: u128| u128::from(q) + span / t_ns;
                // Horizon from the empty limiter (created at 0).
                prop_assert!(times.len() as u128 <= cap(now));
                // Every window whose ends are admissions (the worst windows are those).
                for (i, start) in times.iter().enumerate() {
                    for (j, end) in times.iter().enumerate().skip(i) {
                        prop_assert!((j - i + 1) as u128 <= cap(end - start));
                    }
                }
            }
        }
    }
}
