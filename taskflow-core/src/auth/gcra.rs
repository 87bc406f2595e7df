//! The arithmetic of the rate limits that hold for a whole deployment, in one place: the
//! generic cell rate algorithm (GCRA) over a stored *theoretical arrival time* (TAT), as pure
//! functions of the stored state and the current time.
//!
//! A quota of `q` a minute has the emission interval `T = 60 s / q` (rounded up to a whole
//! millisecond, the precision of [`Timestamp`], so a quota is never exceeded by rounding) and
//! the tolerance `τ = (q - 1) T`. A key's state is one instant, its TAT: the moment from which
//! its whole quota is available again. A request at `now` is admitted iff the stored TAT is at
//! most `now + τ` (a key without state counts as TAT `now`), and then the TAT becomes
//! `max(TAT, now) + T`; a rejected request changes nothing. These are governor's semantics
//! (a burst of `q`, then one request every `T`; the unit tests check it against governor), on
//! wall-clock instants that every instance of a deployment shares, where governor keeps
//! monotonic instants of one process.
//!
//! The split of work: [`GcraUpdate::apply`] is the only state change, which a store runs
//! atomically under its own means (a lock in memory, one `findAndModify` with an update
//! pipeline in MongoDB, a transcription of `apply` checked equal to it by the conformance
//! property test); it hands back the state it found, and [`Gcra::decide`] derives the
//! decision and its headers from that state. A TAT that is not after `now` is exactly the
//! state of a fresh key, so a store may forget a key once its TAT has passed: the TAT is also
//! the state's expiry.

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use super::rate_limit::RateDecision;
use crate::clock::Timestamp;

/// Every quota is per minute.
const WINDOW_MS: u64 = 60_000;

/// One quota of one policy as GCRA sees it (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    policy: &'static str,
    limit: u32,
    /// The emission interval `T`, in milliseconds (at least 1).
    interval_ms: i64,
}

impl Gcra {
    /// `limit` requests a minute under the policy named `policy` (in the headers and keys):
    /// a burst of `limit`, then one every `60 s / limit` (rounded up to a millisecond).
    pub fn per_minute(policy: &'static str, limit: NonZeroU32) -> Self {
        let interval = WINDOW_MS.div_ceil(u64::from(limit.get())).max(1);
        Self {
            policy,
            limit: limit.get(),
            interval_ms: i64::try_from(interval).unwrap_or(i64::MAX),
        }
    }

    /// The policy's name.
    pub const fn policy(&self) -> &'static str {
        self.policy
    }

    /// Requests a minute (also the burst).
    pub const fn limit(&self) -> u32 {
        self.limit
    }

    /// The emission interval `T`: one request is replenished every `T`.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.unsigned_abs())
    }

    /// The storage key of `subject` (a client network, an email) under this policy.
    pub fn key(&self, subject: &dyn fmt::Display) -> RateLimitKey {
        RateLimitKey(format!("{}:{subject}", self.policy))
    }

    /// The tolerance `τ = (limit - 1) T` in milliseconds.
    fn tolerance_ms(&self) -> i64 {
        self.interval_ms
            .saturating_mul(i64::from(self.limit.saturating_sub(1)))
    }

    /// The state change a store applies to a key's state for one request at `now`.
    pub fn update_at(&self, now: Timestamp) -> GcraUpdate {
        GcraUpdate {
            now,
            admit_until: now
                .saturating_add(Duration::from_millis(self.tolerance_ms().unsigned_abs())),
            interval_ms: self.interval_ms,
        }
    }

    /// The decision for a request at `now` of a key whose stored state was `stored` before
    /// it (what [`GcraUpdate::apply`] was given), with what the headers need.
    pub fn decide(&self, stored: Option<Timestamp>, now: Timestamp) -> RateDecision {
        let update = self.update_at(now);
        let millis = |ms: i64| Duration::from_millis(ms.max(0).unsigned_abs());
        match (update.apply(stored), stored) {
            (Some(next), _) => {
                // `next - now` is in [T, limit * T]: what is left of the burst is what that
                // leaves of `limit * T`, in whole intervals.
                let ahead = next.unix_millis() - now.unix_millis();
                let burst = self.interval_ms.saturating_mul(i64::from(self.limit));
                let remaining =
                    ((burst - ahead).max(0) / self.interval_ms).min(i64::from(self.limit) - 1);
                RateDecision {
                    policy: self.policy,
                    limit: self.limit,
                    remaining: u32::try_from(remaining).unwrap_or(0),
                    reset_after: millis(ahead),
                    retry_after: None,
                }
            }
            (None, Some(tat)) => RateDecision {
                policy: self.policy,
                limit: self.limit,
                remaining: 0,
                reset_after: millis(tat.unix_millis() - now.unix_millis()),
                retry_after: Some(millis(tat.unix_millis() - update.admit_until.unix_millis())),
            },
            // `apply` admits every key without state; this arm only keeps the match total.
            (None, None) => RateDecision {
                policy: self.policy,
                limit: self.limit,
                remaining: 0,
                reset_after: Duration::ZERO,
                retry_after: Some(self.interval()),
            },
        }
    }
}

