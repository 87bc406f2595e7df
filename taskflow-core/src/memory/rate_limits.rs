//! The state of the deployment-wide rate limits in memory: one TAT per key, applied under a
//! write lock (so each check sees the state the previous one left), and swept of the keys
//! whose TAT has passed every [`HOUSEKEEPING_EVERY`] checks, so the map holds the keys of
//! about the last minute plus at most that many. "Deployment-wide" is the process here: the
//! embedded store is not shared between processes.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, read, write};
use crate::auth::gcra::{GcraUpdate, RateLimitKey};
use crate::auth::rate_limit::HOUSEKEEPING_EVERY;
use crate::clock::Timestamp;
use crate::error::StorageError;
use crate::ports::RateLimitRepository;

#[derive(Debug, Default)]
pub(super) struct RateLimitState {
    tats: HashMap<RateLimitKey, Timestamp>,
    checks: u32,
}

impl RateLimitState {
    /// Drops every key whose state is that of a fresh key at `now`, and the memory it held.
    fn forget_expired(&mut self, now: Timestamp) {
        self.tats.retain(|_, tat| *tat > now);
        self.tats.shrink_to_fit();
    }
}

#[async_trait]
impl RateLimitRepository for MemoryStore {
    async fn apply_rate_limit(
        &self,
        key: &RateLimitKey,
        update: &GcraUpdate,
    ) -> Result<Option<Timestamp>, StorageError> {
        let mut state = write(&self.rate_limits);
        // Wraps at 2^32, a multiple of HOUSEKEEPING_EVERY, so the pace survives the wrap.
        state.checks = state.checks.wrapping_add(1);
        if state.checks.is_multiple_of(HOUSEKEEPING_EVERY) {
            state.forget_expired(update.now());
        }
        let stored = state.tats.get(key).copied();
        if let Some(next) = update.apply(stored) {
            state.tats.insert(key.clone(), next);
        }
        Ok(stored)
    }
}

impl MemoryStore {
    /// How many rate-limit keys the store holds (for tests and metrics).
    pub fn rate_limit_keys(&self) -> usize {
        read(&self.rate_limits).tats.len()
    }

    /// Forgets the rate-limit state of every key that is as good as fresh at `now`; runs by
    /// itself every [`HOUSEKEEPING_EVERY`] checks.
    pub fn forget_expired_rate_limits(&self, now: Timestamp) {
        write(&self.rate_limits).forget_expired(now);
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;
    use crate::auth::gcra::Gcra;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(4_102_444_800_000 + ms).expect("in range")
    }

    #[tokio::test]
    async fn expired_keys_are_forgotten_on_demand_and_by_itself() {
        let store = MemoryStore::new();
        let quota = Gcra::per_minute("auth-ip", NonZeroU32::new(10).expect("not zero"));
        for i in 0..256_u32 {
            let key = quota.key(&i);
            store
                .apply_rate_limit(&key, &quota.update_at(at(0)))
                .await
                .expect("apply");
        }
        assert_eq!(store.rate_limit_keys(), 256);
        // One request each: their TAT is 6 s away.
        store.forget_expired_rate_limits(at(5_999));
        assert_eq!(store.rate_limit_keys(), 256);
        store.forget_expired_rate_limits(at(6_000));
        assert_eq!(store.rate_limit_keys(), 0);
        // 4096 checks in all (256 above) sweep without being asked: the first 4095 keys of
        // this round expire at 66 s, the sweep runs at the 4096th check, at 70 s.
        for i in 0..HOUSEKEEPING_EVERY - 257 {
            let update = quota.update_at(at(60_000));
            store
                .apply_rate_limit(&quota.key(&i), &update)
                .await
                .expect("apply");
        }
        assert_eq!(store.rate_limit_keys(), 3_839);
        let last = quota.key(&"last");
        let update = quota.update_at(at(70_000));
        store.apply_rate_limit(&last, &update).await.expect("apply");
        assert_eq!(store.rate_limit_keys(), 1);
    }
}
