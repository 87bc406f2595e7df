//! The session check served from memory, bounded: each instance remembers, for at most a
//! configured time (`TASKFLOW_SESSION_CACHE_MS`, at most one second), that a session was found
//! active, so an authenticated request costs no storage round trip for its session check.
//!
//! What keeps this safe:
//! - **Revocation through this instance is immediate.** Logout, logout-all, refresh-token
//!   reuse and logout by refresh token drop the session's entries (all of the user's for
//!   logout-all) once their storage write returned, before the response is sent. A check
//!   whose storage read was in flight when the revocation happened is not cached: each stripe
//!   counts its invalidations, a read takes the count before it starts (a ticket), and the
//!   entry is stored only if the count is unchanged, checked under the same lock as the
//!   invalidation.
//! - **Other instances see it within the bound.** An entry lives at most the configured time
//!   after its storage read *started*, so whatever storage said, it is at most that old.
//! - **Never past the session's own end.** An entry also ends at the session's absolute or
//!   idle expiry as read, whichever comes first (an idle expiry that a refresh moved forward
//!   is picked up at the next read).
//! - **Only positive results.** A revoked, expired or unknown session is never cached, so it
//!   never takes longer than a storage read to be refused.
//! - **Bounded memory.** At most `capacity` entries (default [`DEFAULT_CAPACITY`], about
//!   100 bytes each); when full, the oldest entry goes first. Every entry is younger than one
//!   second, so insertion order is expiry order: evicting the oldest is what LRU would do,
//!   at O(1) per insertion. Evictions of entries still fresh are counted (a cache too small for
//!   the sessions active within one TTL shows there).
//! - **No lock across an await.** The locks are `std` ones, taken only around map operations.
//! - **One read for a crowd.** Checks of one session that miss while a storage read of it is
//!   in flight wait for that read instead of sending their own (`SessionCache::read_once`):
//!   when a busy session's entry expires, its concurrent requests cost one command, not one
//!   each. A waiter is answered from a read that started after it missed or at most as long
//!   before as the read takes, so the bound holds; the read is forgotten once answered.
//!
//! Time comes from the service's [`Clock`](crate::clock::Clock), the one session expiry is
//! measured on, so tests move it by hand. A clock that steps backwards makes every entry
//! cached "in the future" a miss, never a longer hit.
//!
//! Hand-written rather than `moka` or `quick_cache`: the expiry must follow the injected
//! clock (`moka` times entries with its own `Instant`; `quick_cache` has no expiry), and
//! "store unless revoked since the read began" must be atomic with invalidation, logout-all's
//! included, which needs the cache's own lock; so either crate would still need this stripe
//! lock and these timestamps around it, for what amounts to a hash map and a queue.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::auth::session::SessionValidity;
use crate::clock::Timestamp;
use crate::domain::{SessionId, UserId};
use crate::error::StorageError;

/// The longest time a session check may be cached (contract: at most one second).
pub const MAX_TTL: Duration = Duration::from_secs(1);

/// Entries kept at most by default: sessions active within one TTL on one instance. About
/// 100 bytes each (key, times and queue slot), so under 2 MB when full.
pub const DEFAULT_CAPACITY: usize = 16_384;

/// Entries per stripe aimed at: enough stripes that concurrent requests rarely share a lock,
/// few enough that small caches (tests) are one exact FIFO.
const STRIPE_TARGET: usize = 512;
/// The most stripes.
const MAX_STRIPES: usize = 32;

/// How long and how many session checks an instance caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCacheConfig {
    ttl: Duration,
    capacity: usize,
}

/// Why a session cache configuration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a session check may be cached for at most 1000 ms")]
pub struct SessionCacheTtlError;

impl Default for SessionCacheConfig {
    /// [`MAX_TTL`] and [`DEFAULT_CAPACITY`].
    fn default() -> Self {
        Self {
            ttl: MAX_TTL,
            capacity: DEFAULT_CAPACITY,
        }
    }
}

impl SessionCacheConfig {
    /// Cache each session check for `ttl` (zero: check storage on every request), with the
    /// default capacity.
    ///
    /// # Errors
    /// [`SessionCacheTtlError`] when `ttl` is over [`MAX_TTL`].
    pub fn new(ttl: Duration) -> Result<Self, SessionCacheTtlError> {
        if ttl > MAX_TTL {
            return Err(SessionCacheTtlError);
        }
        Ok(Self {
            ttl,
            capacity: DEFAULT_CAPACITY,
        })
    }

