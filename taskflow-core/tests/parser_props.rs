//! Robustness of every core parser that sees client input: arbitrary bytes and texts, and
//! structured garbage (real cursors, JWTs and refresh tokens with mutated parts, well-formed
//! shapes with wrong values) get an error or a value that obeys the rules, never a panic.
//!
//! Inputs are bounded so each case runs in bounded time; nothing here measures time. A panic is
//! a failing case (proptest catches it and shrinks the input).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Value, json};
use taskflow_core::Timestamp;
use taskflow_core::auth::csrf::CsrfTokens;
use taskflow_core::auth::jwt::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow_core::auth::refresh::{RefreshToken, RefreshTokenKeys};
use taskflow_core::domain::{Email, Priority, SessionId, TaskId, UserId};
use taskflow_core::query::{
    CursorCodec, CursorKey, CursorToken, Position, SearchText, Sort, TaskFilter,
};
use taskflow_core::testkit::inputs::{bytes, text, tricky_char};

// ---- Strategies shared by the properties. ----

/// 2026-11-26T10:00:00Z.
fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_795_687_200_000).expect("in range")
}

/// A text edited once: a character replaced, removed or inserted, the text cut or extended.
#[derive(Debug, Clone)]
enum Edit {
    Replace(prop::sample::Index, char),
    Remove(prop::sample::Index),
    Insert(prop::sample::Index, char),
    Truncate(prop::sample::Index),
    Append(String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<prop::sample::Index>(), tricky_char()).prop_map(|(i, c)| Edit::Replace(i, c)),
        any::<prop::sample::Index>().prop_map(Edit::Remove),
        (any::<prop::sample::Index>(), tricky_char()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
        text(8).prop_map(Edit::Append),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    match edit {
        Edit::Replace(i, c) if !chars.is_empty() => {
            let i = i.index(chars.len());
            chars[i] = *c;
        }
        Edit::Remove(i) if !chars.is_empty() => {
            chars.remove(i.index(chars.len()));
        }
        Edit::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
        Edit::Truncate(i) => chars.truncate(i.index(chars.len() + 1)),
        Edit::Append(more) => chars.extend(more.chars()),
        _ => {}
    }
    chars.into_iter().collect()
}

// ---- Cursors. ----

fn codec() -> CursorCodec {
    CursorCodec::new(CursorKey::derive(b"parser-props cursor secret"))
}

fn cursor_query() -> (UserId, TaskFilter, Sort) {
    let owner = UserId::from_bytes([7; 12]);
    (
        owner,
        TaskFilter::default(),
        Sort::parse("due_at").expect("a sort"),
    )
}

fn real_cursor(key: Option<i64>, id: [u8; 12]) -> CursorToken {
    let (owner, filter, sort) = cursor_query();
    let position = Position {
        key: key.and_then(Timestamp::from_unix_millis),
        id: TaskId::from_bytes(id),
    };
    codec().encode(&owner, &filter, &sort, &position)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text, or any bytes in the cursor alphabet (which pass base64 and reach the MAC), is
    /// refused.
    #[test]
    fn cursor_garbage_is_refused(text in text(96), raw in bytes(64)) {
        let (owner, filter, sort) = cursor_query();
        for token in [text, URL_SAFE_NO_PAD.encode(raw)] {
            let token = CursorToken::new(token);
            prop_assert!(codec().decode(&owner, &filter, &sort, &token).is_err());
        }
    }

    /// A real cursor edited anywhere is refused, unless the edit left it as it was.
    #[test]
    fn an_edited_cursor_is_refused(
        key in prop::option::of(-62_135_596_800_000_i64..=253_402_300_799_999),
        id in any::<[u8; 12]>(),
        edit in edit(),
    ) {
        let (owner, filter, sort) = cursor_query();
        let real = real_cursor(key, id);
        prop_assert!(codec().decode(&owner, &filter, &sort, &real).is_ok());
        let edited = apply(real.as_str(), &edit);
        prop_assume!(edited != real.as_str());
        let edited = CursorToken::new(edited);
        prop_assert!(codec().decode(&owner, &filter, &sort, &edited).is_err());
    }
}

// ---- Access tokens (JWT). ----

const JWT_SECRET: &[u8] = b"parser-props-hmac-secret-0123456789abcdef";
const KID: &str = "k1";

fn access_tokens() -> AccessTokens {
    let key = JwtKey::hs256(KID, JWT_SECRET).expect("a key");
    AccessTokens::new(
        KeySet::new(key, Vec::new()).expect("a key set"),
        AccessTokenConfig::default(),
    )
}

fn real_jwt() -> String {
    let user = UserId::from_bytes([1; 12]);
    let session = SessionId::from_bytes([2; 12]);
    access_tokens()
        .issue(&user, &session, now())
        .expect("issued")
        .token
}

/// A JSON value of any shape (bounded).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        text(24).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(8), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JOSE header: the real one, or one with another algorithm, key id or shape.
fn jwt_header() -> impl Strategy<Value = Value> {
    let alg = prop_oneof![
        Just(json!("HS256")),
        Just(json!("none")),
        Just(json!("None")),
        Just(json!("HS512")),
        Just(json!("RS256")),
        Just(json!("ES256")),
        Just(json!("EdDSA")),
        Just(json!("")),
        json_value(),
    ];
    let kid = prop_oneof![
        Just(Some(json!(KID))),
        Just(None),
        Just(Some(json!("unknown"))),
        Just(Some(json!("k".repeat(5000)))),
        json_value().prop_map(Some),
    ];
    (alg, kid, any::<bool>()).prop_map(|(alg, kid, typ)| {
        let mut header = serde_json::Map::new();
        header.insert("alg".into(), alg);
        if let Some(kid) = kid {
            header.insert("kid".into(), kid);
        }
        if typ {
            header.insert("typ".into(), json!("JWT"));
        }
        Value::Object(header)
    })
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}

/// A real token with one segment replaced, segments dropped or added, or a character edited.
#[derive(Debug, Clone)]
enum JwtMutation {
    Header(Value),
    Payload(Value),
    PayloadBytes(Vec<u8>),
    Signature(String),
    Segments(Vec<String>),
    Edit(Edit),
}

fn jwt_mutation() -> impl Strategy<Value = JwtMutation> {
    prop_oneof![
        jwt_header().prop_map(JwtMutation::Header),
        json_value().prop_map(JwtMutation::Payload),
        bytes(64).prop_map(JwtMutation::PayloadBytes),
        text(90).prop_map(JwtMutation::Signature),
        prop::collection::vec(text(12), 0..6).prop_map(JwtMutation::Segments),
        edit().prop_map(JwtMutation::Edit),
    ]
}

fn mutate_jwt(token: &str, mutation: &JwtMutation) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);
    match mutation {
        JwtMutation::Header(value) => format!("{}.{payload}.{signature}", b64(value)),
        JwtMutation::Payload(value) => format!("{header}.{}.{signature}", b64(value)),
        JwtMutation::PayloadBytes(raw) => {
            format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode(raw))
        }
        JwtMutation::Signature(sig) => format!("{header}.{payload}.{sig}"),
        JwtMutation::Segments(extra) => {
            let mut all: Vec<&str> = vec![header, payload];
            all.extend(extra.iter().map(String::as_str));
            all.join(".")
        }
        JwtMutation::Edit(edit) => apply(token, edit),
    }
}

