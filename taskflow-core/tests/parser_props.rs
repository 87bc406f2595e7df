//! Robustness of every core parser that sees client input: arbitrary bytes and texts, and
//! structured garbage (real cursors, JWTs and refresh tokens with mutated parts, well-formed
//! shapes with wrong values) get an error or a value that obeys the rules, never a panic.
//!
//! Inputs are bounded so each case runs in bounded time; nothing here measures time. A panic is
//! a failing case (proptest catches it and shrinks the input).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{Value, json};
use taskflow_core::Timestamp;
use taskflow_core::auth::csrf::{AllowedOrigins, CsrfTokens};
use taskflow_core::auth::input::{LoginInput, RegisterInput, TokenGrantInput};
use taskflow_core::auth::jwt::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow_core::auth::refresh::{RefreshToken, RefreshTokenKeys};
use taskflow_core::auth::{TrustedProxies, is_unsafe_method};
use taskflow_core::domain::{
    Email, NewTaskInput, Priority, SessionId, TaskId, TaskPatchInput, UserId, from_json_object,
};
use taskflow_core::query::{
    CursorCodec, CursorKey, CursorToken, Position, SearchText, Sort, TaskFilter, TaskListParams,
};

// ---- Strategies shared by the properties. ----

/// Characters that matter to the parsers here: separators, quotes, escapes, white space,
/// controls, the base64url alphabet, and anything else.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(
            "\0\t\n\r \"'%&+,-./:;=?@[\\]_{}~*#!$()<>|^`AZaz09\u{7f}\u{85}\u{a0}\u{2028}\u{feff}\u{fffd}"
                .chars()
                .collect::<Vec<_>>()
        ),
        2 => prop::char::range('0', 'z'),
        1 => any::<char>(),
    ]
}

/// A text of up to `max` characters, weighted towards the tricky ones.
fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(tricky_char(), 0..=max).prop_map(|c| c.into_iter().collect()),
        prop::collection::vec(any::<char>(), 0..=max).prop_map(|c| c.into_iter().collect()),
        prop::string::string_regex(&format!("[A-Za-z0-9_-]{{0,{max}}}")).expect("a regex"),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

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

// ---- Query strings. ----

const PARAMETERS: [&str; 9] = [
    "completed",
    "tag",
    "priority",
    "due_before",
    "due_after",
    "q",
    "sort",
    "limit",
    "cursor",
];

/// A value for one parameter: a valid one or garbage.
fn parameter_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "true",
            "false",
            "home",
            "a_b-1",
            "low",
            "medium",
            "high",
            "2030-01-02T00:00:00Z",
            "2030-01-02T01:00:00+01:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "milk",
            "due_at",
            "-created_at",
            "1",
            "100",
            "101",
            "0",
            "-1",
            "18446744073709551616",
            "",
        ])
        .prop_map(str::to_owned),
        text(40),
    ]
}

