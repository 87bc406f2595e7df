//! Conformance cases for the session and login-throttle ports.

use std::time::Duration;

use super::{Repositories, at};
use crate::auth::refresh::RefreshToken;
use crate::auth::session::{RefreshTokenRecord, Session};
use crate::auth::throttle::{FailureState, LoginAttempt, ThrottlePolicy};
use crate::clock::Timestamp;
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

/// Reserves one attempt of `email` at `now` from each of `n` concurrent callers.
async fn burst(repos: &Repositories, email: &Email, n: usize, now: Timestamp) -> Vec<LoginAttempt> {
    let racers: Vec<_> = (0..n)
        .map(|_| {
            let throttle = repos.throttle.clone();
            let email = email.clone();
            tokio::spawn(async move {
                throttle
                    .reserve_login_attempt(&email, now, &ThrottlePolicy::default())
                    .await
            })
        })
        .collect();
    let mut attempts = Vec::with_capacity(n);
    for racer in racers {
        attempts.push(racer.await.expect("join").expect("reserve"));
    }
    attempts
}

fn reserved(attempts: &[LoginAttempt]) -> Vec<FailureState> {
    let mut states: Vec<FailureState> = attempts
        .iter()
        .filter_map(|a| match a {
            LoginAttempt::Reserved(state) => Some(*state),
            LoginAttempt::Refused { .. } => None,
        })
        .collect();
    states.sort_by_key(|s| s.failures);
    states
}

/// Login attempts are reserved atomically (the default policy: five free failures, then 1 s
/// doubling): every attempt of a concurrent burst is counted once; while the account must
/// wait, a burst is refused and counts nothing; once the wait is over, exactly one attempt of
/// a burst gets through and the others wait for the next step. Old failures are forgotten,
/// and a success clears them.
pub async fn login_attempts_are_reserved_atomically(repos: &Repositories) {
    let ada = email();
    let failed = |failures, secs| FailureState {
        failures,
        last_failure_at: at(secs),
    };
    assert_eq!(
        repos.throttle.login_failures(&ada).await.expect("get"),
        None
    );
    // Within the free failures: each of a burst sees the one before it.
    let free = burst(repos, &ada, 5, at(10)).await;
    let counted: Vec<u32> = reserved(&free).iter().map(|s| s.failures).collect();
    assert_eq!(counted, [1, 2, 3, 4, 5], "{free:?}");
    let sixth = burst(repos, &ada, 1, at(10)).await;
    assert_eq!(sixth, [LoginAttempt::Reserved(failed(6, 10))]);
    // The sixth failure imposes a second: a burst inside it is refused and counts nothing.
    let waiting = burst(repos, &ada, 8, at(10)).await;
    let one_second = LoginAttempt::Refused {
        retry_after: Duration::from_secs(1),
    };
    assert!(waiting.iter().all(|a| *a == one_second), "{waiting:?}");
    // The wait is over: one attempt of the burst goes through, the others wait 2 s more.
    let after = burst(repos, &ada, 8, at(11)).await;
    assert_eq!(reserved(&after), [failed(7, 11)], "{after:?}");
    let two_seconds = LoginAttempt::Refused {
        retry_after: Duration::from_secs(2),
    };
    assert_eq!(after.iter().filter(|a| **a == two_seconds).count(), 7);
    let stored = repos.throttle.login_failures(&ada).await.expect("get");
    assert_eq!(stored, Some(failed(7, 11)));
    let other = email();
    assert_eq!(
        repos.throttle.login_failures(&other).await.expect("get"),
        None
    );
    // Failures older than `forget_after` (an hour) are forgotten.
    let later = burst(repos, &ada, 1, at(11 + 3601)).await;
    assert_eq!(later, [LoginAttempt::Reserved(failed(1, 11 + 3601))]);
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
