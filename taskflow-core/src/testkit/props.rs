//! Property tests over any store: paging equals the naive model, survives concurrent changes,
//! rejects altered cursors, versions grow by exactly one per effective change, refresh
//! families rotate as the model says, and rate-limit state follows the GCRA model.

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio::runtime::Runtime;

use super::{Repositories, TaskSpec, at, model, service};
use crate::auth::refresh::{RefreshTokenHash, RefreshTokenKeys};
use crate::auth::session::{RefreshFamily, Rotation, Session};
use crate::clock::Clock;
use crate::domain::{
    Priority, SessionId, Tag, Tags, Task, TaskDescription, TaskPatch, TaskTitle, UserId,
};
use crate::query::{
    CursorToken, Direction, PageLimit, SearchText, Sort, SortKey, TaskFilter, TaskQuery,
};
use crate::service::{TaskError, TaskService};

/// The runtime the property tests drive the (async) stores with.
///
/// # Panics
/// When the runtime cannot be built.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    if let Err(failure) = TestRunner::new(config).run(&strategy, test) {
        panic!("{failure}");
    }
}

const TITLES: [&str; 5] = ["Alpha", "beta", "GAMMA", "alphabet", "Delta"];
const TAGS: [&str; 3] = ["a", "b", "c"];

fn spec() -> impl Strategy<Value = TaskSpec> {
    (
        (0..6_i64, 0..3_i64, proptest::option::of(-3..4_i64)),
        (
            any::<bool>(),
            0..3_usize,
            proptest::sample::subsequence(TAGS.to_vec(), 0..=2),
        ),
        proptest::sample::select(TITLES.to_vec()),
    )
        .prop_map(
            |((created, updated_after, due), (completed, p, tags), title)| TaskSpec {
                title,
                created,
                updated_after,
                due,
                completed,
                priority: Priority::ALL[p],
                tags,
            },
        )
}

fn filter() -> impl Strategy<Value = TaskFilter> {
    (
        proptest::option::of(any::<bool>()),
        proptest::option::of(proptest::sample::select(TAGS.to_vec())),
        proptest::option::of(0..3_usize),
        proptest::option::of(-3..4_i64),
        proptest::option::of(-3..4_i64),
        proptest::option::of(proptest::sample::select(vec!["alpha", "A", "ta", "zz"])),
    )
        .prop_map(|(completed, tag, priority, before, after, q)| TaskFilter {
            completed,
            tag: tag.map(|t| Tag::parse(t).expect("valid")),
            priority: priority.map(|p| Priority::ALL[p]),
            due_before: before.map(at),
            due_after: after.map(at),
            q: q.map(|q| SearchText::parse(q).expect("valid")),
        })
}

fn sort() -> impl Strategy<Value = Sort> {
    (0..3_usize, any::<bool>()).prop_map(|(k, asc)| Sort {
        key: [SortKey::CreatedAt, SortKey::UpdatedAt, SortKey::DueAt][k],
        direction: if asc { Direction::Asc } else { Direction::Desc },
    })
}

fn query() -> impl Strategy<Value = TaskQuery> {
    (filter(), sort(), 1..8_u64).prop_map(|(filter, sort, limit)| TaskQuery {
        filter,
        sort,
        limit: PageLimit::new(limit).expect("in range"),
        cursor: None,
    })
}

async fn insert_all(repos: &Repositories, owner: UserId, specs: &[TaskSpec]) -> Vec<Task> {
    let mut tasks = Vec::with_capacity(specs.len());
    for spec in specs {
        let task = spec.build(owner);
        repos.tasks.insert_task(&task).await.expect("insert");
        tasks.push(task);
    }
    tasks
}

fn ids(tasks: &[Task]) -> Vec<String> {
    tasks.iter().map(|t| t.id.to_string()).collect()
}

