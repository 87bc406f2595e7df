//! Tests of access tokens: round trips per algorithm, rotation, and one test per rejection.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use jsonwebtoken::{Algorithm, EncodingKey};

// Test-only keys, generated once with `openssl ecparam -name prime256v1 -genkey -noout |
// openssl pkcs8 -topk8 -nocrypt` and `openssl genpkey -algorithm ed25519`.
const ES256_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgIpmPKMH+5Ss2N0Z2
0CKV4oV3qOXfUHvt03icTZxlGC2hRANCAATPgQ4aWdsFcMd/MleGjwZnaz6b+VnT
qbr4P3cQ/frR/yXbmm3J7czusZQy99FdLeDUxC8mjGGmeYknpYFLHWut
-----END PRIVATE KEY-----";
const ES256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEz4EOGlnbBXDHfzJXho8GZ2s+m/lZ
06m6+D93EP360f8l25ptye3M7rGUMvfRXS3g1MQvJoxhpnmJJ6WBSx1rrQ==
-----END PUBLIC KEY-----";
const OTHER_ES256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUYCvD1nnSHQjlNfGWCbPEd2r7Ql+
724sTXz52kFMUIu1lKwyV0ueAD+hAHF5VUWfnp2E72vZT6pTaC9J2FwTng==
-----END PUBLIC KEY-----";
const ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEILALbL4kE64vrlfAKorX/nIn2m2z0e6QYmQC/ZpJ3/TM
-----END PRIVATE KEY-----";
const ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAM6XdVFUnaMx5eWNRiX+A0Y7iX3idWmenNaOwJNgYNLs=
-----END PUBLIC KEY-----";
const SECRET: &[u8] = b"test-only-hmac-secret-0123456789abcdef";

fn hs256(kid: &str) -> JwtKey {
    JwtKey::hs256(kid, SECRET).unwrap()
}

fn es256() -> JwtKey {
    JwtKey::es256_pem(
        "es-1",
        Some(ES256_PRIVATE.as_bytes()),
        ES256_PUBLIC.as_bytes(),
    )
    .unwrap()
}

fn ed25519() -> JwtKey {
    let private = Some(ED25519_PRIVATE.as_bytes());
    JwtKey::ed25519_pem("ed-1", private, ED25519_PUBLIC.as_bytes()).unwrap()
}

fn tokens(signing: JwtKey, verify_only: Vec<JwtKey>) -> AccessTokens {
    let keys = KeySet::new(signing, verify_only).unwrap();
    AccessTokens::new(keys, AccessTokenConfig::default())
}

/// 2026-11-26T10:00:00Z.
fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_795_687_200_000).unwrap()
}

fn ids() -> (UserId, SessionId) {
    (
        UserId::parse("0123456789abcdef01234567").unwrap(),
        SessionId::parse("89abcdef0123456789abcdef").unwrap(),
    )
}

fn issue(tokens: &AccessTokens) -> String {
    let (user, session) = ids();
    tokens.issue(&user, &session, now()).unwrap().token
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn wire_claims() -> Value {
    let iat = now().unix_millis() / 1000;
    json!({
        "sub": "0123456789abcdef01234567", "sid": "89abcdef0123456789abcdef",
        "iat": iat, "exp": iat + 900, "iss": "taskflow", "aud": "taskflow-api",
        "jti": "AAAAAAAAAAAAAAAAAAAAAA",
    })
}

/// Signs arbitrary claims with the test secret under `kid`, as an attacker holding it could.
fn signed(kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(SECRET)).unwrap()
}

