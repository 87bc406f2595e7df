//! Refresh tokens: opaque to clients, 256 random bits from the OS CSPRNG, stored only as a
//! SHA-256 hash. The token also names its user and session, so every lookup is targeted by
//! user id (one shard) and needs no secondary index on the hash alone.
//!
//! Layout before base64url (108 characters):
//! `version(1) = 2 | user_id(12) | session_id(12) | generation(8, big-endian) | secret(32) | tag(16)`.
//!
//! - `generation` counts the rotations of the session before this token (0: the token issued
//!   at login; a rotation issues generation + 1).
//! - `tag` is HMAC-SHA256, under a key derived from the deployment secret, of everything
//!   before it, cut to 128 bits. Only the server can make a token whose tag verifies, so such a
//!   token really was issued for that session at that generation. That is what lets reuse
//!   detection recognise *any* older token of a family from the session's generation counter
//!   alone, without keeping the hash of every token the family ever had; and a token that
//!   merely names a real session (ids are guessable) with a made-up secret fails the tag and is
//!   refused before any storage command, so it can never revoke that session.
//!
//! Sealing: the successor handed out by a rotation is also stored beside the rotated token,
//! encrypted (XChaCha20-Poly1305, random 192-bit nonce, under a second derived key, bound to
//! the hash of the token it succeeds), so that any instance can give a double submit within the
//! grace window the very same successor instead of a second, parallel one.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::domain::ids::random_bytes;
use crate::domain::{SessionId, UserId};

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 2;
const SIGNED: usize = 1 + 12 + 12 + 8 + 32;
const TAG: usize = 16;
const LEN: usize = SIGNED + TAG;
const NONCE: usize = 24;
const TAG_LABEL: &[u8] = b"taskflow/refresh-token/v2";
const SEAL_LABEL: &[u8] = b"taskflow/refresh-successor/v1";

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

/// A presented token, split into what it claims and its hash. What it claims is not yet
/// believed: [`RefreshTokenKeys::verify`] says whether the server issued it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PresentedRefreshToken {
    /// The user it claims to belong to.
    pub user_id: UserId,
    /// The session (token family) it claims to belong to.
    pub session_id: SessionId,
    /// The rotation it claims to come from (0: issued at login).
    pub generation: u64,
    /// Its hash, to look up.
    pub hash: RefreshTokenHash,
    bytes: [u8; LEN],
}

impl fmt::Debug for PresentedRefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresentedRefreshToken")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("generation", &self.generation)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// Why a presented text is not a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a refresh token")]
pub struct MalformedRefreshToken;

impl RefreshToken {
    /// The token text, for the cookie or the token response only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        Self(SecretString::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Decodes a presented token (without checking its tag: see [`RefreshTokenKeys::verify`]).
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
        let generation = bytes[25..33].try_into().map_or(0, u64::from_be_bytes);
        Ok(PresentedRefreshToken {
            user_id: UserId::from_bytes(id(1..13)),
            session_id: SessionId::from_bytes(id(13..25)),
            generation,
            hash: RefreshTokenHash(Sha256::digest(bytes).into()),
            bytes,
        })
    }
}

/// A successor refresh token as stored for the grace window: encrypted and authenticated, so
/// the store learns nothing of it and cannot swap it for another. Opaque to stores.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedRefreshToken(Vec<u8>);

impl fmt::Debug for SealedRefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedRefreshToken({} bytes)", self.0.len())
    }
}

impl SealedRefreshToken {
    /// From stored bytes.
    pub const fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes to store (the same length for every token).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The keys that mint, verify and seal refresh tokens. Every instance of a deployment must
/// derive them from the same secret, or one instance refuses another's tokens.
#[derive(Clone)]
pub struct RefreshTokenKeys {
    tag: [u8; 32],
    seal: [u8; 32],
}

impl fmt::Debug for RefreshTokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshTokenKeys([REDACTED])")
    }
}