/// Random task sets and random queries: walking every page gives exactly the model's list,
/// in full pages except the last, and the last page has no cursor.
pub fn prop_pages_match_the_model(runtime: &Runtime, repos: &Repositories, cases: u32) {
    let (tasks, _) = service(repos);
    let strategy = (proptest::collection::vec(spec(), 0..30), query());
    run(cases, strategy, |(specs, query)| {
        runtime.block_on(async {
            let owner = UserId::generate();
            let stored = insert_all(repos, owner, &specs).await;
            // Someone else's identical tasks must never show up.
            insert_all(repos, UserId::generate(), &specs).await;
            let expected = model::matching(&stored, &query.filter, query.sort);
            let pages = walk(&tasks, owner, query.clone(), |_| async {}).await?;
            let limit = query.limit.get();
            for (i, page) in pages.iter().enumerate() {
                let last = i + 1 == pages.len();
                prop_assert!(
                    last || page.len() == limit,
                    "short page {i} of {}",
                    pages.len()
                );
            }
            let got: Vec<Task> = pages.concat();
            prop_assert_eq!(ids(&got), ids(&expected));
            prop_assert_eq!(got, expected);
            Ok(())
        })
    });
}

/// Walks every page of `query`, calling `between` after each page; returns the pages.
async fn walk<F, Fut>(
    tasks: &TaskService,
    owner: UserId,
    mut query: TaskQuery,
    mut between: F,
) -> Result<Vec<Vec<Task>>, TestCaseError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut pages = Vec::new();
    loop {
        let page = tasks.list_tasks(&owner, &query).await.map_err(fail)?;
        pages.push(page.items);
        let Some(next) = page.next_cursor else {
            return Ok(pages);
        };
        prop_assert!(pages.len() < 1_000, "pagination does not end");
        between(pages.len()).await;
        query.cursor = Some(next);
    }
}

#[allow(clippy::needless_pass_by_value)] // shaped for `map_err(fail)`
fn fail(e: TaskError) -> TestCaseError {
    TestCaseError::fail(format!("unexpected error: {e:?}"))
}

/// Between pages, random tasks are inserted and deleted: no task is returned twice, the walk
/// stays in order, and every task present from start to end that matches is returned.
pub fn prop_pages_survive_concurrent_changes(runtime: &Runtime, repos: &Repositories, cases: u32) {
    let (tasks, _) = service(repos);
    let change = (
        proptest::collection::vec(spec(), 0..3),
        proptest::collection::vec(any::<Index>(), 0..3),
    );
    let strategy = (
        proptest::collection::vec(spec(), 1..30),
        query(),
        proptest::collection::vec(change, 1..12),
    );
    run(cases, strategy, |(specs, query, changes)| {
        runtime.block_on(async {
            let owner = UserId::generate();
            let initial = insert_all(repos, owner, &specs).await;
            let deleted = std::sync::Mutex::new(HashSet::new());
            let pages = walk(&tasks, owner, query.clone(), |n| {
                // Each generated change is applied once: cycling through them could insert
                // behind the cursor forever (limit 1, equal keys, ever newer ids).
                let (new_specs, victims) = changes.get(n - 1).cloned().unwrap_or_default();
                let (initial, deleted) = (&initial, &deleted);
                async move {
                    insert_all(repos, owner, &new_specs).await;
                    for index in victims {
                        let victim = index.get(initial);
                        repos
                            .tasks
                            .delete_task(&owner, &victim.id)
                            .await
                            .expect("delete");
                        deleted.lock().expect("lock").insert(victim.id);
                    }
                }
            })
            .await?;
            let got: Vec<Task> = pages.concat();
            let mut seen = HashSet::new();
            for task in &got {
                prop_assert!(seen.insert(task.id), "{} returned twice", task.id);
                prop_assert!(query.filter.matches(task));
            }
            for pair in got.windows(2) {
                let (a, b) = (
                    query.sort.position_of(&pair[0]),
                    query.sort.position_of(&pair[1]),
                );
                prop_assert!(query.sort.compare(&a, &b).is_lt(), "out of order");
            }
            let deleted = deleted.into_inner().expect("lock");
            for task in initial.iter().filter(|t| !deleted.contains(&t.id)) {
                if query.filter.matches(task) {
                    prop_assert!(
                        seen.contains(&task.id),
                        "surviving task {} skipped",
                        task.id
                    );
                }
            }
            Ok(())
        })
    });
}

