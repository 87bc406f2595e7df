//! The conformance cases, one public async function each, run by
//! [`repository_conformance_tests!`](crate::repository_conformance_tests).

use std::collections::HashSet;
use std::sync::Arc;

use super::{Repositories, TaskSpec, at, model, service};
use crate::domain::{
    DisplayName, Email, PasswordHash, Priority, Tag, TaskPatch, TaskTitle, User, UserId,
};
use crate::ports::InsertUserError;
use crate::query::{Direction, ListRequest, SearchText, Sort, SortKey, TaskFilter, TaskStats};
use crate::service::TaskError;

fn user(email: &str) -> User {
    User {
        id: UserId::generate(),
        email: Email::parse(email).expect("valid email"),
        name: Some(DisplayName::parse("Ada").expect("valid name")),
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        ),
        created_at: at(0),
    }
}

fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", UserId::generate())
}

/// Inserted users are found by id and by email, with every field intact.
pub async fn user_insert_and_find(repos: &Repositories) {
    let ada = user(&unique_email("ada"));
    repos.users.insert_user(&ada).await.expect("insert");
    let by_id = repos
        .users
        .find_user_by_id(&ada.id)
        .await
        .expect("find")
        .expect("present");
    let by_email = repos
        .users
        .find_user_by_email(&ada.email)
        .await
        .expect("find")
        .expect("present");
    for found in [&by_id, &by_email] {
        assert_eq!(found.id, ada.id);
        assert_eq!(found.email, ada.email);
        assert_eq!(found.name, ada.name);
        assert_eq!(found.created_at, ada.created_at);
        assert_eq!(
            found.password_hash.expose_phc(),
            ada.password_hash.expose_phc()
        );
    }
    assert!(
        repos
            .users
            .find_user_by_id(&UserId::generate())
            .await
            .expect("find")
            .is_none()
    );
    let nobody = Email::parse(&unique_email("nobody")).expect("valid");
    assert!(
        repos
            .users
            .find_user_by_email(&nobody)
            .await
            .expect("find")
            .is_none()
    );
}

/// A second account with the same email is refused and changes nothing.
pub async fn user_email_is_unique(repos: &Repositories) {
    let email = unique_email("dup");
    let first = user(&email);
    repos.users.insert_user(&first).await.expect("first insert");
    let second = user(&email.to_uppercase());
    let err = repos
        .users
        .insert_user(&second)
        .await
        .expect_err("duplicate email");
    assert!(matches!(err, InsertUserError::EmailTaken), "{err:?}");
    assert!(
        repos
            .users
            .find_user_by_id(&second.id)
            .await
            .expect("find")
            .is_none()
    );
    let owner = repos
        .users
        .find_user_by_email(&first.email)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(owner.id, first.id);
}

/// Of many concurrent registrations of one email exactly one succeeds.
pub async fn user_email_is_unique_under_concurrency(repos: &Repositories) {
    let email = unique_email("race");
    let attempts = (0..8).map(|_| {
        let users = repos.users.clone();
        let candidate = user(&email);
        tokio::spawn(async move { users.insert_user(&candidate).await })
    });
    let mut ok = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        match attempt.await.expect("join") {
            Ok(()) => ok += 1,
            Err(InsertUserError::EmailTaken) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 1);
}

/// A password hash can be replaced, and only for an existing account.
pub async fn user_password_hash_can_be_replaced(repos: &Repositories) {
    let ada = user(&unique_email("rehash"));
    repos.users.insert_user(&ada).await.expect("insert");
    let stronger = PasswordHash::from_phc("$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$bmV3".into());
    assert!(
        repos
            .users
            .set_password_hash(&ada.id, &stronger)
            .await
            .expect("set")
    );
    let found = repos
        .users
        .find_user_by_id(&ada.id)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.password_hash.expose_phc(), stronger.expose_phc());
    assert!(
        !repos
            .users
            .set_password_hash(&UserId::generate(), &stronger)
            .await
            .expect("set")
    );
}

