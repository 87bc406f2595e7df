//! Error vocabulary shared by every operation family: stable machine codes, field-level
//! validation detail, and the storage failure that ports report.
//!
//! Each operation family has its own `thiserror` enum (see `service`), and every variant maps to
//! one [`ErrorCode`]; adapters map codes to HTTP statuses in exactly one place.

use std::borrow::Cow;
use std::fmt;

/// A stable, snake_case machine code, part of the public API (`code` in problem+json bodies).
///
/// Codes never change meaning once published; new ones may be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The body is malformed, not an object, misses a field, has a wrong type or an unknown field.
    InvalidBody,
    /// A well-typed value breaks a rule (length, format, range, enumeration).
    ValidationFailed,
    /// A query parameter is unknown or has a bad value.
    InvalidQuery,
    /// A pagination cursor was tampered with, or belongs to another query or user.
    InvalidCursor,
    /// The resource does not exist, or is not the caller's (indistinguishable on purpose).
    NotFound,
    /// A conditional request (`If-Match`) did not match the current version.
    PreconditionFailed,
    /// The change lost too many races against concurrent writers; retrying is safe.
    Conflict,
    /// Registration with an email that already has an account.
    EmailTaken,
    /// Unknown email or wrong password (the same code for both, on purpose).
    InvalidCredentials,
    /// Missing, invalid or expired credentials, or a revoked session.
    Unauthorized,
    /// A cookie-authenticated unsafe request lacked a valid CSRF token, or its origin is foreign.
    CsrfFailed,
    /// Too many requests for a rate-limit policy; `Retry-After` says when to try again.
    RateLimited,
    /// No such route.
    RouteNotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is over the configured limit.
    PayloadTooLarge,
    /// The server is overloaded or timed out; retry later.
    ServiceUnavailable,
    /// Storage cannot be reached right now; retrying later may succeed.
    StorageUnavailable,
    /// An unexpected failure; details go to the logs, never to the client.
    Internal,
    /// The server is handling as many requests as it may; retry after `Retry-After`.
    Overloaded,
    /// The request took longer than the server allows and was abandoned; retry later.
    Timeout,
    /// A request reached the service over plain HTTP where only HTTPS is served.
    HttpsRequired,
    /// The request body did not arrive within the server's body read deadline.
    RequestTimeout,
}

impl ErrorCode {
    /// Every code, in declaration order (the OpenAPI document enumerates them).
    pub const ALL: [Self; 23] = [
        Self::InvalidBody,
        Self::ValidationFailed,
        Self::InvalidQuery,
        Self::InvalidCursor,
        Self::NotFound,
        Self::PreconditionFailed,
        Self::Conflict,
        Self::EmailTaken,
        Self::InvalidCredentials,
        Self::Unauthorized,
        Self::CsrfFailed,
        Self::RateLimited,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::ServiceUnavailable,
        Self::StorageUnavailable,
        Self::Internal,
        Self::Overloaded,
        Self::Timeout,
        Self::HttpsRequired,
        Self::RequestTimeout,
    ];

