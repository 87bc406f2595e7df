//! The storage ports: what the domain needs from a store, whatever the store is.
//!
//! Implementations translate their own failures inside themselves: a taken email becomes
//! [`InsertUserError::EmailTaken`], an unreachable server [`StorageError::Unavailable`], and
//! no driver message ever crosses this boundary. Every task operation is scoped by its owner,
//! so no call can reach another user's task; "not yours" and "not there" look the same.
//! The conformance suite in `testkit` states these contracts as executable checks.

use std::sync::Arc;

use async_trait::async_trait;

use crate::auth::gcra::{GcraUpdate, RateLimitKey};
use crate::auth::refresh::RefreshTokenHash;
use crate::auth::session::{RefreshFamily, Rotation, Session, SessionValidity};
use crate::auth::throttle::{FailureState, LoginAttempt, ThrottlePolicy};
use crate::clock::Timestamp;
use crate::domain::{Email, PasswordHash, SessionId, Task, TaskId, User, UserId};
use crate::error::StorageError;
use crate::query::{ListRequest, TaskStats};

/// Why a user could not be inserted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InsertUserError {
    /// Another account already has this (normalised) email.
    #[error("the email is already registered")]
    EmailTaken,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Stores user accounts.
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Stores a new account.
    ///
    /// # Errors
    /// [`InsertUserError::EmailTaken`] when the email is in use (atomically: two concurrent
    /// inserts of one email never both succeed), [`InsertUserError::Storage`] otherwise.
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError>;

    /// The account with this id, if any.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn find_user_by_id(&self, id: &UserId) -> Result<Option<User>, StorageError>;

    /// The account with this normalised email, if any.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StorageError>;

    /// Replaces an account's password hash (after a rehash with stronger parameters or a
    /// password change); returns whether the account exists.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn set_password_hash(
        &self,
        id: &UserId,
        hash: &PasswordHash,
    ) -> Result<bool, StorageError>;
}

/// Stores tasks, always scoped by their owner.
#[async_trait]
pub trait TaskRepository: Send + Sync + 'static {
    /// Stores a new task (its id is fresh; inserting an existing id is a storage error).
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn insert_task(&self, task: &Task) -> Result<(), StorageError>;

    /// The task `id` of `owner`; `None` when it does not exist or belongs to someone else.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn get_task(&self, owner: &UserId, id: &TaskId) -> Result<Option<Task>, StorageError>;

    /// Replaces the stored task with `task` (same owner and id) only if the stored version is
    /// still `expected_version`: a compare-and-swap. Returns whether it replaced; `false` when
    /// the task is gone, is not the owner's, or has another version.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn replace_task(&self, task: &Task, expected_version: u64) -> Result<bool, StorageError>;

    /// Deletes the task `id` of `owner`; returns whether there was one.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn delete_task(&self, owner: &UserId, id: &TaskId) -> Result<bool, StorageError>;

    /// At most `request.limit` tasks of `owner` matching `request.filter`, in `request.sort`
    /// order (see [`crate::query::Sort::compare`]), strictly after `request.after`.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn list_tasks(
        &self,
        owner: &UserId,
        request: &ListRequest,
    ) -> Result<Vec<Task>, StorageError>;

    /// Counts over the tasks of `owner`; overdue means open with `due_at < now`.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn task_stats(&self, owner: &UserId, now: Timestamp) -> Result<TaskStats, StorageError>;
}

