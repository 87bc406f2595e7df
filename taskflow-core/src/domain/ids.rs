//! Identifiers: opaque 12-byte values, generated in the ObjectId layout (4-byte seconds,
//! 5 random bytes, 3-byte counter) so that MongoDB stores them natively as `ObjectId`, shown to
//! clients as 24 lowercase hex characters; and [`random_bytes`], the one source of secrets.
//!
//! # Which values are guessable
//!
//! [`UserId`], [`TaskId`] and [`SessionId`] are **guessable by design**: the five process
//! bytes are drawn once per process and the counter only counts, so one id shown to anyone
//! (in a body, a `Location`, a token's `sub`/`sid`) gives away the ids made before and after
//! it, to within the second they were made. They name things; knowing one proves nothing, and
//! nothing may treat it as proof (ownership is always checked against the authenticated user;
//! a session id only counts when it comes inside a signed token or a refresh token with its
//! random part), nor derive a secret from one.
//!
//! Everything that must be unguessable comes from the operating system's CSPRNG through
//! [`random_bytes`]: the development JWT secret (`taskflow-http`'s configuration), refresh
//! tokens (32 random bytes), access-token `jti`s, password salts, random cursor keys, and
//! generated `X-Request-Id`s (`taskflow-http`'s headers). CSRF tokens and cursor seals are
//! HMACs under keys derived from the deployment secret, so they are as unguessable as it is.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Serialize, Serializer};

/// Why a text is not an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid id")]
pub struct InvalidId;

/// Random bytes from the operating system's CSPRNG: the source of every secret and every
/// value that must not be guessed (never the id generator below).
///
/// # Panics
/// When the operating system has no entropy source at all; nothing secure can run then.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// The next id of this process: unique, not secret (see the module documentation).
fn generate_raw() -> [u8; 12] {
    static PROCESS: OnceLock<[u8; 5]> = OnceLock::new();
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    let process = PROCESS.get_or_init(random_bytes::<5>);
    let counter = COUNTER.get_or_init(|| AtomicU32::new(u32::from_be_bytes(random_bytes::<4>())));
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // ObjectId keeps the low 32 bits of the seconds; truncation is the format.
    #[allow(clippy::cast_possible_truncation)]
    let seconds = seconds as u32;
    let count = counter.fetch_add(1, Ordering::Relaxed);
    let mut raw = [0u8; 12];
    raw[..4].copy_from_slice(&seconds.to_be_bytes());
    raw[4..9].copy_from_slice(process);
    raw[9..].copy_from_slice(&count.to_be_bytes()[1..]);
    raw
}

fn parse_hex(text: &str) -> Result<[u8; 12], InvalidId> {
    let bytes = text.as_bytes();
    if bytes.len() != 24 {
        return Err(InvalidId);
    }
    let mut raw = [0u8; 12];
    for (out, pair) in raw.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = hex_value(pair[0]).ok_or(InvalidId)?;
        let lo = hex_value(pair[1]).ok_or(InvalidId)?;
        *out = (hi << 4) | lo;
    }
    Ok(raw)
}

// Lowercase only: one id has exactly one spelling, so ids can be compared as text.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// The 24 lowercase hex digits of an id, in one buffer: every task in a response shows its
/// id, where twelve formatted writes showed in profiles.
fn hex(raw: &[u8; 12]) -> [u8; 24] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 24];
    for (pair, byte) in buf.chunks_exact_mut(2).zip(raw) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    buf
}