fn derive(secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl RefreshTokenKeys {
    /// Keys derived from the deployment secret, each with its own label (domain separation), so
    /// the same secret also signs access tokens and keys cursors and CSRF tokens without any
    /// two uses colliding.
    pub fn derive(secret: &[u8]) -> Self {
        Self {
            tag: derive(secret, b"taskflow/derive/refresh-tag-key"),
            seal: derive(secret, b"taskflow/derive/refresh-seal-key"),
        }
    }

    /// Fresh random keys (tokens then work only in this process, until it ends).
    pub fn random() -> Self {
        Self {
            tag: random_bytes(),
            seal: random_bytes(),
        }
    }

    fn tag(&self, signed: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.tag)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(TAG_LABEL);
        mac.update(signed);
        mac
    }

    /// A fresh token of `generation` for `session` of `user`, and its hash.
    pub fn mint(
        &self,
        user: &UserId,
        session: &SessionId,
        generation: u64,
    ) -> (RefreshToken, RefreshTokenHash) {
        let mut bytes = [0u8; LEN];
        bytes[0] = VERSION;
        bytes[1..13].copy_from_slice(&user.to_bytes());
        bytes[13..25].copy_from_slice(&session.to_bytes());
        bytes[25..33].copy_from_slice(&generation.to_be_bytes());
        bytes[33..SIGNED].copy_from_slice(&random_bytes::<32>());
        let tag = self.tag(&bytes[..SIGNED]).finalize().into_bytes();
        bytes[SIGNED..].copy_from_slice(&tag[..TAG]);
        let hash = RefreshTokenHash(Sha256::digest(bytes).into());
        (RefreshToken::from_bytes(&bytes), hash)
    }

    /// Whether the server issued `presented` (its tag verifies, in constant time).
    pub fn verify(&self, presented: &PresentedRefreshToken) -> bool {
        let (signed, tag) = presented.bytes.split_at(SIGNED);
        self.tag(signed).verify_truncated_left(tag).is_ok()
    }

    /// `successor` sealed for storage beside the token it succeeds (`predecessor`): only
    /// [`open`](Self::open) with the same keys and the same predecessor gets it back.
    pub fn seal(
        &self,
        successor: &RefreshToken,
        predecessor: &RefreshTokenHash,
    ) -> SealedRefreshToken {
        let plain = URL_SAFE_NO_PAD
            .decode(successor.expose())
            .unwrap_or_else(|_| unreachable!("minted tokens are base64url"));
        let nonce = random_bytes::<NONCE>();
        let aad = [SEAL_LABEL, &predecessor.to_bytes()].concat();
        let sealed = XChaCha20Poly1305::new(&self.seal.into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .unwrap_or_else(|_| unreachable!("a token is far below the cipher's message limit"));
        SealedRefreshToken([nonce.as_slice(), &sealed].concat())
    }

    /// The successor sealed by [`seal`](Self::seal) for `predecessor`; `None` when `sealed` was
    /// altered, sealed for another token, or sealed under other keys.
    pub fn open(
        &self,
        sealed: &SealedRefreshToken,
        predecessor: &RefreshTokenHash,
    ) -> Option<RefreshToken> {
        let (nonce, sealed) = sealed.0.split_at_checked(NONCE)?;
        let nonce: [u8; NONCE] = nonce.try_into().ok()?;
        let aad = [SEAL_LABEL, &predecessor.to_bytes()].concat();
        let plain = XChaCha20Poly1305::new(&self.seal.into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .ok()?;
        Some(RefreshToken::from_bytes(&plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> RefreshTokenKeys {
        RefreshTokenKeys::derive(b"deployment secret")
    }

    #[test]
    fn minted_tokens_parse_back_with_the_same_claims_and_hash() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let (token, hash) = keys().mint(&user, &session, 7);
        assert!(token.expose().len() >= 43, "at least 256 bits of text");
        assert!(token.expose().len() <= 128);
        let presented = RefreshToken::parse(token.expose()).unwrap();
        assert_eq!(
            (
                presented.user_id,
                presented.session_id,
                presented.generation,
                presented.hash
            ),
            (user, session, 7, hash)
        );
        assert!(keys().verify(&presented));
    }

    #[test]
    fn tokens_are_unique_and_never_debug_printed() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let (a, ha) = keys().mint(&user, &session, 0);
        let (b, hb) = keys().mint(&user, &session, 0);
        assert_ne!(a.expose(), b.expose());
        assert_ne!(ha, hb);
        assert!(!format!("{a:?}").contains(a.expose()));
        assert!(!format!("{ha:?}").contains(&format!("{:x?}", ha.to_bytes())));
        let presented = RefreshToken::parse(a.expose()).unwrap();
        let debug = format!("{presented:?}");
        assert!(
            !debug.contains(&format!("{:?}", presented.bytes)),
            "{debug}"
        );
        assert_eq!(format!("{:?}", keys()), "RefreshTokenKeys([REDACTED])");
    }

    #[test]
    fn any_change_changes_the_hash_fails_to_parse_or_fails_the_tag() {
        let (token, hash) = keys().mint(&UserId::generate(), &SessionId::generate(), 3);
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
                    assert!(!keys().verify(&presented), "position {i}");
                }
            }
        }
    }

    #[test]
    fn made_up_tokens_for_real_sessions_fail_the_tag() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let (genuine, _) = keys().mint(&user, &session, 5);
        let mut bytes = URL_SAFE_NO_PAD.decode(genuine.expose()).unwrap();
        // An older generation with the genuine secret and tag, then a random tag as well.
        bytes[25..33].copy_from_slice(&0u64.to_be_bytes());
        let older = RefreshToken::parse(&URL_SAFE_NO_PAD.encode(&bytes)).unwrap();
        assert_eq!((older.user_id, older.session_id), (user, session));
        assert!(!keys().verify(&older));
        bytes[SIGNED..].copy_from_slice(&random_bytes::<TAG>());
        assert!(!keys().verify(&RefreshToken::parse(&URL_SAFE_NO_PAD.encode(&bytes)).unwrap()));
        // The same token under another deployment's secret.
        let other = RefreshTokenKeys::derive(b"another secret");
        assert!(!other.verify(&RefreshToken::parse(genuine.expose()).unwrap()));
    }

    #[test]
    fn sealed_successors_open_only_for_their_predecessor_and_keys() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let (_, first) = keys().mint(&user, &session, 0);
        let (successor, _) = keys().mint(&user, &session, 1);
        let sealed = keys().seal(&successor, &first);
        assert!(
            !sealed.as_bytes().windows(8).any(|w| successor
                .expose()
                .as_bytes()
                .windows(8)
                .any(|s| s == w))
        );
        let opened = keys().open(&sealed, &first).expect("opens");
        assert_eq!(opened.expose(), successor.expose());
        assert_ne!(
            keys().seal(&successor, &first),
            sealed,
            "a fresh nonce each time"
        );
        let (_, other) = keys().mint(&user, &session, 0);
        assert!(keys().open(&sealed, &other).is_none(), "bound to its slot");
        let foreign = RefreshTokenKeys::derive(b"another secret");
        assert!(foreign.open(&sealed, &first).is_none());
        let mut altered = sealed.as_bytes().to_vec();
        *altered.last_mut().unwrap() ^= 1;
        let altered = SealedRefreshToken::from_bytes(altered);
        assert!(keys().open(&altered, &first).is_none());
        let short = SealedRefreshToken::from_bytes(vec![1; 10]);
        assert!(keys().open(&short, &first).is_none());
        assert_eq!(format!("{sealed:?}"), "SealedRefreshToken(121 bytes)");
    }

    #[test]
    fn garbage_and_other_versions_are_malformed() {
        let (v1, _) = keys().mint(&UserId::generate(), &SessionId::generate(), 0);
        let mut bytes = URL_SAFE_NO_PAD.decode(v1.expose()).unwrap();
        bytes[0] = 1;
        for bad in [
            "",
            "abc",
            "!!!",
            &"A".repeat(200),
            &URL_SAFE_NO_PAD.encode([2u8; LEN - 1]),
            &URL_SAFE_NO_PAD.encode(&bytes),
            // The layout of version 1 (no generation, no tag).
            &URL_SAFE_NO_PAD.encode([1u8; 57]),
        ] {
            assert_eq!(
                RefreshToken::parse(bad),
                Err(MalformedRefreshToken),
                "{bad}"
            );
        }
    }
}