/// The state change of one request at one instant: if the stored TAT (`now` when there is
/// none) is at most [`admit_until`](Self::admit_until), the request is admitted and the TAT
/// becomes `max(TAT, now) +` [`interval`](Self::interval_ms); otherwise nothing changes.
/// Stores run [`apply`](Self::apply) atomically, or a transcription of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcraUpdate {
    now: Timestamp,
    admit_until: Timestamp,
    interval_ms: i64,
}

impl GcraUpdate {
    /// The instant of the request.
    pub const fn now(&self) -> Timestamp {
        self.now
    }

    /// The latest stored TAT that still admits the request: `now + τ`.
    pub const fn admit_until(&self) -> Timestamp {
        self.admit_until
    }

    /// The emission interval `T` added to the TAT by an admission, in milliseconds.
    pub const fn interval_ms(&self) -> i64 {
        self.interval_ms
    }

    /// The state a store reports when it applied this update but cannot tell what state it
    /// found (a reply without the document): a key whose quota is spent, so the request is
    /// refused (for one interval) and never let through unaccounted.
    pub fn unknown_outcome(&self) -> Timestamp {
        self.admit_until
            .saturating_add(Duration::from_millis(self.interval_ms.unsigned_abs()))
    }

    /// The TAT to store in place of `stored` when the request is admitted; `None` when it is
    /// rejected (the stored state stays as it is).
    pub fn apply(&self, stored: Option<Timestamp>) -> Option<Timestamp> {
        let tat = stored.unwrap_or(self.now);
        (tat <= self.admit_until).then(|| {
            tat.max(self.now)
                .saturating_add(Duration::from_millis(self.interval_ms.unsigned_abs()))
        })
    }
}

/// The key of one subject under one policy, as stores keep it: `policy:subject`, where the
/// subject is canonical text (a [`ClientNet`](super::ClientNet)'s `192.0.2.1` or
/// `2001:db8:1:2::/64`, a normalised email), so equal keys have equal text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RateLimitKey(String);

impl RateLimitKey {
    /// The stored text of the key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RateLimitKey {
    /// The policy only: the subject may be an email, which logs never show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let policy = self.0.split_once(':').map_or("?", |(policy, _)| policy);
        write!(f, "RateLimitKey({policy}:…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use governor::middleware::StateInformationMiddleware;
    use governor::{Quota, RateLimiter};
    use proptest::prelude::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(4_102_444_800_000 + ms).unwrap()
    }

    fn quota(limit: u32) -> Gcra {
        Gcra::per_minute("auth-ip", NonZeroU32::new(limit).unwrap())
    }

    /// Runs one request at `now` against `state` as a store would.
    fn check(quota: &Gcra, state: &mut Option<Timestamp>, now: Timestamp) -> RateDecision {
        let decision = quota.decide(*state, now);
        if let Some(next) = quota.update_at(now).apply(*state) {
            *state = Some(next);
        }
        decision
    }

