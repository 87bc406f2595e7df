//! Graceful shutdown: the listener closes at once, requests in flight finish, then the
//! server returns and the example server closes the storage and exits 0.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use taskflow::core::SystemClock;
use tokio::net::TcpStream;

use super::gate::{Closing, Gate, Mode, eventually};
use crate::helpers::*;

fn shutdown_switch() -> (
    tokio::sync::oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (trigger, signal) = tokio::sync::oneshot::channel::<()>();
    (trigger, async move {
        let _ = signal.await;
    })
}

#[tokio::test]
async fn shutdown_refuses_new_connections_and_finishes_the_request_in_flight() {
    let gate = Gate::new(Mode::Wait);
    let config = TestApp::config(&[]);
    let app = config
        .app_with(gate.stores(), Arc::new(SystemClock), None)
        .expect("app");
    let (trigger, shutdown) = shutdown_switch();
    let (address, server) = serve_until(Adapter::from_env(), app, shutdown).await;
    let client = TestApp::at(address);
    let user = client.register("drain@example.com").await;
    let in_flight = {
        let (client, headers) = (TestApp::at(address), user.browser_headers());
        tokio::spawn(async move { client.get("/api/v1/tasks/stats", headers).await })
    };
    gate.parked(1).await;
    trigger.send(()).expect("server listening");
    let mut refused = false;
    for _ in 0..1000 {
        if TcpStream::connect(address).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "new connections are still accepted after shutdown");
    assert!(
        !server.is_finished(),
        "the server returned with a request in flight"
    );
    gate.release();
    let response = in_flight.await.expect("request task");
    assert_eq!(response.status(), 200);
    let stats = json_body(response).await;
    assert_eq!(stats["total"], 0);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server returns once drained")
        .expect("server task");
}

#[tokio::test]
async fn after_the_drain_timeout_what_is_still_running_is_dropped() {
    let gate = Gate::new(Mode::Wait);
    let config = TestApp::config(&[("TASKFLOW_DRAIN_TIMEOUT_SECS", "1")]);
    let app = config
        .app_with(gate.stores(), Arc::new(SystemClock), None)
        .expect("app");
    let (trigger, shutdown) = shutdown_switch();
    let (address, server) = serve_until(Adapter::from_env(), app, shutdown).await;
    let client = TestApp::at(address);
    let user = client.register("stuck-drain@example.com").await;
    let stuck = {
        let headers = user.browser_headers();
        tokio::spawn(async move {
            let url = format!("{}/api/v1/tasks/stats", client.address);
            client.client.get(url).headers(headers).send().await
        })
    };
    gate.parked(1).await;
    trigger.send(()).expect("server listening");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server gives up on the stuck request")
        .expect("server task");
    let answer = stuck.await.expect("request task");
    assert!(
        answer.is_err(),
        "the stuck request was answered: {answer:?}"
    );
}

#[tokio::test]
async fn the_example_server_closes_the_storage_after_the_drain_and_exits_0() {
    let closing = Closing::default();
    let mut stores = taskflow::http::Stores::memory();
    stores.health = Arc::new(closing.clone());
    let app = TestApp::config(&[]).app(stores).expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (trigger, shutdown) = shutdown_switch();
    let adapter = Adapter::from_env();
    let run = tokio::spawn(taskflow::server::serve_then_close(
        app,
        listener,
        move |app, listener, shutdown| async move {
            serve_on(adapter, app, listener, shutdown).await;
            Ok::<(), std::convert::Infallible>(())
        },
        shutdown,
    ));
    let live = TestApp::at(address)
        .get("/health/live", reqwest::header::HeaderMap::new())
        .await;
    assert_eq!(live.status(), 200);
    assert!(!closing.closed.load(Ordering::SeqCst));
    trigger.send(()).expect("server running");
    let code = tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the server exits")
        .expect("run task");
    assert_eq!(code, ExitCode::SUCCESS);
    eventually("the storage to close", || {
        closing.closed.load(Ordering::SeqCst)
    })
    .await;
}
