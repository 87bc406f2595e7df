//! Sessions (`_id` = session id), each carrying its refresh-token family in a `refresh`
//! subdocument (hashes only, and the sealed successor of the previous token; the tokens
//! themselves are never stored). Every command names the user.
//!
//! Commands per operation: create one `insert`; a rotation one `findAndModify` (the filter
//! requires the active session and its live token, so of concurrent rotations exactly one
//! matches); the family read one `find`; a revocation one `update` (one `update` for every
//! session of a user). Reads that do not need the family leave it out by projection; the
//! session check (every authenticated request that misses the instance's cache) reads only
//! `revoked_at`, `expires_at` and `idle_expires_at`.

use async_trait::async_trait;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use taskflow_core::auth::refresh::RefreshTokenHash;
use taskflow_core::auth::session::{RefreshFamily, Rotation, Session, SessionValidity};
use taskflow_core::domain::{SessionId, UserId};
use taskflow_core::ports::SessionRepository;
use taskflow_core::{StorageError, Timestamp};

use crate::MongoStore;
use crate::codec::{
    REFRESH, date, family_from_document, family_to_document, generation, hash_key, oid,
    session_from_document, session_to_document, validity_from_document,
};
use crate::error::storage_error;

fn session_key(user: &UserId, id: &SessionId) -> Document {
    doc! { "_id": oid(id.to_bytes()), "user_id": oid(user.to_bytes()) }
}

/// Leaves the family out of session reads that do not need it (every authenticated request
/// reads its session).
fn without_family() -> Document {
    doc! { REFRESH: 0 }
}

/// The fields the session check reads, and only those (`_id` too is left out).
fn validity_fields() -> Document {
    doc! { "_id": 0, "revoked_at": 1, "expires_at": 1, "idle_expires_at": 1 }
}

/// Revokes and forgets the family: a revoked family's tokens can never succeed again.
fn revocation(now: Timestamp) -> Document {
    doc! { "$set": { "revoked_at": date(now) }, "$unset": { REFRESH: "" } }
}

#[async_trait]
impl SessionRepository for MongoStore {
    async fn create_session(
        &self,
        session: &Session,
        first: &RefreshTokenHash,
    ) -> Result<(), StorageError> {
        let mut document = session_to_document(session);
        document.insert(REFRESH, family_to_document(&RefreshFamily::first(*first))?);
        self.sessions
            .insert_one(document)
            .await
            .map(drop)
            .map_err(storage_error)
    }

    async fn get_session(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<Session>, StorageError> {
        let found = self
            .sessions
            .find_one(session_key(user, id))
            .projection(without_family())
            .await
            .map_err(storage_error)?;
        Ok(found.as_ref().map(session_from_document).transpose()?)
    }

    async fn get_session_validity(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<SessionValidity>, StorageError> {
        let found = self
            .sessions
            .find_one(session_key(user, id))
            .projection(validity_fields())
            .await
            .map_err(storage_error)?;
        Ok(found.as_ref().map(validity_from_document).transpose()?)
    }

    async fn rotate_refresh_token(
        &self,
        rotation: &Rotation,
    ) -> Result<Option<Session>, StorageError> {
        let now = date(rotation.now);
        let mut live = session_key(&rotation.user_id, &rotation.session_id);
        live.extend(doc! {
            "revoked_at": Bson::Null,
            "expires_at": { "$gt": now },
            "idle_expires_at": { "$gt": now },
            "refresh.current": hash_key(&rotation.presented),
            "refresh.generation": generation(rotation.generation)?,
        });
        let family = family_to_document(&RefreshFamily::rotated(rotation))?;
        let rotated = self
            .sessions
            .find_one_and_update(
                live,
                doc! { "$set": {
                    REFRESH: family,
                    "last_used_at": now,
                    "idle_expires_at": date(rotation.idle_expires_at),
                } },
            )
            .projection(without_family())
            .return_document(ReturnDocument::After)
            .await
            .map_err(storage_error)?;
        Ok(rotated.as_ref().map(session_from_document).transpose()?)
    }

    async fn get_refresh_family(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<(Session, Option<RefreshFamily>)>, StorageError> {
        let found = self
            .sessions
            .find_one(session_key(user, id))
            .await
            .map_err(storage_error)?;
        let Some(found) = found else {
            return Ok(None);
        };
        let session = session_from_document(&found)?;
        // A revoked session's family is forgotten, whatever a racing rotation left behind.
        let family = family_from_document(&found)?.filter(|_| session.revoked_at.is_none());
        Ok(Some((session, family)))
    }

    async fn revoke_session(
        &self,
        user: &UserId,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut active = session_key(user, id);
        active.insert("revoked_at", Bson::Null);
        let result = self
            .sessions
            .update_one(active, revocation(now))
            .await
            .map_err(storage_error)?;
        Ok(result.modified_count == 1)
    }

    async fn revoke_all_sessions(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let active = doc! { "user_id": oid(user.to_bytes()), "revoked_at": Bson::Null };
        let result = self
            .sessions
            .update_many(active, revocation(now))
            .await
            .map_err(storage_error)?;
        Ok(result.modified_count)
    }

    async fn list_sessions(&self, user: &UserId) -> Result<Vec<Session>, StorageError> {
        let mut cursor = self
            .sessions
            .find(doc! { "user_id": oid(user.to_bytes()), "revoked_at": Bson::Null })
            .projection(without_family())
            .sort(doc! { "created_at": -1, "_id": -1 })
            .await
            .map_err(storage_error)?;
        let mut out = Vec::new();
        while cursor.advance().await.map_err(storage_error)? {
            let doc = cursor.deserialize_current().map_err(storage_error)?;
            out.push(session_from_document(&doc)?);
        }
        Ok(out)
    }
}
