//! Sessions (`_id` = session id) and their refresh tokens (`_id` = the token's SHA-256, as
//! BinData; the token itself is never stored). Every command names the user.

use async_trait::async_trait;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use taskflow_core::auth::refresh::RefreshTokenHash;
use taskflow_core::auth::session::{RefreshTokenRecord, Session};
use taskflow_core::domain::{SessionId, UserId};
use taskflow_core::ports::SessionRepository;
use taskflow_core::{StorageError, Timestamp};

use crate::MongoStore;
use crate::codec::{
    date, hash_key, oid, session_from_document, session_to_document, token_from_document,
    token_to_document,
};
use crate::error::storage_error;

fn session_key(user: &UserId, id: &SessionId) -> Document {
    doc! { "_id": oid(id.to_bytes()), "user_id": oid(user.to_bytes()) }
}

fn token_key(user: &UserId, hash: &RefreshTokenHash) -> Document {
    doc! { "_id": hash_key(hash), "user_id": oid(user.to_bytes()) }
}

impl MongoStore {
    /// Forgets the refresh tokens of the given sessions of `user`: a revoked family can never
    /// be exchanged again, and a later presentation is then plainly unknown.
    async fn delete_tokens_of(
        &self,
        user: &UserId,
        sessions: Vec<Bson>,
    ) -> Result<(), StorageError> {
        if sessions.is_empty() {
            return Ok(());
        }
        self.tokens
            .delete_many(doc! {
                "user_id": oid(user.to_bytes()),
                "session_id": { "$in": sessions },
            })
            .await
            .map(drop)
            .map_err(storage_error)
    }
}

#[async_trait]
impl SessionRepository for MongoStore {
    async fn create_session(
        &self,
        session: &Session,
        token: &RefreshTokenRecord,
    ) -> Result<(), StorageError> {
        // Session first: a token without its session could only ever be refused.
        self.sessions
            .insert_one(session_to_document(session))
            .await
            .map_err(storage_error)?;
        self.tokens
            .insert_one(token_to_document(token))
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
            .await
            .map_err(storage_error)?;
        Ok(found.as_ref().map(session_from_document).transpose()?)
    }

    async fn use_refresh_token(
        &self,
        user: &UserId,
        hash: &RefreshTokenHash,
        now: Timestamp,
    ) -> Result<Option<RefreshTokenRecord>, StorageError> {
        let mut unused = token_key(user, hash);
        unused.insert("used_at", Bson::Null);
        // One atomic document update: of concurrent callers exactly one matches `used_at: null`.
        let won = self
            .tokens
            .find_one_and_update(unused, doc! { "$set": { "used_at": date(now) } })
            .return_document(ReturnDocument::Before)
            .await
            .map_err(storage_error)?;
        let record = match won {
            Some(before) => Some(before),
            None => self
                .tokens
                .find_one(token_key(user, hash))
                .await
                .map_err(storage_error)?,
        };
        Ok(record.as_ref().map(token_from_document).transpose()?)
    }

    async fn add_refresh_token(
        &self,
        token: &RefreshTokenRecord,
        idle_expires_at: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut active = session_key(&token.user_id, &token.session_id);
        active.insert("revoked_at", Bson::Null);
        let touched = self
            .sessions
            .update_one(
                active,
                doc! { "$set": {
                    "last_used_at": date(token.issued_at),
                    "idle_expires_at": date(idle_expires_at),
                } },
            )
            .await
            .map_err(storage_error)?;
        if touched.matched_count != 1 {
            return Ok(false);
        }
        self.tokens
            .insert_one(token_to_document(token))
            .await
            .map_err(storage_error)?;
        Ok(true)
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
            .update_one(active, doc! { "$set": { "revoked_at": date(now) } })
            .await
            .map_err(storage_error)?;
        if result.modified_count != 1 {
            return Ok(false);
        }
        self.delete_tokens_of(user, vec![Bson::ObjectId(oid(id.to_bytes()))])
            .await?;
        Ok(true)
    }

    async fn revoke_all_sessions(
        &self,
        user: &UserId,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let active = doc! { "user_id": oid(user.to_bytes()), "revoked_at": Bson::Null };
        // The ids first, for the tokens to forget; the update then revokes every active
        // session, including one created in between (its tokens merely wait for their TTL:
        // a revoked session refuses them anyway).
        let mut cursor = self
            .sessions
            .find(active.clone())
            .projection(doc! { "_id": 1 })
            .await
            .map_err(storage_error)?;
        let mut ids = Vec::new();
        while cursor.advance().await.map_err(storage_error)? {
            let doc = cursor.deserialize_current().map_err(storage_error)?;
            if let Some(id) = doc.get("_id") {
                ids.push(id.clone());
            }
        }
        let result = self
            .sessions
            .update_many(active, doc! { "$set": { "revoked_at": date(now) } })
            .await
            .map_err(storage_error)?;
        self.delete_tokens_of(user, ids).await?;
        Ok(result.modified_count)
    }

    async fn list_sessions(&self, user: &UserId) -> Result<Vec<Session>, StorageError> {
        let mut cursor = self
            .sessions
            .find(doc! { "user_id": oid(user.to_bytes()), "revoked_at": Bson::Null })
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
