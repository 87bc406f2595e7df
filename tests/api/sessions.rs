//! Sessions: token grants, bearer access, refresh rotation and reuse, logout, logout-all.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::{Clock, ManualClock, SystemClock};

use crate::helpers::*;
use crate::tokens::{b64url_decode, b64url_encode};

const TOKEN: &str = "/api/v1/auth/token";
const ME: &str = "/api/v1/auth/me";

async fn refresh_grant(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    let body = json!({"grant_type": "refresh_token", "refresh_token": refresh_token});
    app.post(TOKEN, &body, HeaderMap::new()).await
}

fn token(grant: &serde_json::Value, name: &str) -> String {
    grant[name].as_str().expect(name).to_owned()
}

#[tokio::test]
async fn password_grant_returns_bearer_tokens_and_no_cookies() {
    let app = TestApp::spawn().await;
    app.register("grant@example.com").await;
    let body = json!({"grant_type": "password", "email": "grant@example.com", "password": TestUser::PASSWORD});
    let response = app.post(TOKEN, &body, HeaderMap::new()).await;
    assert_eq!(response.status(), 200);
    assert!(
        set_cookies(&response).is_empty(),
        "no cookies for API clients"
    );
    let grant = json_body(response).await;
    assert_eq!(
        keys(&grant),
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    assert_eq!(grant["token_type"], "Bearer");
    assert_eq!(grant["expires_in"], 900);
    assert!(
        token(&grant, "refresh_token").len() >= 43,
        "at least 256 bits"
    );
    assert_eq!(token(&grant, "access_token").split('.').count(), 3, "a JWT");
}

#[tokio::test]
async fn token_grants_with_bad_credentials_or_grant_types_are_refused() {
    let app = TestApp::spawn().await;
    app.register("grant-bad@example.com").await;
    let wrong = json!({"grant_type": "password", "email": "grant-bad@example.com", "password": "wrong password"});
    let response = app.post(TOKEN, &wrong, HeaderMap::new()).await;
    assert_problem(response, 401, "invalid_credentials").await;
    let unknown = json!({"grant_type": "client_credentials", "client_id": "x"});
    let response = app.post(TOKEN, &unknown, HeaderMap::new()).await;
    assert_problem(response, 400, "invalid_body").await;
    let garbage = refresh_grant(&app, "not-a-refresh-token").await;
    assert_problem(garbage, 401, "unauthorized").await;
}

#[tokio::test]
async fn bearer_tokens_authenticate_without_any_csrf_token() {
    let app = TestApp::spawn().await;
    app.register("bearer@example.com").await;
    let access = token(&app.token_grant("bearer@example.com").await, "access_token");
    let me = app.get(ME, bearer(&access)).await;
    assert_eq!(me.status(), 200);
    assert_eq!(json_body(me).await["user"]["email"], "bearer@example.com");
    let created = app
        .post(
            "/api/v1/tasks",
            &json!({"title": "via API"}),
            bearer(&access),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = json_body(created).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/api/v1/tasks/{id}");
    let patched = app
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({"completed": true})),
            bearer(&access),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let deleted = app
        .request(reqwest::Method::DELETE, &path, None, bearer(&access))
        .await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn refresh_token_grant_rotates_both_tokens() {
    let app = TestApp::spawn().await;
    app.register("rotate@example.com").await;
    let first = app.token_grant("rotate@example.com").await;
    let response = refresh_grant(&app, &token(&first, "refresh_token")).await;
    assert_eq!(response.status(), 200);
    assert!(set_cookies(&response).is_empty());
    let second = json_body(response).await;
    assert_eq!(second["token_type"], "Bearer");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    let me = app.get(ME, bearer(&token(&second, "access_token"))).await;
    assert_eq!(me.status(), 200);
}

/// Issue 14, finding 5: inside the grace window, every replay of the previous token gets the
/// successor of the first exchange (never another, parallel one), and that successor works.
#[tokio::test]
async fn replays_within_the_grace_window_get_the_first_exchanges_successor() {
    let app = TestApp::spawn().await;
    app.register("grace@example.com").await;
    let refresh = token(&app.token_grant("grace@example.com").await, "refresh_token");
    let first = refresh_grant(&app, &refresh).await;
    assert_eq!(first.status(), 200);
    let first = json_body(first).await;
    for replay in 0..2 {
        let again = refresh_grant(&app, &refresh).await;
        assert_eq!(
            again.status(),
            200,
            "a double submit within 10 s is not theft"
        );
        let again = json_body(again).await;
        assert_eq!(
            again["refresh_token"], first["refresh_token"],
            "replay {replay}"
        );
        let me = app.get(ME, bearer(&token(&again, "access_token"))).await;
        assert_eq!(
            me.status(),
            200,
            "the replay's access token is of the same session"
        );
    }
    let next = refresh_grant(&app, &token(&first, "refresh_token")).await;
    assert_eq!(next.status(), 200, "the one successor keeps working");
    let next = json_body(next).await;
    assert_ne!(next["refresh_token"], first["refresh_token"]);
}

/// Two tabs refreshing by cookie at once: one rotation, and both get the same refresh cookie.
#[tokio::test]
async fn concurrent_cookie_refreshes_set_one_refresh_cookie() {
    let app = TestApp::spawn().await;
    let user = app.register("two-tabs@example.com").await;
    let url = format!("{}/api/v1/auth/refresh", app.address);
    let tabs: Vec<_> = (0..4)
        .map(|_| {
            let request = app.client.post(&url).headers(user.browser_headers());
            tokio::spawn(async move { request.send().await.expect("request sent") })
        })
        .collect();
    let mut refresh_cookies = Vec::new();
    for tab in tabs {
        let response = tab.await.expect("join");
        assert_eq!(response.status(), 200);
        let cookies = parsed_cookies(&response);
        refresh_cookies.push(cookies["__Secure-taskflow_refresh"].value.clone());
    }
    refresh_cookies.dedup();
    assert_eq!(refresh_cookies.len(), 1, "{refresh_cookies:?}");
    assert_ne!(refresh_cookies[0], user.refresh_token());
}

/// Issue 14, finding 5: a thief who replays a stolen token within the window gets the victim's
/// own successor, not a chain of his own; once the victim rotates on, the thief's chain is
/// behind, and using it is reuse: the family is revoked.
#[tokio::test]
async fn a_thiefs_replay_within_the_window_yields_no_parallel_chain() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with_clock(&[], clock.clone()).await;
    app.register("victim@example.com").await;
    let stolen = token(
        &app.token_grant("victim@example.com").await,
        "refresh_token",
    );
    let victim = json_body(refresh_grant(&app, &stolen).await).await;
    clock.advance(Duration::from_secs(3));
    let thief = refresh_grant(&app, &stolen).await;
    assert_eq!(thief.status(), 200);
    let thief = json_body(thief).await;
    assert_eq!(thief["refresh_token"], victim["refresh_token"], "no fork");
    clock.advance(Duration::from_secs(60));
    let victim = json_body(refresh_grant(&app, &token(&victim, "refresh_token")).await).await;
    clock.advance(Duration::from_secs(60));
    let detected = refresh_grant(&app, &token(&thief, "refresh_token")).await;
    assert_problem(detected, 401, "unauthorized").await;
    for access in [
        token(&thief, "access_token"),
        token(&victim, "access_token"),
    ] {
        let me = app.get(ME, bearer(&access)).await;
        assert_problem(me, 401, "unauthorized").await;
    }
    let victim_refresh = refresh_grant(&app, &token(&victim, "refresh_token")).await;
    assert_problem(victim_refresh, 401, "unauthorized").await;
}

/// Only the immediately previous token gets the grace: one two rotations old is reuse, even
/// within the window.
#[tokio::test]
async fn a_token_two_rotations_old_revokes_the_session_even_within_the_window() {
    let app = TestApp::spawn().await;
    app.register("two-old@example.com").await;
    let first = token(
        &app.token_grant("two-old@example.com").await,
        "refresh_token",
    );
    let second = json_body(refresh_grant(&app, &first).await).await;
    let third = json_body(refresh_grant(&app, &token(&second, "refresh_token")).await).await;
    let old = refresh_grant(&app, &first).await;
    assert_problem(old, 401, "unauthorized").await;
    let latest = refresh_grant(&app, &token(&third, "refresh_token")).await;
    assert_problem(latest, 401, "unauthorized").await;
}

/// `TASKFLOW_REFRESH_REUSE_GRACE_SECS=0` disables the window: any replay revokes the session.
#[tokio::test]
async fn a_grace_window_of_zero_makes_any_replay_revoke_the_session() {
    let app = TestApp::spawn_with(&[("TASKFLOW_REFRESH_REUSE_GRACE_SECS", "0")]).await;
    app.register("no-grace@example.com").await;
    let refresh = token(
        &app.token_grant("no-grace@example.com").await,
        "refresh_token",
    );
    let rotated = json_body(refresh_grant(&app, &refresh).await).await;
    let replay = refresh_grant(&app, &refresh).await;
    assert_problem(replay, 401, "unauthorized").await;
    let successor = refresh_grant(&app, &token(&rotated, "refresh_token")).await;
    assert_problem(successor, 401, "unauthorized").await;
}

/// `TASKFLOW_REFRESH_REUSE_GRACE_SECS` sets the window's length.
#[tokio::test]
async fn the_grace_window_has_the_configured_length() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let vars = [("TASKFLOW_REFRESH_REUSE_GRACE_SECS", "30")];
    let app = TestApp::spawn_with_clock(&vars, clock.clone()).await;
    app.register("long-grace@example.com").await;
    let refresh = token(
        &app.token_grant("long-grace@example.com").await,
        "refresh_token",
    );
    let rotated = json_body(refresh_grant(&app, &refresh).await).await;
    clock.advance(Duration::from_secs(20));
    let replay = refresh_grant(&app, &refresh).await;
    assert_eq!(replay.status(), 200, "20 s is within a 30 s window");
    assert_eq!(
        json_body(replay).await["refresh_token"],
        rotated["refresh_token"]
    );
    clock.advance(Duration::from_secs(11));
    let late = refresh_grant(&app, &refresh).await;
    assert_problem(late, 401, "unauthorized").await;
}