/// A stored task comes back equal in every field, timestamps to the millisecond.
pub async fn task_round_trips_every_field(repos: &Repositories) {
    let owner = UserId::generate();
    let spec = TaskSpec {
        title: "Ünïcode — title",
        created: 10,
        updated_after: 5,
        due: Some(-3),
        completed: true,
        priority: Priority::High,
        tags: vec!["b", "a", "x-1"],
    };
    let mut task = spec.build(owner);
    task.created_at =
        crate::Timestamp::from_unix_millis(task.created_at.unix_millis() + 123).expect("in range");
    task.version = 7;
    repos.tasks.insert_task(&task).await.expect("insert");
    let found = repos
        .tasks
        .get_task(&owner, &task.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(found, task);
    let open = TaskSpec::default().build(owner);
    repos.tasks.insert_task(&open).await.expect("insert");
    let found = repos
        .tasks
        .get_task(&owner, &open.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(found, open);
}

/// Another owner can neither read, replace nor delete a task, and learns nothing.
pub async fn task_access_is_owner_scoped(repos: &Repositories) {
    let owner = UserId::generate();
    let intruder = UserId::generate();
    let task = TaskSpec::default().build(owner);
    repos.tasks.insert_task(&task).await.expect("insert");
    assert!(
        repos
            .tasks
            .get_task(&intruder, &task.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        !repos
            .tasks
            .delete_task(&intruder, &task.id)
            .await
            .expect("delete")
    );
    let mut stolen = task.clone();
    stolen.owner = intruder;
    stolen.version = 2;
    assert!(!repos.tasks.replace_task(&stolen, 1).await.expect("replace"));
    assert!(
        repos
            .tasks
            .get_task(&intruder, &task.id)
            .await
            .expect("get")
            .is_none()
    );
    let kept = repos
        .tasks
        .get_task(&owner, &task.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(kept, task);
}

/// Replace succeeds only from the expected version.
pub async fn task_replace_is_compare_and_swap(repos: &Repositories) {
    let owner = UserId::generate();
    let task = TaskSpec::default().build(owner);
    repos.tasks.insert_task(&task).await.expect("insert");
    let patch = TaskPatch {
        title: Some(TaskTitle::parse("Renamed").expect("valid")),
        ..TaskPatch::default()
    };
    let next = task.patched(&patch, at(60)).expect("a change");
    assert!(
        !repos
            .tasks
            .replace_task(&next, 5)
            .await
            .expect("stale replace")
    );
    assert_eq!(
        repos.tasks.get_task(&owner, &task.id).await.expect("get"),
        Some(task.clone())
    );
    assert!(repos.tasks.replace_task(&next, 1).await.expect("replace"));
    assert_eq!(
        repos.tasks.get_task(&owner, &task.id).await.expect("get"),
        Some(next.clone())
    );
    assert!(
        !repos.tasks.replace_task(&next, 1).await.expect("replay"),
        "version 1 is gone"
    );
    let missing = TaskSpec::default().build(owner);
    assert!(
        !repos
            .tasks
            .replace_task(&missing, 1)
            .await
            .expect("missing")
    );
}

/// Delete removes a task once; it is gone from get, list and stats.
pub async fn task_delete_removes_once(repos: &Repositories) {
    let owner = UserId::generate();
    let task = TaskSpec::default().build(owner);
    repos.tasks.insert_task(&task).await.expect("insert");
    assert!(
        repos
            .tasks
            .delete_task(&owner, &task.id)
            .await
            .expect("delete")
    );
    assert!(
        !repos
            .tasks
            .delete_task(&owner, &task.id)
            .await
            .expect("delete again")
    );
    assert!(
        repos
            .tasks
            .get_task(&owner, &task.id)
            .await
            .expect("get")
            .is_none()
    );
    let all = ListRequest {
        filter: TaskFilter::default(),
        sort: Sort::default(),
        after: None,
        limit: 10,
    };
    assert!(
        repos
            .tasks
            .list_tasks(&owner, &all)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(
        repos.tasks.task_stats(&owner, at(0)).await.expect("stats"),
        TaskStats::default()
    );
}

fn sample_specs() -> Vec<TaskSpec> {
    let titles = [
        "Buy milk",
        "MILKSHAKE",
        "Write report",
        "call mom",
        "Report bug",
        "Tax",
    ];
    let tags: [&[&'static str]; 4] = [&[], &["home"], &["work", "home"], &["work"]];
    (0..30_i64)
        .map(|i| {
            let n = usize::try_from(i).expect("small");
            TaskSpec {
                title: titles[n % titles.len()],
                // Many ties on every key, so the id tie-break is exercised.
                created: i / 4,
                updated_after: (i * 7) % 5,
                due: (i % 3 != 0).then_some((i * 5) % 11 - 5),
                completed: i % 4 == 1,
                priority: Priority::ALL[n % 3],
                tags: tags[n % tags.len()].to_vec(),
            }
        })
        .collect()
}

fn sample_filters() -> Vec<TaskFilter> {
    vec![
        TaskFilter::default(),
        TaskFilter {
            completed: Some(false),
            ..TaskFilter::default()
        },
        TaskFilter {
            completed: Some(true),
            ..TaskFilter::default()
        },
        TaskFilter {
            tag: Some(Tag::parse("home").expect("valid")),
            ..TaskFilter::default()
        },
        TaskFilter {
            priority: Some(Priority::High),
            ..TaskFilter::default()
        },
        TaskFilter {
            due_before: Some(at(0)),
            ..TaskFilter::default()
        },
        TaskFilter {
            due_after: Some(at(0)),
            due_before: Some(at(4)),
            ..TaskFilter::default()
        },
        TaskFilter {
            q: Some(SearchText::parse("milk").expect("valid")),
            ..TaskFilter::default()
        },
        TaskFilter {
            completed: Some(false),
            tag: Some(Tag::parse("work").expect("valid")),
            q: Some(SearchText::parse("REPORT").expect("valid")),
            ..TaskFilter::default()
        },
    ]
}

fn all_sorts() -> Vec<Sort> {
    let keys = [SortKey::CreatedAt, SortKey::UpdatedAt, SortKey::DueAt];
    let directions = [Direction::Asc, Direction::Desc];
    keys.iter()
        .flat_map(|&key| {
            directions
                .iter()
                .map(move |&direction| Sort { key, direction })
        })
        .collect()
}

/// Every filter under every sort gives the model's order, and resuming after any position
/// gives the model's continuation.
pub async fn task_list_orders_filters_and_resumes(repos: &Repositories) {
    let owner = UserId::generate();
    let tasks: Vec<_> = sample_specs().iter().map(|s| s.build(owner)).collect();
    for task in &tasks {
        repos.tasks.insert_task(task).await.expect("insert");
    }
    for filter in sample_filters() {
        for sort in all_sorts() {
            let full = ListRequest {
                filter: filter.clone(),
                sort,
                after: None,
                limit: 100,
            };
            let expected = model::page(&tasks, &full);
            let got = repos.tasks.list_tasks(&owner, &full).await.expect("list");
            assert_eq!(ids(&got), ids(&expected), "{filter:?} {sort:?}");
            for (i, task) in expected.iter().enumerate().step_by(3) {
                let after = ListRequest {
                    after: Some(sort.position_of(task)),
                    limit: 4,
                    ..full.clone()
                };
                let got = repos.tasks.list_tasks(&owner, &after).await.expect("list");
                let want: Vec<_> = expected[i + 1..].iter().take(4).cloned().collect();
                assert_eq!(ids(&got), ids(&want), "{filter:?} {sort:?} after #{i}");
            }
        }
    }
}

fn ids(tasks: &[crate::domain::Task]) -> Vec<String> {
    tasks.iter().map(|t| t.id.to_string()).collect()
}

/// Listing one owner never returns another's tasks.
pub async fn task_list_is_owner_scoped(repos: &Repositories) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    for i in 0..5 {
        repos
            .tasks
            .insert_task(
                &TaskSpec {
                    created: i,
                    ..TaskSpec::default()
                }
                .build(ada),
            )
            .await
            .expect("insert");
        repos
            .tasks
            .insert_task(
                &TaskSpec {
                    created: i,
                    ..TaskSpec::default()
                }
                .build(bob),
            )
            .await
            .expect("insert");
    }
    let all = ListRequest {
        filter: TaskFilter::default(),
        sort: Sort::default(),
        after: None,
        limit: 100,
    };
    let listed = repos.tasks.list_tasks(&ada, &all).await.expect("list");
    assert_eq!(listed.len(), 5);
    assert!(listed.iter().all(|t| t.owner == ada));
    let nobody = repos
        .tasks
        .list_tasks(&UserId::generate(), &all)
        .await
        .expect("list");
    assert!(nobody.is_empty());
}

/// Totals, completed, open and overdue (open and strictly past due) per owner.
pub async fn task_stats_counts(repos: &Repositories) {
    let owner = UserId::generate();
    let specs = [
        TaskSpec {
            due: Some(-10),
            ..TaskSpec::default()
        },
        TaskSpec {
            due: Some(0),
            ..TaskSpec::default()
        },
        TaskSpec {
            due: Some(10),
            ..TaskSpec::default()
        },
        TaskSpec {
            due: None,
            ..TaskSpec::default()
        },
        TaskSpec {
            due: Some(-10),
            completed: true,
            ..TaskSpec::default()
        },
        TaskSpec {
            completed: true,
            ..TaskSpec::default()
        },
    ];
    for spec in &specs {
        repos
            .tasks
            .insert_task(&spec.build(owner))
            .await
            .expect("insert");
    }
    repos
        .tasks
        .insert_task(&specs[0].build(UserId::generate()))
        .await
        .expect("insert");
    let stats = repos.tasks.task_stats(&owner, at(0)).await.expect("stats");
    assert_eq!(
        stats,
        TaskStats {
            total: 6,
            completed: 2,
            open: 4,
            overdue: 1
        }
    );
    let later = repos.tasks.task_stats(&owner, at(11)).await.expect("stats");
    assert_eq!(later.overdue, 3);
}

/// Concurrent unconditional updates are serialised: every one lands, one version each.
pub async fn service_concurrent_updates_lose_nothing(repos: &Repositories) {
    let (tasks, _clock) = service(repos);
    let tasks = Arc::new(tasks);
    let owner = UserId::generate();
    let new = crate::domain::NewTask::titled(TaskTitle::parse("counter").expect("valid"));
    let task = tasks.create_task(&owner, new).await.expect("create");
    let writers: Vec<_> = (0..6)
        .map(|i| {
            let tasks = tasks.clone();
            let id = task.id;
            tokio::spawn(async move {
                let patch = TaskPatch {
                    title: Some(TaskTitle::parse(&format!("writer {i}")).expect("valid")),
                    ..TaskPatch::default()
                };
                tasks.update_task(&owner, &id, &patch, None).await
            })
        })
        .collect();
    let mut versions = HashSet::new();
    for writer in writers {
        let updated = writer.await.expect("join").expect("update");
        assert!(
            versions.insert(updated.version),
            "two writers got version {}",
            updated.version
        );
    }
    let last = tasks.get_task(&owner, &task.id).await.expect("get");
    assert_eq!(last.version, 7);
    assert_eq!(versions, (2..=7).collect());
}

/// With an expected version, a stale update fails and changes nothing.
pub async fn service_update_respects_expected_version(repos: &Repositories) {
    let (tasks, clock) = service(repos);
    let owner = UserId::generate();
    let new = crate::domain::NewTask::titled(TaskTitle::parse("versioned").expect("valid"));
    let task = tasks.create_task(&owner, new).await.expect("create");
    clock.advance(std::time::Duration::from_secs(1));
    let done = TaskPatch {
        completed: Some(true),
        ..TaskPatch::default()
    };
    let v2 = tasks
        .update_task(&owner, &task.id, &done, Some(1))
        .await
        .expect("update");
    assert_eq!((v2.version, v2.completed_at), (2, Some(at(1))));
    let rename = TaskPatch {
        title: Some(TaskTitle::parse("late").expect("valid")),
        ..TaskPatch::default()
    };
    let stale = tasks.update_task(&owner, &task.id, &rename, Some(1)).await;
    assert!(
        matches!(stale, Err(TaskError::PreconditionFailed)),
        "{stale:?}"
    );
    assert_eq!(tasks.get_task(&owner, &task.id).await.expect("get"), v2);
    let other = tasks
        .update_task(&UserId::generate(), &task.id, &rename, None)
        .await;
    assert!(matches!(other, Err(TaskError::NotFound)), "{other:?}");
    let deleted = tasks.delete_task(&owner, &task.id).await;
    assert!(deleted.is_ok());
    let gone = tasks.update_task(&owner, &task.id, &rename, Some(2)).await;
    assert!(matches!(gone, Err(TaskError::NotFound)), "{gone:?}");
}
