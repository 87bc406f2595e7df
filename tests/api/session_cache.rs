//! The session check's cache across instances (contract v1.1, Authentication): a revocation
//! stops the session's access tokens at once on the instance that revoked it, and on every
//! other instance within `TASKFLOW_SESSION_CACHE_MS` (default and most 1000 ms; 0 reads the
//! session on every request). Two servers over one store (one MongoDB database under
//! `TASKFLOW_TEST_STORE=mongo`) share a manual clock, so "just before" and "once past" the
//! bound are exact instants, without sleeping.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::{Clock as _, ManualClock, SystemClock};

use crate::helpers::*;

const ME: &str = "/api/v1/auth/me";

/// Two instances of one deployment (same configuration and secret) over one store, on `clock`.
async fn two_instances(vars: &[(&str, &str)], clock: &Arc<ManualClock>) -> (TestApp, TestApp) {
    let config = TestApp::config(vars);
    let (first, second) = shared_test_stores().await;
    let app = |stores| config.app_with(stores, clock.clone(), None).expect("app");
    let adapter = Adapter::from_env();
    (
        TestApp::serve(adapter, app(first)).await,
        TestApp::serve(adapter, app(second)).await,
    )
}

/// The session-check cache's hits and misses in `app`'s metrics.
async fn hits_and_misses(app: &TestApp) -> (Option<f64>, Option<f64>) {
    let text = app
        .get("/metrics", HeaderMap::new())
        .await
        .text()
        .await
        .expect("metrics");
    let value = |result: &str| {
        let series = format!("taskflow_session_cache_lookups_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&series)?.parse().ok())
    };
    (value("hit"), value("miss"))
}

/// How a session is ended through the first instance.
#[derive(Debug, Clone, Copy)]
enum Revocation {
    Logout,
    LogoutAll,
    RefreshTokenReuse,
}

impl Revocation {
    async fn apply(self, app: &TestApp, user: &TestUser) {
        let path = match self {
            Self::Logout => "/api/v1/auth/logout",
            Self::LogoutAll => "/api/v1/auth/logout-all",
            Self::RefreshTokenReuse => {
                // The cookie refresh rotates; the old token again is reuse (no grace window).
                let refresh = "/api/v1/auth/refresh";
                let rotated = app.post_empty(refresh, user.browser_headers()).await;
                assert_eq!(rotated.status(), 200);
                let replay = app.post_empty(refresh, user.browser_headers()).await;
                assert_problem(replay, 401, "unauthorized").await;
                return;
            }
        };
        let response = app.post_empty(path, user.browser_headers()).await;
        assert_eq!(response.status(), 204, "{self:?}");
    }
}

#[tokio::test]
async fn a_revocation_is_immediate_where_made_and_within_the_cache_ttl_elsewhere() {
    for revocation in [
        Revocation::Logout,
        Revocation::LogoutAll,
        Revocation::RefreshTokenReuse,
    ] {
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let vars = [("TASKFLOW_REFRESH_REUSE_GRACE_SECS", "0")];
        let (here, there) = two_instances(&vars, &clock).await;
        let user = here.register("cached@example.com").await;
        // Both instances check (and so cache) the session; "there" reads it at t0.
        assert_eq!(here.get(ME, user.browser_headers()).await.status(), 200);
        assert_eq!(there.get(ME, user.browser_headers()).await.status(), 200);
        clock.advance(Duration::from_millis(400));
        revocation.apply(&here, &user).await;
        let at_once = here.get(ME, user.browser_headers()).await;
        assert_problem(at_once, 401, "unauthorized").await;
        clock.advance(Duration::from_millis(599));
        assert_eq!(
            there.get(ME, user.browser_headers()).await.status(),
            200,
            "{revocation:?}: t0 + 999 ms, the other instance's cached check may still accept"
        );
        clock.advance(Duration::from_millis(1));
        let bound = there.get(ME, user.browser_headers()).await;
        assert_problem(bound, 401, "unauthorized").await;
        assert_eq!(
            hits_and_misses(&there).await,
            (Some(1.0), Some(2.0)),
            "{revocation:?}"
        );
    }
}

#[tokio::test]
async fn a_session_cache_of_zero_makes_revocation_immediate_everywhere() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let (here, there) = two_instances(&[("TASKFLOW_SESSION_CACHE_MS", "0")], &clock).await;
    let user = here.register("uncached@example.com").await;
    let access = user.access().to_owned();
    assert_eq!(there.get(ME, bearer(&access)).await.status(), 200);
    let task = json!({"title": "still mine"});
    let created = there.post("/api/v1/tasks", &task, bearer(&access)).await;
    assert_eq!(created.status(), 201);
    let logout = here
        .post_empty("/api/v1/auth/logout", user.browser_headers())
        .await;
    assert_eq!(logout.status(), 204);
    assert_problem(there.get(ME, bearer(&access)).await, 401, "unauthorized").await;
    assert_eq!(hits_and_misses(&there).await, (Some(0.0), Some(3.0)));
}

/// A refused token never warms the cache: after its session ended, every request reads storage.
#[tokio::test]
async fn refused_tokens_are_checked_in_storage_every_time() {
    let app = TestApp::single(SingleInstance::PerInstanceCache)
        .spawn()
        .await;
    let user = app.register("refused@example.com").await;
    let access = user.access().to_owned();
    let logout = app
        .post_empty("/api/v1/auth/logout", user.browser_headers())
        .await;
    assert_eq!(logout.status(), 204);
    for _ in 0..3 {
        assert_problem(app.get(ME, bearer(&access)).await, 401, "unauthorized").await;
    }
    assert_eq!(hits_and_misses(&app).await, (Some(0.0), Some(4.0)));
}
