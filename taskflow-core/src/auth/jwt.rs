//! Access tokens: short-lived JWTs naming a user and a session, signed with one key of a
//! rotating [`KeySet`].
//!
//! Verification trusts nothing in a token before its signature checks out: the header's `kid`
//! picks the key, the key (never the header) decides the algorithm, and the times are checked
//! against the caller's clock, never the system's, with no leeway.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use jsonwebtoken::errors::ErrorKind;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::domain::ids::{SessionId, UserId, random_bytes};
use verified::VerifiedTokens;

mod keys;
mod verified;

pub use keys::{JwtAlgorithm, JwtKey, KeyError, KeySet};

/// How far in the future `iat` may be before a token is refused: the clock skew tolerated
/// between the servers of one deployment.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(60);
/// Tokens longer than this are refused unparsed; ours are about 300 bytes.
const MAX_TOKEN_LEN: usize = 4096;
/// `jti` carries 128 random bits (22 base64url characters); longer values are not ours.
const MAX_JTI_LEN: usize = 64;

/// What access tokens say about who issued them, for whom, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenConfig {
    /// The `iss` claim written and required.
    pub issuer: String,
    /// The `aud` claim written and required.
    pub audience: String,
    /// How long a token lives. JWT times are seconds, so `exp` is rounded down to the second;
    /// anything under a second counts as one.
    pub ttl: Duration,
}

impl Default for AccessTokenConfig {
    fn default() -> Self {
        Self {
            issuer: "taskflow".to_owned(),
            audience: "taskflow-api".to_owned(),
            ttl: Duration::from_secs(15 * 60),
        }
    }
}

/// A freshly signed access token. `Debug` leaves the token out.
#[derive(Clone)]
pub struct IssuedAccessToken {
    /// The compact JWT, for the client only.
    pub token: String,
    /// When it expires (exactly its `exp` claim).
    pub expires_at: Timestamp,
    /// Its unique id (`jti`), for logs and revocation lists.
    pub jti: String,
}

impl fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field("jti", &self.jti)
            .finish()
    }
}

/// The validated contents of an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user (`sub`).
    pub user_id: UserId,
    /// The login session (`sid`), to check it has not been revoked.
    pub session_id: SessionId,
    /// When it was issued (`iat`), to the second.
    pub issued_at: Timestamp,
    /// When it expires (`exp`), to the second.
    pub expires_at: Timestamp,
    /// Its unique id (`jti`).
    pub jti: String,
}

/// Why a token could not be issued or was refused. Messages never include the token or keys;
/// the HTTP layer answers every verification failure with the same 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a JWT, an unsupported or `none` algorithm, or claims missing or of the wrong shape.
    #[error("the token is malformed")]
    Malformed,
    /// No `kid`, or one naming no key of the set (such as a retired key).
    #[error("the token names no known key")]
    UnknownKey,
    /// The header's algorithm is not the algorithm of the key it names.
    #[error("the token's algorithm does not match its key")]
    AlgorithmMismatch,
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// Another issuer.
    #[error("the token has another issuer")]
    WrongIssuer,
    /// Another audience.
    #[error("the token is for another audience")]
    WrongAudience,
    /// `exp` is not after now.
    #[error("the token has expired")]
    Expired,
    /// `iat` is further in the future than the tolerated clock skew.
    #[error("the token is issued in the future")]
    NotYetValid,
    /// Signing failed (a broken key; the probe at key construction makes this unlikely).
    #[error("signing the token failed: {0}")]
    Signing(String),
}

/// The claims as they travel.
#[derive(Serialize, Deserialize)]
struct WireClaims {
    sub: String,
    sid: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
    jti: String,
}

/// Issues and verifies access tokens.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    keys: KeySet,
    config: AccessTokenConfig,
    /// The signing header, built once.
    header: Header,
    /// Shared by clones: every clone verifies with the same keys.
    verified: Arc<VerifiedTokens>,
}

impl AccessTokens {
    /// Tokens signed with `keys`' signing key and described by `config`.
    pub fn new(keys: KeySet, config: AccessTokenConfig) -> Self {
        let signing = keys.signing_key();
        let mut header = Header::new(signing.algorithm.to_jwt());
        header.kid = Some(signing.kid.clone());
        Self {
            keys,
            config,
            header,
            verified: Arc::default(),
        }
    }

