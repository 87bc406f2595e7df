//! Conformance cases for the session and login-throttle ports.

use std::time::Duration;

use super::{Repositories, at};
use crate::auth::refresh::RefreshToken;
use crate::auth::session::{RefreshTokenRecord, Session};
use crate::domain::{Email, SessionId, UserId};

fn session(user: UserId, created: i64) -> Session {
    Session {
        id: SessionId::generate(),
        user_id: user,
        created_at: at(created),
        last_used_at: at(created),
        expires_at: at(created + 3600),
        idle_expires_at: at(created + 600),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Ünïcode".into()),
        ip: Some("2001:db8::7".parse().expect("valid ip")),
        revoked_at: None,
    }
}

fn token(session: &Session, issued: i64) -> (RefreshToken, RefreshTokenRecord) {
    let (token, hash) = RefreshToken::generate(&session.user_id, &session.id);
    let record = RefreshTokenRecord {
        hash,
        session_id: session.id,
        user_id: session.user_id,
        issued_at: at(issued),
        used_at: None,
        expires_at: session.expires_at,
    };
    (token, record)
}

/// A session round-trips in every field and is visible to its user only.
pub async fn session_round_trips_and_is_user_scoped(repos: &Repositories) {
    let user = UserId::generate();
    let s = session(user, 0);
    let (_, first) = token(&s, 0);
    repos
        .sessions
        .create_session(&s, &first)
        .await
        .expect("create");
    let found = repos.sessions.get_session(&user, &s.id).await.expect("get");
    assert_eq!(found, Some(s.clone()));
    let other = repos
        .sessions
        .get_session(&UserId::generate(), &s.id)
        .await
        .expect("get");
    assert_eq!(other, None);
    let listed = repos.sessions.list_sessions(&user).await.expect("list");
    assert_eq!(listed, vec![s]);
}

/// A refresh token is won by exactly one of many concurrent users, and a replay sees when
/// it was first used.
pub async fn refresh_token_use_is_atomic(repos: &Repositories) {
    let user = UserId::generate();
    let s = session(user, 0);
    let (_, first) = token(&s, 0);
    repos
        .sessions
        .create_session(&s, &first)
        .await
        .expect("create");
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let sessions = repos.sessions.clone();
            tokio::spawn(async move {
                sessions
                    .use_refresh_token(&user, &first.hash, at(10 + i))
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    let mut first_use = None;
    for racer in racers {
        let before = racer
            .await
            .expect("join")
            .expect("use")
            .expect("known token");
        assert_eq!(before.session_id, s.id);
        match before.used_at {
            None => winners += 1,
            Some(t) => assert!(first_use.replace(t).is_none_or(|prev| prev == t)),
        }
    }
    assert_eq!(winners, 1);
    let replay = repos
        .sessions
        .use_refresh_token(&user, &first.hash, at(99))
        .await
        .expect("use");
    let used_at = replay.expect("known").used_at.expect("used");
    assert!(used_at >= at(10) && used_at < at(18));
    let stranger = repos
        .sessions
        .use_refresh_token(&UserId::generate(), &first.hash, at(99))
        .await;
    assert_eq!(
        stranger.expect("use"),
        None,
        "another user's token is unknown"
    );
}

/// Successor tokens record the session's use, and are refused once the session is revoked.
pub async fn successor_tokens_follow_the_session(repos: &Repositories) {
    let user = UserId::generate();
    let s = session(user, 0);
    let (_, first) = token(&s, 0);
    repos
        .sessions
        .create_session(&s, &first)
        .await
        .expect("create");
    let (_, second) = token(&s, 30);
    assert!(
        repos
            .sessions
            .add_refresh_token(&second, at(630))
            .await
            .expect("add")
    );
    let found = repos
        .sessions
        .get_session(&user, &s.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        (found.last_used_at, found.idle_expires_at),
        (at(30), at(630))
    );
    let fresh = repos
        .sessions
        .use_refresh_token(&user, &second.hash, at(40))
        .await
        .expect("use");
    assert_eq!(fresh.expect("known").used_at, None);
    assert!(
        repos
            .sessions
            .revoke_session(&user, &s.id, at(50))
            .await
            .expect("revoke")
    );
    assert!(
        !repos
            .sessions
            .revoke_session(&user, &s.id, at(51))
            .await
            .expect("again")
    );
    let (_, third) = token(&s, 60);
    assert!(
        !repos
            .sessions
            .add_refresh_token(&third, at(660))
            .await
            .expect("add")
    );
    let revoked = repos.sessions.get_session(&user, &s.id).await.expect("get");
    assert_eq!(revoked.and_then(|s| s.revoked_at), Some(at(50)));
    assert!(
        repos
            .sessions
            .list_sessions(&user)
            .await
            .expect("list")
            .is_empty()
    );
}

/// Revoking one user's sessions leaves everyone else's alone.
pub async fn revoke_all_is_user_scoped(repos: &Repositories) {
    let (ada, bob) = (UserId::generate(), UserId::generate());
    let sessions = [session(ada, 0), session(ada, 1), session(bob, 2)];
    for s in &sessions {
        repos
            .sessions
            .create_session(s, &token(s, 0).1)
            .await
            .expect("create");
    }
    assert!(
        !repos
            .sessions
            .revoke_session(&bob, &sessions[0].id, at(3))
            .await
            .expect("revoke")
    );
    assert_eq!(
        repos
            .sessions
            .revoke_all_sessions(&ada, at(5))
            .await
            .expect("revoke"),
        2
    );
    assert_eq!(
        repos
            .sessions
            .revoke_all_sessions(&ada, at(6))
            .await
            .expect("revoke"),
        0
    );
    assert!(
        repos
            .sessions
            .list_sessions(&ada)
            .await
            .expect("list")
            .is_empty()
    );
    let bobs = repos.sessions.list_sessions(&bob).await.expect("list");
    assert_eq!(bobs, vec![sessions[2].clone()]);
}

fn email() -> Email {
    Email::parse(&format!("throttle-{}@example.com", UserId::generate())).expect("valid")
}

/// Failures count up atomically, are forgotten after a while, and clear on demand.
pub async fn login_failures_count_forget_and_clear(repos: &Repositories) {
    let ada = email();
    let forget = Duration::from_secs(3600);
    assert_eq!(
        repos.throttle.login_failures(&ada).await.expect("get"),
        None
    );
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let throttle = repos.throttle.clone();
            let ada = ada.clone();
            tokio::spawn(async move { throttle.record_login_failure(&ada, at(10), forget).await })
        })
        .collect();
    for racer in racers {
        racer.await.expect("join").expect("record");
    }
    let state = repos
        .throttle
        .login_failures(&ada)
        .await
        .expect("get")
        .expect("present");
    assert_eq!((state.failures, state.last_failure_at), (6, at(10)));
    let other = email();
    assert_eq!(
        repos.throttle.login_failures(&other).await.expect("get"),
        None
    );
    let later = repos
        .throttle
        .record_login_failure(&ada, at(10 + 3601), forget)
        .await
        .expect("record");
    assert_eq!(
        later.failures, 1,
        "failures older than forget_after are forgotten"
    );
    repos
        .throttle
        .clear_login_failures(&ada)
        .await
        .expect("clear");
    assert_eq!(
        repos.throttle.login_failures(&ada).await.expect("get"),
        None
    );
}