/// Any single-character change, truncation or extension of a cursor is `invalid_cursor`,
/// and so is a cursor replayed by another user.
pub fn prop_altered_cursors_are_rejected(runtime: &Runtime, repos: &Repositories, cases: u32) {
    let (tasks, _) = service(repos);
    let edit = prop_oneof![
        (any::<Index>(), any::<char>()).prop_map(|(i, c)| Edit::Replace(i, c)),
        any::<Index>().prop_map(Edit::Truncate),
        any::<char>().prop_map(Edit::Append),
    ];
    let strategy = (proptest::collection::vec(spec(), 3..12), sort(), edit);
    run(cases, strategy, |(specs, sort, edit)| {
        runtime.block_on(async {
            let owner = UserId::generate();
            insert_all(repos, owner, &specs).await;
            let query = TaskQuery {
                sort,
                limit: PageLimit::new(2).expect("in range"),
                ..TaskQuery::default()
            };
            let first = tasks.list_tasks(&owner, &query).await.map_err(fail)?;
            let token = first.next_cursor.expect("more than one page");
            let altered = edit.apply(token.as_str());
            prop_assume!(altered != token.as_str());
            let replay = TaskQuery {
                cursor: Some(CursorToken::new(altered)),
                ..query.clone()
            };
            let result = tasks.list_tasks(&owner, &replay).await;
            prop_assert!(
                matches!(result, Err(TaskError::InvalidCursor)),
                "{result:?}"
            );
            let stolen = TaskQuery {
                cursor: Some(token),
                ..query
            };
            let result = tasks.list_tasks(&UserId::generate(), &stolen).await;
            prop_assert!(
                matches!(result, Err(TaskError::InvalidCursor)),
                "{result:?}"
            );
            Ok(())
        })
    });
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, char),
    Truncate(Index),
    Append(char),
}

impl Edit {
    fn apply(&self, token: &str) -> String {
        let mut chars: Vec<char> = token.chars().collect();
        match self {
            Self::Replace(i, c) => {
                let i = i.index(chars.len());
                chars[i] = *c;
            }
            Self::Truncate(i) => chars.truncate(i.index(chars.len())),
            Self::Append(c) => chars.push(*c),
        }
        chars.into_iter().collect()
    }
}

fn patch() -> impl Strategy<Value = TaskPatch> {
    (
        proptest::option::of(proptest::sample::select(TITLES.to_vec())),
        proptest::option::of(proptest::sample::select(vec!["", "notes"])),
        proptest::option::of(any::<bool>()),
        proptest::option::of(proptest::option::of(-3..4_i64)),
        proptest::option::of(0..3_usize),
        proptest::option::of(proptest::sample::subsequence(TAGS.to_vec(), 0..=2)),
    )
        .prop_map(
            |(title, description, completed, due, priority, tags)| TaskPatch {
                title: title.map(|t| TaskTitle::parse(t).expect("valid")),
                description: description.map(|d| TaskDescription::parse(d).expect("valid")),
                completed,
                due_at: due.map(|d| d.map(at)),
                priority: priority.map(|p| Priority::ALL[p]),
                tags: tags.map(|t| {
                    Tags::new(t.iter().map(|t| Tag::parse(t).expect("valid")).collect())
                        .expect("valid")
                }),
            },
        )
}

