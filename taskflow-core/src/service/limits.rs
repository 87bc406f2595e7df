//! The deployment-wide auth limits (`auth-ip`, `auth-account`): the GCRA policies of
//! [`crate::auth::rate_limit`] counted in storage, behind the [`RateLimitRepository`] port, so
//! that they hold for every instance sharing the store (see that module's docs).

use std::sync::Arc;

use crate::auth::client_net::ClientNet;
use crate::auth::gcra::Gcra;
use crate::auth::rate_limit::{RateDecision, RateLimitConfig};
use crate::domain::Email;
use crate::error::StorageError;
use crate::ports::RateLimitRepository;

/// The auth policies (`auth-ip`, `auth-account`), counted in storage so that they hold for
/// every instance sharing it (see the module docs); cheap to clone.
///
/// A check is one call of [`RateLimitRepository::apply_rate_limit`] at the current instant of
/// the given [`crate::Clock`] (a manual one in tests, which move time without sleeping); the
/// decision is [`Gcra::decide`] of the state the store found.
#[derive(Clone)]
pub struct AuthRateLimits {
    store: Arc<dyn RateLimitRepository>,
    clock: Arc<dyn crate::Clock>,
    auth_ip: Gcra,
    auth_account: Gcra,
}

impl std::fmt::Debug for AuthRateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRateLimits")
            .field("auth_per_minute", &self.auth_ip.limit())
            .finish_non_exhaustive()
    }
}

impl AuthRateLimits {
    /// The auth policies with `config`'s quota, their state in `store`, on `clock`.
    pub fn new(
        config: RateLimitConfig,
        store: Arc<dyn RateLimitRepository>,
        clock: Arc<dyn crate::Clock>,
    ) -> Self {
        Self {
            store,
            clock,
            auth_ip: Gcra::per_minute("auth-ip", config.auth_per_minute),
            auth_account: Gcra::per_minute("auth-account", config.auth_per_minute),
        }
    }

    /// Counts one login, token or register request from `client` (policy `auth-ip`, keyed
    /// by the client's canonical text: an IPv4 address or an IPv6 /64).
    ///
    /// # Errors
    /// [`StorageError`] when the store fails: the request must then be refused (503), never
    /// let through uncounted.
    pub async fn check_auth_ip(&self, client: ClientNet) -> Result<RateDecision, StorageError> {
        self.check(&self.auth_ip, &client).await
    }

    /// Counts one login, token or register request for `email` (policy `auth-account`),
    /// whether or not an account has that email: the answer must not reveal which do.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails (as for [`check_auth_ip`](Self::check_auth_ip)).
    pub async fn check_auth_account(&self, email: &Email) -> Result<RateDecision, StorageError> {
        self.check(&self.auth_account, &email.as_str()).await
    }

    async fn check(
        &self,
        quota: &Gcra,
        subject: &(dyn std::fmt::Display + Sync),
    ) -> Result<RateDecision, StorageError> {
        let now = self.clock.now();
        let key = quota.key(subject);
        let stored = self
            .store
            .apply_rate_limit(&key, &quota.update_at(now))
            .await?;
        Ok(quota.decide(stored, now))
    }
}
