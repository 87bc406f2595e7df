//! Access-token rejections: every forged, altered or foreign token is a plain 401
//! `unauthorized`, on the bearer header and in the access cookie alike.

use std::time::Duration;

use serde_json::json;
use taskflow::core::auth::{AccessTokenConfig, KeySet};
use taskflow::core::{Clock, SystemClock};

use crate::helpers::*;
use crate::tokens;

const ME: &str = "/api/v1/auth/me";

/// A server with a known JWT secret and a registered user's access token.
async fn setup() -> (TestApp, TestUser) {
    let app = TestApp::spawn_with(&[("TASKFLOW_JWT_SECRET", JWT_SECRET)]).await;
    let user = app.register("jwt@example.com").await;
    (app, user)
}

/// Asserts `token` is refused as a bearer token and as the access cookie.
async fn assert_refused(app: &TestApp, user: &TestUser, token: &str, what: &str) {
    let response = app.get(ME, bearer(token)).await;
    assert_eq!(response.status(), 401, "bearer: {what}");
    assert_problem(response, 401, "unauthorized").await;
    let mut browser = user.clone();
    let name = "__Host-taskflow_access".to_owned();
    browser.cookies.insert(name, token.to_owned());
    let response = app.get(ME, browser.browser_headers()).await;
    assert_eq!(response.status(), 401, "cookie: {what}");
}

#[tokio::test]
async fn a_token_re_signed_with_the_server_key_and_claims_is_accepted() {
    // The control for the forgeries below: the forging helper itself makes valid tokens.
    let (app, user) = setup().await;
    let token = tokens::resign(
        user.access(),
        JWT_SECRET.as_bytes(),
        AccessTokenConfig::default(),
        SystemClock.now(),
    );
    assert_eq!(app.get(ME, bearer(&token)).await.status(), 200);
}

#[tokio::test]
async fn a_token_with_altered_claims_is_refused() {
    let (app, user) = setup().await;
    let (_, mut claims) = tokens::decode(user.access());
    claims["exp"] = json!(claims["exp"].as_i64().expect("exp") + 3600);
    let tampered = tokens::with_claims(user.access(), &claims);
    assert_refused(&app, &user, &tampered, "altered exp").await;
}

#[tokio::test]
async fn a_token_with_an_altered_signature_is_refused() {
    let (app, user) = setup().await;
    let [header, claims, signature] = tokens::parts(user.access());
    let mut bytes = tokens::b64url_decode(&signature);
    bytes[0] ^= 0x01;
    let tampered = format!("{header}.{claims}.{}", tokens::b64url_encode(&bytes));
    assert_refused(&app, &user, &tampered, "flipped signature bit").await;
}

#[tokio::test]
async fn an_alg_none_token_is_refused() {
    let (app, user) = setup().await;
    let unsigned = tokens::unsigned(user.access());
    assert_refused(&app, &user, &unsigned, "alg none").await;
}

#[tokio::test]
async fn a_token_naming_another_algorithm_is_refused() {
    let (app, user) = setup().await;
    for alg in ["HS384", "HS512", "RS256", "ES256"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "primary"});
        let token = tokens::with_header(user.access(), &header);
        assert_refused(&app, &user, &token, alg).await;
    }
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let (app, user) = setup().await;
    let token = tokens::resign(
        user.access(),
        b"another-key-that-is-long-enough-0123456789",
        AccessTokenConfig::default(),
        SystemClock.now(),
    );
    assert_refused(&app, &user, &token, "foreign secret").await;
}

#[tokio::test]
async fn a_token_for_another_issuer_or_audience_is_refused() {
    let (app, user) = setup().await;
    let now = SystemClock.now();
    let issuer = AccessTokenConfig {
        issuer: "someone-else".into(),
        ..AccessTokenConfig::default()
    };
    let token = tokens::resign(user.access(), JWT_SECRET.as_bytes(), issuer, now);
    assert_refused(&app, &user, &token, "wrong iss").await;
    let audience = AccessTokenConfig {
        audience: "another-api".into(),
        ..AccessTokenConfig::default()
    };
    let token = tokens::resign(user.access(), JWT_SECRET.as_bytes(), audience, now);
    assert_refused(&app, &user, &token, "wrong aud").await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let (app, user) = setup().await;
    let an_hour_ago = SystemClock.now().saturating_sub(Duration::from_secs(3600));
    let token = tokens::resign(
        user.access(),
        JWT_SECRET.as_bytes(),
        AccessTokenConfig::default(),
        an_hour_ago,
    );
    assert_refused(&app, &user, &token, "expired").await;
}

#[tokio::test]
async fn garbage_tokens_are_refused() {
    let (app, user) = setup().await;
    for garbage in [
        "not-a-jwt",
        "a.b.c",
        "eyJhbGciOiJIUzI1NiJ9..",
        &"x".repeat(5000),
    ] {
        assert_refused(&app, &user, garbage, garbage).await;
    }
    let empty = app.get(ME, headers(&[("authorization", "Bearer ")])).await;
    assert_problem(empty, 401, "unauthorized").await;
}

#[tokio::test]
async fn tokens_of_every_configured_verification_key_are_accepted_and_no_others() {
    let (new, old, retired) = (
        b"the-new-signing-key-0123456789abcdef".as_slice(),
        b"the-old-verifying-key-0123456789abcdef".as_slice(),
        b"a-retired-key-no-longer-listed-012345".as_slice(),
    );
    let keys =
        KeySet::new(tokens::hs256("k2", new), vec![tokens::hs256("k1", old)]).expect("key set");
    let app = TestApp::spawn_with_keys(&[], keys).await;
    let user = app.register("rotation@example.com").await;
    let (header, _) = tokens::decode(user.access());
    assert_eq!(header["kid"], "k2", "signed with the signing key");
    let now = SystemClock.now();
    let sign = |kid: &str, secret: &[u8]| {
        tokens::resign_with(
            user.access(),
            tokens::hs256(kid, secret),
            AccessTokenConfig::default(),
            now,
        )
    };
    assert_eq!(
        app.get(ME, bearer(&sign("k1", old))).await.status(),
        200,
        "old key verifies"
    );
    assert_eq!(app.get(ME, bearer(&sign("k2", new))).await.status(), 200);
    assert_refused(&app, &user, &sign("k0", retired), "retired key").await;
    assert_refused(
        &app,
        &user,
        &sign("k1", new),
        "kid of one key, signature of another",
    )
    .await;
}