    #[test]
    fn ten_a_minute_is_a_burst_of_ten_then_one_every_six_seconds() {
        let q = quota(10);
        assert_eq!(q.interval(), Duration::from_secs(6));
        let mut state = None;
        for i in 0..10 {
            let d = check(&q, &mut state, at(0));
            assert!(d.is_allowed(), "request {i}");
            assert_eq!(d.remaining, 9 - i);
            assert_eq!(d.reset_after, Duration::from_secs(6 * u64::from(i + 1)));
        }
        assert_eq!(state, Some(at(60_000)), "the TAT: a minute of debt");
        let rejected = check(&q, &mut state, at(0));
        assert_eq!(rejected.retry_after, Some(Duration::from_secs(6)));
        assert_eq!(rejected.reset_after, Duration::from_secs(60));
        assert_eq!(rejected.remaining, 0);
        assert_eq!(state, Some(at(60_000)), "a rejection changes nothing");
        let early = check(&q, &mut state, at(5_999));
        assert_eq!(early.retry_after, Some(Duration::from_millis(1)));
        assert!(check(&q, &mut state, at(6_000)).is_allowed());
        assert!(!check(&q, &mut state, at(6_000)).is_allowed());
        // A minute after the last admission the key is as good as new.
        let fresh = check(&q, &mut state, at(126_000));
        assert_eq!(
            (fresh.remaining, fresh.reset_after),
            (9, Duration::from_secs(6))
        );
    }

    #[test]
    fn the_reset_is_exact_between_intervals() {
        let q = quota(10);
        let mut state = None;
        check(&q, &mut state, at(0));
        let second = check(&q, &mut state, at(1_500));
        assert_eq!(second.remaining, 8);
        assert_eq!(second.reset_after, Duration::from_millis(10_500));
        assert_eq!(second.ratelimit_header(), "\"auth-ip\";r=8;t=11");
    }

    #[test]
    fn an_unknown_outcome_is_refused_for_one_interval() {
        let q = quota(10);
        let decision = q.decide(Some(q.update_at(at(0)).unknown_outcome()), at(0));
        assert_eq!(decision.retry_after, Some(Duration::from_secs(6)));
        assert_eq!(decision.remaining, 0);
    }

    #[test]
    fn a_stale_state_is_a_fresh_key() {
        let q = quota(3);
        let update = q.update_at(at(100_000));
        for stale in [at(0), at(99_999), at(100_000)] {
            assert_eq!(update.apply(Some(stale)), update.apply(None), "{stale}");
            assert_eq!(
                q.decide(Some(stale), at(100_000)),
                q.decide(None, at(100_000))
            );
        }
        assert_eq!(update.apply(None), Some(at(120_000)));
    }

    #[test]
    fn intervals_round_up_to_whole_milliseconds_and_never_reach_zero() {
        let interval = |limit| quota(limit).interval();
        assert_eq!(interval(7), Duration::from_millis(8_572));
        assert_eq!(interval(60_000), Duration::from_millis(1));
        assert_eq!(interval(1_000_000), Duration::from_millis(1));
        assert_eq!(interval(u32::MAX), Duration::from_millis(1));
    }

    #[test]
    fn keys_are_policy_and_canonical_subject_and_debug_hides_the_subject() {
        let q = Gcra::per_minute("auth-account", NonZeroU32::new(5).unwrap());
        let key = q.key(&"ada@example.com");
        assert_eq!(key.as_str(), "auth-account:ada@example.com");
        assert_eq!(format!("{key:?}"), "RateLimitKey(auth-account:…)");
        let net = crate::auth::ClientNet::of("2001:db8:1:2::7".parse().unwrap());
        assert_eq!(quota(1).key(&net).as_str(), "auth-ip:2001:db8:1:2::/64");
    }

    #[test]
    fn the_end_of_time_saturates_instead_of_overflowing() {
        let q = quota(10);
        let end = Timestamp::from_unix_millis(253_402_300_799_999).unwrap();
        let mut state = None;
        let first = check(&q, &mut state, end);
        assert!(first.is_allowed());
        assert_eq!(state, Some(end));
    }