fn write_hex(raw: &[u8; 12], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(std::str::from_utf8(&hex(raw)).map_err(|_| fmt::Error)?)
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; 12]);

        impl $name {
            /// A new, unique identifier.
            pub fn generate() -> Self {
                Self(generate_raw())
            }

            /// Parses the 24-lowercase-hex form shown to clients.
            ///
            /// # Errors
            /// [`InvalidId`] for any other text.
            pub fn parse(text: &str) -> Result<Self, InvalidId> {
                parse_hex(text).map(Self)
            }

            /// The identifier from its 12 raw bytes (a stored `ObjectId`).
            pub const fn from_bytes(bytes: [u8; 12]) -> Self {
                Self(bytes)
            }

            /// The 12 raw bytes.
            pub const fn to_bytes(self) -> [u8; 12] {
                self.0
            }

            /// The 24 lowercase hex digits shown to clients, as ASCII bytes.
            pub fn hex_bytes(self) -> [u8; 24] {
                hex(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                write_hex(&self.0, f)?;
                f.write_str(")")
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                // The digits as one string, without a formatter between them and the output.
                let digits = hex(&self.0);
                serializer.serialize_str(
                    std::str::from_utf8(&digits).map_err(serde::ser::Error::custom)?,
                )
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(text: &str) -> Result<Self, InvalidId> {
                Self::parse(text)
            }
        }
    };
}

define_id!(
    /// Identifies a user account.
    UserId
);

impl UserId {
    /// The TaskFlow user id of a user the host application knows as `external_id` in
    /// `namespace` (its name for the identity provider or user table: `"acme-sso"`), for a host
    /// that authenticates users itself: the same pair always gives the same id, so the host
    /// needs to store no mapping.
    ///
    /// The first 12 bytes of SHA-256 over a domain-separated, length-prefixed encoding of the
    /// pair (`taskflow/user-id/v1`, then each part's length as 8 bytes big-endian and its
    /// bytes), so no two pairs share an input. A collision of 96-bit values needs about 2^48
    /// users to be even likely (a billion users give odds of about 10^-11), and making a pair
    /// that lands on a chosen user's id (a second preimage) takes about 2^96 hashes; neither
    /// is within anyone's reach, so derived ids can be trusted as much as the host's own ids
    /// and can share the id space of generated ones.
    pub fn derive(namespace: &str, external_id: &str) -> Self {
        use sha2::{Digest as _, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"taskflow/user-id/v1");
        for part in [namespace, external_id] {
            hash.update(u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        let mut bytes = [0; 12];
        bytes.copy_from_slice(&digest[..12]);
        Self(bytes)
    }
}
define_id!(
    /// Identifies a task; unique across all users.
    TaskId
);
define_id!(
    /// Identifies a login session (a refresh-token family).
    SessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_user_ids_are_stable_and_keep_their_parts_apart() {
        let ada = UserId::derive("acme-sso", "ada");
        assert_eq!(ada, UserId::derive("acme-sso", "ada"));
        assert_ne!(ada, UserId::derive("acme-sso", "bob"));
        assert_ne!(ada, UserId::derive("other-idp", "ada"));
        // The lengths keep the parts apart: moving bytes between them changes the input.
        assert_ne!(UserId::derive("ab", "c"), UserId::derive("a", "bc"));
        assert_eq!(UserId::parse(&ada.to_string()), Ok(ada));
    }

    #[test]
    fn generated_ids_are_unique_and_round_trip() {
        let ids: Vec<TaskId> = (0..1000).map(|_| TaskId::generate()).collect();
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        for id in ids {
            let text = id.to_string();
            assert_eq!(text.len(), 24);
            assert_eq!(TaskId::parse(&text), Ok(id));
        }
    }

    #[test]
    fn parse_accepts_only_24_lowercase_hex() {
        assert!(UserId::parse("0123456789abcdef01234567").is_ok());
        for bad in [
            "",
            "0123456789abcdef0123456",
            "0123456789abcdef012345678",
            "0123456789ABCDEF01234567",
            "0123456789abcdef0123456g",
            "../../etc/passwd/aaaaaaaa",
            "{\"$gt\": \"\"}aaaaaaaaaaaa",
        ] {
            assert_eq!(UserId::parse(bad), Err(InvalidId), "{bad}");
        }
    }

    #[test]
    fn ordering_matches_text_ordering() {
        let a = TaskId::parse("00000000000000000000000a").unwrap();
        let b = TaskId::parse("0000000000000000000000a0").unwrap();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn debug_shows_the_type_and_hex() {
        let id = TaskId::from_bytes([0xab; 12]);
        assert_eq!(format!("{id:?}"), "TaskId(abababababababababababab)");
    }
}
