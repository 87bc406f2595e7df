//! Hand-made JWTs for the rejection tests: base64url by hand (the tests crate has no base64
//! dependency), and tokens signed through the core's own signer with chosen keys and claims.

use serde_json::Value;
use taskflow::core::Timestamp;
use taskflow::core::auth::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow::core::domain::{SessionId, UserId};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding.
pub fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Decodes base64url without padding.
pub fn b64url_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.bytes() {
        let value = ALPHABET
            .iter()
            .position(|&a| a == c)
            .expect("base64url character");
        bits = (bits << 6) | u32::try_from(value).expect("six bits");
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).expect("a byte"));
        }
    }
    out
}

/// The three parts of a compact JWT.
pub fn parts(token: &str) -> [String; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWT");
    [0, 1, 2].map(|i| parts[i].to_owned())
}

/// The decoded header and claims of a JWT.
pub fn decode(token: &str) -> (Value, Value) {
    let [header, claims, _] = parts(token);
    let json = |part: &str| serde_json::from_slice(&b64url_decode(part)).expect("json part");
    (json(&header), json(&claims))
}

/// `token` with its header replaced by `header` (payload and signature kept).
pub fn with_header(token: &str, header: &Value) -> String {
    let [_, claims, signature] = parts(token);
    let header = b64url_encode(header.to_string().as_bytes());
    format!("{header}.{claims}.{signature}")
}

/// `token` with its claims replaced by `claims` (header and signature kept).
pub fn with_claims(token: &str, claims: &Value) -> String {
    let [header, _, signature] = parts(token);
    let claims = b64url_encode(claims.to_string().as_bytes());
    format!("{header}.{claims}.{signature}")
}

/// The `alg: none` form of `token`: same claims, no signature.
pub fn unsigned(token: &str) -> String {
    let [_, claims, _] = parts(token);
    let header = serde_json::json!({"alg": "none", "typ": "JWT", "kid": "primary"});
    format!("{}.{claims}.", b64url_encode(header.to_string().as_bytes()))
}

/// A token for the same user and session as `token`, signed by the core's signer with
/// `secret` under key id `primary`, with `config`'s issuer, audience and lifetime, issued
/// at `issued_at`.
pub fn resign(
    token: &str,
    secret: &[u8],
    config: AccessTokenConfig,
    issued_at: Timestamp,
) -> String {
    resign_with(token, hs256("primary", secret), config, issued_at)
}

/// An HS256 key.
pub fn hs256(kid: &str, secret: &[u8]) -> JwtKey {
    JwtKey::hs256(kid, secret).expect("hs256 key")
}

/// As [`resign`], signed with `key`.
pub fn resign_with(
    token: &str,
    key: JwtKey,
    config: AccessTokenConfig,
    issued_at: Timestamp,
) -> String {
    let (_, claims) = decode(token);
    let user = UserId::parse(claims["sub"].as_str().expect("sub")).expect("user id");
    let session = SessionId::parse(claims["sid"].as_str().expect("sid")).expect("session id");
    let tokens = AccessTokens::new(KeySet::new(key, Vec::new()).expect("key set"), config);
    tokens
        .issue(&user, &session, issued_at)
        .expect("signed")
        .token
}

#[test]
fn base64url_round_trips() {
    for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
        let encoded = b64url_encode(text.as_bytes());
        assert_eq!(b64url_decode(&encoded), text.as_bytes(), "{text}");
    }
    assert_eq!(b64url_encode(b"foobar"), "Zm9vYmFy");
    assert_eq!(b64url_encode(&[0xfb, 0xff]), "-_8");
}
