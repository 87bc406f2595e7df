//! CSRF tokens for cookie-authenticated requests: a double-submit token bound to the session.
//!
//! Rule (the HTTP layer checks it, with the allowed-origin check, only for cookie-authenticated
//! requests; bearer tokens are never sent by a browser on its own, so they need no CSRF token):
//! an unsafe method must send `X-CSRF-Token` equal to the CSRF cookie, and that value must be
//! the HMAC of the session id (so a token planted for, or stolen from, another session is
//! useless). Any failure is `403 csrf_failed`.
//!
//! Token: base64url (no padding) of HMAC-SHA256(key, `taskflow/csrf/v1` || session id), where
//! the key is derived from the deployment secret with its own label. All comparisons of token
//! text are constant-time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::domain::SessionId;
use crate::error::ErrorCode;

type HmacSha256 = Hmac<Sha256>;

const TOKEN_LABEL: &[u8] = b"taskflow/csrf/v1";

/// Why an unsafe cookie-authenticated request failed the CSRF check. Every variant is the
/// same `csrf_failed` to the client; the detail is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrfError {
    /// The CSRF cookie or the `X-CSRF-Token` header is absent.
    #[error("the CSRF token is missing")]
    MissingToken,
    /// The header differs from the cookie.
    #[error("the CSRF header does not match the CSRF cookie")]
    Mismatch,
    /// The token is not this session's (minted for another session, or altered).
    #[error("the CSRF token does not belong to this session")]
    WrongSession,
    /// The `Origin` header names an origin that is not allowed (or is `null`).
    #[error("the request origin is not allowed")]
    OriginNotAllowed,
}

impl CsrfError {
    /// The stable code of this failure: always `csrf_failed`.
    pub const fn code(&self) -> ErrorCode {
        ErrorCode::CsrfFailed
    }
}

/// Mints and verifies session-bound CSRF tokens.
#[derive(Clone)]
pub struct CsrfTokens {
    key: [u8; 32],
}

impl fmt::Debug for CsrfTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfTokens([REDACTED])")
    }
}

impl CsrfTokens {
    /// Tokens keyed from the deployment secret, with domain separation (its own derivation
    /// label) so the same secret can seal cursors and sign tokens without collisions.
    ///
    /// # Panics
    /// Never: HMAC accepts keys of any length.
    pub fn new(secret: &[u8]) -> Self {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        mac.update(b"taskflow/derive/csrf-key");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// The CSRF token of `session`: the value of the CSRF cookie set at login.
    ///
    /// # Panics
    /// Never: HMAC accepts keys of any length.
    pub fn token_for(&self, session: &SessionId) -> String {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(TOKEN_LABEL);
        mac.update(&session.to_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Checks the double submission: cookie and header present, equal, and this session's
    /// token.
    ///
    /// # Errors
    /// [`CsrfError::MissingToken`] when either is absent, [`CsrfError::Mismatch`] when they
    /// differ, [`CsrfError::WrongSession`] when they agree on a token that is not `session`'s.
    pub fn verify(
        &self,
        session: &SessionId,
        cookie: Option<&str>,
        header: Option<&str>,
    ) -> Result<(), CsrfError> {
        let (Some(cookie), Some(header)) = (cookie, header) else {
            return Err(CsrfError::MissingToken);
        };
        // `ct_eq` on slices of different lengths is false at once: lengths are not secret.
        if !bool::from(header.as_bytes().ct_eq(cookie.as_bytes())) {
            return Err(CsrfError::Mismatch);
        }
        let expected = self.token_for(session);
        if !bool::from(header.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(CsrfError::WrongSession);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_bound_to_the_session_and_the_secret() {
        let tokens = CsrfTokens::new(b"deployment secret");
        let (a, b) = (SessionId::generate(), SessionId::generate());
        let token_a = tokens.token_for(&a);
        assert_eq!(token_a.len(), 43);
        assert_eq!(token_a, tokens.token_for(&a), "deterministic");
        assert_eq!(tokens.verify(&a, Some(&token_a), Some(&token_a)), Ok(()));
        assert_eq!(
            tokens.verify(&b, Some(&token_a), Some(&token_a)),
            Err(CsrfError::WrongSession)
        );
        let other_secret = CsrfTokens::new(b"another secret").token_for(&a);
        assert_ne!(other_secret, token_a);
        assert!(!format!("{tokens:?}").contains(&format!("{:?}", tokens.key[0])));
    }

    #[test]
    fn tampered_missing_and_mismatched_tokens_fail() {
        let tokens = CsrfTokens::new(b"deployment secret");
        let session = SessionId::generate();
        let token = tokens.token_for(&session);
        let mut tampered = token.clone().into_bytes();
        tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let verify = |c: Option<&str>, h: Option<&str>| tokens.verify(&session, c, h);
        assert_eq!(
            verify(Some(&tampered), Some(&tampered)),
            Err(CsrfError::WrongSession)
        );
        assert_eq!(verify(Some(&token), None), Err(CsrfError::MissingToken));
        assert_eq!(verify(None, Some(&token)), Err(CsrfError::MissingToken));
        assert_eq!(verify(None, None), Err(CsrfError::MissingToken));
        assert_eq!(
            verify(Some(&token), Some(&tampered)),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(verify(Some(&token), Some("")), Err(CsrfError::Mismatch));
        assert_eq!(CsrfError::Mismatch.code().as_str(), "csrf_failed");
    }
}