/// Stores login sessions, each with its refresh-token family state ([`RefreshFamily`]: hashes
/// only, and a sealed successor). Every call names the user, so a sharded deployment routes it
/// to one shard; the state of a session is bounded, whatever its number of rotations.
#[async_trait]
pub trait SessionRepository: Send + Sync + 'static {
    /// Stores a new session whose first refresh token (generation 0) has the hash `first`.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn create_session(
        &self,
        session: &Session,
        first: &RefreshTokenHash,
    ) -> Result<(), StorageError>;

    /// The session `id` of `user`, active or not.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn get_session(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<Session>, StorageError>;

    /// What the session check needs of the session `id` of `user` ([`Session::validity`]),
    /// active or not; `None` when `user` has no such session. Every authenticated request
    /// that misses the session-check cache asks this, so a store should read only these
    /// fields; the default reads the whole session.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn get_session_validity(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<SessionValidity>, StorageError> {
        Ok(self.get_session(user, id).await?.map(|s| s.validity()))
    }

    /// Rotates a refresh token, atomically (one conditional write): if the session
    /// `rotation.session_id` of `rotation.user_id` is active at `rotation.now` (not revoked,
    /// before both its ends) and its live token is `rotation.presented` of generation
    /// `rotation.generation`, its family becomes [`RefreshFamily::rotated`]`(rotation)` and its
    /// use is recorded (`last_used_at = now`, `idle_expires_at`). Returns the session as it is
    /// after the change; `None` when any condition failed, and then nothing changed. Of
    /// concurrent rotations of one token exactly one succeeds; a rotation that returned the
    /// session is never lost.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn rotate_refresh_token(
        &self,
        rotation: &Rotation,
    ) -> Result<Option<Session>, StorageError>;

    /// The session `id` of `user` with its refresh family; the family is `None` once the
    /// session was revoked (a revoked family is forgotten).
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn get_refresh_family(
        &self,
        user: &UserId,
        id: &SessionId,
    ) -> Result<Option<(Session, Option<RefreshFamily>)>, StorageError>;

    /// Revokes the session `id` of `user` and forgets its refresh family (so every token of
    /// it); returns whether an unrevoked session was found.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn revoke_session(
        &self,
        user: &UserId,
        id: &SessionId,
        now: Timestamp,
    ) -> Result<bool, StorageError>;

    /// Revokes every session of `user` (forgetting their families); returns how many were
    /// active.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn revoke_all_sessions(&self, user: &UserId, now: Timestamp)
    -> Result<u64, StorageError>;

    /// Every session of `user` that is not revoked, newest first (for "your devices" pages).
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn list_sessions(&self, user: &UserId) -> Result<Vec<Session>, StorageError>;
}

/// Stores consecutive login failures per account, shared by every API instance.
#[async_trait]
pub trait LoginThrottleRepository: Send + Sync + 'static {
    /// The failure record of `email`, if any.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn login_failures(&self, email: &Email) -> Result<Option<FailureState>, StorageError>;

    /// Reserves a login attempt for `email` at `now`: atomically, [`ThrottlePolicy::reserve`]
    /// applied to the stored record, and its new record stored when reserved. Of concurrent
    /// callers (on any instance sharing the store), each sees the record the previous one
    /// left: after the free failures, one per backoff step is reserved and the others are
    /// refused. A store that cannot settle heavy contention on one account may refuse
    /// (with a wait of [`ThrottlePolicy::base_delay`]), never let an attempt through
    /// unaccounted.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn reserve_login_attempt(
        &self,
        email: &Email,
        now: Timestamp,
        policy: &ThrottlePolicy,
    ) -> Result<LoginAttempt, StorageError>;

    /// Forgets the failures of `email` (after a successful login).
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn clear_login_failures(&self, email: &Email) -> Result<(), StorageError>;
}

/// Stores the state of the rate limits that hold for a whole deployment (the auth limits,
/// [`crate::service::AuthRateLimits`]): one GCRA theoretical arrival time (TAT) per key, shared by
/// every instance that shares the store. The arithmetic is the core's
/// ([`crate::auth::gcra`]); a store only applies it atomically.
#[async_trait]
pub trait RateLimitRepository: Send + Sync + 'static {
    /// Applies `update` to the state of `key` in one atomic step, and returns the state it
    /// found there (`None` for a key without state): [`GcraUpdate::apply`] of the stored TAT,
    /// whose result, when it admits, is stored in its place (a rejection changes nothing).
    /// Of concurrent calls for one key (on any instance sharing the store), each sees the
    /// state the previous one left, so they never admit more than one quota between them.
    ///
    /// A stored TAT that is not after the current time is the state of a fresh key, so a
    /// store forgets it by itself some time after that instant (a TTL index, a sweep), which
    /// keeps the state bounded by the keys of about the last minute.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails; the caller must then refuse the request, never
    /// let it through uncounted.
    async fn apply_rate_limit(
        &self,
        key: &RateLimitKey,
        update: &GcraUpdate,
    ) -> Result<Option<Timestamp>, StorageError>;
}

