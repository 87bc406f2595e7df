//! Robustness of the HTTP layer's parsers of client input: cookies, request ids,
//! `Authorization`, `If-Match`/`If-None-Match`, `Content-Type`, `X-Forwarded-For`, `Origin` and
//! the CORS request headers, and request paths. Arbitrary header bytes (any a `HeaderValue`
//! can hold, non-UTF-8 included) and structured garbage give an answer that obeys the rules,
//! never a panic. Inputs are bounded; nothing here measures time.

use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;

use http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD,
    CONTENT_TYPE, COOKIE, HeaderName, HeaderValue, ORIGIN,
};
use http::{HeaderMap, Method};
use proptest::prelude::*;

use crate::App;
use crate::client_ip::TrustedProxies;
use crate::cookies::{CookieKind, CookiePolicy};
use crate::csrf::AllowedOrigins;
use crate::headers::{IfMatch, X_FORWARDED_FOR_NAME, if_match, if_none_match, request_id};

/// Header bytes: anything a `HeaderValue` accepts (visible ASCII, space, tab, obs-text).
fn header_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b" \t\"';,=:/[]*%-_.W".to_vec()),
        4 => 0x21_u8..=0x7e,
        1 => 0x80_u8..=0xff,
    ];
    prop::collection::vec(byte, 0..=max)
}

fn header_value(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).expect("only bytes a header value can hold")
}

fn text_of(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

fn app() -> &'static App {
    static APP: LazyLock<App> = LazyLock::new(|| {
        let origins = "https://app.example.com, http://localhost:5173";
        App::builder(crate::Stores::memory())
            .ephemeral_secret()
            .allowed_origins(AllowedOrigins::parse(origins).expect("origins"))
            .trusted_proxies(TrustedProxies::parse("10.0.0.0/8, fd00::/8").expect("proxies"))
            .build()
            .expect("an app")
    });
    &APP
}

/// A `Cookie` header: arbitrary bytes, or pairs with our cookie names, quotes, empty values,
/// `=` inside values and odd separators.
fn cookie_header() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "__Host-taskflow_access",
            "__Secure-taskflow_refresh",
            "__Host-taskflow_csrf",
            "taskflow_access",
            "__host-taskflow_access",
            " __Host-taskflow_access",
            "",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_-]{0,8}",
    ];
    let value = prop_oneof![
        "[A-Za-z0-9_.-]{0,40}",
        Just("\"quoted\"".to_owned()),
        Just("\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("a=b=c".to_owned()),
        Just(String::new()),
    ];
    let separator = prop::sample::select(vec!["; ", ";", ";;", " ; ", ","]);
    let pairs = prop::collection::vec((name, value, separator), 0..5).prop_map(|pairs| {
        let mut out = String::new();
        for (name, value, separator) in pairs {
            out.push_str(&name);
            out.push('=');
            out.push_str(&value);
            out.push_str(separator);
        }
        out.into_bytes()
    });
    prop_oneof![pairs, header_bytes(120)]
}

/// An `If-Match`/`If-None-Match` list: version tags (strong, weak, overflowing), `*`, and
/// garbage, with odd spacing and empty members.
fn etag_list() -> impl Strategy<Value = String> {
    let member = prop_oneof![
        any::<u64>().prop_map(|v| format!("\"v{v}\"")),
        (0_u64..5).prop_map(|v| format!("\"v{v}\"")),
        (0_u64..5).prop_map(|v| format!("W/\"v{v}\"")),
        Just("\"v18446744073709551616\"".to_owned()),
        Just("\"v-1\"".to_owned()),
        Just("\"v\"".to_owned()),
        Just("\"v".to_owned()),
        Just("*".to_owned()),
        Just(String::new()),
        "[ -~]{0,12}",
    ];
    let separator = prop::sample::select(vec![",", ", ", " ,", ",,"]);
    prop::collection::vec((member, separator), 0..5).prop_map(|members| {
        let mut list = String::new();
        for (member, separator) in members {
            list.push_str(&member);
            list.push_str(separator);
        }
        list
    })
}