/// One claim: the value a real token has, or absent, or another value of any shape.
fn claim(valid: Value) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        12 => Just(Some(valid)),
        1 => Just(None),
        1 => json_value().prop_map(Some),
    ]
}

/// A JWT time: around a valid value, at the `edges` of its rule, at the edges of the timestamp
/// range, or anything at all.
fn claim_time(valid: i64, edges: Vec<i64>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => (-120_i64..=120).prop_map(move |d| Some(json!(valid + d))),
        3 => prop::sample::select(edges).prop_map(|n| Some(json!(n))),
        1 => prop::sample::select(vec![
            i64::MIN, i64::MAX, i64::MIN / 1000, i64::MAX / 1000, -62_135_596_800,
            -62_135_596_801, 253_402_300_799, 253_402_300_800, 0,
        ])
        .prop_map(|n| Some(json!(n))),
        1 => any::<u64>().prop_map(|n| Some(json!(n))),
        1 => claim(json!(valid)),
    ]
}

fn claims() -> impl Strategy<Value = Value> {
    let now_secs = now().unix_millis() / 1000;
    let sub = claim(json!(UserId::from_bytes([1; 12]).to_string()));
    let sid = claim(json!(SessionId::from_bytes([2; 12]).to_string()));
    let iss = claim(json!("taskflow"));
    let aud = claim(json!("taskflow-api"));
    let jti = prop_oneof![
        6 => Just(Some(json!("abcdefghijklmnopqrstuv"))),
        3 => prop::sample::select(vec![0_usize, 1, 63, 64, 65, 4000])
            .prop_map(|n| Some(json!("j".repeat(n)))),
        1 => claim(json!("x")),
    ];
    (
        (sub, sid, iss, aud, jti),
        claim_time(now_secs, vec![now_secs + 59, now_secs + 60, now_secs + 61]),
        claim_time(now_secs + 900, vec![now_secs - 1, now_secs, now_secs + 1]),
    )
        .prop_map(|((sub, sid, iss, aud, jti), iat, exp)| {
            let mut claims = serde_json::Map::new();
            for (name, value) in [
                ("sub", sub),
                ("sid", sid),
                ("iss", iss),
                ("aud", aud),
                ("jti", jti),
                ("iat", iat),
                ("exp", exp),
            ] {
                if let Some(value) = value {
                    claims.insert(name.into(), value);
                }
            }
            Value::Object(claims)
        })
}

