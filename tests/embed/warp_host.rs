//! `examples/embed_warp.rs`: TaskFlow's task endpoints under `/tasks-app` in a host warp
//! service that authenticates its users itself.

use serde_json::{Value, json};
use taskflow::core::domain::UserId;
use taskflow::http::App;

use crate::embed_warp::{NAMESPACE, PREFIX, Sessions, host, taskflow_app};
use crate::{client, host_not_found, listen, problem};

/// The host on a random port: its base URL and the TaskFlow app it mounts.
async fn spawn() -> (String, App) {
    let sessions = Sessions::default();
    let app = taskflow_app(sessions.clone()).expect("the app");
    let (listener, base) = listen().await;
    let server = warp::serve(host(app.clone(), sessions)).incoming(listener);
    tokio::spawn(server.run());
    (base, app)
}

/// Logs `user` in with the host: its host token.
async fn login(base: &str, user: &str) -> String {
    let response = client()
        .post(format!("{base}/login?user={user}"))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    response.text().await.expect("a token")
}

#[tokio::test]
async fn the_hosts_users_have_their_own_tasks() {
    let (base, app) = spawn().await;
    let client = client();
    let tasks = format!("{base}/{PREFIX}/api/v1/tasks");
    let alice = login(&base, "alice").await;
    let bob = login(&base, "bob").await;
    let created = client
        .post(&tasks)
        .bearer_auth(&alice)
        .json(&json!({"title": "Alice's"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let task: Value = created.json().await.expect("the task");
    let id = task["id"].as_str().expect("an id");
    assert_eq!(location, format!("/tasks-app/api/v1/tasks/{id}"));
    let own = client
        .get(format!("{base}{location}"))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("get");
    assert_eq!(own.status(), 200);
    // Bob's request names Alice's task: a missing one, as for any other user.
    let theirs = client
        .get(format!("{base}{location}"))
        .bearer_auth(&bob)
        .send()
        .await
        .expect("get");
    assert_eq!(problem(theirs, 404).await["code"], "not_found");
    let listed: Value = client
        .get(&tasks)
        .bearer_auth(&bob)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("a page");
    assert_eq!(listed["items"], json!([]));
    // The task is Alice's under the id the host derives for her, as the services see it.
    let alice_id = UserId::derive(NAMESPACE, "alice");
    let stats = app.tasks().task_stats(&alice_id).await.expect("stats");
    assert_eq!(stats.total, 1);
}

#[tokio::test]
async fn without_the_hosts_user_it_is_401_and_taskflows_auth_is_not_there() {
    let (base, _app) = spawn().await;
    let client = client();
    let tasks = format!("{base}/{PREFIX}/api/v1/tasks");
    let anonymous = client.get(&tasks).send().await.expect("list");
    assert_eq!(problem(anonymous, 401).await["code"], "unauthorized");
    let forged = client
        .get(&tasks)
        .bearer_auth("not-a-host-token")
        .send()
        .await
        .expect("list");
    assert_eq!(problem(forged, 401).await["code"], "unauthorized");
    // TaskFlow's auth endpoints are not routes: the host's fallback answers.
    let login = client
        .post(format!("{base}/{PREFIX}/api/v1/auth/login"))
        .json(&json!({"email": "a@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .expect("login");
    host_not_found(login).await;
}

#[tokio::test]
async fn the_host_keeps_its_routes_and_its_fallback() {
    let (base, _app) = spawn().await;
    let client = client();
    let home = client.get(format!("{base}/")).send().await.expect("home");
    assert_eq!(home.status(), 200);
    for path in [
        "/nope",
        "/api/v1/tasks",
        "/tasks-app",
        "/tasks-app/nope",
        "/tasks-app/api/v1/tasks/",
    ] {
        host_not_found(
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect(path),
        )
        .await;
    }
    let delete = client
        .delete(format!("{base}/{PREFIX}/api/v1/tasks"))
        .send()
        .await
        .expect("delete");
    assert_eq!(delete.headers()["allow"], "GET, POST");
    assert_eq!(problem(delete, 405).await["code"], "method_not_allowed");
    let live = client
        .get(format!("{base}/{PREFIX}/health/live"))
        .send()
        .await
        .expect("live");
    assert_eq!(live.status(), 200);
}
