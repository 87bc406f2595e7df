//! Consecutive login failures: one counter document per account (`_id` = the normalised
//! email), expired by a TTL index once it would be forgotten anyway.
//!
//! A login attempt is reserved by compare-and-swap: read the record, let the policy decide
//! ([`ThrottlePolicy::reserve`]), and store its new record only if the stored one is still
//! the one read (a conditional update, or an insert that the `_id` index refuses if another
//! instance inserted first); a lost race reads again. Each round, exactly one contender
//! wins, so concurrent attempts on any number of instances are counted one by one and, past
//! the free failures, all but one of a burst are refused. The backoff arithmetic stays in
//! the policy rather than being restated as an update pipeline, for the same two round trips
//! (read, write) as before.

use async_trait::async_trait;
use mongodb::bson::{Bson, Document, doc};
use taskflow_core::auth::throttle::{FailureState, LoginAttempt, ThrottlePolicy};
use taskflow_core::domain::Email;
use taskflow_core::ports::LoginThrottleRepository;
use taskflow_core::{StorageError, Timestamp};

use crate::MongoStore;
use crate::codec::{date, failure_from_document};
use crate::error::{duplicate_key_message, storage_error};

/// Compare-and-swap rounds before a reservation gives up and refuses the attempt (failing
/// closed). Each round one contender wins, and past the free failures the losers are refused
/// at their next read; so only a burst of about this many simultaneous attempts at one
/// account, within its free failures, can use them all.
const CAS_ROUNDS: usize = 16;

fn key(email: &Email) -> Document {
    doc! { "_id": email.as_str() }
}

impl MongoStore {
    /// Stores `next` in place of `stored` (as read) if it is still what is stored; returns
    /// whether it was.
    async fn swap_failures(
        &self,
        email: &Email,
        stored: Option<&Document>,
        next: &FailureState,
        policy: &ThrottlePolicy,
    ) -> Result<bool, StorageError> {
        let fields = doc! {
            "failures": i64::from(next.failures),
            "last_failure_at": date(next.last_failure_at),
            "expires_at": date(next.last_failure_at.saturating_add(policy.forget_after)),
        };
        let Some(stored) = stored else {
            let mut document = key(email);
            document.extend(fields);
            return match self.failures.insert_one(document).await {
                Ok(_) => Ok(true),
                Err(e) if duplicate_key_message(&e).is_some() => Ok(false),
                Err(e) => Err(storage_error(e)),
            };
        };
        // Compared with the values as read, whatever their BSON types.
        let mut unchanged = key(email);
        for field in ["failures", "last_failure_at"] {
            let value = stored.get(field).cloned().unwrap_or(Bson::Null);
            unchanged.insert(field, value);
        }
        let result = self
            .failures
            .update_one(unchanged, doc! { "$set": fields })
            .await
            .map_err(storage_error)?;
        Ok(result.matched_count == 1)
    }
}

#[async_trait]
impl LoginThrottleRepository for MongoStore {
    async fn login_failures(&self, email: &Email) -> Result<Option<FailureState>, StorageError> {
        let found = self
            .failures
            .find_one(key(email))
            .await
            .map_err(storage_error)?;
        Ok(found.as_ref().map(failure_from_document).transpose()?)
    }

    async fn reserve_login_attempt(
        &self,
        email: &Email,
        now: Timestamp,
        policy: &ThrottlePolicy,
    ) -> Result<LoginAttempt, StorageError> {
        for _ in 0..CAS_ROUNDS {
            let stored = self
                .failures
                .find_one(key(email))
                .await
                .map_err(storage_error)?;
            let current = stored.as_ref().map(failure_from_document).transpose()?;
            let attempt = policy.reserve(current.as_ref(), now);
            let LoginAttempt::Reserved(next) = attempt else {
                return Ok(attempt);
            };
            if self
                .swap_failures(email, stored.as_ref(), &next, policy)
                .await?
            {
                return Ok(attempt);
            }
        }
        Ok(LoginAttempt::Refused {
            retry_after: policy.base_delay,
        })
    }

    async fn clear_login_failures(&self, email: &Email) -> Result<(), StorageError> {
        self.failures
            .delete_one(key(email))
            .await
            .map(drop)
            .map_err(storage_error)
    }
}