/// A connection pool's state, for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (idle or in use).
    pub open: u64,
    /// Connections lent out to operations right now.
    pub checked_out: u64,
    /// Operations that could not get a connection, since start.
    pub checkout_failures: u64,
}

/// A latency histogram's state since start, for the metrics: how many observations fell in
/// each bucket (not cumulative) and their sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyHistogram {
    /// Upper bounds of the buckets in seconds, ascending; `counts` has one more entry, for
    /// the observations above the last bound.
    pub bounds: Vec<f64>,
    /// Observations per bucket (`bounds.len() + 1` of them).
    pub counts: Vec<u64>,
    /// The sum of every observation, in seconds.
    pub sum_seconds: f64,
}

impl LatencyHistogram {
    /// How many observations there were.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// How a storage command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandOutcome {
    /// The server answered success.
    Succeeded,
    /// The command failed (server error, network error, timeout).
    Failed,
}

impl CommandOutcome {
    /// `succeeded` or `failed` (a metrics label).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// The latency of one kind of storage command (by the store's own command name, `find`,
/// `insert`, ...) with one outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandLatency {
    /// The command name as the store calls it.
    pub command: String,
    /// How the commands ended.
    pub outcome: CommandOutcome,
    /// Their latencies (round trip included).
    pub latency: LatencyHistogram,
}

/// How long storage work takes, for the metrics: waiting for a pooled connection and running
/// each kind of command.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageTimings {
    /// From asking the pool for a connection to getting one.
    pub pool_wait: LatencyHistogram,
    /// Per command name and outcome.
    pub commands: Vec<CommandLatency>,
}

/// Answers whether the store can serve requests right now (for readiness probes) and how its
/// connections are used (for metrics).
#[async_trait]
pub trait StorageHealth: Send + Sync + 'static {
    /// Succeeds when the store answers.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when it does not.
    async fn ping(&self) -> Result<(), StorageError>;

    /// The connection pool's state; `None` for stores without connections (in memory).
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }

    /// Pool wait and command latencies since start; `None` for stores without connections.
    fn timings(&self) -> Option<StorageTimings> {
        None
    }

    /// Releases the store's connections at shutdown, after the last request; the store
    /// fails every call afterwards. Stores without connections do nothing.
    async fn close(&self) {}
}

/// The storage behind the application, one handle per port.
#[derive(Clone)]
pub struct Stores {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Tasks.
    pub tasks: Arc<dyn TaskRepository>,
    /// Sessions and refresh tokens.
    pub sessions: Arc<dyn SessionRepository>,
    /// Login failure counters.
    pub throttle: Arc<dyn LoginThrottleRepository>,
    /// The state of the deployment-wide (auth) rate limits.
    pub rate_limits: Arc<dyn RateLimitRepository>,
    /// Readiness.
    pub health: Arc<dyn StorageHealth>,
}

/// A store that serves every port (the embedded store, MongoDB), cheap to clone.
pub trait Store:
    UserRepository
    + TaskRepository
    + SessionRepository
    + LoginThrottleRepository
    + RateLimitRepository
    + StorageHealth
    + Clone
{
}

impl<S> Store for S where
    S: UserRepository
        + TaskRepository
        + SessionRepository
        + LoginThrottleRepository
        + RateLimitRepository
        + StorageHealth
        + Clone
{
}

impl Stores {
    /// Every port served by one store.
    pub fn single<S: Store>(store: S) -> Self {
        Self {
            users: Arc::new(store.clone()),
            tasks: Arc::new(store.clone()),
            sessions: Arc::new(store.clone()),
            throttle: Arc::new(store.clone()),
            rate_limits: Arc::new(store.clone()),
            health: Arc::new(store),
        }
    }
}
