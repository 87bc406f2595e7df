//! An outage: the test starts its own SecantusDB on file storage, writes, kills the server,
//! sees every call fail with `StorageError::Unavailable` (never hang), restarts it on the same
//! port and storage, and finds every acknowledged write (journaled) and working calls again.
//!
//! Needs `TASKFLOW_TEST_SECANTUSD` (the `secantusd-py` binary; scripts/test.sh sets it):
//! skipped without it, except under `CI=true`, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use taskflow_core::StorageError;
use taskflow_core::domain::UserId;
use taskflow_core::ports::{StorageHealth, TaskRepository};
use taskflow_core::query::{ListRequest, Sort, TaskFilter};
use taskflow_core::testkit::TaskSpec;
use taskflow_mongo::{MongoConfig, MongoStore};

use crate::common;

const BINARY_VAR: &str = "TASKFLOW_TEST_SECANTUSD";
/// Far beyond the 1 s selection timeout: a call that takes this long hangs.
const HANG: Duration = Duration::from_secs(20);
/// Start-up polls; each failed attempt waits out one selection timeout (1 s).
const READY_ATTEMPTS: usize = 60;

fn binary() -> Option<PathBuf> {
    match std::env::var(BINARY_VAR) {
        Ok(path) if !path.trim().is_empty() => Some(PathBuf::from(path)),
        _ => {
            assert!(
                !common::in_ci(),
                "{BINARY_VAR} is not set but CI=true: the outage test must run in CI \
                 (scripts/test.sh sets it to the venv's secantusd-py)"
            );
            eprintln!("skipping the outage test: {BINARY_VAR} is not set");
            None
        }
    }
}

/// A server process of this test; killed (by its own pid) when dropped, even on a panic.
struct Server(Child);

impl Server {
    fn start(binary: &Path, dir: &Path, port: u16) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .expect("log file");
        let child = Command::new(binary)
            // An empty config file disables auto-discovery of the machine's own config.
            .arg("--config")
            .arg(dir.join("secantusd.toml"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--storage-path")
            .arg(dir.join("data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start secantusd-py");
        Self(child)
    }

    fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // SIGKILL: no graceful shutdown, no flush beyond what was acknowledged.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn until_ready(store: &MongoStore) {
    for _ in 0..READY_ATTEMPTS {
        if store.ping().await.is_ok() {
            return;
        }
    }
    panic!("the restarted server did not answer");
}

/// Awaits `call`, failing the test if it takes longer than [`HANG`].
async fn within<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, call)
        .await
        .expect("the call failed or succeeded rather than hung")
}

fn assert_unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, StorageError>) {
    match result {
        Err(err @ StorageError::Unavailable(_)) => {
            assert_eq!(err.to_string(), "storage is unavailable", "{what}");
        }
        other => panic!("{what}: expected Unavailable, got {other:?}"),
    }
}

#[allow(clippy::too_many_lines)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_unavailable_and_acknowledged_writes_survive_it() {
    let Some(binary) = binary() else {
        return;
    };
    let scratch = Scratch(std::env::temp_dir().join(common::unique_database()));
    std::fs::create_dir_all(&scratch.0).expect("scratch dir");
    std::fs::write(scratch.0.join("secantusd.toml"), "").expect("config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = Server::start(&binary, &scratch.0, port);

    let mut config = MongoConfig::new(format!("mongodb://127.0.0.1:{port}/?directConnection=true"))
        .with_database("taskflow_fault");
    config.server_selection_timeout = Duration::from_secs(1);
    config.connect_timeout = Duration::from_secs(1);
    let mut store = None;
    for _ in 0..READY_ATTEMPTS {
        if let Ok(connected) = MongoStore::connect(config.clone()).await {
            store = Some(connected);
            break;
        }
    }
    let store = store.expect("the server started");

    let owner = UserId::generate();
    let mut written = Vec::new();
    for i in 0..25 {
        let task = TaskSpec {
            created: i,
            due: (i % 2 == 0).then_some(i),
            ..TaskSpec::default()
        }
        .build(owner);
        store.insert_task(&task).await.expect("insert");
        written.push(task);
    }
    let all = ListRequest {
        filter: TaskFilter::default(),
        sort: Sort::default(),
        after: None,
        limit: 100,
    };

    server.kill();
    let probe = written[0].clone();
    let extra = TaskSpec::default().build(owner);
    assert_unavailable("ping", within(store.ping()).await);
    assert_unavailable("get", within(store.get_task(&owner, &probe.id)).await);
    assert_unavailable("list", within(store.list_tasks(&owner, &all)).await);
    assert_unavailable("insert", within(store.insert_task(&extra)).await);
    assert_unavailable(
        "stats",
        within(store.task_stats(&owner, probe.created_at)).await,
    );

    let _server = Server::start(&binary, &scratch.0, port);
    until_ready(&store).await;
    let listed = store.list_tasks(&owner, &all).await.expect("list");
    let mut expected = written.clone();
    expected.sort_by(|a, b| {
        Sort::default().compare(
            &Sort::default().position_of(a),
            &Sort::default().position_of(b),
        )
    });
    assert_eq!(listed, expected, "every acknowledged write survived");
    for task in &written {
        assert_eq!(
            store.get_task(&owner, &task.id).await.expect("get"),
            Some(task.clone())
        );
    }
    store
        .insert_task(&extra)
        .await
        .expect("insert after restart");
    assert_eq!(
        store.get_task(&owner, &extra.id).await.expect("get"),
        Some(extra)
    );
    store.shutdown().await;
}