#[test]
fn round_trips_with_every_algorithm() {
    let (user, session) = ids();
    for key in [hs256("hs-1"), es256(), ed25519()] {
        let (kid, alg) = (key.kid().to_owned(), key.algorithm().to_jwt());
        let tokens = tokens(key, vec![]);
        let issued = tokens.issue(&user, &session, now()).unwrap();
        assert_eq!(
            issued.expires_at,
            now().saturating_add(Duration::from_secs(900))
        );
        assert_eq!(issued.jti.len(), 22, "128 bits in base64url");
        let header = jsonwebtoken::decode_header(&issued.token).unwrap();
        assert_eq!((header.kid.as_deref(), header.alg), (Some(&*kid), alg));
        let claims = tokens.verify(&issued.token, now()).unwrap();
        let expected = AccessClaims {
            user_id: user,
            session_id: session,
            issued_at: now(),
            expires_at: issued.expires_at,
            jti: issued.jti.clone(),
        };
        assert_eq!(claims, expected);
        let again = tokens.issue(&user, &session, now()).unwrap();
        assert_ne!(again.jti, issued.jti);
    }
}

#[test]
fn rotated_keys_keep_verifying_until_removed() {
    let old = tokens(hs256("2026-01"), vec![]);
    let token = issue(&old);
    let rotated = tokens(es256(), vec![hs256("2026-01")]);
    assert!(rotated.verify(&token, now()).is_ok());
    let fresh = issue(&rotated);
    let header = jsonwebtoken::decode_header(&fresh).unwrap();
    assert_eq!(header.kid.as_deref(), Some("es-1"));
    assert!(rotated.verify(&fresh, now()).is_ok());
    let retired = tokens(es256(), vec![]);
    assert_eq!(retired.verify(&token, now()), Err(TokenError::UnknownKey));
}

#[test]
fn unsigned_tokens_are_refused() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let payload = b64(&wire_claims());
    for alg in ["none", "None", "NONE", ""] {
        let header = b64(&json!({ "alg": alg, "typ": "JWT", "kid": "hs-1" }));
        for signature in ["", "AAAA"] {
            let token = format!("{header}.{payload}.{signature}");
            assert_eq!(tokens.verify(&token, now()), Err(TokenError::Malformed));
        }
    }
    // A valid token with its signature stripped.
    let valid = issue(&tokens);
    let stripped = &valid[..=valid.rfind('.').unwrap()];
    assert!(tokens.verify(stripped, now()).is_err());
}

#[test]
fn header_algorithm_must_be_the_keys() {
    let tokens = tokens(hs256("hs-1"), vec![es256()]);
    // The classic confusion: HS256 with the ES256 public key as the HMAC secret.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("es-1".to_owned());
    let forged = jsonwebtoken::encode(
        &header,
        &wire_claims(),
        &EncodingKey::from_secret(ES256_PUBLIC.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        tokens.verify(&forged, now()),
        Err(TokenError::AlgorithmMismatch)
    );
    // And an ES256 token naming the HMAC key.
    let es_only = self::tokens(es256(), vec![]);
    let es_token = issue(&es_only);
    let (_, rest) = es_token.split_once('.').unwrap();
    let header = b64(&json!({ "alg": "ES256", "typ": "JWT", "kid": "hs-1" }));
    let renamed = format!("{header}.{rest}");
    assert_eq!(
        tokens.verify(&renamed, now()),
        Err(TokenError::AlgorithmMismatch)
    );
}

#[test]
fn kid_must_name_a_known_key() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    assert!(
        tokens
            .verify(&signed(Some("hs-1"), &wire_claims()), now())
            .is_ok()
    );
    for kid in [None, Some("hs-2"), Some("")] {
        let token = signed(kid, &wire_claims());
        assert_eq!(tokens.verify(&token, now()), Err(TokenError::UnknownKey));
    }
}

#[test]
fn tampered_tokens_fail_the_signature() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let token = issue(&tokens);
    // A flipped byte in the middle of the signature.
    let mut flipped = token.clone().into_bytes();
    let at = flipped.len() - 10;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    assert_eq!(
        tokens.verify(&flipped, now()),
        Err(TokenError::BadSignature)
    );
    // Another user in the payload, the signature kept.
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = wire_claims();
    claims["sub"] = json!("ffffffffffffffffffffffff");
    let changed = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert_eq!(
        tokens.verify(&changed, now()),
        Err(TokenError::BadSignature)
    );
    // Signed with another secret.
    let other = JwtKey::hs256("hs-1", &[7; 32]).unwrap();
    let forged = issue(&self::tokens(other, vec![]));
    assert_eq!(tokens.verify(&forged, now()), Err(TokenError::BadSignature));
}

