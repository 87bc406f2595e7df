//! Login sessions: one per login, each a refresh-token family. A session ends when revoked
//! (logout, logout-all, refresh-token reuse), at its absolute expiry, or when idle too long.

use std::net::IpAddr;
use std::time::Duration;

use super::refresh::RefreshTokenHash;
use crate::clock::Timestamp;
use crate::domain::{SessionId, UserId};

/// Lifetimes and the reuse grace window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session ends this long after login, however active (default 14 days).
    pub absolute_ttl: Duration,
    /// A session ends when not refreshed for this long (default 7 days).
    pub idle_ttl: Duration,
    /// A refresh token presented again within this time after its first use is treated as a
    /// concurrent double submit (two tabs refreshing at once) rather than theft, and is
    /// answered with another fresh token instead of revoking the family (default 10 s; 0
    /// disables it). Auth0 and Supabase allow the same.
    pub reuse_grace: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            absolute_ttl: Duration::from_secs(14 * 24 * 3600),
            idle_ttl: Duration::from_secs(7 * 24 * 3600),
            reuse_grace: Duration::from_secs(10),
        }
    }
}

/// A login session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session (family) id, also the `sid` claim of its access tokens.
    pub id: SessionId,
    /// Whose session.
    pub user_id: UserId,
    /// Login instant.
    pub created_at: Timestamp,
    /// Last login or refresh.
    pub last_used_at: Timestamp,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// End if not refreshed before.
    pub idle_expires_at: Timestamp,
    /// The client's `User-Agent` at login (at most 256 characters), for session listings.
    pub user_agent: Option<String>,
    /// The client's IP at login, for session listings.
    pub ip: Option<IpAddr>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl Session {
    /// The longest `User-Agent` kept.
    pub const MAX_USER_AGENT_CHARS: usize = 256;

    /// Whether the session can still authenticate requests at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && now < self.idle_expires_at
    }
}

/// One refresh token of a session, as stored (by hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// The token's hash.
    pub hash: RefreshTokenHash,
    /// Its session.
    pub session_id: SessionId,
    /// Its user.
    pub user_id: UserId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it was first exchanged; `None` while unused.
    pub used_at: Option<Timestamp>,
    /// When it stops being accepted (the session's absolute expiry).
    pub expires_at: Timestamp,
}

/// Where a login comes from, recorded on the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientMeta {
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The resolved client IP.
    pub ip: Option<IpAddr>,
}

impl ClientMeta {
    /// The user agent cut to [`Session::MAX_USER_AGENT_CHARS`].
    pub fn truncated_user_agent(&self) -> Option<String> {
        self.user_agent
            .as_ref()
            .map(|ua| ua.chars().take(Session::MAX_USER_AGENT_CHARS).collect())
    }
}
