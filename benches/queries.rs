//! Query benchmarks on the embedded store: one page of a user with 100k tasks among other
//! users' tasks, first page versus page 50 (walked with cursors), filtered, and stats; and one
//! user's first page while other users' tasks grow from 10k to 1M (it must not slow down).
//!
//! `cargo bench --bench queries`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use taskflow::core::domain::{Priority, UserId};
use taskflow::core::query::{CursorToken, PageLimit, Sort, TaskFilter, TaskQuery};
use taskflow::core::service::TaskService;
use taskflow::core::testkit::{Repositories, TaskSpec, memory_repositories, service};
use tokio::runtime::Runtime;

const TASKS_PER_USER: i64 = 100_000;
const OTHER_USERS: usize = 4;

fn seed(runtime: &Runtime) -> (Repositories, TaskService, UserId) {
    let repos = runtime.block_on(memory_repositories());
    let (tasks, _) = service(&repos);
    let owner = UserId::generate();
    let users = std::iter::once(owner).chain((0..OTHER_USERS).map(|_| UserId::generate()));
    for user in users.collect::<Vec<_>>() {
        for i in 0..TASKS_PER_USER {
            let spec = TaskSpec {
                created: i,
                due: (i % 3 != 0).then_some(i % 5_000),
                completed: i % 4 == 0,
                priority: Priority::ALL[usize::try_from(i % 3).unwrap_or(0)],
                tags: if i % 10 == 0 { vec!["work"] } else { vec![] },
                ..TaskSpec::default()
            };
            runtime
                .block_on(repos.tasks.insert_task(&spec.build(user)))
                .expect("insert");
        }
    }
    (repos, tasks, owner)
}

fn cursor_of_page(
    runtime: &Runtime,
    tasks: &TaskService,
    owner: &UserId,
    query: &TaskQuery,
    page: usize,
) -> Option<CursorToken> {
    let mut query = query.clone();
    for _ in 1..page {
        query.cursor = runtime
            .block_on(tasks.list_tasks(owner, &query))
            .expect("list")
            .next_cursor;
    }
    query.cursor
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (_repos, tasks, owner) = seed(&runtime);
    let tasks = Arc::new(tasks);
    let shapes = [
        ("default", TaskQuery::default()),
        (
            "open_by_due",
            TaskQuery {
                filter: TaskFilter {
                    completed: Some(false),
                    ..TaskFilter::default()
                },
                sort: Sort::parse("due_at").expect("valid"),
                ..TaskQuery::default()
            },
        ),
        (
            "high_priority",
            TaskQuery {
                filter: TaskFilter {
                    priority: Some(Priority::High),
                    ..TaskFilter::default()
                },
                limit: PageLimit::new(20).expect("valid"),
                ..TaskQuery::default()
            },
        ),
    ];
    let mut group = c.benchmark_group("memory_list_100k");
    for (name, query) in shapes {
        for page in [1, 50] {
            let query = TaskQuery {
                cursor: cursor_of_page(&runtime, &tasks, &owner, &query, page),
                ..query.clone()
            };
            group.bench_function(format!("{name}/page_{page}"), |b| {
                b.iter(|| {
                    runtime
                        .block_on(tasks.list_tasks(black_box(&owner), black_box(&query)))
                        .expect("list")
                });
            });
        }
    }
    group.finish();
    c.bench_function("memory_stats_100k", |b| {
        b.iter(|| {
            runtime
                .block_on(tasks.task_stats(black_box(&owner)))
                .expect("stats")
        });
    });
}

/// Tasks of `count` other users, `per_user` each, inserted into `repos`.
fn add_other_users(runtime: &Runtime, repos: &Repositories, count: usize, per_user: i64) {
    for _ in 0..count {
        let user = UserId::generate();
        for i in 0..per_user {
            let spec = TaskSpec {
                created: i,
                due: (i % 3 != 0).then_some(i % 5_000),
                ..TaskSpec::default()
            };
            runtime
                .block_on(repos.tasks.insert_task(&spec.build(user)))
                .expect("insert");
        }
    }
}

fn other_users(c: &mut Criterion) {
    const OWNER_TASKS: i64 = 1_000;
    const USERS_PER_STEP: usize = 100;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let repos = runtime.block_on(memory_repositories());
    let (tasks, _) = service(&repos);
    let owner = UserId::generate();
    for i in 0..OWNER_TASKS {
        let spec = TaskSpec {
            created: i,
            ..TaskSpec::default()
        };
        runtime
            .block_on(repos.tasks.insert_task(&spec.build(owner)))
            .expect("insert");
    }
    let query = TaskQuery::default();
    let mut group = c.benchmark_group("memory_list_other_users");
    let mut others = 0;
    // The other users' tasks grow in place: 10k, then 100k, then 1M, 100 users at each step.
    for (name, total) in [
        ("others_10k", 10_000),
        ("others_100k", 100_000),
        ("others_1m", 1_000_000),
    ] {
        let per_user = (total - others) / USERS_PER_STEP;
        add_other_users(
            &runtime,
            &repos,
            USERS_PER_STEP,
            i64::try_from(per_user).unwrap_or(0),
        );
        others = total;
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(tasks.list_tasks(black_box(&owner), black_box(&query)))
                    .expect("list")
            });
        });
    }
    group.finish();
}

criterion_group!(queries, benches, other_users);
criterion_main!(queries);
