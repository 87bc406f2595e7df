//! The auth use cases end to end on the embedded store: registration, login, throttling,
//! refresh rotation with reuse detection and its grace window, logout, logout-all, and the
//! per-request session check that makes revocation reach access tokens: at once on the
//! instance that revoked (its cache of session checks is dropped), within the cache's TTL on
//! every other instance sharing the store.

use std::sync::Arc;
use std::time::Duration;

use taskflow_core::auth::csrf::CsrfTokens;
use taskflow_core::auth::input::{Credentials, Registration};
use taskflow_core::auth::jwt::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow_core::auth::password::{Argon2Params, PasswordHasher};
use taskflow_core::auth::refresh::{RefreshToken, RefreshTokenKeys};
use taskflow_core::auth::session::{ClientMeta, SessionPolicy};
use taskflow_core::auth::session_cache::SessionCacheConfig;
use taskflow_core::domain::{SessionId, UserId};
use taskflow_core::service::{AuthError, AuthService, AuthStores, IssuedSession};
use taskflow_core::testkit::{DownStore, at};
use taskflow_core::{Clock as _, ManualClock, MemoryStore};

const SECRET: &[u8] = b"deployment secret of the auth service tests";

struct Harness {
    auth: AuthService,
    clock: Arc<ManualClock>,
}

fn harness() -> Harness {
    let store = MemoryStore::new();
    harness_over(AuthStores {
        users: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        throttle: Arc::new(store),
    })
}

fn harness_over(stores: AuthStores) -> Harness {
    let clock = Arc::new(ManualClock::new(at(0)));
    let auth = instance(stores, clock.clone());
    Harness { auth, clock }
}

/// The access tokens every instance signs and verifies with (one deployment secret).
fn access_tokens() -> AccessTokens {
    let key = JwtKey::hs256("k1", &[7u8; 32]).expect("strong secret");
    let keys = KeySet::new(key, Vec::new()).expect("valid key set");
    AccessTokens::new(keys, AccessTokenConfig::default())
}

/// One API instance of a deployment: its own service (and so its own session-check cache)
/// over the shared `stores`.
fn instance(stores: AuthStores, clock: Arc<ManualClock>) -> AuthService {
    let hasher = PasswordHasher::new(Argon2Params::default(), 2).expect("valid params");
    let csrf = CsrfTokens::new(&[9u8; 32]);
    let refresh = RefreshTokenKeys::derive(SECRET);
    AuthService::new(stores, hasher, access_tokens(), csrf, refresh, clock)
}

/// Two instances over one store, on one manual clock: `h.auth` and the returned one.
fn two_instances() -> (Harness, AuthService) {
    let store = MemoryStore::new();
    let stores = AuthStores {
        users: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        throttle: Arc::new(store),
    };
    let h = harness_over(stores.clone());
    let other = instance(stores, h.clock.clone());
    (h, other)
}

fn registration(email: &str) -> Registration {
    Registration::parse(email, "correct horse battery", Some("Ada")).expect("valid")
}

fn credentials(email: &str, password: &str) -> Credentials {
    Credentials::parse(email, password).expect("valid email")
}

impl Harness {
    fn advance_millis(&self, millis: u64) {
        self.clock.advance(Duration::from_millis(millis));
    }

    async fn register(&self, email: &str) -> IssuedSession {
        let registration = registration(email);
        self.auth
            .register(registration, &ClientMeta::default())
            .await
            .expect("register")
            .1
    }

