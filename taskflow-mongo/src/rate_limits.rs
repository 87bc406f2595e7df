//! The state of the deployment-wide rate limits: one document per key in `rate_limits`
//! (`_id` = the key, `policy:subject`; `tat` = its GCRA theoretical arrival time, a date;
//! `prev` = the TAT its last check found), expired by a TTL index on `tat` (a key whose TAT
//! has passed is a fresh key, so deleting it then changes nothing).
//!
//! A check is one `findAndModify` on `_id` (so a sharded cluster routes it to one shard),
//! upserting, whose update pipeline is [`GcraUpdate::apply`] in the query language with the
//! update's own values: `tat = stored <= admit_until ? max(stored, now) + T : stored`, a
//! missing `tat` standing for `now`, and `prev = stored`. The server applies it atomically,
//! so concurrent checks on any number of instances each see the state the previous one left.
//!
//! The reply is the document *after* the check, whose `prev` is the state the check found
//! (and its `tat` must be what `apply` makes of it, which is checked). Not the document
//! before: SecantusDB 0.7 (the test server) answers a concurrent `findAndModify` with a
//! pre-image read before the write, so two checks could report one state; its post-images are
//! the write's own. The same server answers an upsert that lost a race to create the document
//! without any document (mongod never does): then what the check found is unknown, and it
//! fails closed, reported as a full key ([`GcraUpdate::unknown_outcome`]).

use async_trait::async_trait;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use taskflow_core::auth::gcra::{GcraUpdate, RateLimitKey};
use taskflow_core::ports::RateLimitRepository;
use taskflow_core::{StorageError, Timestamp};

use crate::MongoStore;
use crate::codec::{RATE_LIMITS, date};
use crate::error::{CorruptDocument, duplicate_key_message, storage_error};

/// Attempts of one check. Two concurrent upserts of a new key can both miss it and race to
/// insert; mongod retries the loser itself, and a server that does not answers a duplicate
/// key error, after which a second attempt finds the document.
const ATTEMPTS: usize = 3;

/// The update pipeline of `update` (see the module docs). Every expression of one `$set`
/// stage reads the document as it was before the stage.
///
/// The interval is added with `$dateAdd` (MongoDB 5.0+) rather than `$add` on a date, which
/// SecantusDB's Rust server (the load harness' MongoDB) refuses as unsupported.
fn pipeline(update: &GcraUpdate) -> Vec<Document> {
    let now = date(update.now());
    vec![doc! { "$set": {
        "tat": { "$cond": [
            { "$lte": [{ "$ifNull": ["$tat", now] }, date(update.admit_until())] },
            { "$dateAdd": {
                "startDate": { "$max": ["$tat", now] },
                "unit": "millisecond",
                "amount": update.interval_ms(),
            } },
            "$tat",
        ] },
        "prev": { "$ifNull": ["$tat", Bson::Null] },
    } }]
}

fn corrupt(field: &'static str) -> CorruptDocument {
    CorruptDocument {
        collection: RATE_LIMITS,
        field,
    }
}

fn instant(document: &Document, field: &'static str) -> Result<Option<Timestamp>, CorruptDocument> {
    match document.get(field) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(t)) => Timestamp::from_unix_millis(t.timestamp_millis())
            .map(Some)
            .ok_or_else(|| corrupt(field)),
        Some(_) => Err(corrupt(field)),
    }
}

/// The state the check found, from the document after it; an error when the document is not
/// what `update` makes of that state (a foreign write, or a server computing otherwise).
fn found(after: &Document, update: &GcraUpdate) -> Result<Option<Timestamp>, CorruptDocument> {
    let prev = instant(after, "prev")?;
    let expected = update.apply(prev).or(prev);
    if instant(after, "tat")? == expected {
        Ok(prev)
    } else {
        Err(corrupt("tat"))
    }
}

#[async_trait]
impl RateLimitRepository for MongoStore {
    async fn apply_rate_limit(
        &self,
        key: &RateLimitKey,
        update: &GcraUpdate,
    ) -> Result<Option<Timestamp>, StorageError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .rate_limits
                .find_one_and_update(doc! { "_id": key.as_str() }, pipeline(update))
                .upsert(true)
                .return_document(ReturnDocument::After)
                .projection(doc! { "_id": 0, "tat": 1, "prev": 1 })
                .await;
            match result {
                Ok(Some(after)) => return Ok(found(&after, update)?),
                Ok(None) => return Ok(Some(update.unknown_outcome())),
                Err(e) if attempt < ATTEMPTS && duplicate_key_message(&e).is_some() => {}
                Err(e) => return Err(storage_error(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use mongodb::bson::DateTime;
    use taskflow_core::auth::gcra::Gcra;

    use super::*;

    fn update_at(ms: i64) -> GcraUpdate {
        let now = Timestamp::from_unix_millis(ms).expect("in range");
        Gcra::per_minute("auth-ip", NonZeroU32::new(5).expect("not zero")).update_at(now)
    }

    #[test]
    fn the_pipeline_carries_the_updates_own_values() {
        let now = DateTime::from_millis(1_000_000);
        let expected = doc! { "$set": {
            "tat": { "$cond": [
                { "$lte": [{ "$ifNull": ["$tat", now] }, DateTime::from_millis(1_048_000)] },
                { "$dateAdd": {
                    "startDate": { "$max": ["$tat", now] },
                    "unit": "millisecond",
                    "amount": 12_000_i64,
                } },
                "$tat",
            ] },
            "prev": { "$ifNull": ["$tat", Bson::Null] },
        } };
        assert_eq!(pipeline(&update_at(1_000_000)), [expected]);
    }

    #[test]
    fn the_found_state_is_prev_when_tat_is_what_apply_makes_of_it() {
        let update = update_at(1_000_000);
        let at = DateTime::from_millis;
        let fresh = doc! { "tat": at(1_012_000), "prev": Bson::Null };
        assert_eq!(found(&fresh, &update).expect("consistent"), None);
        let admitted = doc! { "tat": at(1_036_000), "prev": at(1_024_000) };
        let prev = Timestamp::from_unix_millis(1_024_000);
        assert_eq!(found(&admitted, &update).expect("consistent"), prev);
        let rejected = doc! { "tat": at(1_060_000), "prev": at(1_060_000) };
        let prev = Timestamp::from_unix_millis(1_060_000);
        assert_eq!(found(&rejected, &update).expect("consistent"), prev);
        for wrong in [
            doc! { "tat": at(1_060_000), "prev": at(1_024_000) },
            doc! { "tat": "soon", "prev": Bson::Null },
            doc! { "prev": Bson::Null },
            doc! { "tat": at(1_012_000), "prev": 7 },
        ] {
            let err = found(&wrong, &update).expect_err("inconsistent");
            assert!(
                err.to_string()
                    .starts_with("a stored `rate_limits` document has an invalid"),
                "{err}"
            );
        }
    }
}
