//! Conformance cases for the session and login-throttle ports: sessions round-trip, refresh
//! families rotate atomically (exactly one of concurrent rotations of a token wins, the others
//! change nothing), only an active session of the right user rotates, and revocation forgets
//! the family; the session check's narrow read agrees with the whole session.

use std::time::Duration;

use super::{Repositories, at};
use crate::auth::refresh::{RefreshTokenHash, RefreshTokenKeys};
use crate::auth::session::{RefreshFamily, RotatedToken, Rotation, Session, SessionValidity};
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

/// A token hash of `session` at `generation`.
fn hash(session: &Session, generation: u64) -> RefreshTokenHash {
    RefreshTokenKeys::random()
        .mint(&session.user_id, &session.id, generation)
        .1
}

/// The rotation of `presented` (of `generation`) into a fresh successor at `now`.
fn rotation(session: &Session, presented: RefreshTokenHash, generation: u64, now: i64) -> Rotation {
    let keys = RefreshTokenKeys::random();
    let (successor, successor_hash) = keys.mint(&session.user_id, &session.id, generation + 1);
    Rotation {
        user_id: session.user_id,
        session_id: session.id,
        presented,
        generation,
        successor: successor_hash,
        sealed_successor: keys.seal(&successor, &presented),
        now: at(now),
        idle_expires_at: at(now + 600),
    }
}

async fn family(repos: &Repositories, s: &Session) -> Option<RefreshFamily> {
    repos
        .sessions
        .get_refresh_family(&s.user_id, &s.id)
        .await
        .expect("get family")
        .expect("the session exists")
        .1
}

async fn created(repos: &Repositories, user: UserId, at_secs: i64) -> (Session, RefreshTokenHash) {
    let s = session(user, at_secs);
    let first = hash(&s, 0);
    repos
        .sessions
        .create_session(&s, &first)
        .await
        .expect("create");
    (s, first)
}

/// A session round-trips in every field, starts its family at generation 0, and is visible to
/// its user only.
pub async fn session_round_trips_and_is_user_scoped(repos: &Repositories) {
    let user = UserId::generate();
    let (s, first) = created(repos, user, 0).await;
    let found = repos.sessions.get_session(&user, &s.id).await.expect("get");
    assert_eq!(found, Some(s.clone()));
    assert_eq!(family(repos, &s).await, Some(RefreshFamily::first(first)));
    let stranger = UserId::generate();
    let other = repos
        .sessions
        .get_session(&stranger, &s.id)
        .await
        .expect("get");
    assert_eq!(other, None);
    let other = repos
        .sessions
        .get_refresh_family(&stranger, &s.id)
        .await
        .expect("get family");
    assert_eq!(other, None);
    let listed = repos.sessions.list_sessions(&user).await.expect("list");
    assert_eq!(listed, vec![s]);
}

/// The session check's read ([`get_session_validity`](crate::ports::SessionRepository::get_session_validity))
/// is exactly [`Session::validity`] of the stored session, through rotation and revocation,
/// and sees nothing of another user's session.
pub async fn session_validity_is_the_stored_sessions(repos: &Repositories) {
    let user = UserId::generate();
    let (s, first) = created(repos, user, 0).await;
    let id = s.id;
    let validity = |user: UserId| {
        let sessions = repos.sessions.clone();
        async move {
            sessions
                .get_session_validity(&user, &id)
                .await
                .expect("get validity")
        }
    };
    assert_eq!(
        validity(user).await,
        Some(SessionValidity {
            revoked_at: None,
            expires_at: at(3600),
            idle_expires_at: at(600),
        })
    );
    assert_eq!(validity(UserId::generate()).await, None, "another user's");
    let unknown = repos
        .sessions
        .get_session_validity(&user, &SessionId::generate())
        .await
        .expect("get validity");
    assert_eq!(unknown, None);
    let rotated = repos
        .sessions
        .rotate_refresh_token(&rotation(&s, first, 0, 30))
        .await
        .expect("rotate")
        .expect("rotated");
    assert_eq!(validity(user).await, Some(rotated.validity()));
    assert_eq!(rotated.validity().idle_expires_at, at(630));
    repos
        .sessions
        .revoke_session(&user, &s.id, at(40))
        .await
        .expect("revoke");
    let revoked = validity(user).await.expect("still stored");
    assert_eq!(revoked.revoked_at, Some(at(40)));
    assert!(!revoked.is_active(at(41)));
    let stored = repos.sessions.get_session(&user, &s.id).await.expect("get");
    assert_eq!(stored.map(|s| s.validity()), Some(revoked));
}

