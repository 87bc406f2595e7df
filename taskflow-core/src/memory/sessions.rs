//! Sessions (each with its refresh-token family state) and login failures in memory. Revoked
//! and expired sessions are swept as new ones are created, so memory tracks live sessions only;
//! a session's state does not grow with its rotations.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, read, write};
use crate::auth::refresh::RefreshTokenHash;
use crate::auth::session::{RefreshFamily, Rotation, Session, SessionValidity};
use crate::auth::throttle::{FailureState, LoginAttempt, ThrottlePolicy};
use crate::clock::Timestamp;
use crate::domain::{Email, SessionId, UserId};
use crate::error::StorageError;
use crate::ports::{LoginThrottleRepository, SessionRepository};

/// Sweep for dead sessions (and old failure records) once per this many insertions.
const SWEEP_EVERY: u64 = 1024;

#[derive(Debug)]
struct Entry {
    session: Session,
    /// `None` once revoked: a revoked family's tokens can never succeed again.
    family: Option<RefreshFamily>,
}

#[derive(Debug, Default)]
pub(super) struct Sessions {
    by_id: HashMap<SessionId, Entry>,
    inserts: u64,
}

impl Sessions {
    fn owned_mut(&mut self, user: &UserId, id: &SessionId) -> Option<&mut Entry> {
        self.by_id
            .get_mut(id)
            .filter(|e| e.session.user_id == *user)
    }

    fn revoke(entry: &mut Entry, now: Timestamp) -> bool {
        if entry.session.revoked_at.is_some() {
            return false;
        }
        entry.session.revoked_at = Some(now);
        entry.family = None;
        true
    }

    fn sweep(&mut self, now: Timestamp) {
        self.by_id.retain(|_, e| e.session.is_active(now));
    }

    /// How many refresh-token hashes are kept, over every session (at most two per session).
    #[cfg(test)]
    fn refresh_hashes(&self) -> usize {
        self.by_id
            .values()
            .filter_map(|e| e.family.as_ref())
            .map(|f| 1 + usize::from(f.previous.is_some()))
            .sum()
    }
}

#[async_trait]
impl SessionRepository for MemoryStore {
    async fn create_session(
        &self,
        session: &Session,
        first: &RefreshTokenHash,
    ) -> Result<(), StorageError> {
        let mut state = write(&self.sessions);
        state.inserts += 1;
        if state.inserts.is_multiple_of(SWEEP_EVERY) {
            state.sweep(session.created_at);
        }
        if state.by_id.contains_key(&session.id) {
            return Err(StorageError::internal("duplicate session id"));
        }
        let entry = Entry {
            session: session.clone(),
            family: Some(RefreshFamily::first(*first)),
        };
        state.by_id.insert(session.id, entry);
        Ok(())
    }

