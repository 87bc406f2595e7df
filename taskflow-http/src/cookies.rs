//! The auth cookies of the contract: names, attributes, and reading them back.
//!
//! With `secure` (the default, and the only choice in production) the names carry the
//! `__Host-`/`__Secure-` prefixes, which browsers honour only with `Secure`; without it (plain
//! http on localhost in development) both prefixes and `Secure` are dropped.

use http::HeaderMap;
use http::header::COOKIE;

/// Where the refresh cookie is sent by default: only to the auth endpoints.
const REFRESH_PATH: &str = "/api/v1/auth";

/// The cookie names and attributes in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    secure: bool,
    /// The refresh cookie's `Path`: the auth endpoints' path as clients see it.
    refresh_path: &'static str,
}

/// One cookie to set.
#[derive(Debug, Clone, Copy)]
pub enum CookieKind {
    /// The access JWT: `HttpOnly; SameSite=Lax; Path=/`.
    Access,
    /// The refresh token: `HttpOnly; SameSite=Strict; Path=/api/v1/auth` (the auth endpoints'
    /// path under the app's base path and mount prefix).
    Refresh,
    /// The CSRF token, readable by scripts: `SameSite=Lax; Path=/`.
    Csrf,
}

impl CookiePolicy {
    /// Cookies with (`true`) or without `Secure` and name prefixes; the refresh cookie for
    /// `/api/v1/auth`.
    pub const fn new(secure: bool) -> Self {
        Self {
            secure,
            refresh_path: REFRESH_PATH,
        }
    }

    /// The same cookies with the refresh cookie sent only under `path` (the auth endpoints'
    /// path as clients see it: `/tasks-app/api/v1/auth`).
    #[must_use]
    pub const fn with_refresh_path(mut self, path: &'static str) -> Self {
        self.refresh_path = path;
        self
    }

    /// The cookie name of `kind`.
    pub const fn name(self, kind: CookieKind) -> &'static str {
        match (kind, self.secure) {
            (CookieKind::Access, true) => "__Host-taskflow_access",
            (CookieKind::Access, false) => "taskflow_access",
            (CookieKind::Refresh, true) => "__Secure-taskflow_refresh",
            (CookieKind::Refresh, false) => "taskflow_refresh",
            (CookieKind::Csrf, true) => "__Host-taskflow_csrf",
            (CookieKind::Csrf, false) => "taskflow_csrf",
        }
    }

    /// A `Set-Cookie` value setting `kind` to `value` for `max_age_secs`.
    pub fn set(self, kind: CookieKind, value: &str, max_age_secs: u64) -> String {
        let (http_only, same_site, path) = match kind {
            CookieKind::Access => ("; HttpOnly", "Lax", "/"),
            CookieKind::Refresh => ("; HttpOnly", "Strict", self.refresh_path),
            CookieKind::Csrf => ("", "Lax", "/"),
        };
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}{http_only}{secure}; SameSite={same_site}; Path={path}; Max-Age={max_age_secs}",
            self.name(kind)
        )
    }

    /// A `Set-Cookie` value deleting `kind` (same attributes, empty, `Max-Age=0`).
    pub fn clear(self, kind: CookieKind) -> String {
        self.set(kind, "", 0)
    }

    /// The value of cookie `kind` in the request's `Cookie` headers.
    pub fn get(self, headers: &HeaderMap, kind: CookieKind) -> Option<String> {
        let name = self.name(kind);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.trim_matches('"').to_owned())
            .filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn secure_cookies_have_prefixes_and_contract_attributes() {
        let p = CookiePolicy::new(true);
        assert_eq!(
            p.set(CookieKind::Access, "jwt", 900),
            "__Host-taskflow_access=jwt; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=900"
        );
        assert_eq!(
            p.set(CookieKind::Refresh, "r", 60),
            "__Secure-taskflow_refresh=r; HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth; Max-Age=60"
        );
        assert_eq!(
            p.set(CookieKind::Csrf, "c", 60),
            "__Host-taskflow_csrf=c; Secure; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert!(p.clear(CookieKind::Access).ends_with("Max-Age=0"));
    }

    #[test]
    fn the_refresh_cookie_follows_the_auth_endpoints() {
        let p = CookiePolicy::new(true).with_refresh_path("/tasks-app/api/v1/auth");
        assert_eq!(
            p.set(CookieKind::Refresh, "r", 60),
            "__Secure-taskflow_refresh=r; HttpOnly; Secure; SameSite=Strict; Path=/tasks-app/api/v1/auth; Max-Age=60"
        );
        assert!(p.set(CookieKind::Access, "a", 60).contains("; Path=/;"));
    }

    #[test]
    fn development_cookies_drop_secure_and_prefixes() {
        let p = CookiePolicy::new(false);
        assert_eq!(
            p.set(CookieKind::Access, "jwt", 900),
            "taskflow_access=jwt; HttpOnly; SameSite=Lax; Path=/; Max-Age=900"
        );
    }

    #[test]
    fn reads_cookies_from_any_cookie_header() {
        let p = CookiePolicy::new(true);
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; __Host-taskflow_csrf=tok"),
        );
        headers.append(
            COOKIE,
            HeaderValue::from_static("__Host-taskflow_access=jwt"),
        );
        assert_eq!(p.get(&headers, CookieKind::Csrf).as_deref(), Some("tok"));
        assert_eq!(p.get(&headers, CookieKind::Access).as_deref(), Some("jwt"));
        assert_eq!(p.get(&headers, CookieKind::Refresh), None);
        assert_eq!(
            CookiePolicy::new(false).get(&headers, CookieKind::Csrf),
            None
        );
    }
}