    async fn login(&self, email: &str, password: &str) -> Result<IssuedSession, AuthError> {
        self.auth
            .login(credentials(email, password), &ClientMeta::default())
            .await
            .map(|(_, s)| s)
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

#[tokio::test]
async fn register_logs_in_and_me_returns_the_account() {
    let h = harness();
    let issued = h.register("Ada@Example.com").await;
    let principal = h
        .auth
        .authenticate(&issued.access.token)
        .await
        .expect("valid access token");
    assert_eq!(principal, issued.principal);
    let me = h.auth.me(&principal).await.expect("me");
    assert_eq!(me.email.as_str(), "ada@example.com");
    assert!(me.password_hash.expose_phc().starts_with("$argon2id$"));
    assert_eq!(issued.access.expires_at, at(15 * 60));
    assert_eq!(issued.refresh_expires_at, at(14 * 24 * 3600));
    assert_eq!(
        issued.csrf_token,
        h.auth.csrf().token_for(&issued.principal.session_id)
    );
}

#[tokio::test]
async fn a_taken_email_is_refused() {
    let h = harness();
    h.register("ada@example.com").await;
    let again = registration(" ADA@example.com");
    let err = h
        .auth
        .register(again, &ClientMeta::default())
        .await
        .expect_err("taken");
    assert!(matches!(err, AuthError::EmailTaken), "{err:?}");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_are_the_same_error() {
    let h = harness();
    h.register("ada@example.com").await;
    let wrong = h
        .login("ada@example.com", "wrong password")
        .await
        .expect_err("wrong");
    let unknown = h
        .login("bob@example.com", "correct horse battery")
        .await
        .expect_err("unknown");
    let short = h
        .login("ada@example.com", "short")
        .await
        .expect_err("out of rules");
    for err in [&wrong, &unknown, &short] {
        assert!(matches!(err, AuthError::InvalidCredentials), "{err:?}");
        assert_eq!(err.code().as_str(), "invalid_credentials");
    }
    assert!(
        h.login("ada@example.com", "correct horse battery")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn failed_logins_slow_the_account_down_then_recover() {
    let h = harness();
    h.register("ada@example.com").await;
    for _ in 0..6 {
        let err = h
            .login("ada@example.com", "wrong password")
            .await
            .expect_err("wrong");
        assert!(matches!(err, AuthError::InvalidCredentials), "{err:?}");
    }
    // The sixth failure imposes a 1 s delay: even the right password waits.
    let err = h
        .login("ada@example.com", "correct horse battery")
        .await
        .expect_err("throttled");
    let AuthError::Throttled { retry_after } = err else {
        panic!("{err:?}")
    };
    assert_eq!(retry_after, Duration::from_secs(1));
    assert_eq!(
        AuthError::Throttled { retry_after }.code().as_str(),
        "rate_limited"
    );
    h.advance(1);
    assert!(
        h.login("ada@example.com", "correct horse battery")
            .await
            .is_ok()
    );
    // Success reset the counter: five more failures impose nothing.
    for _ in 0..5 {
        h.login("ada@example.com", "wrong password")
            .await
            .expect_err("wrong");
    }
    assert!(
        h.login("ada@example.com", "correct horse battery")
            .await
            .is_ok()
    );
}

/// `n` concurrent logins of `email` with `password`.
async fn burst(h: &Harness, email: &str, password: &str, n: usize) -> Vec<AuthError> {
    let logins: Vec<_> = (0..n)
        .map(|_| {
            let auth = h.auth.clone();
            let credentials = credentials(email, password);
            tokio::spawn(async move { auth.login(credentials, &ClientMeta::default()).await })
        })
        .collect();
    let mut errors = Vec::with_capacity(n);
    for login in logins {
        errors.push(login.await.expect("join").expect_err("wrong password"));
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_burst_of_guesses_gets_one_try_per_backoff_step() {
    let h = harness();
    h.register("ada@example.com").await;
    for _ in 0..6 {
        h.login("ada@example.com", "wrong password")
            .await
            .expect_err("wrong");
    }
    // The sixth failure imposed a second. Once it is over, eight guesses at once: one is
    // tried, the others are refused without a password check (the next step is 2 s).
    h.advance(1);
    let errors = burst(&h, "ada@example.com", "wrong password", 8).await;
    let tried = errors
        .iter()
        .filter(|e| matches!(e, AuthError::InvalidCredentials))
        .count();
    let throttled: Vec<_> = errors
        .iter()
        .filter_map(|e| match e {
            AuthError::Throttled { retry_after } => Some(*retry_after),
            _ => None,
        })
        .collect();
    assert_eq!(tried, 1, "{errors:?}");
    assert_eq!(throttled, [Duration::from_secs(2); 7], "{errors:?}");
    // The burst counted one failure, not eight: the right password waits 2 s, not minutes.
    h.advance(2);
    assert!(
        h.login("ada@example.com", "correct horse battery")
            .await
            .is_ok()
    );
    // ... and the success reset the account: five free failures again.
    for _ in 0..5 {
        let err = h
            .login("ada@example.com", "wrong password")
            .await
            .expect_err("wrong");
        assert!(matches!(err, AuthError::InvalidCredentials), "{err:?}");
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let h = harness();
    let first = h.register("ada@example.com").await;
    h.advance(60);
    let second = h
        .auth
        .refresh(first.refresh.expose())
        .await
        .expect("rotate");
    assert_ne!(second.refresh.expose(), first.refresh.expose());
    assert_eq!(second.principal, first.principal);
    assert_eq!(second.access.expires_at, at(60 + 15 * 60));
    h.advance(60);
    // Both access tokens were just checked: their session is in this instance's cache.
    for access in [&first.access.token, &second.access.token] {
        assert!(h.auth.authenticate(access).await.is_ok());
    }
    let reuse = h
        .auth
        .refresh(first.refresh.expose())
        .await
        .expect_err("reuse");
    assert!(matches!(reuse, AuthError::RefreshTokenReused), "{reuse:?}");
    assert_eq!(reuse.code().as_str(), "unauthorized");
    // The whole family is dead: the latest refresh token and every access token.
    let latest = h
        .auth
        .refresh(second.refresh.expose())
        .await
        .expect_err("revoked");
    assert!(matches!(latest, AuthError::Unauthorized), "{latest:?}");
    for access in [&first.access.token, &second.access.token] {
        let err = h
            .auth
            .authenticate(access)
            .await
            .expect_err("revoked session");
        assert!(matches!(err, AuthError::Unauthorized), "{err:?}");
    }
}

/// Finding 5 of issue 14: inside the grace window a replay of the previous token used to get
/// another fresh pair, as often as asked. Now every replay gets the first exchange's successor.
#[tokio::test]
async fn a_double_submit_within_the_grace_window_gets_the_same_successor() {
    let h = harness();
    let first = h.register("ada@example.com").await;
    let a = h
        .auth
        .refresh(first.refresh.expose())
        .await
        .expect("first submit");
    h.advance(5);
    for replay in 0..2 {
        let b = h
            .auth
            .refresh(first.refresh.expose())
            .await
            .expect("a replay in grace");
        assert_eq!(b.refresh.expose(), a.refresh.expose(), "replay {replay}");
        assert_eq!(b.principal, a.principal);
        assert!(h.auth.authenticate(&b.access.token).await.is_ok());
    }
    // The one successor keeps the session going.
    h.advance(60);
    let next = h
        .auth
        .refresh(a.refresh.expose())
        .await
        .expect("the successor");
    assert!(h.auth.refresh(next.refresh.expose()).await.is_ok());
    // Past the window, the same replay is theft.
    let late = h
        .auth
        .refresh(first.refresh.expose())
        .await
        .expect_err("late replay");
    assert!(matches!(late, AuthError::RefreshTokenReused), "{late:?}");
}

/// Finding 5: a thief who replays a stolen token within the window holds the victim's chain,
/// not a parallel one, so reuse detection sees him as soon as the two diverge.
#[tokio::test]
async fn a_thiefs_replay_within_the_window_yields_no_parallel_chain() {
    let h = harness();
    let stolen = h.register("ada@example.com").await;
    let victim = h
        .auth
        .refresh(stolen.refresh.expose())
        .await
        .expect("victim");
    h.advance(3);
    let thief = h
        .auth
        .refresh(stolen.refresh.expose())
        .await
        .expect("replay in grace");
    assert_eq!(thief.refresh.expose(), victim.refresh.expose(), "no fork");
    h.advance(60);
    let victim = h
        .auth
        .refresh(victim.refresh.expose())
        .await
        .expect("victim rotates on");
    h.advance(60);
    let detected = h
        .auth
        .refresh(thief.refresh.expose())
        .await
        .expect_err("the thief's chain is behind");
    assert!(
        matches!(detected, AuthError::RefreshTokenReused),
        "{detected:?}"
    );
    for access in [&thief.access.token, &victim.access.token] {
        assert!(h.auth.authenticate(access).await.is_err(), "family revoked");
    }
    assert!(h.auth.refresh(victim.refresh.expose()).await.is_err());
}

/// Only the immediately previous token gets the grace: one two rotations old is reuse at once.
#[tokio::test]
async fn a_token_two_rotations_old_is_reuse_even_within_the_window() {
    let h = harness();
    let first = h.register("ada@example.com").await;
    let second = h.auth.refresh(first.refresh.expose()).await.expect("1");
    h.advance(1);
    let third = h.auth.refresh(second.refresh.expose()).await.expect("2");
    h.advance(1);
    let old = h
        .auth
        .refresh(first.refresh.expose())
        .await
        .expect_err("two rotations old");
    assert!(matches!(old, AuthError::RefreshTokenReused), "{old:?}");
    assert!(h.auth.refresh(third.refresh.expose()).await.is_err());
}

/// Concurrent refreshes with one token: one rotation, and every answer is its successor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_of_one_token_share_one_successor() {
    let h = harness();
    let first = h.register("ada@example.com").await;
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let auth = h.auth.clone();
            let token = first.refresh.expose().to_owned();
            tokio::spawn(async move { auth.refresh(&token).await })
        })
        .collect();
    let mut successors = Vec::new();
    for racer in racers {
        let issued = racer.await.expect("join").expect("every submit succeeds");
        successors.push(issued.refresh.expose().to_owned());
    }
    successors.dedup();
    assert_eq!(successors.len(), 1, "{successors:?}");
    assert!(h.auth.refresh(&successors[0]).await.is_ok());
}

/// `token` with the bytes at `range` of its decoded form replaced by `bytes`.
fn forged(token: &RefreshToken, range: std::ops::Range<usize>, bytes: &[u8]) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut raw = URL_SAFE_NO_PAD.decode(token.expose()).expect("base64url");
    raw[range].copy_from_slice(bytes);
    URL_SAFE_NO_PAD.encode(raw)
}

/// Ids are guessable: a token naming a victim's real session with a made-up secret (or a
/// made-up older generation) must be refused without revoking that session.
#[tokio::test]
async fn made_up_tokens_naming_a_real_session_never_revoke_it() {
    let h = harness();
    let first = h.register("ada@example.com").await;
    let live = h
        .auth
        .refresh(first.refresh.expose())
        .await
        .expect("rotate");
    h.advance(60);
    let attempts = [
        forged(&live.refresh, 33..65, &[0x5a; 32]),
        forged(&live.refresh, 65..81, &[0xa5; 16]),
        // Generation 0, as if two rotations old, with the live token's secret and tag.
        forged(&live.refresh, 25..33, &0u64.to_be_bytes()),
    ];
    for attempt in &attempts {
        let err = h.auth.refresh(attempt).await.expect_err("forged");
        assert!(matches!(err, AuthError::Unauthorized), "{err:?}");
        h.auth
            .logout_by_refresh_token(attempt)
            .await
            .expect("ignored");
    }
    assert!(h.auth.authenticate(&live.access.token).await.is_ok());
    assert!(
        h.auth.refresh(live.refresh.expose()).await.is_ok(),
        "still live"
    );
}

/// A made-up token costs no storage command: refused even while the store is down.
#[tokio::test]
async fn made_up_tokens_are_refused_before_any_storage_command() {
    let genuine = harness().register("ada@example.com").await;
    let down = harness_over(AuthStores {
        users: Arc::new(DownStore),
        sessions: Arc::new(DownStore),
        throttle: Arc::new(DownStore),
    });
    let attempt = forged(&genuine.refresh, 33..65, &[7; 32]);
    let err = down.auth.refresh(&attempt).await.expect_err("forged");
    assert!(matches!(err, AuthError::Unauthorized), "{err:?}");
    let err = down
        .auth
        .refresh(genuine.refresh.expose())
        .await
        .expect_err("store down");
    assert!(matches!(err, AuthError::Storage(_)), "{err:?}");
}

#[tokio::test]
async fn grace_window_zero_treats_any_replay_as_theft() {
    let h = harness();
    let mut policy = SessionPolicy::default();
    policy.reuse_grace = Duration::ZERO;
    let auth = h.auth.clone().with_session_policy(policy);
    let registration = registration("ada@example.com");
    let (_, first) = auth
        .register(registration, &ClientMeta::default())
        .await
        .expect("register");
    auth.refresh(first.refresh.expose()).await.expect("rotate");
    let replay = auth
        .refresh(first.refresh.expose())
        .await
        .expect_err("replay");
    assert!(
        matches!(replay, AuthError::RefreshTokenReused),
        "{replay:?}"
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_end() {
    let h = harness();
    let mut policy = SessionPolicy::default();
    policy.absolute_ttl = Duration::from_secs(3000);
    policy.idle_ttl = Duration::from_secs(1000);
    let auth = h.auth.clone().with_session_policy(policy);
    let registration = registration("ada@example.com");
    let (_, mut issued) = auth
        .register(registration, &ClientMeta::default())
        .await
        .expect("register");
    for _ in 0..2 {
        h.advance(999);
        issued = auth
            .refresh(issued.refresh.expose())
            .await
            .expect("active within idle ttl");
    }
    h.advance(1001);
    let idle = auth
        .refresh(issued.refresh.expose())
        .await
        .expect_err("idle");
    assert!(matches!(idle, AuthError::Unauthorized), "{idle:?}");

    let client = ClientMeta::default();
    let again = auth.login(
        credentials("ada@example.com", "correct horse battery"),
        &client,
    );
    let (_, mut issued) = again.await.expect("login");
    for _ in 0..3 {
        h.advance(999);
        issued = auth
            .refresh(issued.refresh.expose())
            .await
            .expect("before the absolute end");
    }
    h.advance(10);
    let ended = auth
        .refresh(issued.refresh.expose())
        .await
        .expect_err("absolute end");
    assert!(matches!(ended, AuthError::Unauthorized), "{ended:?}");
}

#[tokio::test]
async fn logout_ends_one_session_and_logout_all_every_session() {
    let h = harness();
    let phone = h.register("ada@example.com").await;
    let laptop = h
        .login("ada@example.com", "correct horse battery")
        .await
        .expect("login");
    let tablet = h
        .login("ada@example.com", "correct horse battery")
        .await
        .expect("login");
    // Every session was just checked, so each is in this instance's cache: revocation must
    // reach past it at once.
    for issued in [&phone, &laptop, &tablet] {
        assert!(h.auth.authenticate(&issued.access.token).await.is_ok());
    }
    h.auth.logout(&phone.principal).await.expect("logout");
    assert!(h.auth.authenticate(&phone.access.token).await.is_err());
    assert!(h.auth.refresh(phone.refresh.expose()).await.is_err());
    assert!(h.auth.authenticate(&laptop.access.token).await.is_ok());
    let listed = h.auth.sessions(&laptop.principal).await.expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(
        h.auth
            .logout_all(&laptop.principal)
            .await
            .expect("logout all"),
        2
    );
    for issued in [&laptop, &tablet] {
        assert!(h.auth.authenticate(&issued.access.token).await.is_err());
        assert!(h.auth.refresh(issued.refresh.expose()).await.is_err());
    }
}

#[tokio::test]
async fn logout_by_refresh_token_is_idempotent() {
    let h = harness();
    let issued = h.register("ada@example.com").await;
    assert!(h.auth.authenticate(&issued.access.token).await.is_ok());
    h.auth
        .logout_by_refresh_token(issued.refresh.expose())
        .await
        .expect("logout");
    h.auth
        .logout_by_refresh_token(issued.refresh.expose())
        .await
        .expect("again");
    h.auth
        .logout_by_refresh_token("garbage")
        .await
        .expect("garbage");
    assert!(h.auth.authenticate(&issued.access.token).await.is_err());
}

#[tokio::test]
async fn access_tokens_expire() {
    let h = harness();
    let issued = h.register("ada@example.com").await;
    h.advance(15 * 60 - 1);
    assert!(h.auth.authenticate(&issued.access.token).await.is_ok());
    h.advance(1);
    assert!(h.auth.authenticate(&issued.access.token).await.is_err());
}

#[tokio::test]
async fn weaker_stored_hashes_are_upgraded_on_login() {
    let h = harness();
    h.register("ada@example.com").await;
    let mut stronger = Argon2Params::default();
    stronger.memory_kib = 19_456 * 2;
    let hasher = PasswordHasher::new(stronger, 1).expect("valid params");
    let upgraded = h.auth.clone().with_hasher(hasher);
    let login = || credentials("ada@example.com", "correct horse battery");
    let (user, issued) = upgraded
        .login(login(), &ClientMeta::default())
        .await
        .expect("old hash still verifies");
    let rehashed = upgraded
        .me(&issued.principal)
        .await
        .expect("me")
        .password_hash;
    assert_eq!(user.id, issued.principal.user_id);
    assert!(
        rehashed.expose_phc().contains("m=38912"),
        "{}",
        rehashed.expose_phc()
    );
    assert!(
        upgraded
            .login(login(), &ClientMeta::default())
            .await
            .is_ok()
    );
}

/// How one revocation is made through an instance.
#[derive(Debug, Clone, Copy)]
enum Revocation {
    Logout,
    LogoutAll,
    LogoutByRefreshToken,
    RefreshTokenReuse,
}

impl Revocation {
    const ALL: [Self; 4] = [
        Self::Logout,
        Self::LogoutAll,
        Self::LogoutByRefreshToken,
        Self::RefreshTokenReuse,
    ];

    async fn apply(self, auth: &AuthService, issued: &IssuedSession) {
        match self {
            Self::Logout => auth.logout(&issued.principal).await.expect("logout"),
            Self::LogoutAll => {
                auth.logout_all(&issued.principal)
                    .await
                    .expect("logout all");
            }
            Self::LogoutByRefreshToken => auth
                .logout_by_refresh_token(issued.refresh.expose())
                .await
                .expect("logout"),
            Self::RefreshTokenReuse => {
                auth.refresh(issued.refresh.expose()).await.expect("rotate");
                let reuse = auth.refresh(issued.refresh.expose()).await;
                assert!(matches!(reuse, Err(AuthError::RefreshTokenReused)));
            }
        }
    }
}

/// Contract v1.1: a revocation stops the session's access tokens at once on the instance that
/// revoked it, and on every other instance within `TASKFLOW_SESSION_CACHE_MS` (1 s): the other
/// instance's cached check still accepts the token just before the bound and refuses it once
/// the bound has passed since its storage read.
#[tokio::test]
async fn revocation_is_immediate_here_and_within_the_cache_ttl_elsewhere() {
    for revocation in Revocation::ALL {
        let (h, other) = two_instances();
        // The grace window would answer the replay of the reuse case with its successor.
        let mut policy = SessionPolicy::default();
        policy.reuse_grace = Duration::ZERO;
        let auth = h.auth.clone().with_session_policy(policy);
        let issued = h.register("ada@example.com").await;
        let token = &issued.access.token;
        assert!(auth.authenticate(token).await.is_ok(), "{revocation:?}");
        assert!(other.authenticate(token).await.is_ok(), "{revocation:?}");
        h.advance_millis(400);
        revocation.apply(&auth, &issued).await;
        assert!(
            auth.authenticate(token).await.is_err(),
            "{revocation:?}: the revoking instance refuses at once"
        );
        h.advance_millis(599);
        assert!(
            other.authenticate(token).await.is_ok(),
            "{revocation:?}: 999 ms after its check, the other instance may still accept"
        );
        h.advance_millis(1);
        assert!(
            other.authenticate(token).await.is_err(),
            "{revocation:?}: 1000 ms after its check, the other instance refuses"
        );
        assert_eq!(hits_and_misses(&other), (1, 2), "{revocation:?}");
    }
}

/// Hits and misses of `auth`'s session-check cache so far.
fn hits_and_misses(auth: &AuthService) -> (u64, u64) {
    let stats = auth.session_cache_stats();
    (stats.hits, stats.misses)
}

#[tokio::test]
async fn a_session_cache_of_zero_checks_storage_on_every_request() {
    let (h, other) = two_instances();
    let other = other.with_session_cache(SessionCacheConfig::disabled());
    let issued = h.register("ada@example.com").await;
    let token = &issued.access.token;
    assert!(other.authenticate(token).await.is_ok());
    assert!(other.authenticate(token).await.is_ok());
    h.auth.logout(&issued.principal).await.expect("logout");
    assert!(
        other.authenticate(token).await.is_err(),
        "no caching: the other instance refuses at once"
    );
    assert_eq!(hits_and_misses(&other), (0, 3));
}

/// A refused check reads storage every time (a negative result is never cached), for a
/// revoked session and for a session that never existed.
#[tokio::test]
async fn refused_session_checks_are_never_cached() {
    let h = harness();
    let issued = h.register("ada@example.com").await;
    h.auth.logout(&issued.principal).await.expect("logout");
    let unknown = access_tokens()
        .issue(&UserId::generate(), &SessionId::generate(), h.clock.now())
        .expect("sign")
        .token;
    for token in [&issued.access.token, &unknown] {
        for _ in 0..3 {
            assert!(h.auth.authenticate(token).await.is_err());
        }
    }
    assert_eq!(
        hits_and_misses(&h.auth),
        (0, 6),
        "six refusals, six storage reads"
    );
}

/// A cached check ends with its session's idle or absolute end, not a TTL later.
#[tokio::test]
async fn a_cached_check_never_outlives_its_session() {
    let h = harness();
    let mut policy = SessionPolicy::default();
    policy.idle_ttl = Duration::from_secs(600);
    let auth = h.auth.clone().with_session_policy(policy);
    let registration = registration("ada@example.com");
    let (_, issued) = auth
        .register(registration, &ClientMeta::default())
        .await
        .expect("register");
    h.advance_millis(600_000 - 300);
    assert!(auth.authenticate(&issued.access.token).await.is_ok());
    h.advance_millis(299);
    assert!(
        auth.authenticate(&issued.access.token).await.is_ok(),
        "cached"
    );
    h.advance_millis(1);
    assert!(
        auth.authenticate(&issued.access.token).await.is_err(),
        "idle end reached 300 ms into the cached check"
    );
}

/// A cache with room for one session evicts the other: each check then reads storage.
#[tokio::test]
async fn a_full_session_cache_evicts_and_falls_back_to_storage() {
    let h = harness();
    let auth = h
        .auth
        .clone()
        .with_session_cache(SessionCacheConfig::default().with_capacity(1));
    let ada = h.register("ada@example.com").await;
    let bob = h.register("bob@example.com").await;
    for _ in 0..3 {
        for issued in [&ada, &bob] {
            assert!(auth.authenticate(&issued.access.token).await.is_ok());
        }
    }
    let stats = auth.session_cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.evictions), (0, 6, 5));
    // Alone, a session is served from memory again.
    assert!(auth.authenticate(&ada.access.token).await.is_ok());
    assert!(auth.authenticate(&ada.access.token).await.is_ok());
    assert_eq!(auth.session_cache_stats().hits, 1);
}