/// `token` (a refresh token) with the bytes at `range` of its decoded form replaced.
fn forged(token: &str, range: std::ops::Range<usize>, bytes: &[u8]) -> String {
    let mut raw = b64url_decode(token);
    raw[range].copy_from_slice(bytes);
    b64url_encode(&raw)
}

/// Session ids are guessable: a refresh token naming a victim's real session, with a made-up
/// secret, tag or (older) generation, gets 401 and leaves the session alive.
#[tokio::test]
async fn made_up_refresh_tokens_naming_a_real_session_never_revoke_it() {
    let app = TestApp::spawn().await;
    app.register("forged@example.com").await;
    let first = token(
        &app.token_grant("forged@example.com").await,
        "refresh_token",
    );
    let live = json_body(refresh_grant(&app, &first).await).await;
    let genuine = token(&live, "refresh_token");
    // Layout: version(1) user(12) session(12) generation(8) secret(32) tag(16).
    for attempt in [
        forged(&genuine, 33..65, &[0x5a; 32]),
        forged(&genuine, 65..81, &[0xa5; 16]),
        forged(&genuine, 25..33, &0u64.to_be_bytes()),
        forged(&genuine, 25..33, &7u64.to_be_bytes()),
    ] {
        let response = refresh_grant(&app, &attempt).await;
        assert_problem(response, 401, "unauthorized").await;
    }
    let me = app.get(ME, bearer(&token(&live, "access_token"))).await;
    assert_eq!(me.status(), 200, "the victim's session is alive");
    let refreshed = refresh_grant(&app, &genuine).await;
    assert_eq!(refreshed.status(), 200, "and its refresh token still live");
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_after_the_grace_window_revokes_the_session() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with_clock(&[], clock.clone()).await;
    app.register("reuse@example.com").await;
    let stolen = token(&app.token_grant("reuse@example.com").await, "refresh_token");
    let rotated = json_body(refresh_grant(&app, &stolen).await).await;
    clock.advance(Duration::from_secs(11));
    let replay = refresh_grant(&app, &stolen).await;
    assert_problem(replay, 401, "unauthorized").await;
    let victim = refresh_grant(&app, &token(&rotated, "refresh_token")).await;
    assert_problem(victim, 401, "unauthorized").await;
    let me = app.get(ME, bearer(&token(&rotated, "access_token"))).await;
    assert_problem(me, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_refresh_token_is_refused_after_logout() {
    let app = TestApp::spawn().await;
    app.register("after-logout@example.com").await;
    let grant = app.token_grant("after-logout@example.com").await;
    let logout = app
        .post_empty(
            "/api/v1/auth/logout",
            bearer(&token(&grant, "access_token")),
        )
        .await;
    assert_eq!(logout.status(), 204);
    let refresh = refresh_grant(&app, &token(&grant, "refresh_token")).await;
    assert_problem(refresh, 401, "unauthorized").await;
}

#[tokio::test]
async fn cookie_refresh_rotates_the_refresh_and_access_cookies() {
    let app = TestApp::spawn().await;
    let mut user = app.register("cookie-refresh@example.com").await;
    let old = user.clone();
    let response = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_eq!(response.status(), 200);
    let cookies = parsed_cookies(&response);
    for name in ["__Host-taskflow_access", "__Secure-taskflow_refresh"] {
        assert!(cookies.contains_key(name), "{name} re-issued");
    }
    user.absorb(&response);
    let body = json_body(response).await;
    assert_eq!(keys(&body), ["access_expires_at", "csrf_token"]);
    assert!(is_timestamp(
        body["access_expires_at"].as_str().expect("expiry")
    ));
    assert_eq!(
        body["csrf_token"],
        user.csrf(),
        "the body's token is the cookie's"
    );
    assert_eq!(user.csrf(), old.csrf(), "bound to the session, not rotated");
    assert_ne!(user.access(), old.access());
    assert_ne!(user.refresh_token(), old.refresh_token());
    let me = app.get(ME, user.browser_headers()).await;
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn refresh_without_a_refresh_cookie_is_401() {
    let app = TestApp::spawn().await;
    let mut user = app.register("no-refresh@example.com").await;
    user.cookies
        .retain(|name, _| !name.ends_with("taskflow_refresh"));
    let response = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_problem(response, 401, "unauthorized").await;
}

#[tokio::test]
async fn logout_clears_the_cookies_and_the_access_token_dies_at_once() {
    let app = TestApp::spawn().await;
    let user = app.register("logout@example.com").await;
    let response = app
        .post_empty("/api/v1/auth/logout", user.browser_headers())
        .await;
    assert_eq!(response.status(), 204);
    let cookies = parsed_cookies(&response);
    let mut names: Vec<&str> = cookies.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "__Host-taskflow_access",
            "__Host-taskflow_csrf",
            "__Secure-taskflow_refresh"
        ]
    );
    for cookie in cookies.values() {
        assert_eq!(cookie.attribute("Max-Age"), Some("0"), "{}", cookie.name);
        assert_eq!(cookie.value, "", "{}", cookie.name);
    }
    assert_eq!(
        cookies["__Secure-taskflow_refresh"].attribute("Path"),
        Some("/api/v1/auth")
    );
    let me = app.get(ME, user.browser_headers()).await;
    assert_problem(me, 401, "unauthorized").await;
    let bearer_me = app.get(ME, bearer(user.access())).await;
    assert_problem(bearer_me, 401, "unauthorized").await;
    let refresh = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_problem(refresh, 401, "unauthorized").await;
}

#[tokio::test]
async fn logout_with_only_the_refresh_cookie_ends_the_session() {
    let app = TestApp::spawn().await;
    let user = app.register("refresh-only@example.com").await;
    let mut expired_browser = user.clone();
    expired_browser
        .cookies
        .retain(|name, _| !name.ends_with("taskflow_access"));
    let response = app
        .post_empty("/api/v1/auth/logout", expired_browser.browser_headers())
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(parsed_cookies(&response).len(), 3);
    let me = app.get(ME, user.browser_headers()).await;
    assert_problem(me, 401, "unauthorized").await;
}

#[tokio::test]
async fn logout_all_revokes_every_session_of_the_user_only() {
    let app = TestApp::spawn().await;
    let first = app.register("everywhere@example.com").await;
    let second = app.login("everywhere@example.com").await;
    let api = app.token_grant("everywhere@example.com").await;
    let bystander = app.register("bystander@example.com").await;
    let response = app
        .post_empty("/api/v1/auth/logout-all", second.browser_headers())
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        parsed_cookies(&response).len(),
        3,
        "this browser's cookies cleared"
    );
    for (who, headers) in [
        ("first login", first.browser_headers()),
        ("second login", second.browser_headers()),
        ("token grant", bearer(&token(&api, "access_token"))),
    ] {
        let me = app.get(ME, headers).await;
        assert_eq!(me.status(), 401, "{who}");
    }
    let refresh = refresh_grant(&app, &token(&api, "refresh_token")).await;
    assert_problem(refresh, 401, "unauthorized").await;
    let other = app.get(ME, bystander.browser_headers()).await;
    assert_eq!(other.status(), 200, "another user's session survives");
}

