//! MongoDB store benchmarks on the server named by `TASKFLOW_TEST_MONGODB_URI` (skipped with
//! a note when it is unset): insert, get, the first page and page 50 of the default list
//! (`-created_at`, 20 per page) of a user with many tasks among other users' tasks, and stats.
//!
//! `TASKFLOW_TEST_MONGODB_URI=... cargo bench -p taskflow-mongo --bench mongo`
//!
//! `TASKFLOW_BENCH_TASKS` sets the user's task count (default 100 000). The data goes to a
//! fresh database, dropped at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use taskflow_core::domain::{Priority, Task, UserId};
use taskflow_core::ports::TaskRepository;
use taskflow_core::query::{ListRequest, Sort, TaskFilter};
use taskflow_core::testkit::{TaskSpec, at};
use taskflow_mongo::mongodb::bson::oid::ObjectId;
use taskflow_mongo::{MongoConfig, MongoStore};
use tokio::runtime::Runtime;

const DEFAULT_TASKS: usize = 100_000;
const OTHER_USERS: usize = 2;
const OTHER_TASKS: usize = 10_000;
const BATCH: usize = 1_000;
const PAGE: usize = 20;

fn spec(i: usize) -> TaskSpec {
    let n = i64::try_from(i).unwrap_or(i64::MAX);
    TaskSpec {
        created: n,
        due: (!i.is_multiple_of(3)).then_some(n % 5_000),
        completed: i.is_multiple_of(4),
        priority: Priority::ALL[i % 3],
        tags: if i.is_multiple_of(10) {
            vec!["work"]
        } else {
            vec![]
        },
        ..TaskSpec::default()
    }
}

fn seed(runtime: &Runtime, store: &MongoStore, owner: UserId, count: usize) -> Vec<Task> {
    let mut mine = Vec::with_capacity(count);
    let users = std::iter::once((owner, count))
        .chain((0..OTHER_USERS).map(|_| (UserId::generate(), OTHER_TASKS)));
    for (user, n) in users {
        let mut batch = Vec::with_capacity(BATCH);
        for i in 0..n {
            batch.push(spec(i).build(user));
            if batch.len() == BATCH || i + 1 == n {
                runtime
                    .block_on(store.insert_tasks(&batch))
                    .expect("insert");
                if user == owner {
                    mine.append(&mut batch);
                } else {
                    batch.clear();
                }
            }
        }
    }
    mine
}

fn benches(c: &mut Criterion) {
    let Some(uri) = std::env::var("TASKFLOW_TEST_MONGODB_URI")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipping the MongoDB benchmarks: TASKFLOW_TEST_MONGODB_URI is not set");
        return;
    };
    let count = std::env::var("TASKFLOW_BENCH_TASKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_TASKS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let database = format!("taskflow_bench_{}", ObjectId::new().to_hex());
    let store = runtime
        .block_on(MongoStore::connect(
            MongoConfig::new(uri).with_database(database),
        ))
        .expect("connect");
    let owner = UserId::generate();
    let started = Instant::now();
    let mut tasks = seed(&runtime, &store, owner, count);
    eprintln!(
        "seeded {count} tasks for the user and {} for {OTHER_USERS} others in {:.1?}",
        OTHER_USERS * OTHER_TASKS,
        started.elapsed()
    );
    let sort = Sort::default();
    tasks.sort_by(|a, b| sort.compare(&sort.position_of(a), &sort.position_of(b)));
    let first_page = ListRequest {
        filter: TaskFilter::default(),
        sort,
        after: None,
        limit: PAGE,
    };
    // Page 50 starts after the last task of page 49.
    let page_50 = ListRequest {
        after: tasks.get(49 * PAGE - 1).map(|t| sort.position_of(t)),
        ..first_page.clone()
    };
    let probe = tasks[tasks.len() / 2].id;
    let writer = UserId::generate();

    let mut group = c.benchmark_group(format!("mongo_{count}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("insert", |b| {
        b.iter(|| {
            let task = TaskSpec::default().build(writer);
            runtime.block_on(store.insert_task(&task)).expect("insert");
        });
    });
    group.bench_function("get", |b| {
        b.iter(|| {
            runtime
                .block_on(store.get_task(black_box(&owner), black_box(&probe)))
                .expect("get")
        });
    });
    for (name, request) in [("list/page_1", &first_page), ("list/page_50", &page_50)] {
        let expected = tasks
            .iter()
            .skip(if request.after.is_some() {
                49 * PAGE
            } else {
                0
            })
            .take(PAGE)
            .map(|t| t.id)
            .collect::<Vec<_>>();
        let got = runtime
            .block_on(store.list_tasks(&owner, request))
            .expect("list");
        assert_eq!(got.iter().map(|t| t.id).collect::<Vec<_>>(), expected);
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(store.list_tasks(black_box(&owner), black_box(request)))
                    .expect("list")
            });
        });
    }
    group.bench_function("stats", |b| {
        b.iter(|| {
            runtime
                .block_on(store.task_stats(black_box(&owner), at(2_500)))
                .expect("stats")
        });
    });
    group.finish();
    runtime
        .block_on(store.database().drop().into_future())
        .expect("drop the bench database");
}

criterion_group!(mongo, benches);
criterion_main!(mongo);
