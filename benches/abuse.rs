//! Abuse-control benchmarks: an in-process rate-limit check (one hot key, admitted and
//! rejected; and 100k distinct keys, housekeeping sweeps included), CSRF verification, and
//! client IP resolution through a proxy chain. Target: well under 1 µs each. (The auth limits
//! are one storage command each; their cost is the store's.)
//!
//! `cargo bench --bench abuse`

use std::hint::black_box;
use std::net::IpAddr;
use std::num::NonZeroU32;

use criterion::{Criterion, criterion_group, criterion_main};
use taskflow::core::auth::{ClientNet, CsrfTokens, RateLimitConfig, RateLimits};
use taskflow::core::domain::{SessionId, UserId};
use taskflow::http::client_ip::TrustedProxies;
use taskflow::http::csrf::{AllowedOrigins, CsrfGuard};

const DISTINCT_KEYS: u32 = 100_000;

fn rate_limits(c: &mut Criterion) {
    let mut group = c.benchmark_group("rate_limit");
    // A quota no benchmark can exhaust, so every check takes the admitted path.
    let unlimited = RateLimits::new(RateLimitConfig {
        api_per_minute: NonZeroU32::MAX,
        ..RateLimitConfig::default()
    });
    let user = UserId::generate();
    group.bench_function("hot_key_admitted", |b| {
        b.iter(|| unlimited.check_api_user(black_box(&user)));
    });

    let limits = RateLimits::new(RateLimitConfig {
        refresh_per_minute: NonZeroU32::new(10).expect("not zero"),
        ..RateLimitConfig::default()
    });
    let ip = ClientNet::of([203, 0, 113, 7].into());
    for _ in 0..10 {
        limits.check_refresh_ip(ip);
    }
    group.bench_function("hot_key_rejected", |b| {
        b.iter(|| limits.check_refresh_ip(black_box(ip)));
    });

    let users: Vec<UserId> = (0..DISTINCT_KEYS)
        .map(|i| {
            let mut bytes = [0u8; 12];
            bytes[8..].copy_from_slice(&i.to_be_bytes());
            UserId::from_bytes(bytes)
        })
        .collect();
    let mut next = 0;
    group.bench_function("100k_distinct_users", |b| {
        b.iter(|| {
            next = (next + 1) % users.len();
            unlimited.check_api_user(black_box(&users[next]))
        });
    });
    let ips: Vec<ClientNet> = (0..DISTINCT_KEYS)
        .map(|i| ClientNet::of(IpAddr::from((0x0a00_0000 + i).to_be_bytes())))
        .collect();
    group.bench_function("100k_distinct_ips", |b| {
        b.iter(|| {
            next = (next + 1) % ips.len();
            limits.check_refresh_ip(black_box(ips[next]))
        });
    });
    group.finish();
}

fn csrf(c: &mut Criterion) {
    let origins = AllowedOrigins::parse("https://app.example.com").expect("valid origins");
    let guard = CsrfGuard::new(CsrfTokens::new(b"bench secret"), origins);
    let session = SessionId::generate();
    let token = guard.tokens.token_for(&session);
    let t = Some(token.as_str());
    c.bench_function("csrf/verify", |b| {
        b.iter(|| {
            guard
                .tokens
                .verify(black_box(&session), black_box(t), black_box(t))
        });
    });
    let origin = Some("https://app.example.com");
    c.bench_function("csrf/guard_check_post_with_origin", |b| {
        b.iter(|| guard.check(black_box("POST"), &session, t, t, black_box(origin)));
    });
}

fn client_ip(c: &mut Criterion) {
    let proxies = TrustedProxies::parse("10.0.0.0/8, 172.16.0.0/12, 192.0.2.7, fd00::/8")
        .expect("valid proxies");
    let peer: IpAddr = [10, 0, 0, 1].into();
    let xff = Some("6.6.6.6, 198.51.100.23, 192.0.2.7, 172.16.4.4, 10.2.3.4");
    c.bench_function("client_ip/trusted_chain_of_3", |b| {
        b.iter(|| proxies.client_ip(black_box(peer), black_box(xff)));
    });
    let untrusted: IpAddr = [203, 0, 113, 9].into();
    c.bench_function("client_ip/untrusted_peer", |b| {
        b.iter(|| proxies.client_ip(black_box(untrusted), black_box(xff)));
    });
}

criterion_group!(abuse, rate_limits, csrf, client_ip);
criterion_main!(abuse);