    /// The wire form of the code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidBody => "invalid_body",
            Self::ValidationFailed => "validation_failed",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidCursor => "invalid_cursor",
            Self::NotFound => "not_found",
            Self::PreconditionFailed => "precondition_failed",
            Self::Conflict => "conflict",
            Self::EmailTaken => "email_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthorized => "unauthorized",
            Self::CsrfFailed => "csrf_failed",
            Self::RateLimited => "rate_limited",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge => "payload_too_large",
            Self::ServiceUnavailable => "service_unavailable",
            Self::StorageUnavailable => "storage_unavailable",
            Self::Internal => "internal",
            Self::Overloaded => "overloaded",
            Self::Timeout => "timeout",
            Self::HttpsRequired => "https_required",
            Self::RequestTimeout => "request_timeout",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule broken by one field (or query parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as the client sent it (`title`, `tags[3]`, `due_before`).
    pub field: Cow<'static, str>,
    /// A human-readable explanation, safe to show to the client.
    pub message: String,
}

/// Every rule broken by an input, field by field; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{} field(s) failed validation", .errors.len())]
pub struct ValidationErrors {
    errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` broke a rule described by `message`.
    pub fn push(&mut self, field: impl Into<Cow<'static, str>>, message: impl fmt::Display) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.to_string(),
        });
    }

    /// Parses one field, recording its error under `field` and returning `None` when it fails.
    pub fn check<T, E: fmt::Display>(
        &mut self,
        field: impl Into<Cow<'static, str>>,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|e| self.push(field, e)).ok()
    }

    /// The recorded errors, in input order.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, otherwise the collected errors.
    ///
    /// # Errors
    /// Returns `self` when at least one field failed.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.errors.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

/// The boxed cause of a storage failure, kept for logs and never shown to clients.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A storage port failed for a reason the domain cannot act on.
///
/// Storage adapters translate their driver errors into this type (and into the domain errors a
/// port documents, such as a taken email) before anything leaves the adapter.
///
/// Not `#[non_exhaustive]`: it is the vocabulary every storage adapter speaks and maps its
/// driver's errors into, so a kind added here must be a decision in every adapter.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The store cannot be reached (network, server selection, pool exhausted): retry later.
    #[error("storage is unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug, corrupt data, or a failure the adapter did not anticipate.
    #[error("storage failed")]
    Internal(#[source] BoxError),
}

impl StorageError {
    /// The stable code of this failure.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Unavailable(_) => ErrorCode::StorageUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Wraps an unexpected failure.
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::Internal(source.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_snake_case() {
        let all = [
            (ErrorCode::InvalidBody, "invalid_body"),
            (ErrorCode::ValidationFailed, "validation_failed"),
            (ErrorCode::InvalidQuery, "invalid_query"),
            (ErrorCode::InvalidCursor, "invalid_cursor"),
            (ErrorCode::NotFound, "not_found"),
            (ErrorCode::PreconditionFailed, "precondition_failed"),
            (ErrorCode::Conflict, "conflict"),
            (ErrorCode::EmailTaken, "email_taken"),
            (ErrorCode::InvalidCredentials, "invalid_credentials"),
            (ErrorCode::Unauthorized, "unauthorized"),
            (ErrorCode::CsrfFailed, "csrf_failed"),
            (ErrorCode::RateLimited, "rate_limited"),
            (ErrorCode::RouteNotFound, "route_not_found"),
            (ErrorCode::MethodNotAllowed, "method_not_allowed"),
            (ErrorCode::UnsupportedMediaType, "unsupported_media_type"),
            (ErrorCode::PayloadTooLarge, "payload_too_large"),
            (ErrorCode::ServiceUnavailable, "service_unavailable"),
            (ErrorCode::StorageUnavailable, "storage_unavailable"),
            (ErrorCode::Internal, "internal"),
            (ErrorCode::Overloaded, "overloaded"),
            (ErrorCode::Timeout, "timeout"),
            (ErrorCode::HttpsRequired, "https_required"),
            (ErrorCode::RequestTimeout, "request_timeout"),
        ];
        for (code, text) in all {
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
        }
    }

    #[test]
    fn all_lists_every_code_once_in_order() {
        // Exhaustive on purpose: a new variant breaks this until it is given its place here and
        // in `ErrorCode::ALL`.
        let place = |code: ErrorCode| match code {
            ErrorCode::InvalidBody => 0,
            ErrorCode::ValidationFailed => 1,
            ErrorCode::InvalidQuery => 2,
            ErrorCode::InvalidCursor => 3,
            ErrorCode::NotFound => 4,
            ErrorCode::PreconditionFailed => 5,
            ErrorCode::Conflict => 6,
            ErrorCode::EmailTaken => 7,
            ErrorCode::InvalidCredentials => 8,
            ErrorCode::Unauthorized => 9,
            ErrorCode::CsrfFailed => 10,
            ErrorCode::RateLimited => 11,
            ErrorCode::RouteNotFound => 12,
            ErrorCode::MethodNotAllowed => 13,
            ErrorCode::UnsupportedMediaType => 14,
            ErrorCode::PayloadTooLarge => 15,
            ErrorCode::ServiceUnavailable => 16,
            ErrorCode::StorageUnavailable => 17,
            ErrorCode::Internal => 18,
            ErrorCode::Overloaded => 19,
            ErrorCode::Timeout => 20,
            ErrorCode::HttpsRequired => 21,
            ErrorCode::RequestTimeout => 22,
        };
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(place(*code), i, "{code}");
        }
    }

    #[test]
    fn validation_errors_collect_every_field() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.check("b", Err::<i32, _>("too long")), None);
        errors.push("c", "bad");
        let err = errors.finish(|| ()).unwrap_err();
        let fields: Vec<_> = err.errors().iter().map(|e| e.field.as_ref()).collect();
        assert_eq!(fields, ["b", "c"]);
        assert_eq!(err.errors()[0].message, "too long");
    }

    #[test]
    fn storage_error_display_hides_the_cause() {
        let err = StorageError::internal("driver said: secret host 10.0.0.1");
        assert_eq!(err.to_string(), "storage failed");
        assert_eq!(err.code(), ErrorCode::Internal);
    }
}
