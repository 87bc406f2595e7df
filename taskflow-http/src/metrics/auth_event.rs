//! The authentication events counted in `taskflow_auth_events_total`: what the auth endpoints
//! did, named once here so the metric's label values are a closed set.

use taskflow_core::error::ErrorCode;

use crate::routes::Endpoint;

/// Something that happened to an account or a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthEvent {
    /// An account was created (and logged in).
    Register,
    /// Registration refused: the email has an account.
    RegisterEmailTaken,
    /// A password login (cookie or token grant) succeeded.
    LoginSuccess,
    /// Wrong email or password.
    LoginFailure,
    /// Refused by the failed-login backoff of the account.
    LoginThrottled,
    /// A refresh token was exchanged for new tokens (cookie or token grant).
    Refresh,
    /// A refresh token was missing, unknown, expired or revoked.
    RefreshFailure,
    /// An already rotated refresh token came back: its whole session was revoked.
    RefreshReuseDetected,
    /// A session ended.
    Logout,
    /// Every session of a user ended.
    LogoutAll,
    /// A cookie-authenticated unsafe request without a valid CSRF token or from a foreign
    /// origin.
    CsrfRejected,
    /// A request to a protected endpoint without a valid access token or session.
    AccessRejected,
}

impl AuthEvent {
    /// Every event, in documentation order.
    pub const ALL: [Self; 12] = [
        Self::Register,
        Self::RegisterEmailTaken,
        Self::LoginSuccess,
        Self::LoginFailure,
        Self::LoginThrottled,
        Self::Refresh,
        Self::RefreshFailure,
        Self::RefreshReuseDetected,
        Self::Logout,
        Self::LogoutAll,
        Self::CsrfRejected,
        Self::AccessRejected,
    ];

    /// The `event` label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::RegisterEmailTaken => "register_email_taken",
            Self::LoginSuccess => "login_success",
            Self::LoginFailure => "login_failure",
            Self::LoginThrottled => "login_throttled",
            Self::Refresh => "refresh",
            Self::RefreshFailure => "refresh_failure",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::Logout => "logout",
            Self::LogoutAll => "logout_all",
            Self::CsrfRejected => "csrf_rejected",
            Self::AccessRejected => "access_rejected",
        }
    }

    /// The event an error answer of `endpoint` stands for, when the problem does not name one
    /// itself: a 401 is a failed refresh on the refresh endpoints (the password grant fails
    /// with `invalid_credentials` instead) and a refused access token anywhere else.
    pub(crate) fn of_rejection(endpoint: Option<Endpoint>, code: ErrorCode) -> Option<Self> {
        match code {
            ErrorCode::Unauthorized
                if matches!(endpoint, Some(Endpoint::Refresh | Endpoint::Token)) =>
            {
                Some(Self::RefreshFailure)
            }
            ErrorCode::Unauthorized => Some(Self::AccessRejected),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_documented_once_with_a_distinct_label() {
        let docs = include_str!("../../../docs/metrics.md");
        let mut labels: Vec<&str> = AuthEvent::ALL.iter().map(|e| e.as_str()).collect();
        for label in &labels {
            assert!(
                docs.contains(&format!("| `{label}` |")),
                "{label} undocumented"
            );
        }
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), AuthEvent::ALL.len());
    }

    #[test]
    fn a_401_is_a_refresh_failure_on_the_refresh_routes_only() {
        for endpoint in [Endpoint::Refresh, Endpoint::Token] {
            assert_eq!(
                AuthEvent::of_rejection(Some(endpoint), ErrorCode::Unauthorized),
                Some(AuthEvent::RefreshFailure)
            );
        }
        assert_eq!(
            AuthEvent::of_rejection(Some(Endpoint::ListTasks), ErrorCode::Unauthorized),
            Some(AuthEvent::AccessRejected)
        );
        assert_eq!(
            AuthEvent::of_rejection(Some(Endpoint::ListTasks), ErrorCode::NotFound),
            None
        );
    }
}