/// What the verifier must decide about correctly signed `claims`, written from the contract:
/// every claim present with its type, our issuer and audience, ids that parse, a `jti` of
/// 1..=64 bytes, times within the timestamp range, not expired, not issued beyond 60 s ahead.
fn expected_valid(claims: &Value) -> bool {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let time = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .and_then(|s| s.checked_mul(1000))
            .and_then(Timestamp::from_unix_millis)
    };
    let now_ms = now().unix_millis();
    text("sub").is_some_and(|s| UserId::parse(s).is_ok())
        && text("sid").is_some_and(|s| SessionId::parse(s).is_ok())
        && text("iss") == Some("taskflow")
        && text("aud") == Some("taskflow-api")
        && text("jti").is_some_and(|j| (1..=64).contains(&j.len()))
        && time("iat").is_some_and(|iat| iat.unix_millis() <= now_ms + 60_000)
        && time("exp").is_some_and(|exp| exp.unix_millis() > now_ms)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn jwt_garbage_is_refused(text in text(200)) {
        prop_assert!(access_tokens().verify(&text, now()).is_err());
    }

    /// A real token with a segment replaced (another algorithm, key id, payload, signature),
    /// segments dropped or added, or a character edited, is refused.
    #[test]
    fn a_mutated_jwt_is_refused(mutation in jwt_mutation()) {
        let real = real_jwt();
        let tokens = access_tokens();
        prop_assert!(tokens.verify(&real, now()).is_ok());
        let mutated = mutate_jwt(&real, &mutation);
        prop_assume!(mutated != real);
        prop_assert!(tokens.verify(&mutated, now()).is_err(), "{}", mutated);
    }

    /// Claims of any shape, correctly signed with the real key (so they reach every claim
    /// check), are accepted exactly when the contract's rules hold.
    #[test]
    fn signed_claims_are_checked_exactly(claims in claims()) {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(KID.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(JWT_SECRET))
            .expect("signed");
        let verified = access_tokens().verify(&token, now());
        prop_assert_eq!(verified.is_ok(), expected_valid(&claims), "{} -> {:?}", claims, verified);
    }
}

// ---- Refresh tokens. ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text parses to an error or to what its bytes say.
    #[test]
    fn refresh_token_garbage_never_panics(text in text(160), raw in bytes(80)) {
        for text in [text, URL_SAFE_NO_PAD.encode(raw)] {
            if let Ok(presented) = RefreshToken::parse(&text) {
                let decoded = URL_SAFE_NO_PAD.decode(&text).expect("it decoded");
                prop_assert_eq!(decoded.len(), 81);
                prop_assert_eq!(decoded[0], 2);
                prop_assert_eq!(&presented.user_id.to_bytes()[..], &decoded[1..13]);
                prop_assert_eq!(&presented.session_id.to_bytes()[..], &decoded[13..25]);
            }
        }
    }

    /// A real refresh token edited anywhere is refused, or names another token (another hash)
    /// whose tag does not verify.
    #[test]
    fn an_edited_refresh_token_is_another_token(edit in edit()) {
        let keys = RefreshTokenKeys::random();
        let (token, hash) = keys.mint(&UserId::generate(), &SessionId::generate(), 0);
        let edited = apply(token.expose(), &edit);
        prop_assume!(edited != token.expose());
        if let Ok(presented) = RefreshToken::parse(&edited) {
            prop_assert_ne!(presented.hash, hash);
            prop_assert!(!keys.verify(&presented));
        }
    }
}

// ---- Field values inside bodies and queries. ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// The value parsers that bodies and queries reach: any text is refused or round-trips.
    #[test]
    fn value_parsers_never_panic(text in text(120)) {
        if let Ok(t) = Timestamp::parse_rfc3339(&text) {
            prop_assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Ok(t));
        }
        if let Ok(email) = Email::parse(&text) {
            prop_assert_eq!(email.as_str(), text.trim().to_lowercase());
        }
        if let Ok(id) = TaskId::parse(&text) {
            prop_assert_eq!(id.to_string(), text.clone());
        }
        let _ = (UserId::parse(&text), SessionId::parse(&text), Sort::parse(&text));
        let _ = (Priority::parse(&text), SearchText::parse(&text));
    }
}

// ---- CSRF tokens. ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// CSRF tokens of any text: only the session's own token, in both places, passes.
    #[test]
    fn csrf_tokens_never_panic(
        cookie in prop::option::of(text(60)),
        header in prop::option::of(text(60)),
    ) {
        let tokens = CsrfTokens::new(b"parser-props csrf secret");
        let session = SessionId::from_bytes([3; 12]);
        let expected = tokens.token_for(&session);
        let verified = tokens.verify(&session, cookie.as_deref(), header.as_deref());
        let both = cookie.as_deref() == Some(&expected) && header.as_deref() == Some(&expected);
        prop_assert_eq!(verified.is_ok(), both);
    }
}
