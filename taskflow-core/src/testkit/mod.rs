//! The executable contract of the storage ports: a conformance suite and property tests that
//! every store runs (the in-memory store here, MongoDB in `taskflow-mongo`).
//!
//! ```ignore
//! taskflow_core::repository_conformance_tests!(my_store_repositories());
//! taskflow_core::repository_property_tests!(my_store_repositories(), cases = 64);
//! ```
//! where `my_store_repositories()` is a future yielding [`Repositories`] (or
//! `Option<Repositories>`, `None` skipping the test where the store is not configured). Conformance cases
//! are `#[tokio::test]`s (the calling crate depends on tokio with `macros` and
//! `rt-multi-thread`); property tests are plain `#[test]`s that run their own runtime. Each
//! property case works as a fresh random user, which also exercises owner isolation.

// Test helpers fail by panicking; that is their whole interface.
#![allow(clippy::missing_panics_doc)]

pub mod cases;
mod down;
pub mod inputs;
pub mod model;
pub mod props;
pub mod rate_limit_cases;
pub mod session_cases;

pub use down::{DOWN_CAUSE, DownStore};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::clock::{ManualClock, Timestamp};
use crate::domain::{
    NewTask, Priority, Tag, Tags, Task, TaskDescription, TaskId, TaskTitle, UserId,
};
use crate::memory::MemoryStore;
use crate::ports::{Store, Stores};
use crate::query::{CursorCodec, CursorKey};
use crate::service::TaskService;

type Teardown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The stores under test, and what to do once a test is over (drop its database, say).
/// Dereferences to [`Stores`], so cases write `repos.tasks`.
pub struct Repositories {
    stores: Stores,
    teardown: Option<Teardown>,
}

impl std::ops::Deref for Repositories {
    type Target = Stores;

    fn deref(&self) -> &Stores {
        &self.stores
    }
}

impl Repositories {
    /// Wraps a store implementing every port.
    pub fn new<S: Store>(store: S) -> Self {
        Self {
            stores: Stores::single(store),
            teardown: None,
        }
    }

    /// Runs `teardown` after each test that used these repositories.
    #[must_use]
    pub fn with_teardown(mut self, teardown: impl Future<Output = ()> + Send + 'static) -> Self {
        self.teardown = Some(Box::pin(teardown));
        self
    }

    /// Runs the teardown, if any.
    pub async fn teardown(self) {
        if let Some(teardown) = self.teardown {
            teardown.await;
        }
    }
}

/// What a test factory may yield: repositories, or `None` to skip the test (a store that is
/// not configured on this machine; a factory must never skip under `CI=true`).
pub trait IntoRepositories {
    /// The repositories, or `None` to skip.
    fn into_repositories(self) -> Option<Repositories>;
}

impl IntoRepositories for Repositories {
    fn into_repositories(self) -> Option<Repositories> {
        Some(self)
    }
}

impl IntoRepositories for Option<Repositories> {
    fn into_repositories(self) -> Option<Repositories> {
        self
    }
}

/// Fresh in-memory repositories, for this crate's own tests and for embedders' tests.
#[allow(clippy::unused_async)] // the test macros take a future, as other stores need one
pub async fn memory_repositories() -> Repositories {
    Repositories::new(MemoryStore::new())
}

/// An instant `secs` seconds after 2100-01-01T00:00:00Z. In the future on purpose: stores
/// with TTL indexes (MongoDB) would otherwise expire test sessions in the middle of a test.
pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix_millis(4_102_444_800_000 + secs * 1000).expect("in range")
}

/// A task service over `repos` with a manual clock at [`at`]`(0)`, and that clock.
pub fn service(repos: &Repositories) -> (TaskService, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at(0)));
    let cursors = CursorCodec::new(CursorKey::random());
    (
        TaskService::new(repos.tasks.clone(), clock.clone(), cursors),
        clock,
    )
}

/// A complete task of `owner` with every field set explicitly (no service involved).
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// Title.
    pub title: &'static str,
    /// Creation instant, in seconds after [`at`]`(0)`.
    pub created: i64,
    /// Seconds between creation and last update.
    pub updated_after: i64,
    /// Deadline, in seconds after [`at`]`(0)`.
    pub due: Option<i64>,
    /// Done?
    pub completed: bool,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<&'static str>,
}