/// A random sequence of updates: each effective change adds exactly one to the version, a
/// no-op adds nothing, `completed_at` follows `completed`, and the store holds what was returned.
pub fn prop_updates_bump_version_by_one(runtime: &Runtime, repos: &Repositories, cases: u32) {
    let (tasks, clock) = service(repos);
    let strategy = (spec(), proptest::collection::vec(patch(), 1..12));
    run(cases, strategy, |(spec, patches)| {
        runtime.block_on(async {
            let owner = UserId::generate();
            let mut current = insert_all(repos, owner, &[spec]).await.remove(0);
            for patch in &patches {
                clock.advance(std::time::Duration::from_secs(1));
                let next = tasks
                    .update_task(&owner, &current.id, patch, None)
                    .await
                    .map_err(fail)?;
                let changed = current.patched(patch, clock.now()).is_some();
                let expected_version = current.version + u64::from(changed);
                prop_assert_eq!(next.version, expected_version);
                prop_assert_eq!(next.completed, next.completed_at.is_some());
                if patch.completed == Some(true) && !current.completed {
                    prop_assert_eq!(next.completed_at, Some(clock.now()));
                }
                let stored = tasks.get_task(&owner, &current.id).await.map_err(fail)?;
                prop_assert_eq!(&stored, &next);
                current = next;
            }
            Ok(())
        })
    });
}

#[derive(Debug, Clone)]
enum FamilyOp {
    /// Rotate the token `age` rotations old (0: the live one).
    Rotate { age: usize },
    /// `racers` concurrent rotations of the live token.
    Race { racers: usize },
}

fn family_op() -> impl Strategy<Value = FamilyOp> {
    prop_oneof![
        3 => (0..4_usize).prop_map(|age| FamilyOp::Rotate { age }),
        1 => (2..6_usize).prop_map(|racers| FamilyOp::Race { racers }),
    ]
}

/// A session that stays active through any sequence of the property below.
fn long_session(user: UserId) -> Session {
    Session {
        id: SessionId::generate(),
        user_id: user,
        created_at: at(0),
        last_used_at: at(0),
        expires_at: at(1_000_000),
        idle_expires_at: at(1_000_000),
        user_agent: None,
        ip: None,
        revoked_at: None,
    }
}

fn family_rotation(
    keys: &RefreshTokenKeys,
    s: &Session,
    chain: &[(RefreshTokenHash, u64)],
    age: usize,
    now: i64,
) -> Option<Rotation> {
    let (presented, generation) = *chain.get(chain.len().checked_sub(1 + age)?)?;
    let (successor, successor_hash) = keys.mint(&s.user_id, &s.id, generation + 1);
    Some(Rotation {
        user_id: s.user_id,
        session_id: s.id,
        presented,
        generation,
        successor: successor_hash,
        sealed_successor: keys.seal(&successor, &presented),
        now: at(now),
        idle_expires_at: at(now + 1_000_000),
    })
}