    /// No caching: every request checks its session in storage.
    pub const fn disabled() -> Self {
        Self {
            ttl: Duration::ZERO,
            capacity: DEFAULT_CAPACITY,
        }
    }

    /// The same with room for `capacity` entries (at least one).
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How long a check is cached.
    pub const fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many entries are kept at most.
    pub const fn capacity(&self) -> usize {
        self.capacity
    }
}

/// How the cache has served since start, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionCacheStats {
    /// Session checks answered from memory.
    pub hits: u64,
    /// Session checks that read storage (every one, when caching is off).
    pub misses: u64,
    /// Entries dropped while still fresh because the cache was full.
    pub evictions: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Whose session: a check hits only for its own user (as the storage read is scoped).
    user: UserId,
    /// When the storage read that found the session active started.
    cached_at: Timestamp,
    /// The entry is a hit strictly before this: `cached_at + ttl`, or the session's end.
    until: Timestamp,
    /// Matches its slot in the insertion queue (an overwritten entry's older slot is stale).
    seq: u64,
}

impl Entry {
    fn is_fresh(&self, now: Timestamp) -> bool {
        self.cached_at <= now && now < self.until
    }
}

/// One lock's share of the entries: the users whose id maps here, all their sessions. Keyed
/// by session id alone (unique, and half the bytes to hash of the pair).
#[derive(Debug, Default)]
struct Stripe {
    entries: HashMap<SessionId, Entry>,
    /// Insertion order, oldest first; slots whose `seq` no longer matches are stale.
    order: VecDeque<(SessionId, u64)>,
    /// Invalidations so far, for [`Ticket`].
    invalidations: u64,
    next_seq: u64,
}

impl Stripe {
    /// Drops the oldest slot; whether it held an entry still fresh at `now`.
    fn pop_oldest(&mut self, now: Timestamp) -> Option<bool> {
        let (key, seq) = self.order.pop_front()?;
        let live = self.entries.get(&key).is_some_and(|e| e.seq == seq);
        if !live {
            return Some(false);
        }
        let entry = self.entries.remove(&key);
        Some(entry.is_some_and(|e| e.is_fresh(now)))
    }

    /// Whether the oldest slot is stale or expired (and so can go without an eviction).
    fn oldest_is_spent(&self, now: Timestamp) -> bool {
        self.order.front().is_some_and(|(key, seq)| {
            self.entries
                .get(key)
                .is_none_or(|e| e.seq != *seq || !e.is_fresh(now))
        })
    }
}

