//! Login sessions: one per login, each a refresh-token family. A session ends when revoked
//! (logout, logout-all, refresh-token reuse), at its absolute expiry, or when idle too long.
//!
//! A session carries its family's state, [`RefreshFamily`], and nothing that grows with its
//! rotations: the live token's hash and generation, and the token the last rotation replaced
//! (hash, instant, sealed successor) for the grace window. Any older token of the family is
//! recognised by its generation alone, which its tag makes unforgeable (see
//! [`super::refresh`]). So the storage per session is bounded (two hashes, a counter, an
//! instant and a sealed token: about 300 bytes of BSON) however often it rotates, and reuse
//! detection still reaches every older token, however many rotations ago it was replaced.
//! What is given up: a token minted under another deployment secret (before the secret
//! changed) is refused as unknown, a plain 401 that revokes nothing.

use std::net::IpAddr;
use std::time::Duration;

use super::refresh::{RefreshTokenHash, SealedRefreshToken};
use crate::clock::Timestamp;
use crate::domain::{SessionId, UserId};

/// Lifetimes and the reuse grace window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionPolicy {
    /// A session ends this long after login, however active (default 14 days).
    pub absolute_ttl: Duration,
    /// A session ends when not refreshed for this long (default 7 days).
    pub idle_ttl: Duration,
    /// The immediately previous refresh token presented again within this time after its
    /// rotation is treated as a concurrent double submit (two tabs refreshing at once) rather
    /// than theft, and is answered with the same successor the first exchange got, never a
    /// second one (default 10 s; 0 disables it: any replay revokes the family). Older tokens,
    /// and the previous one after this window, revoke the family.
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
    /// End if not refreshed before: the last login or refresh plus the idle lifetime. It may lie
    /// past `expires_at` (a refresh sets it in the same single write that rotates the token,
    /// without reading the session first); the earlier of the two ends the session.
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
        self.validity().is_active(now)
    }

    /// What a session check needs of this session.
    pub const fn validity(&self) -> SessionValidity {
        SessionValidity {
            revoked_at: self.revoked_at,
            expires_at: self.expires_at,
            idle_expires_at: self.idle_expires_at,
        }
    }
}

/// What a session check needs of a session, and nothing more (a store reads only these
/// fields on every authenticated request): whether it was revoked and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionValidity {
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// Absolute end.
    pub expires_at: Timestamp,
    /// End if not refreshed before.
    pub idle_expires_at: Timestamp,
}

impl SessionValidity {
    /// Whether the session can still authenticate requests at `now`: not revoked, and before
    /// both its ends.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.ends_at()
    }

    /// The instant it ends unless refreshed or revoked first: the earlier of its two ends.
    pub fn ends_at(&self) -> Timestamp {
        self.expires_at.min(self.idle_expires_at)
    }
}

/// A session's refresh-token family state: the live token, and the one it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFamily {
    /// How many rotations the session had: the generation of the live token (0 at login).
    pub generation: u64,
    /// The live token's hash.
    pub current: RefreshTokenHash,
    /// The token the last rotation replaced; `None` before the first rotation.
    pub previous: Option<RotatedToken>,
}

/// The refresh token a rotation replaced, kept until the next rotation for the grace window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatedToken {
    /// Its hash.
    pub hash: RefreshTokenHash,
    /// When it was exchanged.
    pub rotated_at: Timestamp,
    /// The successor it was exchanged for, sealed (what a replay within the grace window gets).
    pub successor: SealedRefreshToken,
}

/// One rotation, as asked of the store: replace the live token `presented` by `successor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Whose session.
    pub user_id: UserId,
    /// The session.
    pub session_id: SessionId,
    /// The hash of the token presented, which must be the live one.
    pub presented: RefreshTokenHash,
    /// Its generation, which must be the session's.
    pub generation: u64,
    /// The hash of the new live token (of generation `generation + 1`).
    pub successor: RefreshTokenHash,
    /// The new live token, sealed, to keep beside `presented` for the grace window.
    pub sealed_successor: SealedRefreshToken,
    /// The instant of the rotation: the session must be active then, and it becomes its last use.
    pub now: Timestamp,
    /// The session's new idle end.
    pub idle_expires_at: Timestamp,
}

/// What a presented refresh token (whose tag verified) is to its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// The live token.
    Live,
    /// The immediately previous token, within the grace window: its successor is the answer.
    GraceReplay(&'a RotatedToken),
    /// An already rotated token outside the grace rule: theft, the family must be revoked.
    Reuse,
    /// Not a token of this family as it stands (none the store knows of).
    Unknown,
}

