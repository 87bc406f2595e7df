//! Header rules shared by every response: request ids, security headers, cache policy,
//! rate-limit headers and entity tags.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use http::header::{CACHE_CONTROL, ETAG, HeaderName, HeaderValue, STRICT_TRANSPORT_SECURITY};
use taskflow_core::auth::RateDecision;

/// `X-Request-Id`.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// `X-CSRF-Token`.
pub static X_CSRF_TOKEN: HeaderName = HeaderName::from_static("x-csrf-token");
/// `X-Forwarded-For`.
pub static X_FORWARDED_FOR_NAME: HeaderName = HeaderName::from_static("x-forwarded-for");
/// `RateLimit-Policy`.
pub static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`.
pub static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// `Cache-Control` of auth responses and the account: never stored anywhere.
pub const NO_STORE: &str = "no-store";
/// `Cache-Control` of task and stats responses: cacheable by the client only, revalidated.
pub const PRIVATE_NO_CACHE: &str = "private, no-cache";

/// The request id to use: the client's when it is sane (1..=64 of `[A-Za-z0-9._:-]`), a
/// fresh random one otherwise, so ids never carry log-injection payloads.
///
/// A generated id is 128 bits of the operating system's CSPRNG in base64url (22 characters,
/// inside the sane pattern): never an id of the ObjectId generator, which would show anyone
/// the process bytes and counter every user, task and session id is made of. The bytes are
/// drawn from the OS a block at a time per thread, each used once.
pub fn request_id(headers: &HeaderMap) -> String {
    let sane = headers
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
        });
    match sane {
        Some(id) => id.to_owned(),
        None => URL_SAFE_NO_PAD.encode(fresh_id_bytes()),
    }
}

/// 16 bytes of the operating system's CSPRNG for a generated request id. They come from a
/// per-thread block of 512 drawn at once, so that 32 ids cost one system call rather than one
/// each; every byte is handed out once. A block only ever serves request ids, which are shown
/// to clients: secrets draw their own bytes ([`random_bytes`](taskflow_core::domain::ids::random_bytes)).
fn fresh_id_bytes() -> [u8; 16] {
    use std::cell::RefCell;
    const BLOCK: usize = 512;
    thread_local! {
        static POOL: RefCell<(usize, [u8; BLOCK])> = const { RefCell::new((BLOCK, [0; BLOCK])) };
    }
    POOL.with_borrow_mut(|(used, block)| {
        if *used == BLOCK {
            *block = taskflow_core::domain::ids::random_bytes::<BLOCK>();
            *used = 0;
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&block[*used..*used + 16]);
        // Spent bytes are wiped, so that the block never holds an id already handed out.
        block[*used..*used + 16].fill(0);
        *used += 16;
        id
    })
}

/// Settles a request's id before anything reads it: the [`request_id`] to use is written into
/// `headers` (replacing an unusable one), so the request context, problem bodies and the
/// response header all agree on it, even when it is generated. Returns it.
pub fn settle_request_id(headers: &mut HeaderMap) -> String {
    let id = request_id(headers);
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(X_REQUEST_ID.clone(), value);
    }
    id
}

/// Headers every response carries: the request id, `nosniff`, and HSTS when `hsts`.
pub fn set_common_headers(headers: &mut HeaderMap, request_id: &str, hsts: bool) {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(X_REQUEST_ID.clone(), value);
    }
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    if hsts {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
}

/// `RateLimit-Policy` and `RateLimit` for `decision`.
pub fn set_rate_limit_headers(headers: &mut HeaderMap, decision: &RateDecision) {
    for (name, value) in [
        (&RATELIMIT_POLICY, decision.policy_header()),
        (&RATELIMIT, decision.ratelimit_header()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name.clone(), value);
        }
    }
}

/// `Cache-Control: value`.
pub fn set_cache_control(headers: &mut HeaderMap, value: &'static str) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
}

/// The strong ETag of a task version: `"v3"`.
pub fn version_etag(version: u64) -> String {
    format!("\"v{version}\"")
}

/// A strong ETag of a response body (lists and stats): its 128-bit XXH3 digest.
///
/// A validator needs to tell representations apart, not to resist forgery (a client can only
/// ever be sent its own data), so the digest is XXH3 rather than a cryptographic hash: on a
/// page of 20 tasks SHA-256 was 6% of the request's CPU, XXH3 is a small fraction of that.
pub fn body_etag(body: &[u8]) -> String {
    let digest = xxhash_rust::xxh3::xxh3_128(body);
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(digest.to_be_bytes()))
}

/// Sets `ETag`.
pub fn set_etag(headers: &mut HeaderMap, etag: &str) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(ETAG, value);
    }
}

/// Whether an `If-None-Match` value matches `etag` (`*`, or a list; weak comparison, as
/// RFC 9110 prescribes for `If-None-Match`).
pub fn if_none_match(header: Option<&str>, etag: &str) -> bool {
    header.is_some_and(|value| {
        value.split(',').map(str::trim).any(|candidate| {
            candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
        })
    })
}

/// What an `If-Match` header requires of a task's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: no condition.
    Absent,
    /// `*`: the task must exist.
    Any,
    /// One of the listed strong tags names this version.
    Version(u64),
    /// Nothing listed can match a current version (weak tags, foreign tags).
    Never,
}

/// Parses `If-Match` against the version-ETag format (strong comparison, RFC 9110).
pub fn if_match(header: Option<&str>) -> IfMatch {
    let Some(value) = header else {
        return IfMatch::Absent;
    };
    let mut tags = value.split(',').map(str::trim).filter(|t| !t.is_empty());
    if value.trim() == "*" {
        return IfMatch::Any;
    }
    tags.find_map(|tag| {
        tag.strip_prefix("\"v")
            .and_then(|t| t.strip_suffix('"'))
            .and_then(|n| n.parse().ok())
    })
    .map_or(IfMatch::Never, IfMatch::Version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_etags_are_quoted_digests_that_tell_bodies_apart() {
        let a = body_etag(br#"{"items":[]}"#);
        assert_eq!(a, body_etag(br#"{"items":[]}"#));
        assert_ne!(a, body_etag(br#"{"items":[{}]}"#));
        let inner = a
            .strip_prefix('"')
            .and_then(|a| a.strip_suffix('"'))
            .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(inner).unwrap().len(), 16);
    }

    #[test]
    fn request_ids_are_echoed_only_when_sane() {
        let mut headers = HeaderMap::new();
        headers.insert(
            X_REQUEST_ID.clone(),
            HeaderValue::from_static("abc-123.x_y:z"),
        );
        assert_eq!(request_id(&headers), "abc-123.x_y:z");
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            let mut headers = HeaderMap::new();
            headers.insert(X_REQUEST_ID.clone(), HeaderValue::from_str(bad).unwrap());
            let generated = request_id(&headers);
            assert_ne!(generated, bad);
            assert_eq!(URL_SAFE_NO_PAD.decode(&generated).unwrap().len(), 16);
            assert_eq!(request_id(&HeaderMap::new()).len(), 22);
        }
    }

    #[test]
    fn generated_ids_never_repeat_across_blocks() {
        // 100 ids span several per-thread blocks: a block reused or refilled wrongly repeats.
        let ids: std::collections::HashSet<String> =
            (0..100).map(|_| request_id(&HeaderMap::new())).collect();
        assert_eq!(ids.len(), 100);
        assert!(!ids.contains(&URL_SAFE_NO_PAD.encode([0u8; 16])));
    }

    #[test]
    fn etag_conditions() {
        assert!(if_none_match(Some("\"v3\""), "\"v3\""));
        assert!(if_none_match(Some("W/\"v3\", \"v4\""), "\"v3\""));
        assert!(if_none_match(Some("*"), "\"v3\""));
        assert!(!if_none_match(Some("\"v2\""), "\"v3\""));
        assert!(!if_none_match(None, "\"v3\""));
        assert_eq!(if_match(None), IfMatch::Absent);
        assert_eq!(if_match(Some("*")), IfMatch::Any);
        assert_eq!(if_match(Some("\"v7\"")), IfMatch::Version(7));
        assert_eq!(if_match(Some("W/\"v7\"")), IfMatch::Never);
        assert_eq!(if_match(Some("\"abc\"")), IfMatch::Never);
    }
}
