//! Account throttling: consecutive failed logins for one email slow that account down for every
//! client IP, with exponential backoff and a cap; success resets it. Never a permanent lockout,
//! so an attacker cannot lock a victim out for longer than the cap.
//!
//! A login attempt is *reserved* before the password is checked: in one atomic step the store
//! refuses it if the account must wait, or else counts it as a failure already (a success
//! then clears the count). Checking first and counting after the (slow) password check would
//! let every guess of a concurrent burst pass the check before any of them is counted; with
//! the reservation, one guess per backoff step gets through, however many arrive at once and
//! on however many instances. [`ThrottlePolicy::reserve`] is that step's decision, which
//! every store applies under its own atomicity (a lock, a compare-and-swap).

use std::time::Duration;

use crate::clock::Timestamp;

/// How failures translate into delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay (default 5).
    pub free_failures: u32,
    /// The delay after the first failure beyond the free ones; each further failure doubles it
    /// (default 1 s).
    pub base_delay: Duration,
    /// The longest delay (default 15 min).
    pub max_delay: Duration,
    /// Failures older than this are forgotten (default 1 h).
    pub forget_after: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(3600),
        }
    }
}

/// The failure record of one account, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureState {
    /// Consecutive failures (reserved attempts count as failures until they succeed).
    pub failures: u32,
    /// When the last one happened.
    pub last_failure_at: Timestamp,
}

/// The outcome of reserving a login attempt for an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginAttempt {
    /// The attempt may check its password; it is already counted as a failure, and this is
    /// the record as stored now.
    Reserved(FailureState),
    /// The account must wait this long; nothing was counted.
    Refused {
        /// How long to wait.
        retry_after: Duration,
    },
}

impl ThrottlePolicy {
    /// The delay imposed after `failures` consecutive failures.
    pub fn delay_after(&self, failures: u32) -> Duration {
        let Some(excess) = failures.checked_sub(self.free_failures.saturating_add(1)) else {
            return Duration::ZERO;
        };
        let factor = 1_u32.checked_shl(excess.min(31)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// How long the account must still wait at `now`, if at all.
    pub fn retry_after(&self, state: Option<&FailureState>, now: Timestamp) -> Option<Duration> {
        let state = state?;
        let until = state
            .last_failure_at
            .saturating_add(self.delay_after(state.failures));
        let wait = until.unix_millis() - now.unix_millis();
        u64::try_from(wait)
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }

    /// Whether an attempt at `now` may go ahead given the stored record `current`, and if so
    /// the record to store in its place: one more failure at `now` (a record whose last
    /// failure is older than `forget_after` starts again at one). A store applies this as one
    /// atomic step: it stores the returned record only if `current` is still what is stored.
    pub fn reserve(&self, current: Option<&FailureState>, now: Timestamp) -> LoginAttempt {
        if let Some(retry_after) = self.retry_after(current, now) {
            return LoginAttempt::Refused { retry_after };
        }
        let horizon = now.saturating_sub(self.forget_after);
        let previous = current
            .filter(|state| state.last_failure_at >= horizon)
            .map_or(0, |state| state.failures);
        LoginAttempt::Reserved(FailureState {
            failures: previous.saturating_add(1),
            last_failure_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_sixth_failure_and_caps() {
        let policy = ThrottlePolicy::default();
        for n in 0..=5 {
            assert_eq!(policy.delay_after(n), Duration::ZERO, "{n}");
        }
        assert_eq!(policy.delay_after(6), Duration::from_secs(1));
        assert_eq!(policy.delay_after(7), Duration::from_secs(2));
        assert_eq!(policy.delay_after(15), Duration::from_secs(512));
        assert_eq!(policy.delay_after(16), Duration::from_secs(900));
        assert_eq!(policy.delay_after(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn waits_only_until_the_delay_has_passed() {
        let policy = ThrottlePolicy::default();
        let at = |ms| Timestamp::from_unix_millis(ms).unwrap();
        let state = FailureState {
            failures: 6,
            last_failure_at: at(10_000),
        };
        assert_eq!(
            policy.retry_after(Some(&state), at(10_500)),
            Some(Duration::from_millis(500))
        );
        assert_eq!(policy.retry_after(Some(&state), at(12_000)), None);
        assert_eq!(policy.retry_after(None, at(0)), None);
        let few = FailureState {
            failures: 5,
            ..state
        };
        assert_eq!(policy.retry_after(Some(&few), at(10_000)), None);
    }

    #[test]
    fn a_reservation_counts_a_failure_or_says_how_long_to_wait() {
        let policy = ThrottlePolicy::default();
        let at = |ms| Timestamp::from_unix_millis(ms).unwrap();
        let state = |failures, ms| FailureState {
            failures,
            last_failure_at: at(ms),
        };
        assert_eq!(
            policy.reserve(None, at(1_000)),
            LoginAttempt::Reserved(state(1, 1_000))
        );
        assert_eq!(
            policy.reserve(Some(&state(5, 1_000)), at(1_000)),
            LoginAttempt::Reserved(state(6, 1_000)),
            "the fifth failure imposes no wait"
        );
        assert_eq!(
            policy.reserve(Some(&state(6, 1_000)), at(1_400)),
            LoginAttempt::Refused {
                retry_after: Duration::from_millis(600)
            }
        );
        assert_eq!(
            policy.reserve(Some(&state(6, 1_000)), at(2_000)),
            LoginAttempt::Reserved(state(7, 2_000))
        );
        let forgotten = 1_000 + 3_600_001;
        assert_eq!(
            policy.reserve(Some(&state(9, 1_000)), at(forgotten)),
            LoginAttempt::Reserved(state(1, forgotten)),
            "failures older than forget_after are forgotten"
        );
    }
}