#[derive(Debug, Default)]
struct Slot {
    stripe: RwLock<Stripe>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl Slot {
    fn read(&self) -> RwLockReadGuard<'_, Stripe> {
        // A panic under this lock leaves a valid map (at worst one entry short).
        self.stripe.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Stripe> {
        self.stripe.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Taken before a session check reads storage: the entry it leads to is stored only if no
/// invalidation reached its stripe in between.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    slot: usize,
    invalidations: u64,
    started: Timestamp,
}

/// The per-instance cache of positive session checks (see the module documentation).
pub(crate) struct SessionCache {
    config: SessionCacheConfig,
    per_stripe: usize,
    slots: Box<[Slot]>,
    /// Storage reads in flight, by session, for [`Self::read_once`]: `None` inside is a read
    /// that failed (each waiter then reads on its own). Only while a read is in flight, so
    /// at most one per request in progress.
    in_flight: Mutex<HashMap<(UserId, SessionId), Arc<SharedRead>>>,
}

/// The outcome of one storage read of a session, shared by the checks that waited for it.
type SharedRead = OnceCell<Option<Option<SessionValidity>>>;

impl fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCache")
            .field("ttl", &self.config.ttl)
            .field("capacity", &self.config.capacity)
            .field("stripes", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl SessionCache {
    pub(crate) fn new(config: SessionCacheConfig) -> Self {
        let stripes = (config.capacity / STRIPE_TARGET).clamp(1, MAX_STRIPES);
        Self {
            config,
            per_stripe: (config.capacity / stripes).max(1),
            slots: (0..stripes).map(|_| Slot::default()).collect(),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The session's validity from storage through `read`, read once for all the checks of
    /// that session that ask while the read is in flight. Returns it and whether this call
    /// made the read (the one that should [`insert`](Self::insert) what it found). A read that
    /// fails fails the call that made it; the others then read on their own.
    ///
    /// # Errors
    /// What `read` returned, for the call that made the read.
    pub(crate) async fn read_once<F, Fut>(
        &self,
        user: &UserId,
        session: &SessionId,
        read: F,
    ) -> Result<(Option<SessionValidity>, bool), StorageError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<SessionValidity>, StorageError>>,
    {
        if !self.enabled() {
            return Ok((read().await?, true));
        }
        let key = (*user, *session);
        let lock = || {
            self.in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        let shared = Arc::clone(lock().entry(key).or_default());
        let mut failure = None;
        let mut made = false;
        let outcome = *shared
            .get_or_init(|| async {
                made = true;
                read().await.map_err(|e| failure = Some(e)).ok()
            })
            .await;
        // Whoever is answered first forgets the read, so that no later check reuses it.
        {
            let mut in_flight = lock();
            if in_flight.get(&key).is_some_and(|s| Arc::ptr_eq(s, &shared)) {
                in_flight.remove(&key);
            }
        }
        match (outcome, failure) {
            (_, Some(e)) => Err(e),
            (Some(validity), None) => Ok((validity, made)),
            (None, None) => Ok((read().await?, true)),
        }
    }

    fn enabled(&self) -> bool {
        !self.config.ttl.is_zero()
    }

    /// The stripe of `user`: all of a user's sessions share one, so logout-all is one lock.
    /// A Fibonacci (multiplicative) hash of the id's random and counter bytes: one multiply,
    /// and ids made at any stride (a user id, then its first session's) still spread over
    /// every stripe. Ids come from verified tokens, so nobody picks them to crowd a stripe.
    fn slot_of(&self, user: &UserId) -> usize {
        if self.slots.len() == 1 {
            return 0;
        }
        let bytes = user.to_bytes();
        let mut tail = [0; 8];
        tail.copy_from_slice(&bytes[4..]);
        let mixed = u64::from_be_bytes(tail).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        usize::try_from(mixed).unwrap_or(0) % self.slots.len()
    }

    /// Whether the session `session` of `user` was found active within the TTL (and before
    /// its end); counts a hit or a miss.
    pub(crate) fn check(&self, user: &UserId, session: &SessionId, now: Timestamp) -> bool {
        if !self.enabled() {
            self.slots[0].misses.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let slot = &self.slots[self.slot_of(user)];
        let hit = slot
            .read()
            .entries
            .get(session)
            .is_some_and(|e| e.user == *user && e.is_fresh(now));
        let counter = if hit { &slot.hits } else { &slot.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Taken at `now`, just before reading `user`'s session from storage.
    pub(crate) fn ticket(&self, user: &UserId, now: Timestamp) -> Ticket {
        if !self.enabled() {
            return Ticket {
                slot: 0,
                invalidations: 0,
                started: now,
            };
        }
        let slot = self.slot_of(user);
        Ticket {
            slot,
            invalidations: self.slots[slot].read().invalidations,
            started: now,
        }
    }

    /// Remembers that the read of `ticket` found the session active until `ends_at`; nothing
    /// happens if an invalidation reached the stripe since the ticket. (A read slower than
    /// the TTL stores an entry that is already over: it never hits, and goes with the next
    /// insertions; not worth a second clock read per miss.)
    pub(crate) fn insert(
        &self,
        ticket: Ticket,
        user: &UserId,
        session: &SessionId,
        ends_at: Timestamp,
    ) {
        if !self.enabled() {
            return;
        }
        let now = ticket.started;
        let until = now.saturating_add(self.config.ttl).min(ends_at);
        let entry = Entry {
            user: *user,
            cached_at: now,
            until,
            seq: 0,
        };
        if !entry.is_fresh(now) {
            return;
        }
        let slot = &self.slots[ticket.slot];
        let mut stripe = slot.write();
        if stripe.invalidations != ticket.invalidations {
            return;
        }
        while stripe.oldest_is_spent(now) {
            stripe.pop_oldest(now);
        }
        let mut evicted = 0;
        while stripe.order.len() >= self.per_stripe {
            if stripe.pop_oldest(now) == Some(true) {
                evicted += 1;
            }
        }
        let seq = stripe.next_seq;
        stripe.next_seq += 1;
        stripe.entries.insert(*session, Entry { seq, ..entry });
        stripe.order.push_back((*session, seq));
        drop(stripe);
        if evicted > 0 {
            slot.evictions.fetch_add(evicted, Ordering::Relaxed);
        }
    }

    /// Forgets the session `session` of `user` (it was revoked through this instance).
    pub(crate) fn invalidate(&self, user: &UserId, session: &SessionId) {
        if !self.enabled() {
            return;
        }
        let mut stripe = self.slots[self.slot_of(user)].write();
        if stripe.entries.get(session).is_some_and(|e| e.user == *user) {
            stripe.entries.remove(session);
        }
        stripe.invalidations += 1;
    }

    /// Forgets every session of `user` (all were revoked through this instance).
    pub(crate) fn invalidate_user(&self, user: &UserId) {
        if !self.enabled() {
            return;
        }
        let mut stripe = self.slots[self.slot_of(user)].write();
        stripe.entries.retain(|_, e| e.user != *user);
        stripe.invalidations += 1;
    }

    /// Hits, misses and evictions since start.
    pub(crate) fn stats(&self) -> SessionCacheStats {
        let sum = |counter: fn(&Slot) -> &AtomicU64| {
            self.slots
                .iter()
                .map(|s| counter(s).load(Ordering::Relaxed))
                .sum()
        };
        SessionCacheStats {
            hits: sum(|s| &s.hits),
            misses: sum(|s| &s.misses),
            evictions: sum(|s| &s.evictions),
        }
    }

    /// Entries held (fresh or not yet reclaimed).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.iter().map(|s| s.read().entries.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};

    const TTL: Duration = Duration::from_secs(1);

    fn start() -> Timestamp {
        Timestamp::from_unix_millis(1_795_687_200_000).expect("in range")
    }

    fn far() -> Timestamp {
        start().saturating_add(Duration::from_secs(3600))
    }

    fn cache(ttl: Duration, capacity: usize) -> SessionCache {
        SessionCache::new(
            SessionCacheConfig::new(ttl)
                .expect("ttl")
                .with_capacity(capacity),
        )
    }

    fn ids() -> (UserId, SessionId) {
        (UserId::generate(), SessionId::generate())
    }

    /// A storage read at `clock`'s time that found the session active until `ends_at`.
    fn found(cache: &SessionCache, clock: &ManualClock, key: (UserId, SessionId), ends: Timestamp) {
        let ticket = cache.ticket(&key.0, clock.now());
        cache.insert(ticket, &key.0, &key.1, ends);
    }

    #[test]
    fn a_check_is_a_hit_for_less_than_the_ttl_after_its_read_started() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 64);
        let (user, session) = ids();
        assert!(!cache.check(&user, &session, clock.now()), "cold");
        let ticket = cache.ticket(&user, clock.now());
        // The read took 300 ms: the entry still counts from when it started.
        clock.advance(Duration::from_millis(300));
        cache.insert(ticket, &user, &session, far());
        assert!(cache.check(&user, &session, clock.now()));
        clock.advance(Duration::from_millis(699));
        assert!(cache.check(&user, &session, clock.now()), "999 ms after");
        clock.advance(Duration::from_millis(1));
        assert!(!cache.check(&user, &session, clock.now()), "1000 ms after");
        assert_eq!(
            cache.stats(),
            SessionCacheStats {
                hits: 2,
                misses: 2,
                evictions: 0
            }
        );
    }

    #[test]
    fn a_check_hits_only_for_the_sessions_own_user() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 64);
        let (user, session) = ids();
        found(&cache, &clock, (user, session), far());
        let stranger = UserId::generate();
        assert!(!cache.check(&stranger, &session, clock.now()));
        cache.invalidate(&stranger, &session);
        cache.invalidate_user(&stranger);
        assert!(
            cache.check(&user, &session, clock.now()),
            "not another user's to drop"
        );
    }

    #[test]
    fn an_entry_never_outlives_its_session() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 64);
        let key = ids();
        let ends = start().saturating_add(Duration::from_millis(400));
        found(&cache, &clock, key, ends);
        clock.advance(Duration::from_millis(399));
        assert!(cache.check(&key.0, &key.1, clock.now()));
        clock.advance(Duration::from_millis(1));
        assert!(
            !cache.check(&key.0, &key.1, clock.now()),
            "the session ended"
        );
        // A read that returns after the session ended never hits, and one that found it
        // already over stores nothing.
        let late = ids();
        let ticket = cache.ticket(&late.0, start());
        cache.insert(ticket, &late.0, &late.1, ends);
        assert!(!cache.check(&late.0, &late.1, clock.now()));
        let over = ids();
        let ticket = cache.ticket(&over.0, clock.now());
        cache.insert(ticket, &over.0, &over.1, ends);
        assert_eq!(cache.len(), 2, "nothing stored for a session already over");
    }

    #[test]
    fn invalidation_is_immediate_and_beats_a_read_in_flight() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 64);
        let (user, session) = ids();
        found(&cache, &clock, (user, session), far());
        assert!(cache.check(&user, &session, clock.now()));
        cache.invalidate(&user, &session);
        assert!(
            !cache.check(&user, &session, clock.now()),
            "dropped at once"
        );
        // A read that started before a revocation and returns after it: not stored.
        let ticket = cache.ticket(&user, clock.now());
        cache.invalidate(&user, &session);
        cache.insert(ticket, &user, &session, far());
        assert!(!cache.check(&user, &session, clock.now()));
        // A read that starts after it is stored as usual.
        found(&cache, &clock, (user, session), far());
        assert!(cache.check(&user, &session, clock.now()));
    }

    #[test]
    fn invalidating_a_user_drops_all_of_their_sessions_only() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 64);
        let user = UserId::generate();
        let mine = [SessionId::generate(), SessionId::generate()];
        let other = ids();
        for session in mine {
            found(&cache, &clock, (user, session), far());
        }
        found(&cache, &clock, other, far());
        let ticket = cache.ticket(&user, clock.now());
        cache.invalidate_user(&user);
        for session in mine {
            assert!(!cache.check(&user, &session, clock.now()));
        }
        assert!(
            cache.check(&other.0, &other.1, clock.now()),
            "another user's"
        );
        cache.insert(ticket, &user, &mine[0], far());
        assert!(
            !cache.check(&user, &mine[0], clock.now()),
            "a read in flight across logout-all"
        );
    }

    #[test]
    fn a_full_cache_evicts_the_oldest_entry_first() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 3);
        let keys: Vec<_> = (0..5).map(|_| ids()).collect();
        for key in &keys {
            found(&cache, &clock, *key, far());
            clock.advance(Duration::from_millis(1));
        }
        assert_eq!(cache.len(), 3, "bounded");
        let hits: Vec<bool> = keys
            .iter()
            .map(|(u, s)| cache.check(u, s, clock.now()))
            .collect();
        assert_eq!(hits, [false, false, true, true, true]);
        assert_eq!(cache.stats().evictions, 2);
        // Expired entries make room without counting as evictions.
        clock.advance(TTL);
        for key in (0..3).map(|_| ids()) {
            found(&cache, &clock, key, far());
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.stats().evictions, 2);
    }

    #[test]
    fn overwrites_and_invalidations_keep_the_bound() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 4);
        let key = ids();
        for _ in 0..100 {
            found(&cache, &clock, key, far());
            cache.invalidate(&key.0, &key.1);
            found(&cache, &clock, key, far());
        }
        let slots: usize = cache.slots.iter().map(|s| s.read().order.len()).sum();
        assert!(slots <= 4 && cache.len() == 1, "{slots} slots");
        assert!(cache.check(&key.0, &key.1, clock.now()));
    }

    #[test]
    fn a_clock_stepping_back_gets_misses_not_longer_hits() {
        let clock = ManualClock::new(start());
        let cache = cache(TTL, 64);
        let key = ids();
        found(&cache, &clock, key, far());
        clock.set(start().saturating_sub(Duration::from_secs(5)));
        assert!(!cache.check(&key.0, &key.1, clock.now()));
    }

    #[test]
    fn zero_disables_caching() {
        let clock = ManualClock::new(start());
        let cache = SessionCache::new(SessionCacheConfig::disabled());
        let key = ids();
        found(&cache, &clock, key, far());
        assert!(!cache.check(&key.0, &key.1, clock.now()));
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.stats().misses, 1);
    }

    #[test]
    fn the_ttl_is_at_most_one_second() {
        assert_eq!(SessionCacheConfig::default().ttl(), MAX_TTL);
        assert!(SessionCacheConfig::new(MAX_TTL).is_ok());
        assert_eq!(
            SessionCacheConfig::new(MAX_TTL + Duration::from_millis(1)),
            Err(SessionCacheTtlError)
        );
        assert_eq!(
            SessionCacheConfig::disabled().with_capacity(0).capacity(),
            1
        );
    }

    #[test]
    fn large_caches_are_striped_within_their_capacity() {
        let cache = SessionCache::new(SessionCacheConfig::default());
        assert_eq!(cache.slots.len(), MAX_STRIPES);
        assert!(cache.per_stripe * cache.slots.len() <= DEFAULT_CAPACITY);
        let clock = ManualClock::new(start());
        let keys: Vec<_> = (0..1000).map(|_| ids()).collect();
        for key in &keys {
            found(&cache, &clock, *key, far());
        }
        assert!(keys.iter().all(|(u, s)| cache.check(u, s, clock.now())));
        // Successive user ids spread over every stripe.
        let used = cache.slots.iter().filter(|s| !s.read().entries.is_empty());
        assert_eq!(used.count(), MAX_STRIPES);
    }

    /// A storage read counted in `reads` that waits for `gate` and then finds the session.
    async fn gated_read(
        reads: &AtomicU64,
        gate: &tokio::sync::Notify,
        answer: Result<(), ()>,
    ) -> Result<Option<SessionValidity>, StorageError> {
        reads.fetch_add(1, Ordering::SeqCst);
        gate.notified().await;
        answer.map_err(|()| StorageError::internal("the read failed"))?;
        Ok(Some(SessionValidity {
            revoked_at: None,
            expires_at: far(),
            idle_expires_at: far(),
        }))
    }

    #[tokio::test]
    async fn checks_that_miss_together_share_one_read_and_the_next_reads_again() {
        let cache = cache(TTL, 64);
        let (user, session) = ids();
        let (reads, gate) = (AtomicU64::new(0), tokio::sync::Notify::new());
        let read = || gated_read(&reads, &gate, Ok(()));
        let check = || cache.read_once(&user, &session, read);
        // Every read waiting then goes on (all three, were each check to read on its own).
        let release = async {
            tokio::task::yield_now().await;
            gate.notify_waiters();
        };
        let (a, b, c, ()) = tokio::join!(check(), check(), check(), release);
        let answers = [a, b, c].map(|r| r.expect("read"));
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read for three checks");
        assert_eq!(answers.iter().filter(|(_, made)| *made).count(), 1);
        assert!(
            answers
                .iter()
                .all(|(v, _)| v.is_some_and(|v| v.is_active(start())))
        );
        // Answered, the read is forgotten: a later check reads storage again.
        gate.notify_one();
        let (later, made) = check().await.expect("read");
        assert!(later.is_some() && made);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert!(cache.in_flight.lock().expect("lock").is_empty());
    }

    #[tokio::test]
    async fn a_failed_shared_read_fails_its_maker_and_the_others_read_alone() {
        let cache = cache(TTL, 64);
        let (user, session) = ids();
        let (reads, gate) = (AtomicU64::new(0), tokio::sync::Notify::new());
        let failing = || gated_read(&reads, &gate, Err(()));
        let working = || gated_read(&reads, &gate, Ok(()));
        let release = async {
            tokio::task::yield_now().await;
            gate.notify_one();
            tokio::task::yield_now().await;
            gate.notify_one();
        };
        let (first, second, ()) = tokio::join!(
            cache.read_once(&user, &session, failing),
            cache.read_once(&user, &session, working),
            release
        );
        assert!(matches!(first, Err(StorageError::Internal(_))));
        let (validity, made) = second.expect("its own read");
        assert!(validity.is_some() && made);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }
}
