//! Consecutive login failures: one counter document per account (`_id` = the normalised
//! email), updated atomically and expired by a TTL index once it would be forgotten anyway.

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::options::ReturnDocument;
use taskflow_core::auth::throttle::FailureState;
use taskflow_core::domain::Email;
use taskflow_core::ports::LoginThrottleRepository;
use taskflow_core::{StorageError, Timestamp};

use crate::MongoStore;
use crate::codec::{date, failure_from_document};
use crate::error::{duplicate_key_message, storage_error};

/// Concurrent first failures of one account may race to insert its document; the losers'
/// upserts fail on the `_id` index and simply try again (then as updates).
const UPSERT_ATTEMPTS: usize = 3;

fn key(email: &Email) -> Document {
    doc! { "_id": email.as_str() }
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

    async fn record_login_failure(
        &self,
        email: &Email,
        now: Timestamp,
        forget_after: Duration,
    ) -> Result<FailureState, StorageError> {
        let horizon = now.saturating_sub(forget_after);
        // Failures older than `forget_after` are forgotten: restart the count from zero.
        let mut stale = key(email);
        stale.insert("last_failure_at", doc! { "$lt": date(horizon) });
        self.failures
            .update_one(stale, doc! { "$set": { "failures": 0_i64 } })
            .await
            .map_err(storage_error)?;
        let update = doc! {
            "$inc": { "failures": 1_i64 },
            "$set": {
                "last_failure_at": date(now),
                "expires_at": date(now.saturating_add(forget_after)),
            },
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .failures
                .find_one_and_update(key(email), update.clone())
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await;
            match result {
                Ok(Some(after)) => return Ok(failure_from_document(&after)?),
                // MongoDB always returns the document of an upsert asked for the
                // after-image. A server that answers `null` when a concurrent upsert inserted
                // first (SecantusDB 0.7 does) has still applied the update: read it back
                // rather than count the failure twice.
                Ok(None) => {
                    let found = self
                        .failures
                        .find_one(key(email))
                        .await
                        .map_err(storage_error)?
                        .ok_or_else(|| StorageError::internal("an upsert left no document"))?;
                    return Ok(failure_from_document(&found)?);
                }
                Err(e) if attempt < UPSERT_ATTEMPTS && duplicate_key_message(&e).is_some() => {}
                Err(e) => return Err(storage_error(e)),
            }
        }
    }

    async fn clear_login_failures(&self, email: &Email) -> Result<(), StorageError> {
        self.failures
            .delete_one(key(email))
            .await
            .map(drop)
            .map_err(storage_error)
    }
}
