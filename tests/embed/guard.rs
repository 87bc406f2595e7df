//! The guard layers in a host's axum router: a panicking handler is a 500 problem and a stuck
//! one a 504 problem, and the host goes on serving.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use taskflow::http::identity::identity_fn;
use taskflow::http::layers::{GuardSettings, guard};
use taskflow::http::{App, Stores};

use crate::{client, listen, problem};

/// A host that nests, under `/p`, TaskFlow apps whose (host) identity panics or never answers.
async fn spawn() -> String {
    let panics = App::builder(Stores::memory())
        .ephemeral_secret()
        .host_identity(identity_fn(|_| async {
            panic!("the host's identity failed")
        }))
        .build()
        .expect("an app");
    let mut settings = GuardSettings::default();
    settings.request_timeout = Duration::from_millis(300);
    let stuck = App::builder(Stores::memory())
        .ephemeral_secret()
        .host_identity(identity_fn(|_| std::future::pending()))
        .guard(settings)
        .build()
        .expect("an app");
    let host = Router::new()
        .route("/", get(|| async { "host" }))
        .nest(
            "/panics",
            taskflow::axum::router(panics.clone()).layer(guard(&panics)),
        )
        .nest(
            "/stuck",
            taskflow::axum::router(stuck.clone()).layer(guard(&stuck)),
        );
    let (listener, base) = listen().await;
    tokio::spawn(async move { axum::serve(listener, host).await });
    base
}

#[tokio::test]
async fn a_panic_is_a_500_and_a_stuck_handler_a_504_in_an_embedded_router() {
    let base = spawn().await;
    let client = client();
    let panicked = client
        .get(format!("{base}/panics/api/v1/tasks"))
        .send()
        .await
        .expect("sent");
    assert!(panicked.headers().contains_key("x-request-id"));
    assert_eq!(problem(panicked, 500).await["code"], "internal");
    let stuck = client
        .get(format!("{base}/stuck/api/v1/tasks"))
        .send()
        .await
        .expect("sent");
    assert_eq!(problem(stuck, 504).await["code"], "timeout");
    let host = client.get(format!("{base}/")).send().await.expect("host");
    assert_eq!(host.text().await.expect("text"), "host");
}