/// Whether `value` is valid for `name` on its own.
fn valid_parameter(name: &str, value: &str) -> bool {
    match name {
        "completed" => value == "true" || value == "false",
        "tag" => taskflow_core::domain::Tag::parse(value).is_ok(),
        "priority" => Priority::parse(value).is_ok(),
        "due_before" | "due_after" => Timestamp::parse_rfc3339(value).is_ok(),
        "q" => SearchText::parse(value).is_ok(),
        "sort" => Sort::parse(value).is_ok(),
        "limit" => value.parse::<u64>().is_ok_and(|n| (1..=100).contains(&n)),
        // Checked when the page is read, against the query it continues.
        "cursor" => true,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn query_garbage_never_panics(query in text(300)) {
        if let Ok(params) = serde_urlencoded::from_str::<TaskListParams>(&query) {
            let _ = params.parse();
        }
    }

    /// Well-formed query strings of known and unknown parameters with valid and invalid
    /// values: the query is accepted exactly when every parameter is known, given once, and
    /// valid.
    #[test]
    fn structured_queries_are_judged_parameter_by_parameter(
        pairs in prop::collection::vec(
            (prop_oneof![
                6 => prop::sample::select(PARAMETERS.to_vec()).prop_map(str::to_owned),
                1 => text(10),
            ], parameter_value()),
            0..8,
        ),
    ) {
        let query = serde_urlencoded::to_string(&pairs).expect("encoded");
        let mut names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let repeated = names.windows(2).any(|w| w[0] == w[1]);
        let expected = !repeated && pairs.iter().all(|(n, v)| valid_parameter(n, v));
        let parsed = serde_urlencoded::from_str::<TaskListParams>(&query)
            .ok()
            .map(TaskListParams::parse);
        let accepted = matches!(parsed, Some(Ok(_)));
        prop_assert_eq!(accepted, expected, "?{}", query);
    }
}

// ---- JSON bodies. ----

/// Decodes `body` as every body type and validates what decodes; panics are the failure.
fn decode_every_body(body: &[u8]) -> [bool; 5] {
    let new = from_json_object::<NewTaskInput>(body).map(|i| {
        let _ = i.validate();
    });
    let patch = from_json_object::<TaskPatchInput>(body).map(|i| {
        let _ = i.validate();
    });
    let register = from_json_object::<RegisterInput>(body).map(|i| {
        let _ = i.validate();
    });
    let login = from_json_object::<LoginInput>(body).map(|i| {
        let _ = i.validate();
    });
    let token = from_json_object::<TokenGrantInput>(body).map(|grant| {
        if let TokenGrantInput::Password { email, password } = grant {
            let _ = LoginInput { email, password }.validate();
        }
    });
    [
        new.is_ok(),
        patch.is_ok(),
        register.is_ok(),
        login.is_ok(),
        token.is_ok(),
    ]
}

/// A field value: one of the right type with tricky content, or a value of any shape.
fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => text(40).prop_map(Value::String),
        1 => prop::collection::vec(text(40).prop_map(Value::String), 0..25).prop_map(Value::Array),
        1 => prop::sample::select(vec![
            json!("2030-01-02T00:00:00Z"), json!("0001-01-01T00:00:00+01:00"),
            json!("9999-12-31T23:59:59.999-00:01"), json!("a@example.com"), json!(" A@Example.COM "),
            json!("password"), json!("refresh_token"), json!("high"), json!(true), json!(null),
            json!("x".repeat(10_001)), json!(["a", "a"]),
        ]),
        1 => json_value(),
    ]
}

/// An object with the fields of the body types (and others), of any value.
fn body_object() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        8 => prop::sample::select(vec![
            "title", "description", "due_at", "priority", "tags", "completed", "email",
            "password", "name", "grant_type", "refresh_token",
        ])
        .prop_map(str::to_owned),
        1 => text(10),
    ];
    prop::collection::btree_map(name, field_value(), 0..7)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn body_bytes_never_panic(body in bytes(2048)) {
        let _ = decode_every_body(&body);
    }

    /// Any JSON document that is not an object is refused by every body type.
    #[test]
    fn json_that_is_not_an_object_is_refused(value in json_value()) {
        let body = serde_json::to_vec(&value).expect("JSON");
        let decoded = decode_every_body(&body);
        if !value.is_object() {
            prop_assert_eq!(decoded, [false; 5]);
        }
    }

    /// Objects with the fields of the bodies and values of every kind decode and validate
    /// without panicking; an object with a field no body has is refused by every body.
    #[test]
    fn structured_bodies_never_panic(object in body_object(), padding in "[ \t\r\n]{0,3}") {
        let body = format!("{padding}{object}{padding}");
        let decoded = decode_every_body(body.as_bytes());
        let known = [
            "title", "description", "due_at", "priority", "tags", "completed", "email",
            "password", "name", "grant_type", "refresh_token",
        ];
        let unknown = object
            .as_object()
            .expect("an object")
            .keys()
            .any(|k| !known.contains(&k.as_str()));
        if unknown {
            prop_assert_eq!(decoded, [false; 5]);
        }
    }
}

/// Nesting far beyond serde_json's recursion limit is an error, not a stack overflow: at the
/// top, inside a field, and inside the token grant (whose tag is read by buffering the object).
#[test]
fn deeply_nested_bodies_are_refused() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    for body in [
        deep(100_000),
        format!("{{\"title\":{}}}", deep(100_000)),
        format!("{{\"x\":{}}}", deep(100_000)),
        format!(
            "{{\"grant_type\":\"password\",\"email\":{}}}",
            deep(100_000)
        ),
        format!(
            "{{\"email\":{},\"grant_type\":\"password\"}}",
            deep(100_000)
        ),
        "{\"a\":".repeat(50_000),
    ] {
        assert_eq!(decode_every_body(body.as_bytes()), [false; 5]);
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

// ---- Client IP (X-Forwarded-For), origins and CSRF tokens. ----

fn proxies() -> TrustedProxies {
    TrustedProxies::parse("10.0.0.0/8, 192.0.2.7, fd00::/8, ::ffff:172.16.0.1").expect("proxies")
}

/// One `X-Forwarded-For` entry: an address (trusted or not, with or without a port, bracketed,
/// IPv4-mapped) or garbage.
fn forwarded_entry() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "10.1.2.3",
            "192.0.2.7",
            "203.0.113.9",
            "203.0.113.9:443",
            "[2001:db8::1]:8443",
            "[2001:db8::1]",
            "2001:db8::1",
            "fd00::5",
            "::ffff:10.0.0.1",
            "::ffff:203.0.113.9",
            "unknown",
            "",
            " ",
            "[",
            "]",
            "[::1",
            "::1]",
            "1.2.3.4:",
            "1.2.3.4:99999",
            "1.2.3.4:65535:1",
            "[fe80::1%eth0]",
            "999.1.1.1",
            "1.2.3",
            "_hidden",
        ])
        .prop_map(str::to_owned),
        any::<IpAddr>().prop_map(|ip| ip.to_string()),
        text(24),
    ]
}