#[tokio::test]
async fn access_tokens_expire_after_their_lifetime() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with_clock(&[], clock.clone()).await;
    let user = app.register("expiry@example.com").await;
    clock.advance(Duration::from_secs(899));
    assert_eq!(app.get(ME, user.browser_headers()).await.status(), 200);
    clock.advance(Duration::from_secs(2));
    let cookie = app.get(ME, user.browser_headers()).await;
    assert_problem(cookie, 401, "unauthorized").await;
    let header = app.get(ME, bearer(user.access())).await;
    assert_problem(header, 401, "unauthorized").await;
    let refreshed = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_eq!(
        refreshed.status(),
        200,
        "the refresh cookie outlives the access token"
    );
}

#[tokio::test]
async fn logout_with_an_expired_access_cookie_ends_the_session_by_its_refresh_cookie() {
    // The access cookie's Max-Age counts from when the browser received it while the JWT's
    // `exp` is truncated to the second, so a browser can still send an expired access token.
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with_clock(&[], clock.clone()).await;
    let user = app.register("stale-access@example.com").await;
    clock.advance(Duration::from_secs(901));
    let response = app
        .post_empty("/api/v1/auth/logout", user.browser_headers())
        .await;
    assert_eq!(
        response.status(),
        204,
        "logout must not fail on a stale access cookie"
    );
    assert_eq!(parsed_cookies(&response).len(), 3, "cookies cleared");
    let refresh = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_problem(refresh, 401, "unauthorized").await;
}