/// Random sequences of rotations of live and already rotated tokens, some concurrent: only the
/// live token rotates, exactly one of concurrent rotations wins, and the stored family is
/// always the model's (live token, generation, and the one previous token with its sealed
/// successor): nothing acknowledged is lost, and nothing grows.
pub fn prop_refresh_families_follow_the_model(runtime: &Runtime, repos: &Repositories, cases: u32) {
    let keys = RefreshTokenKeys::random();
    run(
        cases,
        proptest::collection::vec(family_op(), 1..16),
        |ops| {
            runtime.block_on(async {
                let s = long_session(UserId::generate());
                let (_, first) = keys.mint(&s.user_id, &s.id, 0);
                repos
                    .sessions
                    .create_session(&s, &first)
                    .await
                    .map_err(storage)?;
                let mut chain = vec![(first, 0_u64)];
                let mut expected = RefreshFamily::first(first);
                for (step, op) in ops.into_iter().enumerate() {
                    let now = i64::try_from(step).unwrap_or(i64::MAX) + 1;
                    let rotations: Vec<Rotation> = match op {
                        FamilyOp::Rotate { age } => family_rotation(&keys, &s, &chain, age, now)
                            .into_iter()
                            .collect(),
                        FamilyOp::Race { racers } => (0..racers)
                            .filter_map(|_| family_rotation(&keys, &s, &chain, 0, now))
                            .collect(),
                    };
                    let live = rotations
                        .iter()
                        .filter(|r| r.presented == expected.current)
                        .count();
                    let racers: Vec<_> = rotations
                        .into_iter()
                        .map(|r| {
                            let sessions = repos.sessions.clone();
                            tokio::spawn(
                                async move { (sessions.rotate_refresh_token(&r).await, r) },
                            )
                        })
                        .collect();
                    let mut winners = Vec::new();
                    for racer in racers {
                        let (result, r) = racer
                            .await
                            .map_err(|e| TestCaseError::fail(e.to_string()))?;
                        if result.map_err(storage)?.is_some() {
                            winners.push(r);
                        }
                    }
                    prop_assert_eq!(
                        winners.len(),
                        usize::from(live > 0),
                        "one winner among live rotations"
                    );
                    if let Some(winner) = winners.first() {
                        prop_assert_eq!(winner.presented, expected.current);
                        expected = RefreshFamily::rotated(winner);
                        chain.push((winner.successor, expected.generation));
                    }
                    let stored = repos
                        .sessions
                        .get_refresh_family(&s.user_id, &s.id)
                        .await
                        .map_err(storage)?
                        .and_then(|(_, family)| family);
                    prop_assert_eq!(stored.as_ref(), Some(&expected));
                }
                Ok(())
            })
        },
    );
}

/// Random sequences of rate-limit checks on three keys at instants moving by random gaps
/// (mostly bursts, some past a whole minute) find exactly the state the model
/// ([`GcraUpdate::apply`](crate::auth::gcra::GcraUpdate::apply) on a map) has for each key, or,
/// once the model's state has passed, possibly none (a store may forget it then): the store
/// runs the core's arithmetic, whatever its own language for it (MongoDB's update pipeline).
pub fn prop_rate_limits_follow_the_model(runtime: &Runtime, repos: &Repositories, cases: u32) {
    let gaps = prop_oneof![3 => Just(0_i64), 2 => 0_i64..3_000, 1 => 0_i64..70_000];
    let strategy = (
        proptest::sample::select(vec![1_u32, 2, 3, 7, 10]),
        proptest::collection::vec((0_usize..3, gaps), 1..40),
    );
    run(cases, strategy, |(per_minute, checks)| {
        runtime.block_on(async {
            let limit = std::num::NonZeroU32::new(per_minute).expect("not zero");
            let quota = crate::auth::gcra::Gcra::per_minute("auth-ip", limit);
            // Fresh subjects: the store outlives the cases.
            let run = UserId::generate();
            let keys: Vec<_> = (0..3).map(|k| quota.key(&format!("{run}-{k}"))).collect();
            let mut model: [Option<crate::Timestamp>; 3] = [None; 3];
            let mut now = at(0);
            for (k, gap) in checks {
                now = now.saturating_add(std::time::Duration::from_millis(gap.unsigned_abs()));
                let update = quota.update_at(now);
                let found = repos
                    .rate_limits
                    .apply_rate_limit(&keys[k], &update)
                    .await
                    .map_err(storage)?;
                let forgotten = found.is_none() && model[k].is_none_or(|tat| tat <= now);
                prop_assert!(
                    found == model[k] || forgotten,
                    "key {}: {:?} vs {:?}",
                    k,
                    found,
                    model[k]
                );
                prop_assert_eq!(quota.decide(found, now), quota.decide(model[k], now));
                if let Some(next) = update.apply(model[k]) {
                    model[k] = Some(next);
                }
            }
            Ok(())
        })
    });
}

#[allow(clippy::needless_pass_by_value)] // shaped for `map_err(storage)`
fn storage(e: crate::StorageError) -> TestCaseError {
    TestCaseError::fail(format!("unexpected storage error: {e:?}"))
}