impl RefreshFamily {
    /// The family of a new session whose first token is `first`.
    pub const fn first(first: RefreshTokenHash) -> Self {
        Self {
            generation: 0,
            current: first,
            previous: None,
        }
    }

    /// Whether `rotation` applies to this family (its token is the live one).
    pub fn accepts(&self, rotation: &Rotation) -> bool {
        self.current == rotation.presented && self.generation == rotation.generation
    }

    /// The family after `rotation` (what a store writes when [`accepts`](Self::accepts) holds).
    pub fn rotated(rotation: &Rotation) -> Self {
        Self {
            generation: rotation.generation.saturating_add(1),
            current: rotation.successor,
            previous: Some(RotatedToken {
                hash: rotation.presented,
                rotated_at: rotation.now,
                successor: rotation.sealed_successor.clone(),
            }),
        }
    }

    /// What the token of `hash` and `generation` (authentic: its tag verified) is to this
    /// family at `now` with a reuse grace window of `grace`.
    pub fn classify(
        &self,
        hash: &RefreshTokenHash,
        generation: u64,
        now: Timestamp,
        grace: Duration,
    ) -> Presented<'_> {
        if *hash == self.current && generation == self.generation {
            return Presented::Live;
        }
        if let Some(previous) = self.previous.as_ref().filter(|p| p.hash == *hash) {
            let in_grace = !grace.is_zero() && now <= previous.rotated_at.saturating_add(grace);
            return if in_grace {
                Presented::GraceReplay(previous)
            } else {
                Presented::Reuse
            };
        }
        if generation < self.generation {
            Presented::Reuse
        } else {
            Presented::Unknown
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::refresh::RefreshTokenKeys;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_millis(4_102_444_800_000 + secs * 1000).expect("in range")
    }

    const GRACE: Duration = Duration::from_secs(10);

    /// A family after two rotations (at 100 and 200): tokens of generations 0, 1 and 2.
    fn family() -> (RefreshFamily, [RefreshTokenHash; 3]) {
        let keys = RefreshTokenKeys::random();
        let (user, session) = (UserId::generate(), SessionId::generate());
        let hashes = [0, 1, 2].map(|g| keys.mint(&user, &session, g));
        let mut family = RefreshFamily::first(hashes[0].1);
        for (g, now) in [(0_usize, 100), (1, 200)] {
            let rotation = Rotation {
                user_id: user,
                session_id: session,
                presented: hashes[g].1,
                generation: u64::try_from(g).expect("small"),
                successor: hashes[g + 1].1,
                sealed_successor: keys.seal(&hashes[g + 1].0, &hashes[g].1),
                now: at(now),
                idle_expires_at: at(1000),
            };
            assert!(family.accepts(&rotation));
            family = RefreshFamily::rotated(&rotation);
            assert!(!family.accepts(&rotation), "a rotation applies once");
        }
        (family, hashes.map(|(_, h)| h))
    }

    #[test]
    fn only_the_previous_token_within_the_window_is_a_grace_replay() {
        let (family, [old, previous, live]) = family();
        let classify =
            |hash, generation, now, grace| family.classify(&hash, generation, at(now), grace);
        assert_eq!(classify(live, 2, 201, GRACE), Presented::Live);
        assert!(matches!(
            classify(previous, 1, 201, GRACE),
            Presented::GraceReplay(p) if p.hash == previous
        ));
        assert!(matches!(
            classify(previous, 1, 210, GRACE),
            Presented::GraceReplay(_)
        ));
        assert_eq!(
            classify(previous, 1, 211, GRACE),
            Presented::Reuse,
            "after the window"
        );
        assert_eq!(
            classify(previous, 1, 201, Duration::ZERO),
            Presented::Reuse,
            "0 disables it"
        );
        assert_eq!(
            classify(old, 0, 201, GRACE),
            Presented::Reuse,
            "two rotations old"
        );
    }

    #[test]
    fn tokens_the_family_never_had_are_unknown_not_reuse() {
        let (family, _) = family();
        let stranger = RefreshTokenKeys::random()
            .mint(&UserId::generate(), &SessionId::generate(), 2)
            .1;
        assert_eq!(
            family.classify(&stranger, 2, at(201), GRACE),
            Presented::Unknown
        );
        assert_eq!(
            family.classify(&stranger, 9, at(201), GRACE),
            Presented::Unknown
        );
    }
}
