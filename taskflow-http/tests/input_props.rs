//! Robustness of every parser of the HTTP layer that sees client input: query strings and
//! JSON bodies (decoded into the wire format and validated), `X-Forwarded-For` behind trusted
//! proxies, and allowed-origin lists; arbitrary bytes and texts and structured garbage get an
//! error or a value that obeys the rules, never a panic. (The core's own parsers, of cursors,
//! tokens and values, have theirs in `taskflow-core/tests/parser_props.rs`.)
//!
//! Inputs are bounded so each case runs in bounded time; nothing here measures time. A panic is
//! a failing case (proptest catches it and shrinks the input).

use std::net::IpAddr;

use proptest::prelude::*;
use serde_json::{Value, json};
use taskflow_core::Timestamp;
use taskflow_core::domain::Priority;
use taskflow_core::query::{SearchText, Sort};
use taskflow_core::testkit::inputs::{bytes, text};
use taskflow_http::client_ip::TrustedProxies;
use taskflow_http::csrf::{AllowedOrigins, is_unsafe_method};
use taskflow_http::input::{
    LoginInput, NewTaskInput, RegisterInput, TaskListParams, TaskPatchInput, TokenGrantInput,
    from_json_object,
};

// ---- Strategies shared by the properties. ----

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

// ---- Client IP (X-Forwarded-For) and origins. ----

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

    /// Methods of any text: only the safe ones skip the CSRF check (fail-closed).
    #[test]
    fn unsafe_methods_are_all_but_the_safe_ones(method in prop_oneof![
        prop::sample::select(vec!["GET", "POST", "post", "PATCH", "DELETE", "HEAD", "FOO"])
            .prop_map(str::to_owned),
        text(8),
    ]) {
        let safe = matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE");
        prop_assert_eq!(is_unsafe_method(&method), !safe);
    }
}