/// What `If-Match` requires, from RFC 9110 and the version-tag format: `*` alone is any
/// version; otherwise the first strong tag `"v<u64>"` names one; otherwise nothing matches.
fn expected_if_match(value: &str) -> IfMatch {
    if value.trim() == "*" {
        return IfMatch::Any;
    }
    value
        .split(',')
        .map(str::trim)
        .find_map(|tag| {
            let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
            inner.strip_prefix('v')?.parse::<u64>().ok()
        })
        .map_or(IfMatch::Never, IfMatch::Version)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A cookie value read back is non-empty, unquoted at its ends, free of `;`, and was sent.
    #[test]
    fn cookies_never_panic(headers in prop::collection::vec(cookie_header(), 0..3), secure in any::<bool>()) {
        let mut map = HeaderMap::new();
        for bytes in &headers {
            map.append(COOKIE, header_value(bytes));
        }
        let policy = CookiePolicy::new(secure);
        for kind in [CookieKind::Access, CookieKind::Refresh, CookieKind::Csrf] {
            if let Some(value) = policy.get(&map, kind) {
                prop_assert!(!value.is_empty());
                prop_assert!(!value.contains(';'));
                prop_assert!(!value.starts_with('"') && !value.ends_with('"'));
                let sent = headers
                    .iter()
                    .filter_map(|b| text_of(b))
                    .any(|text| {
                        text.split(';').any(|pair| {
                            pair.trim().strip_prefix(policy.name(kind)).and_then(|p| p.strip_prefix('='))
                                .is_some_and(|sent| sent.contains(&value))
                        })
                    });
                prop_assert!(sent, "{value:?} was not sent");
            }
        }
    }

    /// The request id is the client's when it is sane, a generated one otherwise: always sane.
    #[test]
    fn request_ids_are_always_sane(bytes in header_bytes(80)) {
        let mut map = HeaderMap::new();
        map.insert(HeaderName::from_static("x-request-id"), header_value(&bytes));
        let id = request_id(&map);
        prop_assert!((1..=64).contains(&id.len()));
        prop_assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(&b)));
        let sane = text_of(&bytes).is_some_and(|t| {
            (1..=64).contains(&t.len())
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b".:_-".contains(&b))
        });
        if sane {
            prop_assert_eq!(id.as_bytes(), &bytes[..]);
        }
    }

    /// `If-Match` lists of every shape are read as RFC 9110 says, and `If-None-Match` matches
    /// exactly when `*` or the tag (weakly) is listed.
    #[test]
    fn conditional_headers_follow_the_rules(list in etag_list(), version in 0_u64..5, raw in "[ -~]{0,60}") {
        prop_assert_eq!(if_match(Some(&list)), expected_if_match(&list), "{:?}", list);
        let _ = if_match(Some(&raw));
        let etag = format!("\"v{version}\"");
        let listed = list
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag.as_str()));
        prop_assert_eq!(if_none_match(Some(&list), &etag), listed, "{:?}", list);
        let _ = if_none_match(Some(&raw), &etag);
    }

    /// `Authorization`: a token only from the `Bearer` scheme (any case), never empty.
    #[test]
    fn authorization_never_panics(value in prop_oneof![
        "[ -~]{0,80}",
        "(Bearer|bearer|BEARER|Basic|Bearer\t|Bearer ) {0,3}[ -~]{0,40}",
    ]) {
        if let Some(token) = crate::endpoints::bearer(&value) {
            prop_assert!(!token.is_empty());
            prop_assert_eq!(token, token.trim());
            prop_assert!(value.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("bearer ")));
        }
    }

    /// The request context reads every header without panicking: `Content-Type`, several
    /// `X-Forwarded-For` (behind a trusted proxy, so they are read), and the rest as sent.
    #[test]
    fn request_contexts_never_panic(
        content_type in prop_oneof![
            header_bytes(40),
            "(application/json|APPLICATION/JSON|application/jsonx|text/plain| application/json ?)(; ?charset=[a-z0-9-]{0,8})?"
                .prop_map(String::into_bytes),
        ],
        forwarded in prop::collection::vec(header_bytes(60), 0..3),
        peer in prop_oneof![Just("10.1.1.1".parse::<IpAddr>().expect("an ip")), any::<IpAddr>()],
        path in "[ -~]{0,60}",
    ) {
        let mut map = HeaderMap::new();
        map.insert(CONTENT_TYPE, header_value(&content_type));
        for bytes in &forwarded {
            map.append(&X_FORWARDED_FOR_NAME, header_value(bytes));
        }
        let ctx = app().request_context(&Method::POST, &path, &map, SocketAddr::new(peer, 4000));
        let json = text_of(&content_type).is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        prop_assert_eq!(ctx.is_json(), json);
        if !app().settings().trusted_proxies.trusts(peer) {
            prop_assert_eq!(ctx.client_ip, peer.to_canonical());
        }
        prop_assert!(ctx.route == crate::routes::OTHER || ctx.route.starts_with('/'));
        if let Some((_, Some(id))) = app().routes().find(&path) {
            prop_assert!(path.ends_with(id));
        }
    }

    /// CORS: `Origin` and the preflight's request headers of any bytes; an origin is echoed
    /// only when it is an allowed one, exactly as sent.
    #[test]
    fn cors_never_panics(
        origin in prop_oneof![
            header_bytes(60),
            prop::sample::select(vec![
                "https://app.example.com", "HTTPS://APP.EXAMPLE.COM:443", "http://localhost:5173",
                "null", "https://app.example.com.evil.com", "https://app.example.com/",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
        ],
        method in header_bytes(12),
        requested in prop::collection::vec(header_bytes(40), 0..3),
    ) {
        let mut map = HeaderMap::new();
        map.insert(ORIGIN, header_value(&origin));
        map.insert(ACCESS_CONTROL_REQUEST_METHOD, header_value(&method));
        for bytes in &requested {
            map.append(ACCESS_CONTROL_REQUEST_HEADERS, header_value(bytes));
        }
        let preflight = crate::cors::preflight(app(), &map);
        let mut decorated = HeaderMap::new();
        crate::cors::decorate(app(), &map, &mut decorated);
        for answer in [preflight.headers(), &decorated] {
            if let Some(allowed) = answer.get(ACCESS_CONTROL_ALLOW_ORIGIN) {
                prop_assert_eq!(allowed.as_bytes(), &origin[..]);
                let text = text_of(&origin).expect("an allowed origin is text");
                prop_assert!(app().settings().allowed_origins.is_allowed(text));
            }
        }
    }
}
