//! Property: a random sequence of logins, refreshes (with fresh, stale, replayed and made-up
//! tokens), clock moves, logouts and logout-alls never leaves a revoked family usable, never
//! forks a family, and every outcome is exactly what the reuse-detection rules predict.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use taskflow_core::auth::csrf::CsrfTokens;
use taskflow_core::auth::input::{Credentials, Registration};
use taskflow_core::auth::jwt::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow_core::auth::password::{Argon2Params, PasswordHasher};
use taskflow_core::auth::refresh::{RefreshToken, RefreshTokenKeys};
use taskflow_core::auth::session::ClientMeta;
use taskflow_core::service::{AuthError, AuthService, AuthStores, IssuedSession};
use taskflow_core::testkit::at;
use taskflow_core::{Clock, ManualClock, MemoryStore, Timestamp};

const GRACE_SECS: i64 = 10;

#[derive(Debug, Clone)]
enum Op {
    Login,
    Refresh { session: usize, age: usize },
    Forge { session: usize },
    Authenticate { session: usize },
    Advance { secs: u64 },
    Logout { session: usize },
    LogoutAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Login),
        6 => (0..4_usize, 0..3_usize).prop_map(|(session, age)| Op::Refresh { session, age }),
        1 => (0..4_usize).prop_map(|session| Op::Forge { session }),
        2 => (0..4_usize).prop_map(|session| Op::Authenticate { session }),
        3 => (0..15_u64).prop_map(|secs| Op::Advance { secs }),
        1 => (0..4_usize).prop_map(|session| Op::Logout { session }),
        1 => Just(Op::LogoutAll),
    ]
}

/// One session as the model sees it: its chain of refresh tokens (index = generation), when
/// each was rotated, and every access token it was given.
struct Family {
    chain: Vec<IssuedSession>,
    rotated_at: Vec<Option<Timestamp>>,
    access: Vec<String>,
    revoked: bool,
}

impl Family {
    fn new(first: IssuedSession) -> Self {
        Self {
            access: vec![first.access.token.clone()],
            chain: vec![first],
            rotated_at: vec![None],
            revoked: false,
        }
    }
}

fn service(clock: Arc<ManualClock>) -> AuthService {
    let store = MemoryStore::new();
    let stores = AuthStores {
        users: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        throttle: Arc::new(store),
    };
    let hasher = PasswordHasher::new(Argon2Params::default(), 2).expect("valid params");
    let keys = KeySet::new(JwtKey::hs256("k", &[1u8; 32]).expect("key"), vec![]).expect("keys");
    let tokens = AccessTokens::new(keys, AccessTokenConfig::default());
    let refresh = RefreshTokenKeys::derive(&[3u8; 32]);
    AuthService::new(
        stores,
        hasher,
        tokens,
        CsrfTokens::new(&[2u8; 32]),
        refresh,
        clock,
    )
}

/// One refresh with the token `age` rotations old (if the family has one), checked against
/// the rules: the live token rotates, the previous one within the grace window gets the same
/// successor, anything older (or later) revokes the family.
async fn refresh(
    auth: &AuthService,
    family: &mut Family,
    age: usize,
    now: Timestamp,
) -> Result<(), TestCaseError> {
    let Some(index) = family.chain.len().checked_sub(1 + age) else {
        return Ok(());
    };
    let token: &RefreshToken = &family.chain[index].refresh;
    let result = auth.refresh(token.expose()).await;
    if family.revoked {
        prop_assert!(result.is_err(), "revoked family refreshed");
        return Ok(());
    }
    let last = family.chain.len() - 1;
    let in_grace = family.rotated_at[index]
        .is_some_and(|rotated| now.unix_millis() - rotated.unix_millis() <= GRACE_SECS * 1000);
    if index == last {
        let issued = result.map_err(|e| TestCaseError::fail(format!("refresh: {e:?}")))?;
        family.rotated_at[index] = Some(now);
        family.access.push(issued.access.token.clone());
        family.chain.push(issued);
        family.rotated_at.push(None);
    } else if index + 1 == last && in_grace {
        let issued = result.map_err(|e| TestCaseError::fail(format!("replay: {e:?}")))?;
        prop_assert_eq!(
            issued.refresh.expose(),
            family.chain[last].refresh.expose(),
            "a replay in grace gets the same successor"
        );
        family.access.push(issued.access.token.clone());
    } else {
        prop_assert!(
            matches!(result, Err(AuthError::RefreshTokenReused)),
            "{result:?}"
        );
        family.revoked = true;
    }
    Ok(())
}

async fn check(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = Arc::new(ManualClock::new(at(0)));
    let auth = service(clock.clone());
    let registration =
        Registration::parse("prop@example.com", "correct horse battery", None).expect("valid");
    let (_, first) = auth
        .register(registration, &ClientMeta::default())
        .await
        .expect("register");
    let mut families = vec![Family::new(first)];
    let mut logins = 0;
    for op in ops {
        let now = clock.now();
        match op {
            Op::Login if logins < 2 => {
                logins += 1;
                let credentials = Credentials::parse("prop@example.com", "correct horse battery");
                let (_, issued) = auth
                    .login(credentials.expect("valid"), &ClientMeta::default())
                    .await
                    .map_err(|e| TestCaseError::fail(format!("login: {e:?}")))?;
                families.push(Family::new(issued));
            }
            Op::Login => {}
            Op::Refresh { session, age } => {
                let n = families.len();
                refresh(&auth, &mut families[session % n], age, now).await?;
            }
            Op::Forge { session } => {
                let n = families.len();
                let family = &families[session % n];
                let live = family.chain[family.chain.len() - 1].refresh.expose();
                let mut raw = URL_SAFE_NO_PAD.decode(live).expect("base64url");
                raw[40] ^= 0x80;
                let result = auth.refresh(&URL_SAFE_NO_PAD.encode(raw)).await;
                prop_assert!(matches!(result, Err(AuthError::Unauthorized)), "{result:?}");
            }
            Op::Authenticate { session } => {
                let n = families.len();
                let family = &families[session % n];
                for access in &family.access {
                    let result = auth.authenticate(access).await;
                    prop_assert_eq!(result.is_ok(), !family.revoked, "{:?}", result);
                }
            }
            Op::Advance { secs } => clock.advance(Duration::from_secs(secs)),
            Op::Logout { session } => {
                let n = families.len();
                let family = &mut families[session % n];
                auth.logout(&family.chain[0].principal)
                    .await
                    .expect("logout");
                family.revoked = true;
            }
            Op::LogoutAll => {
                auth.logout_all(&families[0].chain[0].principal)
                    .await
                    .expect("logout all");
                for family in &mut families {
                    family.revoked = true;
                }
            }
        }
    }
    // Finally: nothing of a revoked family works, in any way.
    for family in families.iter().filter(|f| f.revoked) {
        for issued in &family.chain {
            prop_assert!(auth.refresh(issued.refresh.expose()).await.is_err());
        }
        for access in &family.access {
            prop_assert!(auth.authenticate(access).await.is_err());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn revoked_families_stay_revoked(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime");
        runtime.block_on(check(ops))?;
    }
}
