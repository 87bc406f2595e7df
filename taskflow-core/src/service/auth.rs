//! Authentication use cases: register, login, refresh with rotation and reuse detection,
//! logout, logout-all, and authenticating a request's access token.
//!
//! Revocation reaches access tokens through a per-request session check: [`AuthService::
//! authenticate`] verifies the JWT and then checks its session, so a revoked session stops its
//! access tokens long before their expiry. The check is served from a bounded per-instance
//! cache ([`crate::auth::session_cache`]) for at most its TTL (default 1 s, 0 disables it)
//! and otherwise reads the session's validity (one keyed read of three fields). Every
//! revocation through this service (logout, logout-all, logout by refresh token, refresh-token
//! reuse) drops the cached entries at once: on the revoking instance the session's tokens stop
//! on their very next request; on the others within the TTL.
//!
//! A refresh is one conditional write on the fast path (the live token rotates). Only when
//! that matches nothing does a second read classify the token ([`crate::auth::session::RefreshFamily::classify`]):
//! the immediately previous token within the grace window gets the same successor as the
//! first exchange (unsealed from the session), an older one revokes the family (a third
//! write), anything else is a plain 401. A token whose tag does not verify (a made-up secret
//! for a real, guessable session id) is refused before any storage command, so it can never
//! revoke anyone's session.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::csrf::CsrfTokens;
use crate::auth::input::{Credentials, Registration};
use crate::auth::jwt::{AccessTokens, IssuedAccessToken, TokenError};
use crate::auth::password::{Password, PasswordHashError, PasswordHasher, Verification};
use crate::auth::refresh::{
    PresentedRefreshToken, RefreshToken, RefreshTokenKeys, SealedRefreshToken,
};
use crate::auth::session::{ClientMeta, Presented, Rotation, Session, SessionPolicy};
use crate::auth::session_cache::{SessionCache, SessionCacheConfig, SessionCacheStats};
use crate::auth::throttle::{LoginAttempt, ThrottlePolicy};
use crate::clock::{Clock, Timestamp};
use crate::domain::{SessionId, User, UserId};
use crate::error::{ErrorCode, StorageError};
use crate::ports::{InsertUserError, LoginThrottleRepository, SessionRepository, UserRepository};

/// Why an authentication operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Registration with an email that has an account.
    #[error("the email is already registered")]
    EmailTaken,
    /// Unknown email or wrong password.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// Too many failed logins for this account; try again later.
    #[error("too many failed logins; retry later")]
    Throttled {
        /// How long to wait.
        retry_after: Duration,
    },
    /// Missing, invalid or expired credentials, or a revoked session.
    #[error("authentication required")]
    Unauthorized,
    /// An already rotated refresh token was presented again: the session was revoked.
    #[error("refresh token reuse detected; the session was revoked")]
    RefreshTokenReused,
    /// Hashing failed (a bug or a corrupt stored hash).
    #[error("password hashing failed")]
    Hashing(#[from] PasswordHashError),
    /// Signing an access token failed (a bug or a broken key).
    #[error("token signing failed")]
    Signing(#[source] TokenError),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl AuthError {
    /// The stable code of this failure.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::EmailTaken => ErrorCode::EmailTaken,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::Throttled { .. } => ErrorCode::RateLimited,
            Self::Unauthorized | Self::RefreshTokenReused => ErrorCode::Unauthorized,
            Self::Hashing(_) | Self::Signing(_) => ErrorCode::Internal,
            Self::Storage(e) => e.code(),
        }
    }
}

