//! Refresh tokens: opaque to clients, 256 random bits from the OS CSPRNG, stored only as a
//! SHA-256 hash. The token also names its user and session, so every lookup is targeted by
//! user id (one shard) and needs no secondary index on the hash alone.
//!
//! Layout before base64url: `version(1) | user_id(12) | session_id(12) | secret(32)`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::domain::ids::random_bytes;
use crate::domain::{SessionId, UserId};

const VERSION: u8 = 1;
const LEN: usize = 1 + 12 + 12 + 32;

/// A refresh token as handed to the client; secret (redacted `Debug`, no `Display`).
#[derive(Clone)]
pub struct RefreshToken(SecretString);

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

/// What is stored instead of a refresh token: its SHA-256. A plain hash suffices (no salt or
/// slow KDF) because the token has 256 bits of entropy: nothing to brute-force.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash([u8; 32]);

impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to correlate log lines, and useless for anything else.
        write!(
            f,
            "RefreshTokenHash({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

impl RefreshTokenHash {
    /// From stored bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes to store.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }
}

/// A presented token, split into what it claims and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedRefreshToken {
    /// The user it claims to belong to.
    pub user_id: UserId,
    /// The session (token family) it claims to belong to.
    pub session_id: SessionId,
    /// Its hash, to look up.
    pub hash: RefreshTokenHash,
}

/// Why a presented text is not a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a refresh token")]
pub struct MalformedRefreshToken;

impl RefreshToken {
    /// A fresh token for `session` of `user`, and its hash.
    pub fn generate(user: &UserId, session: &SessionId) -> (Self, RefreshTokenHash) {
        let mut bytes = Vec::with_capacity(LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&user.to_bytes());
        bytes.extend_from_slice(&session.to_bytes());
        bytes.extend_from_slice(&random_bytes::<32>());
        let hash = RefreshTokenHash(Sha256::digest(&bytes).into());
        (
            Self(SecretString::from(URL_SAFE_NO_PAD.encode(&bytes))),
            hash,
        )
    }

    /// The token text, for the cookie or the token response only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Decodes a presented token.
    ///
    /// # Errors
    /// [`MalformedRefreshToken`] unless it has this module's layout.
    pub fn parse(text: &str) -> Result<PresentedRefreshToken, MalformedRefreshToken> {
        if text.len() > 128 {
            return Err(MalformedRefreshToken);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| MalformedRefreshToken)?;
        let bytes: [u8; LEN] = bytes.try_into().map_err(|_| MalformedRefreshToken)?;
        if bytes[0] != VERSION {
            return Err(MalformedRefreshToken);
        }
        let id = |range: std::ops::Range<usize>| -> [u8; 12] {
            bytes[range].try_into().unwrap_or([0; 12])
        };
        Ok(PresentedRefreshToken {
            user_id: UserId::from_bytes(id(1..13)),
            session_id: SessionId::from_bytes(id(13..25)),
            hash: RefreshTokenHash(Sha256::digest(bytes).into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back_with_the_same_hash() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let (token, hash) = RefreshToken::generate(&user, &session);
        assert!(token.expose().len() >= 43, "at least 256 bits of text");
        let presented = RefreshToken::parse(token.expose()).unwrap();
        assert_eq!(
            presented,
            PresentedRefreshToken {
                user_id: user,
                session_id: session,
                hash
            }
        );
    }

    #[test]
    fn tokens_are_unique_and_never_debug_printed() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let (a, ha) = RefreshToken::generate(&user, &session);
        let (b, hb) = RefreshToken::generate(&user, &session);
        assert_ne!(a.expose(), b.expose());
        assert_ne!(ha, hb);
        assert!(!format!("{a:?}").contains(a.expose()));
        assert!(!format!("{ha:?}").contains(&format!("{:x?}", ha.to_bytes())));
    }

    #[test]
    fn any_change_changes_the_hash_or_fails_to_parse() {
        let (token, hash) = RefreshToken::generate(&UserId::generate(), &SessionId::generate());
        let text = token.expose();
        for i in 0..text.len() {
            for replacement in ['A', 'z', '-', '_', '0'] {
                let mut altered: Vec<char> = text.chars().collect();
                if altered[i] == replacement {
                    continue;
                }
                altered[i] = replacement;
                let altered: String = altered.into_iter().collect();
                if let Ok(presented) = RefreshToken::parse(&altered) {
                    assert_ne!(presented.hash, hash, "position {i}");
                }
            }
        }
    }

    #[test]
    fn garbage_is_malformed() {
        for bad in [
            "",
            "abc",
            "!!!",
            &"A".repeat(200),
            &URL_SAFE_NO_PAD.encode([2u8; LEN]),
        ] {
            assert_eq!(
                RefreshToken::parse(bad),
                Err(MalformedRefreshToken),
                "{bad}"
            );
        }
    }
}