#[test]
fn issuer_and_audience_must_match() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let mut claims = wire_claims();
    claims["iss"] = json!("someone-else");
    let token = signed(Some("hs-1"), &claims);
    assert_eq!(tokens.verify(&token, now()), Err(TokenError::WrongIssuer));
    let mut claims = wire_claims();
    claims["aud"] = json!("another-api");
    let token = signed(Some("hs-1"), &claims);
    assert_eq!(tokens.verify(&token, now()), Err(TokenError::WrongAudience));
}

#[test]
fn expires_exactly_at_exp() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let (user, session) = ids();
    let issued = tokens.issue(&user, &session, now()).unwrap();
    let last_valid = issued.expires_at.saturating_sub(Duration::from_millis(1));
    assert!(tokens.verify(&issued.token, last_valid).is_ok());
    let result = tokens.verify(&issued.token, issued.expires_at);
    assert_eq!(result, Err(TokenError::Expired));
}

#[test]
fn issued_in_the_future_beyond_the_skew_is_refused() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let token = issue(&tokens);
    let skewed = now().saturating_sub(Duration::from_secs(60));
    assert!(tokens.verify(&token, skewed).is_ok());
    let too_early = skewed.saturating_sub(Duration::from_millis(1));
    assert_eq!(
        tokens.verify(&token, too_early),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn malformed_or_missing_claims_are_refused() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let mut cases = Vec::new();
    for field in ["sub", "sid", "iat", "exp", "iss", "aud", "jti"] {
        let mut claims = wire_claims();
        claims.as_object_mut().unwrap().remove(field);
        cases.push(claims);
    }
    for (field, value) in [
        ("sub", json!("0123456789ABCDEF01234567")),
        ("sub", json!(42)),
        ("sid", json!("not-an-id")),
        ("exp", json!("soon")),
        ("exp", json!(1.5e300)),
        ("iat", json!(i64::MAX)),
        ("jti", json!("")),
        ("aud", json!(["taskflow-api"])),
    ] {
        let mut claims = wire_claims();
        claims[field] = value;
        cases.push(claims);
    }
    for claims in cases {
        let token = signed(Some("hs-1"), &claims);
        assert_eq!(
            tokens.verify(&token, now()),
            Err(TokenError::Malformed),
            "{claims}"
        );
    }
    for garbage in ["", "a.b", "a.b.c", "a.b.c.d", "...", &"a".repeat(5000)] {
        assert_eq!(tokens.verify(garbage, now()), Err(TokenError::Malformed));
    }
}

