//! Account throttling: consecutive failed logins for one email slow that account down for every
//! client IP, with exponential backoff and a cap; success resets it. Never a permanent lockout,
//! so an attacker cannot lock a victim out for longer than the cap.

use std::time::Duration;

use crate::clock::Timestamp;

/// How failures translate into delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Consecutive failures.
    pub failures: u32,
    /// When the last one happened.
    pub last_failure_at: Timestamp,
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
}