impl Default for TaskSpec {
    fn default() -> Self {
        Self {
            title: "Task",
            created: 0,
            updated_after: 0,
            due: None,
            completed: false,
            priority: Priority::Medium,
            tags: Vec::new(),
        }
    }
}

impl TaskSpec {
    /// The task this spec describes, owned by `owner`, with a fresh id.
    pub fn build(&self, owner: UserId) -> Task {
        let tags = self
            .tags
            .iter()
            .map(|t| Tag::parse(t).expect("valid tag"))
            .collect();
        let new = NewTask {
            title: TaskTitle::parse(self.title).expect("valid title"),
            description: TaskDescription::parse("described").expect("valid description"),
            due_at: self.due.map(at),
            priority: self.priority,
            tags: Tags::new(tags).expect("valid tags"),
        };
        let mut task = Task::new(TaskId::generate(), owner, new, at(self.created));
        task.updated_at = at(self.created + self.updated_after);
        if self.completed {
            task.completed = true;
            task.completed_at = Some(task.updated_at);
        }
        task
    }
}

/// Declares the repository conformance suite as `#[tokio::test]`s over `$make`, a future
/// yielding [`Repositories`] (one fresh set per test).
#[macro_export]
macro_rules! repository_conformance_tests {
    ($make:expr) => {
        $crate::__testkit_cases!(
            $make, cases;
            user_insert_and_find,
            user_email_is_unique,
            user_email_is_unique_under_concurrency,
            user_password_hash_can_be_replaced,
            task_round_trips_every_field,
            task_access_is_owner_scoped,
            task_replace_is_compare_and_swap,
            task_delete_removes_once,
            task_list_orders_filters_and_resumes,
            task_list_is_owner_scoped,
            task_stats_counts,
            service_concurrent_updates_lose_nothing,
            service_update_respects_expected_version,
        );
        $crate::__testkit_cases!(
            $make, session_cases;
            session_round_trips_and_is_user_scoped,
            session_validity_is_the_stored_sessions,
            rotation_replaces_the_live_token,
            concurrent_rotations_of_one_token_rotate_once,
            rotation_needs_an_active_session_of_its_user,
            revocation_forgets_the_family,
            revoke_all_is_user_scoped,
            login_attempts_are_reserved_atomically,
        );
        $crate::__testkit_cases!(
            $make, rate_limit_cases;
            rate_limit_admits_a_burst_then_rejects,
            rate_limit_replenishes_with_the_clock,
            rate_limit_concurrent_checks_never_exceed_the_quota,
            rate_limit_keys_are_independent,
            rate_limit_state_expires_with_its_tat,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_cases {
    ($make:expr, $module:ident; $($case:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let Some(repos) = $crate::testkit::IntoRepositories::into_repositories($make.await)
            else {
                return;
            };
            $crate::testkit::$module::$case(&repos).await;
            repos.teardown().await;
        }
    )*};
}

/// Declares the property tests as `#[test]`s over `$make` (see the module docs).
#[macro_export]
macro_rules! repository_property_tests {
    ($make:expr) => {
        $crate::repository_property_tests!($make, cases = 64);
    };
    ($make:expr, cases = $cases:expr) => {
        $crate::__testkit_props!(
            $make, $cases;
            prop_pages_match_the_model,
            prop_pages_survive_concurrent_changes,
            prop_altered_cursors_are_rejected,
            prop_updates_bump_version_by_one,
            prop_refresh_families_follow_the_model,
            prop_rate_limits_follow_the_model,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_props {
    ($make:expr, $cases:expr; $($prop:ident),* $(,)?) => {$(
        #[test]
        fn $prop() {
            let runtime = $crate::testkit::props::runtime();
            let Some(repos) =
                $crate::testkit::IntoRepositories::into_repositories(runtime.block_on($make))
            else {
                return;
            };
            $crate::testkit::props::$prop(&runtime, &repos, $cases);
            runtime.block_on(repos.teardown());
        }
    )*};
}