    /// Quotas whose interval is a whole number of milliseconds, so that governor (which
    /// counts nanoseconds) and this module compute the same instants.
    const EXACT: [u32; 12] = [1, 2, 3, 4, 5, 6, 10, 12, 20, 60, 600, 1_000];

    proptest! {
        /// Against governor, the in-process limiter of the other policies, request by
        /// request: the same admissions, the same `remaining` and the same wait. `reset_after`
        /// is exact here, where governor's snapshot only gives whole intervals: it is at most
        /// governor's and less than one interval below it.
        #[test]
        fn agrees_with_governor(
            limit in prop::sample::select(EXACT.to_vec()),
            gaps in prop::collection::vec(
                prop_oneof![3 => Just(0_u64), 2 => 0_u64..2_000, 1 => 0_u64..90_000],
                1..200,
            ),
        ) {
            let q = quota(limit);
            let clock = FakeRelativeClock::default();
            let governor = RateLimiter::direct_with_clock(
                Quota::per_minute(NonZeroU32::new(limit).unwrap()),
                clock.clone(),
            )
            .with_middleware::<StateInformationMiddleware>();
            let period = q.interval();
            let mut state = None;
            let mut now = 0_i64;
            for gap in gaps {
                clock.advance(Duration::from_millis(gap));
                now += i64::try_from(gap).unwrap();
                let ours = check(&q, &mut state, at(now));
                match governor.check() {
                    Ok(snapshot) => {
                        prop_assert!(ours.is_allowed(), "governor admitted at {now}");
                        let remaining = snapshot.remaining_burst_capacity();
                        prop_assert_eq!(ours.remaining, remaining);
                        let whole = period * (limit - remaining);
                        prop_assert!(ours.reset_after <= whole);
                        prop_assert!(ours.reset_after + period > whole);
                    }
                    Err(not_until) => {
                        use governor::clock::Clock as _;
                        let wait = not_until.wait_time_from(clock.now());
                        prop_assert_eq!(ours.retry_after, Some(wait), "at {}", now);
                        prop_assert_eq!(ours.remaining, 0);
                    }
                }
            }
        }

        /// Any quota, rounded intervals included: if `n` requests are admitted at
        /// `a_1 <= ... <= a_n`, then `n <= q + floor((a_n - a_1) / T)` (each admission moves
        /// the TAT by `T`, and admission needs `TAT <= now + (q-1)T`). So at most `2q` in any
        /// minute (a burst at its start, a replenished one through it), never more; a
        /// rejection never asks to wait longer than `T`; an idle key is admitted.
        #[test]
        fn never_admits_more_than_the_quota_allows(
            limit in prop::sample::select(vec![1_u32, 3, 7, 10, 13, 600, 7_000]),
            gaps in prop::collection::vec(
                prop_oneof![3 => Just(0_u64), 2 => 0_u64..1_000, 1 => 0_u64..20_000],
                1..300,
            ),
        ) {
            let q = quota(limit);
            let t = i64::try_from(q.interval().as_millis()).unwrap();
            let mut state = None;
            let mut admitted = Vec::new();
            let mut now = 0_i64;
            for gap in gaps {
                now += i64::try_from(gap).unwrap();
                let idle = state.is_none_or(|tat| tat <= at(now));
                let decision = check(&q, &mut state, at(now));
                prop_assert!(!idle || decision.is_allowed(), "idle key rejected");
                match decision.retry_after {
                    None => admitted.push(now),
                    Some(wait) => prop_assert!(wait > Duration::ZERO && wait <= q.interval()),
                }
            }
            let cap = |span: i64| i64::from(limit) + span / t;
            for (i, start) in admitted.iter().enumerate() {
                for (j, end) in admitted.iter().enumerate().skip(i) {
                    prop_assert!(i64::try_from(j - i + 1).unwrap() <= cap(end - start));
                }
            }
        }
    }
}
