//! A MongoDB outage seen over HTTP: the test serves the API over a `MongoStore` on its own
//! SecantusDB, kills that server, requires `/health/ready` and the API to answer 503
//! problem+json promptly (never hang), restarts the server on the same port and storage, and
//! requires readiness and the API to come back by themselves, with the data and the session
//! of before the outage.
//!
//! Needs `TASKFLOW_TEST_SECANTUSD` (the `secantusd-py` binary; scripts/test.sh sets it):
//! skipped without it, except under `CI=true`, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Response;
use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::SystemClock;
use taskflow::core::domain::TaskId;
use taskflow::http::Stores;
use taskflow::mongo::{MongoConfig, MongoStore};
use tokio::time::{Instant, sleep, timeout};

use crate::helpers::*;

const BINARY_VAR: &str = "TASKFLOW_TEST_SECANTUSD";
/// The store's server selection timeout: how long a request may wait for a usable server.
const SELECTION: Duration = Duration::from_secs(1);
/// Far beyond [`SELECTION`]: an answer that takes this long hangs.
const HANG: Duration = Duration::from_secs(10);
/// How long the server may take to start, or the API to recover once it is back.
const RECOVERY: Duration = Duration::from_secs(60);
/// The pause between two polls of a condition.
const POLL: Duration = Duration::from_millis(100);

fn binary() -> Option<PathBuf> {
    match std::env::var(BINARY_VAR) {
        Ok(path) if !path.trim().is_empty() => Some(PathBuf::from(path)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{BINARY_VAR} is not set but CI=true: the MongoDB outage test must run in CI \
                 (scripts/test.sh sets it to the venv's secantusd-py)"
            );
            eprintln!("skipping the MongoDB outage test: {BINARY_VAR} is not set");
            None
        }
    }
}

/// A SecantusDB process of this test on file storage (so a restart keeps the data); killed
/// by its own pid when dropped, even on a panic.
struct SecantusDb(Child);

impl SecantusDb {
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
}

impl Drop for SecantusDb {
    fn drop(&mut self) {
        // SIGKILL: an outage, not a maintenance window.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Connects (creating the indexes) once the freshly started server answers.
async fn connect(port: u16) -> MongoStore {
    let mut config = MongoConfig::new(format!("mongodb://127.0.0.1:{port}/?directConnection=true"))
        .with_database("taskflow_http_outage");
    config.server_selection_timeout = SELECTION;
    config.connect_timeout = SELECTION;
    let deadline = Instant::now() + RECOVERY;
    loop {
        match MongoStore::connect(config.clone()).await {
            Ok(store) => return store,
            Err(e) if Instant::now() < deadline => {
                eprintln!("waiting for SecantusDB: {e}");
                sleep(POLL).await;
            }
            Err(e) => panic!("SecantusDB did not start within {RECOVERY:?}: {e}"),
        }
    }
}

/// Awaits an answer, failing the test if it takes longer than [`HANG`].
async fn promptly(answer: impl Future<Output = Response>) -> Response {
    timeout(HANG, answer)
        .await
        .expect("an answer within a few selection timeouts, not a hang")
}

async fn assert_unavailable(response: Response) {
    assert!(header(&response, "retry-after").is_some(), "Retry-After");
    let problem = assert_problem(response, 503, "storage_unavailable").await;
    assert!(!problem.to_string().contains("127.0.0.1"), "{problem}");
}

/// Polls `GET path` until it answers `status`, failing after [`RECOVERY`].
async fn until_status(app: &TestApp, path: &str, headers: &HeaderMap, status: u16) {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let response = promptly(app.get(path, headers.clone())).await;
        if response.status() == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {} {RECOVERY:?} after the restart",
            response.status()
        );
        sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mongodb_outage_answers_503_promptly_and_the_api_recovers_by_itself() {
    let Some(binary) = binary() else {
        return;
    };
    let scratch =
        Scratch(std::env::temp_dir().join(format!("taskflow_http_outage_{}", TaskId::generate())));
    std::fs::create_dir_all(&scratch.0).expect("scratch dir");
    std::fs::write(scratch.0.join("secantusd.toml"), "").expect("config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = SecantusDb::start(&binary, &scratch.0, port);
    let store = connect(port).await;
    let app = TestApp::spawn_full(&[], Stores::single(store), Arc::new(SystemClock), None).await;

    let ready = app.get("/health/ready", HeaderMap::new()).await;
    assert_eq!(ready.status(), 200);
    let user = app.register("outage@example.com").await;
    let task = user
        .create_task(&app, json!({"title": "Written before the outage"}))
        .await;

    drop(server);
    assert_unavailable(promptly(app.get("/health/ready", HeaderMap::new())).await).await;
    assert_eq!(
        promptly(app.get("/health/live", HeaderMap::new()))
            .await
            .status(),
        200,
        "liveness does not depend on storage"
    );
    assert_unavailable(promptly(app.get("/api/v1/tasks", user.browser_headers())).await).await;
    let credentials = json!({"email": user.email, "password": TestUser::PASSWORD});
    assert_unavailable(
        promptly(app.post("/api/v1/auth/login", &credentials, HeaderMap::new())).await,
    )
    .await;

    let _server = SecantusDb::start(&binary, &scratch.0, port);
    until_status(&app, "/health/ready", &HeaderMap::new(), 200).await;
    // The session of before the outage still works, and its data survived.
    until_status(&app, "/api/v1/tasks", &user.browser_headers(), 200).await;
    let listed = user.list_ids(&app, "").await;
    assert_eq!(listed, [task["id"].as_str().expect("task id")]);
    user.create_task(&app, json!({"title": "Written after the outage"}))
        .await;
    assert_eq!(app.login(&user.email).await.email, user.email);
}
