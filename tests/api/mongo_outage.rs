//! A MongoDB outage seen over HTTP: the test serves the API over a `MongoStore` on its own
//! SecantusDB, kills that server, requires `/health/ready` and the API to answer 503
//! problem+json promptly (never hang), restarts the server on the same port and storage, and
//! requires readiness and the API to come back by themselves, with the data and the session
//! of before the outage.
//!
//! Needs `TASKFLOW_TEST_SECANTUSD` (the `secantusd-py` binary; scripts/test.sh sets it):
//! skipped without it, except under `CI=true`, where that is a failure.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Response;
use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::SystemClock;
use taskflow::http::Stores;
use taskflow::mongo::{MongoConfig, MongoStore};
use taskflow_mongo::testkit::{OwnedServer, server_binary};
use tokio::time::{Instant, sleep, timeout};

use crate::helpers::*;

/// The store's server selection timeout: how long a request may wait for a usable server.
const SELECTION: Duration = Duration::from_secs(1);
/// Far beyond [`SELECTION`]: an answer that takes this long hangs.
const HANG: Duration = Duration::from_secs(10);
/// How long the server may take to start, or the API to recover once it is back.
const RECOVERY: Duration = Duration::from_secs(60);
/// The pause between two polls of a condition.
const POLL: Duration = Duration::from_millis(100);

/// Connects (creating the indexes) once the freshly started server answers.
async fn connect(server: &OwnedServer) -> MongoStore {
    let mut config = MongoConfig::new(server.uri()).with_database("taskflow_http_outage");
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
    let Some(binary) = server_binary("the MongoDB outage test") else {
        return;
    };
    let mut server = OwnedServer::start(binary).expect("start secantusd-py");
    let store = connect(&server).await;
    let app = TestApp::spawn_full(&[], Stores::single(store), Arc::new(SystemClock), None).await;

    let ready = app.get("/health/ready", HeaderMap::new()).await;
    assert_eq!(ready.status(), 200);
    let user = app.register("outage@example.com").await;
    let task = user
        .create_task(&app, json!({"title": "Written before the outage"}))
        .await;

    server.kill();
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

    server.restart().expect("restart secantusd-py");
    until_status(&app, "/health/ready", &HeaderMap::new(), 200).await;
    // The session of before the outage still works, and its data survived.
    until_status(&app, "/api/v1/tasks", &user.browser_headers(), 200).await;
    let listed = user.list_ids(&app, "").await;
    assert_eq!(listed, [task["id"].as_str().expect("task id")]);
    user.create_task(&app, json!({"title": "Written after the outage"}))
        .await;
    assert_eq!(app.login(&user.email).await.email, user.email);
}
