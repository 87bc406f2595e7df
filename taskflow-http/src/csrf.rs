//! The CSRF check of cookie-authenticated requests, with the origin side of it and of CORS:
//! the double-submit token of `taskflow_core::auth::csrf` (bound to the session), plus the
//! allowed-origin check.
//!
//! Rule (the endpoints run [`CsrfGuard::check`] only for cookie-authenticated requests; bearer
//! tokens are never sent by a browser on its own, so they need no CSRF token): an unsafe method
//! must send `X-CSRF-Token` equal to the CSRF cookie, that value must be the HMAC of the
//! session id, and when the request carries `Origin` it must be an allowed origin. Any failure
//! is `403 csrf_failed`.

use taskflow_core::auth::{CsrfError, CsrfTokens};
use taskflow_core::domain::SessionId;

/// Whether `method` can change state and so needs the CSRF check.
///
/// Fail-closed: everything except the safe methods `GET`, `HEAD`, `OPTIONS` and `TRACE` counts
/// as unsafe, including extension methods. Methods are case-sensitive (RFC 9110), so `post` is
/// an unknown method, hence unsafe too.
pub fn is_unsafe_method(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Why an entry of the allowed-origin list is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// An empty entry (`a,,b` or a trailing comma).
    #[error("the allowed-origin list has an empty entry")]
    Empty,
    /// `*`: credentials must never be shared with every origin.
    #[error("{0:?}: a wildcard cannot be an allowed origin")]
    Wildcard(String),
    /// `null`: sandboxed documents and redirects send it; it identifies nobody.
    #[error("{0:?}: the null origin cannot be allowed")]
    Null(String),
    /// Not `http://` or `https://`.
    #[error("{0:?}: only http and https origins can be allowed")]
    Scheme(String),
    /// Has a path, query or fragment (a trailing slash included).
    #[error("{0:?}: an origin is scheme://host[:port], with no path, not even a slash")]
    Path(String),
    /// The host is empty or not a DNS name or IP literal, or has user information.
    #[error("{0:?}: the host is invalid")]
    Host(String),
    /// The port is empty, not a number, or out of range.
    #[error("{0:?}: the port is invalid")]
    Port(String),
}

/// The browser origins allowed to make cookie-authenticated unsafe requests (and that CORS
/// lists), each normalised to `scheme://host[:port]`: lowercase, default port dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// Parses a comma-separated list (`TASKFLOW_ALLOWED_ORIGINS`); a blank list allows none.
    ///
    /// # Errors
    /// [`OriginError`] naming the first entry that is empty, `*`, `null`, not http(s), has a
    /// path, or has a bad host or port.
    pub fn parse(list: &str) -> Result<Self, OriginError> {
        if list.trim().is_empty() {
            return Ok(Self::default());
        }
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim) {
            let origin = normalise(entry)?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self(origins))
    }

    /// Whether a request's `Origin` header value is allowed (normalised first; `null` and
    /// anything malformed never are).
    pub fn is_allowed(&self, origin: &str) -> bool {
        normalise(origin.trim()).is_ok_and(|origin| self.0.contains(&origin))
    }

    /// The normalised origins, for the CORS layer.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The normalised origins, for the CORS layer.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// `scheme://host[:port]`, lowercase, without the scheme's default port.