/// A rotation replaces the live token and records the session's use; a rotation of anything
/// but the live token (the replaced one, a wrong generation, an unknown hash) changes nothing.
pub async fn rotation_replaces_the_live_token(repos: &Repositories) {
    let user = UserId::generate();
    let (s, first) = created(repos, user, 0).await;
    let one = rotation(&s, first, 0, 30);
    let rotated = repos
        .sessions
        .rotate_refresh_token(&one)
        .await
        .expect("rotate")
        .expect("the live token rotates");
    assert_eq!(
        (rotated.last_used_at, rotated.idle_expires_at),
        (at(30), at(630))
    );
    assert_eq!(
        (rotated.id, rotated.created_at, rotated.expires_at),
        (s.id, s.created_at, s.expires_at)
    );
    let after_one = RefreshFamily {
        generation: 1,
        current: one.successor,
        previous: Some(RotatedToken {
            hash: first,
            rotated_at: at(30),
            successor: one.sealed_successor.clone(),
        }),
    };
    assert_eq!(family(repos, &s).await, Some(after_one.clone()));
    let stored = repos.sessions.get_session(&user, &s.id).await.expect("get");
    assert_eq!(stored, Some(rotated));
    for stale in [
        rotation(&s, first, 0, 31),
        rotation(&s, one.successor, 0, 31),
        rotation(&s, one.successor, 2, 31),
        rotation(&s, hash(&s, 1), 1, 31),
    ] {
        let result = repos.sessions.rotate_refresh_token(&stale).await;
        assert_eq!(result.expect("rotate"), None, "{stale:?}");
    }
    assert_eq!(family(repos, &s).await, Some(after_one), "nothing changed");
    let two = rotation(&s, one.successor, 1, 40);
    assert!(
        repos
            .sessions
            .rotate_refresh_token(&two)
            .await
            .expect("rotate")
            .is_some()
    );
    let after_two = family(repos, &s).await.expect("a family");
    assert_eq!(
        (after_two.generation, after_two.current),
        (2, two.successor)
    );
    assert_eq!(
        after_two
            .previous
            .map(|p| (p.hash, p.rotated_at, p.successor)),
        Some((one.successor, at(40), two.sealed_successor)),
        "only the immediately previous token is kept"
    );
}

/// Of concurrent rotations of one token exactly one succeeds; the family then holds the
/// winner's successor (nothing acknowledged is lost) and the losers changed nothing.
pub async fn concurrent_rotations_of_one_token_rotate_once(repos: &Repositories) {
    let user = UserId::generate();
    let (s, first) = created(repos, user, 0).await;
    let rotations: Vec<Rotation> = (0..8).map(|i| rotation(&s, first, 0, 10 + i)).collect();
    let racers: Vec<_> = rotations
        .iter()
        .cloned()
        .map(|r| {
            let sessions = repos.sessions.clone();
            tokio::spawn(async move { (sessions.rotate_refresh_token(&r).await, r) })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        let (result, r) = racer.await.expect("join");
        if let Some(session) = result.expect("rotate") {
            assert_eq!(session.last_used_at, r.now);
            winners.push(r);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    let winner = &winners[0];
    let expected = RefreshFamily::rotated(winner);
    assert_eq!(family(repos, &s).await, Some(expected));
    let stored = repos
        .sessions
        .get_session(&user, &s.id)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        (stored.last_used_at, stored.idle_expires_at),
        (winner.now, winner.idle_expires_at)
    );
}

/// Only an active session of the rotation's user rotates: another user's id, a revoked
/// session, and a session past either end change nothing.
pub async fn rotation_needs_an_active_session_of_its_user(repos: &Repositories) {
    let user = UserId::generate();
    let (s, first) = created(repos, user, 0).await;
    let mut stranger = rotation(&s, first, 0, 10);
    stranger.user_id = UserId::generate();
    let idle_over = rotation(&s, first, 0, 600);
    let expired = rotation(&s, first, 0, 3600);
    for refused in [stranger, idle_over, expired] {
        let result = repos.sessions.rotate_refresh_token(&refused).await;
        assert_eq!(result.expect("rotate"), None, "{refused:?}");
    }
    assert_eq!(family(repos, &s).await, Some(RefreshFamily::first(first)));
    assert!(
        repos
            .sessions
            .revoke_session(&user, &s.id, at(20))
            .await
            .expect("revoke")
    );
    let after_revoke = rotation(&s, first, 0, 21);
    let result = repos.sessions.rotate_refresh_token(&after_revoke).await;
    assert_eq!(result.expect("rotate"), None);
    assert_eq!(
        family(repos, &s).await,
        None,
        "a revoked family is forgotten"
    );
}

/// Revocation is once, forgets the family, and hides the session from listings.
pub async fn revocation_forgets_the_family(repos: &Repositories) {
    let user = UserId::generate();
    let (s, first) = created(repos, user, 0).await;
    let one = rotation(&s, first, 0, 30);
    assert!(
        repos
            .sessions
            .rotate_refresh_token(&one)
            .await
            .expect("rotate")
            .is_some()
    );
    assert!(
        !repos
            .sessions
            .revoke_session(&UserId::generate(), &s.id, at(49))
            .await
            .expect("another user's revoke")
    );
    assert!(family(repos, &s).await.is_some());
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
    let (revoked, family) = repos
        .sessions
        .get_refresh_family(&user, &s.id)
        .await
        .expect("get family")
        .expect("still stored");
    assert_eq!((revoked.revoked_at, family), (Some(at(50)), None));
    assert_eq!(
        repos.sessions.get_session(&user, &s.id).await.expect("get"),
        Some(revoked)
    );
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
            .create_session(s, &hash(s, 0))
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
    for s in &sessions[..2] {
        assert_eq!(family(repos, s).await, None, "ada's families are forgotten");
    }
    assert!(family(repos, &sessions[2]).await.is_some());
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
