//! Property: a random sequence of logins, refreshes (with fresh, stale and replayed tokens),
//! clock moves, logouts and logout-alls never leaves a revoked family usable, and every
//! outcome is exactly what the reuse-detection rules predict.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use taskflow_core::auth::csrf::CsrfTokens;
use taskflow_core::auth::input::{LoginInput, RegisterInput};
use taskflow_core::auth::jwt::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow_core::auth::password::{Argon2Params, PasswordHasher};
use taskflow_core::auth::refresh::RefreshToken;
use taskflow_core::auth::session::ClientMeta;
use taskflow_core::service::{AuthError, AuthService, AuthStores, IssuedSession};
use taskflow_core::testkit::at;
use taskflow_core::{Clock, ManualClock, MemoryStore, Timestamp};

const GRACE_SECS: i64 = 10;

#[derive(Debug, Clone)]
enum Op {
    Login,
    Refresh { session: usize, age: usize },
    Authenticate { session: usize },
    Advance { secs: u64 },
    Logout { session: usize },
    LogoutAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Login),
        6 => (0..4_usize, 0..3_usize).prop_map(|(session, age)| Op::Refresh { session, age }),
        2 => (0..4_usize).prop_map(|session| Op::Authenticate { session }),
        3 => (0..15_u64).prop_map(|secs| Op::Advance { secs }),
        1 => (0..4_usize).prop_map(|session| Op::Logout { session }),
        1 => Just(Op::LogoutAll),
    ]
}

struct Family {
    issued: Vec<IssuedSession>,
    used_at: Vec<Option<Timestamp>>,
    revoked: bool,
}

impl Family {
    fn new(first: IssuedSession) -> Self {
        Self {
            issued: vec![first],
            used_at: vec![None],
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
    AuthService::new(stores, hasher, tokens, CsrfTokens::new(&[2u8; 32]), clock)
}

async fn check(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = Arc::new(ManualClock::new(at(0)));
    let auth = service(clock.clone());
    let register: RegisterInput = serde_json::from_value(serde_json::json!({
        "email": "prop@example.com", "password": "correct horse battery"
    }))
    .expect("shape");
    let registration = register.validate().expect("valid");
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
                let input = LoginInput {
                    email: "prop@example.com".into(),
                    password: "correct horse battery".into(),
                };
                let (_, issued) = auth
                    .login(input.validate().expect("valid"), &ClientMeta::default())
                    .await
                    .map_err(|e| TestCaseError::fail(format!("login: {e:?}")))?;
                families.push(Family::new(issued));
            }
            Op::Login => {}
            Op::Refresh { session, age } => {
                let n = families.len();
                let family = &mut families[session % n];
                let Some(index) = family.issued.len().checked_sub(1 + age) else {
                    continue;
                };
                let token: &RefreshToken = &family.issued[index].refresh;
                let result = auth.refresh(token.expose()).await;
                if family.revoked {
                    prop_assert!(result.is_err(), "revoked family refreshed");
                    continue;
                }
                match family.used_at[index] {
                    Some(used) if now.unix_millis() - used.unix_millis() > GRACE_SECS * 1000 => {
                        prop_assert!(
                            matches!(result, Err(AuthError::RefreshTokenReused)),
                            "{result:?}"
                        );
                        family.revoked = true;
                    }
                    used => {
                        let issued =
                            result.map_err(|e| TestCaseError::fail(format!("refresh: {e:?}")))?;
                        if used.is_none() {
                            family.used_at[index] = Some(now);
                        }
                        family.issued.push(issued);
                        family.used_at.push(None);
                    }
                }
            }
            Op::Authenticate { session } => {
                let n = families.len();
                let family = &families[session % n];
                for issued in &family.issued {
                    let result = auth.authenticate(&issued.access.token).await;
                    prop_assert_eq!(result.is_ok(), !family.revoked, "{:?}", result);
                }
            }
            Op::Advance { secs } => clock.advance(Duration::from_secs(secs)),
            Op::Logout { session } => {
                let n = families.len();
                let family = &mut families[session % n];
                auth.logout(&family.issued[0].principal)
                    .await
                    .expect("logout");
                family.revoked = true;
            }
            Op::LogoutAll => {
                auth.logout_all(&families[0].issued[0].principal)
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
        for issued in &family.issued {
            prop_assert!(auth.refresh(issued.refresh.expose()).await.is_err());
            prop_assert!(auth.authenticate(&issued.access.token).await.is_err());
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
