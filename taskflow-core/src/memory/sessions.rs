//! Sessions, refresh tokens and login failures in memory. Revoked and expired sessions are
//! swept (with their tokens) as new ones are created, so memory tracks live sessions only.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, read, write};
use crate::auth::refresh::RefreshTokenHash;
use crate::auth::session::{RefreshTokenRecord, Session};
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
    tokens: Vec<RefreshTokenHash>,
}

#[derive(Debug, Default)]
pub(super) struct Sessions {
    by_id: HashMap<SessionId, Entry>,
    tokens: HashMap<RefreshTokenHash, RefreshTokenRecord>,
    inserts: u64,
}

impl Sessions {
    fn owned_mut(&mut self, user: &UserId, id: &SessionId) -> Option<&mut Entry> {
        self.by_id
            .get_mut(id)
            .filter(|e| e.session.user_id == *user)
    }

    fn revoke(&mut self, id: &SessionId, now: Timestamp) -> bool {
        let Some(entry) = self.by_id.get_mut(id) else {
            return false;
        };
        if entry.session.revoked_at.is_some() {
            return false;
        }
        entry.session.revoked_at = Some(now);
        // A revoked family's tokens can never succeed again; forgetting them frees memory
        // and makes a later presentation plainly unknown (still 401).
        for hash in entry.tokens.drain(..) {
            self.tokens.remove(&hash);
        }
        true
    }

    fn sweep(&mut self, now: Timestamp) {
        let dead: Vec<SessionId> = self
            .by_id
            .values()
            .filter(|e| !e.session.is_active(now))
            .map(|e| e.session.id)
            .collect();
        for id in dead {
            if let Some(entry) = self.by_id.remove(&id) {
                for hash in entry.tokens {
                    self.tokens.remove(&hash);
                }
            }
        }
    }
}

#[async_trait]
impl SessionRepository for MemoryStore {
    async fn create_session(
        &self,
        session: &Session,
        token: &RefreshTokenRecord,
    ) -> Result<(), StorageError> {
        let mut state = write(&self.sessions);
        state.inserts += 1;
        if state.inserts.is_multiple_of(SWEEP_EVERY) {
            state.sweep(session.created_at);
        }
        if state.by_id.contains_key(&session.id) {
            return Err(StorageError::internal("duplicate session id"));
        }
        state.tokens.insert(token.hash, *token);
        let entry = Entry {
            session: session.clone(),
            tokens: vec![token.hash],
        };
        state.by_id.insert(session.id, entry);
        Ok(())
    }

    async fn get_session(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<Session>, StorageError> {
        // Every authenticated request comes here: a shared lock lets them run side by side.
        let state = read(&self.sessions);
        Ok(state
            .by_id
            .get(id)
            .filter(|e| e.session.user_id == *user)
            .map(|e| e.session.clone()))
    }

    async fn use_refresh_token(
        &self,
        user: &UserId,
        hash: &RefreshTokenHash,
        now: Timestamp,
    ) -> Result<Option<RefreshTokenRecord>, StorageError> {
        let mut state = write(&self.sessions);
        let Some(record) = state.tokens.get_mut(hash).filter(|r| r.user_id == *user) else {
            return Ok(None);
        };
        let before = *record;
        record.used_at.get_or_insert(now);
        Ok(Some(before))
    }

    async fn add_refresh_token(
        &self,
        token: &RefreshTokenRecord,
        idle_expires_at: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut state = write(&self.sessions);
        let Some(entry) = state.owned_mut(&token.user_id, &token.session_id) else {
            return Ok(false);
        };
        if entry.session.revoked_at.is_some() {
            return Ok(false);
        }
        entry.session.last_used_at = token.issued_at;
        entry.session.idle_expires_at = idle_expires_at;
        entry.tokens.push(token.hash);
        state.tokens.insert(token.hash, *token);
        Ok(true)
    }

    async fn revoke_session(
        &self,
        user: &UserId,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut state = write(&self.sessions);
        if state.owned_mut(user, id).is_none() {
            return Ok(false);
        }
        Ok(state.revoke(id, now))
    }

    async fn revoke_all_sessions(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let mut state = write(&self.sessions);
        let ids: Vec<SessionId> = state
            .by_id
            .values()
            .filter(|e| e.session.user_id == *user)
            .map(|e| e.session.id)
            .collect();
        Ok(ids.iter().map(|id| u64::from(state.revoke(id, now))).sum())
    }

    async fn list_sessions(&self, user: &UserId) -> Result<Vec<Session>, StorageError> {
        let state = write(&self.sessions);
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
