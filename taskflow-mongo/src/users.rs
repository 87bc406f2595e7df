//! Users: `_id` is the user id, `email` (normalised) is unique.

use async_trait::async_trait;
use mongodb::bson::doc;
use taskflow_core::StorageError;
use taskflow_core::domain::{Email, PasswordHash, User, UserId};
use taskflow_core::ports::{InsertUserError, UserRepository};

use crate::MongoStore;
use crate::codec::{oid, user_from_document, user_to_document};
use crate::error::{duplicate_key_message, storage_error};

#[async_trait]
impl UserRepository for MongoStore {
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError> {
        match self.users.insert_one(user_to_document(user)).await {
            Ok(_) => Ok(()),
            Err(e) => match duplicate_key_message(&e) {
                // Users have two unique indexes: `_id` (ids are fresh, so a clash is a bug)
                // and the email.
                Some(message) if !message.contains(" index: _id_ ") => {
                    Err(InsertUserError::EmailTaken)
                }
                _ => Err(storage_error(e).into()),
            },
        }
    }

    async fn find_user_by_id(&self, id: &UserId) -> Result<Option<User>, StorageError> {
        let found = self
            .users
            .find_one(doc! { "_id": oid(id.to_bytes()) })
            .await
            .map_err(storage_error)?;
        Ok(found.as_ref().map(user_from_document).transpose()?)
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StorageError> {
        let found = self
            .users
            .find_one(doc! { "email": email.as_str() })
            .await
            .map_err(storage_error)?;
        Ok(found.as_ref().map(user_from_document).transpose()?)
    }

    async fn set_password_hash(
        &self,
        id: &UserId,
        hash: &PasswordHash,
    ) -> Result<bool, StorageError> {
        let result = self
            .users
            .update_one(
                doc! { "_id": oid(id.to_bytes()) },
                doc! { "$set": { "password_hash": hash.expose_phc() } },
            )
            .await
            .map_err(storage_error)?;
        Ok(result.matched_count == 1)
    }
}