    async fn get_session(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<Session>, StorageError> {
        let state = read(&self.sessions);
        Ok(state
            .by_id
            .get(id)
            .filter(|e| e.session.user_id == *user)
            .map(|e| e.session.clone()))
    }

    async fn get_session_validity(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<SessionValidity>, StorageError> {
        // The session check's read on a cache miss: a shared lock lets them run side by side,
        // and none of the session's strings is cloned.
        let state = read(&self.sessions);
        Ok(state
            .by_id
            .get(id)
            .filter(|e| e.session.user_id == *user)
            .map(|e| e.session.validity()))
    }

    async fn rotate_refresh_token(
        &self,
        rotation: &Rotation,
    ) -> Result<Option<Session>, StorageError> {
        let mut state = write(&self.sessions);
        let Some(entry) = state.owned_mut(&rotation.user_id, &rotation.session_id) else {
            return Ok(None);
        };
        let live = entry.session.is_active(rotation.now)
            && entry.family.as_ref().is_some_and(|f| f.accepts(rotation));
        if !live {
            return Ok(None);
        }
        entry.family = Some(RefreshFamily::rotated(rotation));
        entry.session.last_used_at = rotation.now;
        entry.session.idle_expires_at = rotation.idle_expires_at;
        Ok(Some(entry.session.clone()))
    }

    async fn get_refresh_family(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<(Session, Option<RefreshFamily>)>, StorageError> {
        let state = read(&self.sessions);
        Ok(state
            .by_id
            .get(id)
            .filter(|e| e.session.user_id == *user)
            .map(|e| (e.session.clone(), e.family.clone())))
    }

    async fn revoke_session(
        &self,
        user: &UserId,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut state = write(&self.sessions);
        Ok(state
            .owned_mut(user, id)
            .is_some_and(|entry| Sessions::revoke(entry, now)))
    }

    async fn revoke_all_sessions(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let mut state = write(&self.sessions);
        Ok(state
            .by_id
            .values_mut()
            .filter(|e| e.session.user_id == *user)
            .map(|e| u64::from(Sessions::revoke(e, now)))
            .sum())
    }

    async fn list_sessions(&self, user: &UserId) -> Result<Vec<Session>, StorageError> {
        let state = read(&self.sessions);
        let mut sessions: Vec<Session> = state
            .by_id
            .values()
            .filter(|e| e.session.user_id == *user && e.session.revoked_at.is_none())
            .map(|e| e.session.clone())
            .collect();
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(sessions)
    }
}

#[derive(Debug, Default)]
pub(super) struct Failures {
    by_email: HashMap<Email, FailureState>,
    inserts: u64,
}

#[async_trait]
impl LoginThrottleRepository for MemoryStore {
    async fn login_failures(&self, email: &Email) -> Result<Option<FailureState>, StorageError> {
        Ok(write(&self.failures).by_email.get(email).copied())
    }

    async fn reserve_login_attempt(
        &self,
        email: &Email,
        now: Timestamp,
        policy: &ThrottlePolicy,
    ) -> Result<LoginAttempt, StorageError> {
        // One write lock around the read and the write: the reservation is atomic.
        let mut state = write(&self.failures);
        state.inserts += 1;
        if state.inserts.is_multiple_of(SWEEP_EVERY) {
            let horizon = now.saturating_sub(policy.forget_after);
            state.by_email.retain(|_, f| f.last_failure_at >= horizon);
        }
        let attempt = policy.reserve(state.by_email.get(email), now);
        if let LoginAttempt::Reserved(record) = attempt {
            state.by_email.insert(email.clone(), record);
        }
        Ok(attempt)
    }

    async fn clear_login_failures(&self, email: &Email) -> Result<(), StorageError> {
        write(&self.failures).by_email.remove(email);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::refresh::RefreshTokenKeys;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_millis(4_102_444_800_000 + secs * 1000).expect("in range")
    }

    /// Finding 8 of issue 14: one stored record per rotation, kept for 14 days. A session keeps
    /// at most two token hashes (the live one and the previous one) however often it rotates.
    #[tokio::test]
    async fn a_session_keeps_two_token_hashes_however_often_it_rotates() {
        let store = MemoryStore::new();
        let keys = RefreshTokenKeys::random();
        let session = Session {
            id: SessionId::generate(),
            user_id: UserId::generate(),
            created_at: at(0),
            last_used_at: at(0),
            expires_at: at(100_000),
            idle_expires_at: at(100_000),
            user_agent: None,
            ip: None,
            revoked_at: None,
        };
        let (_, mut live) = keys.mint(&session.user_id, &session.id, 0);
        store.create_session(&session, &live).await.expect("create");
        assert_eq!(read(&store.sessions).refresh_hashes(), 1);
        for generation in 0..1000 {
            let (successor, successor_hash) =
                keys.mint(&session.user_id, &session.id, generation + 1);
            let rotation = Rotation {
                user_id: session.user_id,
                session_id: session.id,
                presented: live,
                generation,
                successor: successor_hash,
                sealed_successor: keys.seal(&successor, &live),
                now: at(i64::try_from(generation).expect("small") + 1),
                idle_expires_at: at(100_000),
            };
            let rotated = store.rotate_refresh_token(&rotation).await.expect("rotate");
            assert!(rotated.is_some(), "generation {generation}");
            live = successor_hash;
        }
        assert_eq!(read(&store.sessions).refresh_hashes(), 2);
        let (_, family) = store
            .get_refresh_family(&session.user_id, &session.id)
            .await
            .expect("get")
            .expect("present");
        assert_eq!(family.map(|f| f.generation), Some(1000));
        store
            .revoke_session(&session.user_id, &session.id, at(2000))
            .await
            .expect("revoke");
        assert_eq!(read(&store.sessions).refresh_hashes(), 0);
    }
}