impl From<InsertUserError> for AuthError {
    fn from(e: InsertUserError) -> Self {
        match e {
            InsertUserError::EmailTaken => Self::EmailTaken,
            InsertUserError::Storage(e) => Self::Storage(e),
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// The session the access token belongs to.
    pub session_id: SessionId,
}

/// Everything a successful login, registration or refresh hands to the client.
#[derive(Debug)]
pub struct IssuedSession {
    /// The session.
    pub principal: Principal,
    /// The access token (JWT) and its expiry.
    pub access: IssuedAccessToken,
    /// The new refresh token.
    pub refresh: RefreshToken,
    /// When the refresh token (and its session) ends at the latest.
    pub refresh_expires_at: Timestamp,
    /// The CSRF token bound to this session (for the readable cookie).
    pub csrf_token: String,
}

/// The storage the auth service needs.
#[derive(Clone)]
pub struct AuthStores {
    /// Accounts.
    pub users: Arc<dyn UserRepository>,
    /// Sessions and refresh tokens.
    pub sessions: Arc<dyn SessionRepository>,
    /// Login failure counters.
    pub throttle: Arc<dyn LoginThrottleRepository>,
}

/// The authentication use cases.
#[derive(Clone)]
pub struct AuthService {
    stores: AuthStores,
    hasher: PasswordHasher,
    tokens: Arc<AccessTokens>,
    csrf: Arc<CsrfTokens>,
    refresh_keys: Arc<RefreshTokenKeys>,
    clock: Arc<dyn Clock>,
    sessions: SessionPolicy,
    throttle: ThrottlePolicy,
    /// Shared by the clones of this service: one cache per instance.
    session_cache: Arc<SessionCache>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("sessions", &self.sessions)
            .field("throttle", &self.throttle)
            .field("session_cache", &self.session_cache)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// An auth service over `stores`. Every instance of a deployment needs the same
    /// `refresh_keys` (derived from the shared secret): they verify and unseal each other's
    /// refresh tokens.
    pub fn new(
        stores: AuthStores,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        csrf: CsrfTokens,
        refresh_keys: RefreshTokenKeys,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            stores,
            hasher,
            tokens: Arc::new(tokens),
            csrf: Arc::new(csrf),
            refresh_keys: Arc::new(refresh_keys),
            clock,
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            session_cache: Arc::new(SessionCache::new(SessionCacheConfig::default())),
        }
    }

    /// Replaces the session-check cache (default: [`SessionCacheConfig::default`], 1 s);
    /// [`SessionCacheConfig::disabled`] checks storage on every request.
    #[must_use]
    pub fn with_session_cache(mut self, config: SessionCacheConfig) -> Self {
        self.session_cache = Arc::new(SessionCache::new(config));
        self
    }

    /// How the session-check cache has served since start (for the metrics).
    pub fn session_cache_stats(&self) -> SessionCacheStats {
        self.session_cache.stats()
    }

    /// Replaces the session lifetimes and reuse grace window.
    #[must_use]
    pub fn with_session_policy(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    /// Replaces the password hasher (to raise the hashing parameters: stored hashes made with
    /// weaker ones still verify and are upgraded at the next successful login).
    #[must_use]
    pub fn with_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = hasher;
        self
    }

    /// Replaces the login throttling policy.
    #[must_use]
    pub fn with_throttle_policy(mut self, policy: ThrottlePolicy) -> Self {
        self.throttle = policy;
        self
    }

    /// The CSRF tokens (for the adapters' CSRF check).
    pub fn csrf(&self) -> &CsrfTokens {
        &self.csrf
    }

    /// The user and active session a refresh token was issued for, without using it up: its tag
    /// must verify (no storage command for a made-up token) and its session must still be
    /// active (one keyed read). The token may have been rotated since: this proves only whose
    /// session it names, which is enough to hand that session's CSRF token back to a page that
    /// lost it (a reload after the access token expired, on another origin than the API), and
    /// never enough to authenticate a request.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] for a malformed or made-up token or an ended session;
    /// [`AuthError::Storage`].
    pub async fn refresh_token_owner(&self, token: &str) -> Result<Principal, AuthError> {
        let presented = RefreshToken::parse(token).map_err(|_| AuthError::Unauthorized)?;
        if !self.refresh_keys.verify(&presented) {
            return Err(AuthError::Unauthorized);
        }
        let (user_id, session_id) = (presented.user_id, presented.session_id);
        let now = self.clock.now();
        match self
            .stores
            .sessions
            .get_session(&user_id, &session_id)
            .await?
        {
            Some(session) if session.is_active(now) => Ok(Principal {
                user_id,
                session_id,
            }),
            _ => Err(AuthError::Unauthorized),
        }
    }

    /// Creates an account and logs it in.
    ///
    /// # Errors
    /// [`AuthError::EmailTaken`], [`AuthError::Hashing`], [`AuthError::Storage`].
    pub async fn register(
        &self,
        registration: Registration,
        client: &ClientMeta,
    ) -> Result<(User, IssuedSession), AuthError> {
        let password_hash = self.hasher.hash(&registration.password).await?;
        let user = User {
            id: UserId::generate(),
            email: registration.email,
            name: registration.name,
            password_hash,
            created_at: self.clock.now(),
        };
        self.stores.users.insert_user(&user).await?;
        let issued = self.start_session(&user.id, client).await?;
        Ok((user, issued))
    }

    /// Checks credentials and starts a session.
    ///
    /// # Errors
    /// [`AuthError::Throttled`] while the account is slowed down after failures,
    /// [`AuthError::InvalidCredentials`] for an unknown email or a wrong password (the same
    /// error, after the same password-hashing work), [`AuthError::Hashing`],
    /// [`AuthError::Storage`].
    pub async fn login(
        &self,
        credentials: Credentials,
        client: &ClientMeta,
    ) -> Result<(User, IssuedSession), AuthError> {
        let email = &credentials.email;
        // Counted as a failure before the password is checked, in the same atomic step as the
        // backoff check: a burst of concurrent guesses gets one through per backoff step, not
        // one each (all of them would pass a check made before any of them was counted).
        let attempt = self
            .stores
            .throttle
            .reserve_login_attempt(email, self.clock.now(), &self.throttle)
            .await?;
        if let LoginAttempt::Refused { retry_after } = attempt {
            return Err(AuthError::Throttled { retry_after });
        }
        let user = self.stores.users.find_user_by_email(email).await?;
        let verification = self
            .verify(credentials.password.as_ref(), user.as_ref())
            .await?;
        let (Some(user), Verification::Valid { needs_rehash }) = (user, verification) else {
            // Already counted by the reservation.
            return Err(AuthError::InvalidCredentials);
        };
        // A success resets the account (and takes back its own reservation).
        self.stores.throttle.clear_login_failures(email).await?;
        if needs_rehash && let Some(password) = &credentials.password {
            self.rehash(&user.id, password).await?;
        }
        let issued = self.start_session(&user.id, client).await?;
        Ok((user, issued))
    }

    async fn verify(
        &self,
        password: Option<&Password>,
        user: Option<&User>,
    ) -> Result<Verification, AuthError> {
        let stored = user.map(|u| &u.password_hash);
        if let Some(password) = password {
            return Ok(self.hasher.verify(password, stored).await?);
        }
        // Out-of-rules passwords cannot match; still spend the hashing time so that the
        // answer's timing says nothing about the account.
        let placeholder =
            Password::parse("x".repeat(16)).map_err(|_| AuthError::InvalidCredentials)?;
        let _always_invalid = self.hasher.verify(&placeholder, None).await?;
        Ok(Verification::Invalid)
    }

    async fn rehash(&self, user: &UserId, password: &Password) -> Result<(), AuthError> {
        let stronger = self.hasher.hash(password).await?;
        self.stores.users.set_password_hash(user, &stronger).await?;
        Ok(())
    }

    async fn start_session(
        &self,
        user: &UserId,
        client: &ClientMeta,
    ) -> Result<IssuedSession, AuthError> {
        let now = self.clock.now();
        let session = Session {
            id: SessionId::generate(),
            user_id: *user,
            created_at: now,
            last_used_at: now,
            expires_at: now.saturating_add(self.sessions.absolute_ttl),
            idle_expires_at: self.idle_expiry(now),
            user_agent: client.truncated_user_agent(),
            ip: client.ip,
            revoked_at: None,
        };
        let (refresh, hash) = self.refresh_keys.mint(user, &session.id, 0);
        self.stores.sessions.create_session(&session, &hash).await?;
        self.issue(
            Principal {
                user_id: *user,
                session_id: session.id,
            },
            refresh,
            session.expires_at,
            now,
        )
    }

    fn idle_expiry(&self, now: Timestamp) -> Timestamp {
        now.saturating_add(self.sessions.idle_ttl)
    }

    fn issue(
        &self,
        principal: Principal,
        refresh: RefreshToken,
        refresh_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<IssuedSession, AuthError> {
        let access = self
            .tokens
            .issue(&principal.user_id, &principal.session_id, now)
            .map_err(AuthError::Signing)?;
        let csrf_token = self.csrf.token_for(&principal.session_id);
        Ok(IssuedSession {
            principal,
            access,
            refresh,
            refresh_expires_at,
            csrf_token,
        })
    }

    /// Exchanges a refresh token for a new access token and a new refresh token (rotation).
    ///
    /// Presenting a token that was already exchanged is taken as theft and revokes the whole
    /// session (token family), for the thief and the victim; except the immediately previous
    /// token within the grace window (a concurrent double submit), which gets the same
    /// successor as its first exchange (and a fresh access token), never a parallel one.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] for an unknown, malformed, forged or expired token or an
    /// ended session; [`AuthError::RefreshTokenReused`]; [`AuthError::Storage`].
    pub async fn refresh(&self, token: &str) -> Result<IssuedSession, AuthError> {
        let presented = RefreshToken::parse(token).map_err(|_| AuthError::Unauthorized)?;
        // Before any storage command: a made-up token naming a real session stops here.
        if !self.refresh_keys.verify(&presented) {
            return Err(AuthError::Unauthorized);
        }
        let (user, sid) = (presented.user_id, presented.session_id);
        let now = self.clock.now();
        let next = presented
            .generation
            .checked_add(1)
            .ok_or(AuthError::Unauthorized)?;
        let (successor, successor_hash) = self.refresh_keys.mint(&user, &sid, next);
        let rotation = Rotation {
            user_id: user,
            session_id: sid,
            presented: presented.hash,
            generation: presented.generation,
            successor: successor_hash,
            sealed_successor: self.refresh_keys.seal(&successor, &presented.hash),
            now,
            idle_expires_at: self.idle_expiry(now),
        };
        let principal = Principal {
            user_id: user,
            session_id: sid,
        };
        if let Some(session) = self.stores.sessions.rotate_refresh_token(&rotation).await? {
            return self.issue(principal, successor, session.expires_at, now);
        }
        self.refresh_not_live(&presented, principal, now).await
    }

    /// The slow path of [`refresh`](Self::refresh): the token was not the live one of an
    /// active session.
    async fn refresh_not_live(
        &self,
        presented: &PresentedRefreshToken,
        principal: Principal,
        now: Timestamp,
    ) -> Result<IssuedSession, AuthError> {
        let (user, sid) = (principal.user_id, principal.session_id);
        let Some((session, Some(family))) =
            self.stores.sessions.get_refresh_family(&user, &sid).await?
        else {
            return Err(AuthError::Unauthorized);
        };
        if !session.is_active(now) {
            return Err(AuthError::Unauthorized);
        }
        let grace = self.sessions.reuse_grace;
        match family.classify(&presented.hash, presented.generation, now, grace) {
            Presented::GraceReplay(previous) => {
                let successor = self
                    .unseal(&previous.successor, presented)
                    .ok_or(AuthError::Unauthorized)?;
                self.issue(principal, successor, session.expires_at, now)
            }
            Presented::Reuse => {
                self.revoke_session(&user, &sid, now).await?;
                Err(AuthError::RefreshTokenReused)
            }
            // The live token of an active session would have rotated: `Live` after a missed
            // rotation is a store answering inconsistently; refuse rather than retry.
            Presented::Live | Presented::Unknown => Err(AuthError::Unauthorized),
        }
    }

    /// The successor sealed beside `presented`, if it opens and is what the rotation minted.
    fn unseal(
        &self,
        sealed: &SealedRefreshToken,
        presented: &PresentedRefreshToken,
    ) -> Option<RefreshToken> {
        let successor = self.refresh_keys.open(sealed, &presented.hash)?;
        let parsed = RefreshToken::parse(successor.expose()).ok()?;
        let expected = (
            presented.user_id,
            presented.session_id,
            presented.generation.checked_add(1)?,
        );
        let ok = (parsed.user_id, parsed.session_id, parsed.generation) == expected
            && self.refresh_keys.verify(&parsed);
        ok.then_some(successor)
    }

    /// The caller behind an access token, if the token is valid and its session still active.
    ///
    /// The session check is answered from this instance's cache when the session was found
    /// active less than the cache's TTL ago (and before its end); otherwise from storage, and
    /// only an active session is remembered.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] for any token or session problem; [`AuthError::Storage`].
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        let now = self.clock.now();
        let claims = self
            .tokens
            .verify(access_token, now)
            .map_err(|_| AuthError::Unauthorized)?;
        let (user, sid) = (claims.user_id, claims.session_id);
        let principal = Principal {
            user_id: user,
            session_id: sid,
        };
        if self.session_cache.check(&user, &sid, now) {
            return Ok(principal);
        }
        let ticket = self.session_cache.ticket(&user, now);
        // Concurrent checks of this session that missed share one storage read.
        let (validity, made) = self
            .session_cache
            .read_once(&user, &sid, || {
                self.stores.sessions.get_session_validity(&user, &sid)
            })
            .await?;
        match validity {
            Some(v) if v.is_active(now) => {
                // Stored only if no revocation of this user went through this instance
                // while the read was in flight.
                if made {
                    self.session_cache.insert(ticket, &user, &sid, v.ends_at());
                }
                Ok(principal)
            }
            _ => Err(AuthError::Unauthorized),
        }
    }

    /// Revokes one session in storage and then drops it from the session-check cache, so its
    /// access tokens stop at once on this instance (also when the write failed: it may have
    /// been applied).
    async fn revoke_session(
        &self,
        user: &UserId,
        sid: &SessionId,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let revoked = self.stores.sessions.revoke_session(user, sid, now).await;
        self.session_cache.invalidate(user, sid);
        revoked
    }

    /// The caller's account.
    ///
    /// # Errors
    /// [`AuthError::Unauthorized`] when the account no longer exists; [`AuthError::Storage`].
    pub async fn me(&self, principal: &Principal) -> Result<User, AuthError> {
        self.stores
            .users
            .find_user_by_id(&principal.user_id)
            .await?
            .ok_or(AuthError::Unauthorized)
    }

    /// Ends the caller's session; its refresh and access tokens stop working.
    ///
    /// # Errors
    /// [`AuthError::Storage`].
    pub async fn logout(&self, principal: &Principal) -> Result<(), AuthError> {
        let now = self.clock.now();
        self.revoke_session(&principal.user_id, &principal.session_id, now)
            .await?;
        Ok(())
    }

    /// Ends every session of the caller, on every device.
    ///
    /// # Errors
    /// [`AuthError::Storage`].
    pub async fn logout_all(&self, principal: &Principal) -> Result<u64, AuthError> {
        let now = self.clock.now();
        let user = &principal.user_id;
        let revoked = self.stores.sessions.revoke_all_sessions(user, now).await;
        self.session_cache.invalidate_user(user);
        Ok(revoked?)
    }

    /// Ends the session a refresh token belongs to (logout with only the refresh cookie,
    /// e.g. after the access token expired). A token the server issued for that session ends
    /// it whatever its generation (an older one presented to `refresh` would revoke the family
    /// too); a malformed or made-up token is ignored: logout is idempotent.
    ///
    /// # Errors
    /// [`AuthError::Storage`].
    pub async fn logout_by_refresh_token(&self, token: &str) -> Result<(), AuthError> {
        let Ok(presented) = RefreshToken::parse(token) else {
            return Ok(());
        };
        if !self.refresh_keys.verify(&presented) {
            return Ok(());
        }
        let now = self.clock.now();
        let (user, sid) = (presented.user_id, presented.session_id);
        self.revoke_session(&user, &sid, now).await?;
        Ok(())
    }

    /// The active sessions of the caller, newest first.
    ///
    /// # Errors
    /// [`AuthError::Storage`].
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>, AuthError> {
        let now = self.clock.now();
        let mut sessions = self
            .stores
            .sessions
            .list_sessions(&principal.user_id)
            .await?;
        sessions.retain(|s| s.is_active(now));
        Ok(sessions)
    }
}