fn normalise(entry: &str) -> Result<String, OriginError> {
    let err = |make: fn(String) -> OriginError| make(entry.to_owned());
    match entry {
        "" => return Err(OriginError::Empty),
        "*" => return Err(err(OriginError::Wildcard)),
        _ if entry.eq_ignore_ascii_case("null") => return Err(err(OriginError::Null)),
        _ => {}
    }
    let (scheme, authority) = entry
        .split_once("://")
        .ok_or_else(|| err(OriginError::Scheme))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(err(OriginError::Scheme)),
    };
    if authority.contains(['/', '?', '#']) {
        return Err(err(OriginError::Path));
    }
    // IPv6 literals keep their colons inside brackets; the port follows the last `]`.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().map_err(|_| err(OriginError::Port))?)
        }
        Some(_) => return Err(err(OriginError::Port)),
    };
    let host = host.to_ascii_lowercase();
    let valid_host = if let Some(literal) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
    {
        literal.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        // DNS names (browsers send IDNs as punycode) and IPv4 literals; no user information.
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    if !valid_host {
        return Err(err(OriginError::Host));
    }
    Ok(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// The one CSRF check the adapters run on cookie-authenticated requests.
#[derive(Debug, Clone)]
pub struct CsrfGuard {
    /// Mints and verifies the tokens.
    pub tokens: CsrfTokens,
    /// The origins allowed to send unsafe requests.
    pub origins: AllowedOrigins,
}

impl CsrfGuard {
    /// A guard with these tokens and origins.
    pub fn new(tokens: CsrfTokens, origins: AllowedOrigins) -> Self {
        Self { tokens, origins }
    }

    /// Safe methods pass; unsafe ones need an allowed `Origin` when one is sent, and a valid
    /// token in both the cookie and the header.
    ///
    /// # Errors
    /// [`CsrfError::OriginNotAllowed`] first (it needs no secret), then the errors of
    /// [`CsrfTokens::verify`].
    pub fn check(
        &self,
        method: &str,
        session: &SessionId,
        cookie: Option<&str>,
        header: Option<&str>,
        origin: Option<&str>,
    ) -> Result<(), CsrfError> {
        if !is_unsafe_method(method) {
            return Ok(());
        }
        if origin.is_some_and(|origin| !self.origins.is_allowed(origin)) {
            return Err(CsrfError::OriginNotAllowed);
        }
        self.tokens.verify(session, cookie, header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> CsrfGuard {
        let origins =
            AllowedOrigins::parse("https://app.example.com, http://localhost:5173").unwrap();
        CsrfGuard::new(CsrfTokens::new(b"deployment secret"), origins)
    }

    #[test]
    fn unsafe_methods_are_everything_but_the_safe_ones() {
        for method in ["POST", "PUT", "PATCH", "DELETE", "post", "PROPFIND"] {
            assert!(is_unsafe_method(method), "{method}");
        }
        for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
            assert!(!is_unsafe_method(method), "{method}");
        }
    }

    #[test]
    fn guard_applies_every_rule() {
        let guard = guard();
        let session = SessionId::generate();
        let token = guard.tokens.token_for(&session);
        let t = Some(token.as_str());
        let check = |method, origin| guard.check(method, &session, t, t, origin);
        assert_eq!(
            guard.check("GET", &session, None, None, Some("null")),
            Ok(())
        );
        assert_eq!(
            guard.check("POST", &session, None, None, None),
            Err(CsrfError::MissingToken)
        );
        assert_eq!(check("POST", None), Ok(()));
        assert_eq!(check("DELETE", Some("https://app.example.com")), Ok(()));
        assert_eq!(check("PATCH", Some("HTTPS://App.Example.com:443")), Ok(()));
        assert_eq!(check("PUT", Some("http://localhost:5173")), Ok(()));
        for bad in [
            "https://evil.example",
            "null",
            "http://app.example.com",
            "garbage",
            "",
        ] {
            assert_eq!(
                check("POST", Some(bad)),
                Err(CsrfError::OriginNotAllowed),
                "{bad}"
            );
        }
        let other = guard.tokens.token_for(&SessionId::generate());
        let o = Some(other.as_str());
        assert_eq!(
            guard.check("PUT", &session, o, o, None),
            Err(CsrfError::WrongSession)
        );
    }

    #[test]
    fn origins_are_normalised() {
        let cases = [
            ("HTTPS://App.Example.com:443", "https://app.example.com"),
            ("http://Example.com:80", "http://example.com"),
            ("http://example.com:443", "http://example.com:443"),
            ("https://127.0.0.1:8443", "https://127.0.0.1:8443"),
            ("https://[2001:DB8::1]:443", "https://[2001:db8::1]"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ];
        for (input, normalised) in cases {
            assert_eq!(normalise(input).as_deref(), Ok(normalised), "{input}");
        }
        let list = AllowedOrigins::parse(" https://a.example ,HTTPS://A.example:443").unwrap();
        assert_eq!(list.as_slice(), ["https://a.example"]);
        assert_eq!(list.iter().collect::<Vec<_>>(), ["https://a.example"]);
        assert!(list.is_allowed("https://a.example:443"));
        assert_eq!(AllowedOrigins::parse("  ").unwrap().as_slice().len(), 0);
    }

    #[test]
    fn bad_origins_are_rejected_by_name() {
        let s = String::from;
        let cases = [
            ("*", OriginError::Wildcard(s("*"))),
            ("null", OriginError::Null(s("null"))),
            ("ftp://x", OriginError::Scheme(s("ftp://x"))),
            ("app.example.com", OriginError::Scheme(s("app.example.com"))),
            ("https://x/path", OriginError::Path(s("https://x/path"))),
            ("https://x/", OriginError::Path(s("https://x/"))),
            ("https://x?q", OriginError::Path(s("https://x?q"))),
            ("https://", OriginError::Host(s("https://"))),
            ("https://u@x", OriginError::Host(s("https://u@x"))),
            ("https://[zz]", OriginError::Host(s("https://[zz]"))),
            ("https://x:", OriginError::Port(s("https://x:"))),
            ("https://x:99999", OriginError::Port(s("https://x:99999"))),
            ("https://x:+1", OriginError::Port(s("https://x:+1"))),
        ];
        for (entry, error) in cases {
            assert_eq!(AllowedOrigins::parse(entry), Err(error), "{entry}");
        }
        assert_eq!(
            AllowedOrigins::parse("https://a,,https://b"),
            Err(OriginError::Empty)
        );
        assert_eq!(AllowedOrigins::parse("https://a,"), Err(OriginError::Empty));
        let message = AllowedOrigins::parse("https://ok, *")
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"*\""), "{message}");
    }
}