/// Every address an `X-Forwarded-For` entry could be read as, by any lenient reading (an
/// oracle written apart from the parser: bare, bracketed, with a port).
fn addresses_in(entry: &str) -> Vec<IpAddr> {
    let entry = entry.trim();
    let mut found = Vec::new();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        found.push(ip);
    }
    if let Some((inside, _)) = entry
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
    {
        found.extend(inside.parse::<IpAddr>());
    }
    if let Some((host, _)) = entry.rsplit_once(':') {
        found.extend(host.parse::<std::net::Ipv4Addr>().map(IpAddr::V4));
    }
    found.into_iter().map(|ip| ip.to_canonical()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Whatever `X-Forwarded-For` says, the client is the peer or an address listed in it, and
    /// an untrusted peer is always the client.
    #[test]
    fn forwarded_for_never_panics_and_names_a_listed_address(
        peer in prop_oneof![
            Just("10.9.9.9".parse::<IpAddr>().expect("ip")),
            Just("::ffff:10.0.0.1".parse::<IpAddr>().expect("ip")),
            any::<IpAddr>(),
        ],
        raw in text(200),
        entries in prop::collection::vec(forwarded_entry(), 0..6),
        structured in any::<bool>(),
    ) {
        let header = if structured { entries.join(",") } else { raw };
        let proxies = proxies();
        let client = proxies.client_ip(peer, Some(&header));
        if proxies.trusts(peer) {
            let listed = client == peer.to_canonical()
                || header.split(',').any(|entry| addresses_in(entry).contains(&client));
            prop_assert!(listed, "{} is not in {:?}", client, header);
        } else {
            prop_assert_eq!(client, peer.to_canonical());
        }
    }

    /// The configured list parses or is refused; any `Origin` is allowed only when it is an
    /// origin whose normal form is on the list.
    #[test]
    fn origins_never_panic(list in text(80), origin in prop_oneof![
        text(60),
        (
            prop::sample::select(vec!["http", "https", "HTTPS", "ftp", "", "http:"]),
            prop::sample::select(vec![
                "app.example.com", "APP.example.com", "localhost", "127.0.0.1", "[::1]", "[::1",
                "[zz]", "", "user@host", "exa mple.com", "bücher.de", "xn--bcher-kva.de",
            ]),
            prop::sample::select(vec![
                "", ":443", ":80", ":5173", ":", ":65536", ":-1", ":99999999999", "/", "/x",
                "?q", "#f",
            ]),
        )
            .prop_map(|(scheme, host, rest)| format!("{scheme}://{host}{rest}")),
    ]) {
        let _ = AllowedOrigins::parse(&list);
        let allowed = AllowedOrigins::parse(
            "https://app.example.com, http://localhost:5173, http://[::1]:8080",
        )
        .expect("origins");
        if allowed.is_allowed(&origin) {
            let alone = AllowedOrigins::parse(origin.trim()).expect("an allowed origin parses");
            prop_assert!(allowed.as_slice().contains(&alone.as_slice()[0]), "{}", origin);
        }
    }

    /// CSRF tokens of any text: only the session's own token, in both places, passes.
    #[test]
    fn csrf_tokens_never_panic(
        cookie in prop::option::of(text(60)),
        header in prop::option::of(text(60)),
        method in prop_oneof![
            prop::sample::select(vec!["GET", "POST", "post", "PATCH", "DELETE", "HEAD", "FOO"])
                .prop_map(str::to_owned),
            text(8),
        ],
    ) {
        let tokens = CsrfTokens::new(b"parser-props csrf secret");
        let session = SessionId::from_bytes([3; 12]);
        let expected = tokens.token_for(&session);
        let verified = tokens.verify(&session, cookie.as_deref(), header.as_deref());
        let both = cookie.as_deref() == Some(&expected) && header.as_deref() == Some(&expected);
        prop_assert_eq!(verified.is_ok(), both);
        let _ = is_unsafe_method(&method);
    }
}
