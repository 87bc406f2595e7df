//! TaskFlow's task endpoints embedded in a host warp service that authenticates its users
//! itself: the host has its own routes (`/`, `POST /login`), its own state (the sessions it
//! issued) and a final fallback, and mounts TaskFlow under `/tasks-app` with the host's
//! identity: a request with `Authorization: Bearer <host token>` works with the tasks of the
//! host's user, whose TaskFlow id is derived from the host's user name
//! (`UserId::derive("embed-warp", name)`), so the host keeps no mapping. TaskFlow's own auth
//! endpoints are not mounted.
//!
//! `cargo run --example embed_warp` (listens on 127.0.0.1:3001, or `EMBED_BIND`), then:
//!
//! ```text
//! TOKEN=$(curl -s -X POST 'localhost:3001/login?user=ada')
//! curl -i localhost:3001/tasks-app/api/v1/tasks -H "authorization: Bearer $TOKEN" \
//!     -H 'content-type: application/json' -d '{"title": "Write the report"}'
//! ```
//!
//! warp's own server runs filters, not tower services, so TaskFlow's guard layers
//! (`taskflow::http::layers::guard`) are not in front of these routes here; a host that wants
//! them serves `warp::service(filter)` on a tower-capable server (hyper-util's, say) with
//! `guard(&app)` around it. The host state and filters are built by functions that
//! `tests/embed` shares.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use taskflow::core::domain::UserId;
use taskflow::core::domain::ids::random_bytes;
use taskflow::http::identity::identity_fn;
use taskflow::http::{App, BuildError, Stores};
use warp::Filter;
use warp::http::StatusCode;

/// Where the host mounts TaskFlow.
pub(crate) const PREFIX: &str = "tasks-app";

/// The namespace of the host's user names in TaskFlow's ids.
pub(crate) const NAMESPACE: &str = "embed-warp";

/// The host's sessions: the token it gave each user at login, to the user's name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sessions(Arc<Mutex<HashMap<String, String>>>);

impl Sessions {
    /// A new session of `user`: its token.
    pub(crate) fn login(&self, user: &str) -> String {
        let token = random_bytes::<16>()
            .iter()
            .fold(String::new(), |mut token, byte| {
                let _ = write!(token, "{byte:02x}");
                token
            });
        self.map().insert(token.clone(), user.to_owned());
        token
    }

    /// The user of `token`, if the host issued it.
    pub(crate) fn user(&self, token: &str) -> Option<String> {
        self.map().get(token).cloned()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The TaskFlow app the host mounts: the in-memory store, the host's identity (its session
/// tokens, each user's TaskFlow id derived from its name), told where it is mounted.
///
/// # Errors
/// [`BuildError`] (none with these settings).
pub(crate) fn taskflow_app(sessions: Sessions) -> Result<App, BuildError> {
    let identity = identity_fn(move |request| {
        let token = request
            .header(&warp::http::header::AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::to_owned);
        let user = token.and_then(|token| sessions.user(&token));
        async move { Ok(user.map(|name| UserId::derive(NAMESPACE, &name))) }
    });
    App::builder(Stores::memory())
        .ephemeral_secret()
        .mount_prefix(format!("/{PREFIX}"))
        .host_identity(identity)
        .build()
}

/// The host's routes: its home page and login, TaskFlow's task endpoints under [`PREFIX`],
/// and the host's fallback for everything else (TaskFlow's routes reject what they do not
/// serve, so it gets those too).
pub(crate) fn host(
    app: App,
    sessions: Sessions,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone {
    let home = warp::path::end()
        .and(warp::get())
        .map(|| "The host's home page. Log in with POST /login?user=NAME.\n");
    let login = warp::path("login")
        .and(warp::path::end())
        .and(warp::post())
        .and(warp::query::<HashMap<String, String>>())
        .map(
            move |query: HashMap<String, String>| match query.get("user") {
                Some(user) if !user.is_empty() => {
                    warp::reply::with_status(sessions.login(user), StatusCode::OK)
                }
                _ => warp::reply::with_status(
                    String::from("Say who you are.\n"),
                    StatusCode::BAD_REQUEST,
                ),
            },
        );
    let tasks = warp::path(PREFIX).and(taskflow::warp::routes(app));
    let fallback = warp::any()
        .map(|| warp::reply::with_status("The host has no such page.\n", StatusCode::NOT_FOUND));
    home.or(login).or(tasks).or(fallback)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("EMBED_BIND").unwrap_or_else(|_| "127.0.0.1:3001".to_owned());
    let sessions = Sessions::default();
    let app = taskflow_app(sessions.clone())?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    eprintln!("embed_warp: listening on http://{}", listener.local_addr()?);
    warp::serve(host(app.clone(), sessions))
        .incoming(listener)
        .graceful(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .run()
        .await;
    app.close().await;
    Ok(())
}
