//! Users in memory: by id, with a unique index on the normalised email.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{MemoryStore, read, write};
use crate::domain::{Email, PasswordHash, User, UserId};
use crate::error::StorageError;
use crate::ports::{InsertUserError, UserRepository};

#[derive(Debug, Default)]
pub(super) struct Users {
    by_id: HashMap<UserId, User>,
    by_email: HashMap<Email, UserId>,
}

#[async_trait]
impl UserRepository for MemoryStore {
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError> {
        let mut users = write(&self.users);
        if users.by_email.contains_key(&user.email) {
            return Err(InsertUserError::EmailTaken);
        }
        if users.by_id.contains_key(&user.id) {
            return Err(StorageError::internal("duplicate user id").into());
        }
        users.by_email.insert(user.email.clone(), user.id);
        users.by_id.insert(user.id, user.clone());
        Ok(())
    }

    async fn find_user_by_id(&self, id: &UserId) -> Result<Option<User>, StorageError> {
        Ok(read(&self.users).by_id.get(id).cloned())
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StorageError> {
        let users = read(&self.users);
        Ok(users
            .by_email
            .get(email)
            .and_then(|id| users.by_id.get(id))
            .cloned())
    }

    async fn set_password_hash(
        &self,
        id: &UserId,
        hash: &PasswordHash,
    ) -> Result<bool, StorageError> {
        let mut users = write(&self.users);
        Ok(users
            .by_id
            .get_mut(id)
            .map(|user| user.password_hash = hash.clone())
            .is_some())
    }
}
