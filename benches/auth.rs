//! Authentication benchmarks: argon2id hashing and verification at the default (OWASP minimum)
//! parameters, HS256 access-token signing and verification, refresh-token rotation and the
//! per-request authentication (JWT verify plus session check, from the session-check cache and
//! from the store) on the in-memory store.
//!
//! `cargo bench --bench auth`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use taskflow::core::auth::CsrfTokens;
use taskflow::core::auth::input::Registration;
use taskflow::core::auth::refresh::RefreshTokenKeys;
use taskflow::core::auth::session::ClientMeta;
use taskflow::core::auth::session_cache::SessionCacheConfig;
use taskflow::core::auth::{
    AccessTokenConfig, AccessTokens, Argon2Params, JwtKey, KeySet, Password, PasswordHasher,
};
use taskflow::core::domain::{SessionId, UserId};
use taskflow::core::service::{AuthService, AuthStores};
use taskflow::core::{MemoryStore, SystemClock, Timestamp};

fn argon2(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let hasher = PasswordHasher::new(Argon2Params::default(), 1).expect("hasher");
    let password = Password::parse("correct horse battery staple".to_owned()).expect("password");
    let stored = runtime.block_on(hasher.hash(&password)).expect("hash");
    let mut group = c.benchmark_group("argon2id_default");
    // Each iteration takes tens of milliseconds: ten samples are plenty.
    group.sample_size(10);
    group.bench_function("hash", |b| {
        b.iter(|| {
            runtime
                .block_on(hasher.hash(black_box(&password)))
                .expect("hash")
        });
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            runtime
                .block_on(hasher.verify(black_box(&password), Some(&stored)))
                .expect("verify")
        });
    });
    group.finish();
}

fn jwt(c: &mut Criterion) {
    let fresh = || {
        let key = JwtKey::hs256("bench-1", &[42; 32]).expect("key");
        AccessTokens::new(
            KeySet::new(key, vec![]).expect("key set"),
            AccessTokenConfig::default(),
        )
    };
    let tokens = fresh();
    let (user, session) = (UserId::generate(), SessionId::generate());
    let now = Timestamp::from_unix_millis(1_795_687_200_000).expect("timestamp");
    let token = tokens.issue(&user, &session, now).expect("issue").token;
    let mut group = c.benchmark_group("jwt_hs256");
    group.bench_function("sign", |b| {
        b.iter(|| {
            tokens
                .issue(black_box(&user), black_box(&session), now)
                .expect("issue")
        });
    });
    // A token seen for the first time: the full decode and signature check (the target).
    group.bench_function("verify", |b| {
        b.iter_batched(
            fresh,
            |tokens| tokens.verify(black_box(&token), now).expect("verify"),
            BatchSize::SmallInput,
        );
    });
    // The same token again, as on every request of a client: remembered.
    group.bench_function("verify_remembered", |b| {
        b.iter(|| tokens.verify(black_box(&token), now).expect("verify"));
    });
    group.finish();
}

fn sessions(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let store = MemoryStore::new();
    let stores = AuthStores {
        users: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        throttle: Arc::new(store),
    };
    let hasher = PasswordHasher::new(Argon2Params::default(), 1).expect("hasher");
    let keys =
        KeySet::new(JwtKey::hs256("bench-1", &[42; 32]).expect("key"), vec![]).expect("keys");
    let tokens = AccessTokens::new(keys, AccessTokenConfig::default());
    let auth = AuthService::new(
        stores,
        hasher,
        tokens,
        CsrfTokens::new(&[7; 32]),
        RefreshTokenKeys::derive(&[7; 32]),
        Arc::new(SystemClock),
    );
    let registration =
        Registration::parse("bench@example.com", "correct horse battery staple", None)
            .expect("valid");
    let (_, issued) = runtime
        .block_on(auth.register(registration, &ClientMeta::default()))
        .expect("register");
    let access = issued.access.token.clone();
    let mut refresh = issued.refresh;
    c.bench_function("refresh_rotation_memory", |b| {
        b.iter(|| {
            let next = runtime
                .block_on(auth.refresh(refresh.expose()))
                .expect("rotate");
            refresh = next.refresh;
        });
    });
    // The session check answered from the instance's cache (the default, 1 s), then read
    // from the store on every request (`TASKFLOW_SESSION_CACHE_MS=0`).
    c.bench_function("authenticate_memory", |b| {
        b.iter(|| {
            runtime
                .block_on(auth.authenticate(black_box(&access)))
                .expect("authenticate")
        });
    });
    let uncached = auth.with_session_cache(SessionCacheConfig::disabled());
    c.bench_function("authenticate_memory_uncached", |b| {
        b.iter(|| {
            runtime
                .block_on(uncached.authenticate(black_box(&access)))
                .expect("authenticate")
        });
    });
}

criterion_group!(auth, argon2, jwt, sessions);
criterion_main!(auth);