#[test]
fn keys_are_checked_at_construction() {
    assert_eq!(
        JwtKey::hs256("k", &[1; 31]).unwrap_err(),
        KeyError::WeakSecret
    );
    for kid in ["", "a b", "kid/1", "é", &"k".repeat(65)] {
        assert_eq!(
            JwtKey::hs256(kid, SECRET).unwrap_err(),
            KeyError::InvalidKid
        );
    }
    assert!(JwtKey::hs256(&"k".repeat(64), SECRET).is_ok());
    let (es_private, es_public) = (ES256_PRIVATE.as_bytes(), ES256_PUBLIC.as_bytes());
    let mismatch = JwtKey::es256_pem("k", Some(es_private), OTHER_ES256_PUBLIC.as_bytes());
    assert_eq!(mismatch.unwrap_err(), KeyError::KeyPairMismatch);
    let swapped = JwtKey::es256_pem("k", Some(es_public), es_public);
    assert_eq!(swapped.unwrap_err(), KeyError::InvalidPrivateKey);
    let ed_as_es = JwtKey::es256_pem("k", None, ED25519_PUBLIC.as_bytes());
    assert_eq!(ed_as_es.unwrap_err(), KeyError::InvalidPublicKey);
    let es_as_ed = JwtKey::ed25519_pem("k", None, es_public);
    assert_eq!(es_as_ed.unwrap_err(), KeyError::InvalidPublicKey);
    let garbage = JwtKey::ed25519_pem("k", None, b"not a pem");
    assert_eq!(garbage.unwrap_err(), KeyError::InvalidPublicKey);

    let verify_only = JwtKey::es256_pem("es-0", None, es_public).unwrap();
    assert!(!verify_only.can_sign());
    let no_private = KeySet::new(verify_only.clone(), vec![]);
    assert_eq!(no_private.unwrap_err(), KeyError::NotASigningKey);
    let duplicate = KeySet::new(hs256("same"), vec![verify_only, hs256("same")]);
    assert_eq!(
        duplicate.unwrap_err(),
        KeyError::DuplicateKid("same".into())
    );
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let key = hs256("hs-1");
    let debug = format!("{key:?} {:?} {:?}", es256(), ed25519());
    let secret = String::from_utf8_lossy(SECRET);
    assert!(
        !debug.contains(&*secret) && !debug.contains("MIGHAgEA"),
        "{debug}"
    );
    assert!(!debug.contains("SecretOrDer"), "{debug}");
    let tokens = tokens(key, vec![]);
    let (user, session) = ids();
    let issued = tokens.issue(&user, &session, now()).unwrap();
    let debug = format!("{issued:?} {tokens:?}");
    assert!(
        !debug.contains(&issued.token) && !debug.contains(&*secret),
        "{debug}"
    );
    let error = tokens.verify(&issued.token, issued.expires_at).unwrap_err();
    assert!(!format!("{error} {error:?}").contains(&issued.token));
}

#[test]
fn verified_tokens_are_remembered_with_their_times_checked_again() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let (user, session) = ids();
    let issued = tokens.issue(&user, &session, now()).unwrap();
    let first = tokens.verify(&issued.token, now()).unwrap();
    assert_eq!(tokens.verified.len(), 1);
    // A clone shares what its original verified.
    let clone = tokens.clone();
    assert_eq!(clone.verify(&issued.token, now()), Ok(first));
    assert_eq!(tokens.verified.len(), 1);
    assert_eq!(
        clone.verify(&issued.token, issued.expires_at),
        Err(TokenError::Expired)
    );
    let too_early = now().saturating_sub(Duration::from_secs(61));
    assert_eq!(
        clone.verify(&issued.token, too_early),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn failures_are_not_remembered() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let (user, session) = ids();
    let issued = tokens.issue(&user, &session, now()).unwrap();
    assert!(tokens.verify(&issued.token, issued.expires_at).is_err());
    let forged = signed(Some("hs-2"), &wire_claims());
    assert!(tokens.verify(&forged, now()).is_err());
    assert_eq!(tokens.verified.len(), 0);
}

#[test]
fn the_remembered_tokens_stay_bounded() {
    let tokens = tokens(hs256("hs-1"), vec![]);
    let (user, session) = ids();
    for _ in 0..=verified::CAPACITY {
        let issued = tokens.issue(&user, &session, now()).unwrap();
        assert!(tokens.verify(&issued.token, now()).is_ok());
        assert!(tokens.verified.len() <= verified::CAPACITY);
    }
    assert_eq!(
        tokens.verified.len(),
        1,
        "emptied when full, then the newest"
    );
}

proptest! {
    #[test]
    fn any_changed_byte_is_refused(alg in 0..3usize, at in any::<prop::sample::Index>(), byte in 0u8..128) {
        let key = vec![hs256("hs-1"), es256(), ed25519()].swap_remove(alg);
        let tokens = tokens(key, vec![]);
        let mut token = issue(&tokens).into_bytes();
        // The original verifies first, so a changed copy meets a cache holding it.
        prop_assert!(tokens.verify(std::str::from_utf8(&token).unwrap(), now()).is_ok());
        let at = at.index(token.len());
        prop_assume!(token[at] != byte);
        token[at] = byte;
        let token = String::from_utf8(token).unwrap();
        prop_assert!(tokens.verify(&token, now()).is_err());
    }
}