    /// A token for `user`'s `session`, issued at `now` (truncated to the second) and expiring
    /// `ttl` later.
    ///
    /// # Errors
    /// [`TokenError::Signing`] when the signing key fails.
    pub fn issue(
        &self,
        user: &UserId,
        session: &SessionId,
        now: Timestamp,
    ) -> Result<IssuedAccessToken, TokenError> {
        let iat = now.unix_millis().div_euclid(1000);
        // Saturating within the timestamp range, so `exp` always converts back.
        let exp = now
            .saturating_add(self.config.ttl.max(Duration::from_secs(1)))
            .unix_millis()
            .div_euclid(1000);
        let expires_at = seconds(exp).map_err(|_| TokenError::Signing("expiry".into()))?;
        let jti = URL_SAFE_NO_PAD.encode(random_bytes::<16>());
        let claims = WireClaims {
            sub: user.to_string(),
            sid: session.to_string(),
            iat,
            exp,
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            jti: jti.clone(),
        };
        let encoding = self.keys.signing_key().encoding.as_ref();
        let key = encoding.ok_or_else(|| TokenError::Signing("no private key".into()))?;
        let token = jsonwebtoken::encode(&self.header, &claims, key)
            .map_err(|error| TokenError::Signing(error.to_string()))?;
        Ok(IssuedAccessToken {
            token,
            expires_at,
            jti,
        })
    }

    /// Checks `token`'s signature and claims at the instant `now`.
    ///
    /// # Errors
    /// [`TokenError`] naming the first check that failed.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<AccessClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        if let Some(claims) = self.verified.get(token) {
            return check_times(claims, now);
        }
        let claims = self.decode(token, now)?;
        self.verified.insert(token, &claims);
        Ok(claims)
    }

    /// The full verification of a token not seen before.
    fn decode(&self, token: &str, now: Timestamp) -> Result<AccessClaims, TokenError> {
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no such algorithm.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let key = self.keys.find(kid).ok_or(TokenError::UnknownKey)?;
        // The key decides the algorithm: a header naming HS256 for an ES256 key would have the
        // public key used as an HMAC secret.
        if header.alg != key.algorithm.to_jwt() {
            return Err(TokenError::AlgorithmMismatch);
        }
        let claims = jsonwebtoken::decode::<WireClaims>(token, &key.decoding, &key.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm => TokenError::AlgorithmMismatch,
                _ => TokenError::Malformed,
            })?
            .claims;
        self.check(claims, now)
    }

    fn check(&self, claims: WireClaims, now: Timestamp) -> Result<AccessClaims, TokenError> {
        if claims.iss != self.config.issuer {
            return Err(TokenError::WrongIssuer);
        }
        if claims.aud != self.config.audience {
            return Err(TokenError::WrongAudience);
        }
        let user_id = UserId::parse(&claims.sub).map_err(|_| TokenError::Malformed)?;
        let session_id = SessionId::parse(&claims.sid).map_err(|_| TokenError::Malformed)?;
        if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_LEN {
            return Err(TokenError::Malformed);
        }
        let claims = AccessClaims {
            user_id,
            session_id,
            issued_at: seconds(claims.iat)?,
            expires_at: seconds(claims.exp)?,
            jti: claims.jti,
        };
        check_times(claims, now)
    }
}

/// The claims if they are valid at `now`: not expired, not issued beyond the clock skew.
fn check_times(claims: AccessClaims, now: Timestamp) -> Result<AccessClaims, TokenError> {
    if claims.expires_at <= now {
        return Err(TokenError::Expired);
    }
    if claims.issued_at > now.saturating_add(MAX_CLOCK_SKEW) {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

/// A JWT time (seconds since the epoch) as a timestamp.
fn seconds(value: i64) -> Result<Timestamp, TokenError> {
    value
        .checked_mul(1000)
        .and_then(Timestamp::from_unix_millis)
        .ok_or(TokenError::Malformed)
}

#[cfg(test)]
mod tests;
