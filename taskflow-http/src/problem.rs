//! RFC 9457 problem details: the one place that maps error codes to HTTP statuses, and the
//! one shape every error response has, whichever adapter or layer produced it.

use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use serde::Serialize;
use taskflow_core::StorageError;
use taskflow_core::auth::{CsrfError, RateDecision, RateLimited};
use taskflow_core::error::{ErrorCode, ValidationErrors};
use taskflow_core::service::{AuthError, TaskError};

use crate::headers::{RATELIMIT, RATELIMIT_POLICY, set_rate_limit_headers};
use crate::input::BodyError;
use crate::metrics::AuthEvent;

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The policy name of the failed-login backoff in rate-limit headers.
const BACKOFF_POLICY: &str = "login-failures";

/// How long clients are told to wait when storage or the server is unavailable.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// How long clients are told to wait when the server sheds load: capacity frees up as soon
/// as any request in flight ends.
const OVERLOADED_RETRY_SECS: u64 = 1;

/// The HTTP status of a code. Every error response in TaskFlow goes through here.
pub const fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidBody | ErrorCode::InvalidQuery | ErrorCode::InvalidCursor => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::NotFound | ErrorCode::RouteNotFound => StatusCode::NOT_FOUND,
        ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        ErrorCode::Conflict | ErrorCode::EmailTaken => StatusCode::CONFLICT,
        ErrorCode::InvalidCredentials | ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::CsrfFailed | ErrorCode::HttpsRequired => StatusCode::FORBIDDEN,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::ServiceUnavailable | ErrorCode::StorageUnavailable | ErrorCode::Overloaded => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The short, fixed title of a code.
const fn title_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidBody => "Invalid request body",
        ErrorCode::ValidationFailed => "Validation failed",
        ErrorCode::InvalidQuery => "Invalid query parameters",
        ErrorCode::InvalidCursor => "Invalid cursor",
        ErrorCode::NotFound => "Not found",
        ErrorCode::RouteNotFound => "No such route",
        ErrorCode::PreconditionFailed => "Precondition failed",
        ErrorCode::Conflict => "Conflict",
        ErrorCode::EmailTaken => "Email already registered",
        ErrorCode::InvalidCredentials => "Invalid credentials",
        ErrorCode::Unauthorized => "Authentication required",
        ErrorCode::CsrfFailed => "CSRF check failed",
        ErrorCode::RateLimited => "Too many requests",
        ErrorCode::MethodNotAllowed => "Method not allowed",
        ErrorCode::UnsupportedMediaType => "Unsupported media type",
        ErrorCode::PayloadTooLarge => "Payload too large",
        ErrorCode::ServiceUnavailable => "Service unavailable",
        ErrorCode::StorageUnavailable => "Storage unavailable",
        ErrorCode::Overloaded => "Server overloaded",
        ErrorCode::Timeout => "Request timed out",
        ErrorCode::HttpsRequired => "HTTPS required",
        ErrorCode::RequestTimeout => "Request body too slow",
        _ => "Internal error",
    }
}

/// An error answer, before it is rendered for one request (boxed: it travels in every
/// `Result` of the request path, which should stay small).
#[derive(Debug, Clone)]
pub struct Problem(Box<Details>);

#[derive(Debug, Clone)]
struct Details {
    code: ErrorCode,
    detail: String,
    errors: Option<ValidationErrors>,
    retry_after: Option<u64>,
    rate_limit: Option<RateDecision>,
    allow: Option<&'static str>,
    /// `RateLimit-Policy` and `RateLimit` of an account slowed down by failed logins.
    backoff: Option<(String, String)>,
    /// The authentication event this answer stands for, when only its cause tells.
    auth_event: Option<AuthEvent>,
}

/// The problem+json body (RFC 9457), as documented in the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub(crate) struct Body<'a> {
    /// `urn:taskflow:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(pattern = "^urn:taskflow:problem:[a-z_]+$")]
    kind: String,
    /// Short summary of the problem kind.
    title: &'static str,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    /// What happened, for humans.
    detail: &'a str,
    /// Stable machine code (new codes may be added; a code never changes meaning).
    #[schema(schema_with = code_schema)]
    code: &'static str,
    /// Each broken field rule (`validation_failed` and `invalid_query` only); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    errors: Option<Vec<FieldErrorBody<'a>>>,
    /// The request's `X-Request-Id`.
    request_id: &'a str,
}

/// `code`: one of the published codes.
fn code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ErrorCode::ALL.map(ErrorCode::as_str)))
        .build()
}

/// One broken rule of one field.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = FieldError)]
pub(crate) struct FieldErrorBody<'a> {
    /// Field or parameter name (`title`, `tags[3]`, `limit`).
    field: &'a str,
    /// What is wrong with it.
    message: &'a str,
}

impl Problem {
    /// A problem with `code` and a human-readable `detail` (never internal error text).
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        let retry_after = match code {
            ErrorCode::StorageUnavailable | ErrorCode::ServiceUnavailable => {
                Some(UNAVAILABLE_RETRY_SECS)
            }
            ErrorCode::Overloaded => Some(OVERLOADED_RETRY_SECS),
            _ => None,
        };
        Self(Box::new(Details {
            code,
            detail: detail.into(),
            errors: None,
            retry_after,
            rate_limit: None,
            allow: None,
            backoff: None,
            auth_event: None,
        }))
    }

    /// A problem listing every broken field rule (`validation_failed` or `invalid_query`).
    pub fn fields(code: ErrorCode, errors: ValidationErrors) -> Self {
        let detail = match code {
            ErrorCode::InvalidQuery => "One or more query parameters are invalid.",
            _ => "One or more fields are invalid.",
        };
        let mut problem = Self::new(code, detail);
        problem.0.errors = Some(errors);
        problem
    }

    /// A rate-limit rejection with its headers.
    pub fn rate_limited(decision: RateDecision) -> Self {
        let mut problem = Self::new(
            ErrorCode::RateLimited,
            "Too many requests; retry after the indicated time.",
        );
        problem.0.retry_after = decision.retry_after_secs();
        problem.0.rate_limit = Some(decision);
        problem
    }

    /// Adds an `Allow` header (for 405).
    #[must_use]
    pub fn with_allow(mut self, methods: &'static str) -> Self {
        self.0.allow = Some(methods);
        self
    }

    /// The rate-limit policy that rejected the request, if one did.
    pub fn rate_limit_policy(&self) -> Option<&'static str> {
        match (&self.0.rate_limit, self.0.code) {
            (Some(decision), _) => Some(decision.policy),
            (None, ErrorCode::RateLimited) => Some(BACKOFF_POLICY),
            _ => None,
        }
    }

    /// The authentication event this problem stands for, if its cause names one (a wrong
    /// password, a reused refresh token, ...).
    pub fn auth_event(&self) -> Option<AuthEvent> {
        self.0.auth_event
    }

    fn with_auth_event(mut self, event: AuthEvent) -> Self {
        self.0.auth_event = Some(event);
        self
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        status_of(self.0.code)
    }

    /// Renders the problem for the request `request_id`.
    pub fn into_response(self, request_id: &str) -> Response<Vec<u8>> {
        let status = self.status();
        let this = *self.0;
        let errors = this.errors.as_ref().map(|errors| {
            errors
                .errors()
                .iter()
                .map(|e| FieldErrorBody {
                    field: &e.field,
                    message: &e.message,
                })
                .collect()
        });
        let body = Body {
            kind: format!("urn:taskflow:problem:{}", this.code.as_str()),
            title: title_of(this.code),
            status: status.as_u16(),
            detail: &this.detail,
            code: this.code.as_str(),
            errors,
            request_id,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(bytes);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = this.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(decision) = &this.rate_limit {
            set_rate_limit_headers(headers, decision);
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §11.6.1: a 401 names the scheme that would succeed.
            headers.insert(
                http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"taskflow\""),
            );
        }
        if let Some((policy, ratelimit)) = &this.backoff {
            for (name, value) in [(&RATELIMIT_POLICY, policy), (&RATELIMIT, ratelimit)] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.insert(name.clone(), value);
                }
            }
        }
        if let Some(allow) = this.allow {
            headers.insert(http::header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

impl From<TaskError> for Problem {
    fn from(e: TaskError) -> Self {
        let detail = match &e {
            TaskError::NotFound => "No task with this id.",
            TaskError::PreconditionFailed => "The task has changed; fetch it again and retry.",
            TaskError::Conflict => "The task is being changed concurrently; retry.",
            TaskError::InvalidCursor => "The cursor does not belong to this query.",
            // A failure of a kind added later: its code says what it is.
            _ => storage_detail(e.code()),
        };
        Self::new(e.code(), detail)
    }
}

impl From<AuthError> for Problem {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Throttled { retry_after } => {
                let mut problem = Self::new(
                    ErrorCode::RateLimited,
                    "Too many failed logins for this account; retry later.",
                );
                let secs = retry_after.as_secs_f64().ceil().max(1.0);
                // Whole seconds of a bounded backoff (at most 15 minutes): no truncation.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let secs = secs as u64;
                problem.0.retry_after = Some(secs);
                problem.0.backoff = Some((
                    format!("\"{BACKOFF_POLICY}\";q=5;w=3600"),
                    format!("\"{BACKOFF_POLICY}\";r=0;t={secs}"),
                ));
                problem.with_auth_event(AuthEvent::LoginThrottled)
            }
            AuthError::EmailTaken => Self::new(e.code(), "An account with this email exists.")
                .with_auth_event(AuthEvent::RegisterEmailTaken),
            AuthError::InvalidCredentials => Self::new(e.code(), "Invalid email or password.")
                .with_auth_event(AuthEvent::LoginFailure),
            AuthError::Unauthorized => Self::new(e.code(), "Valid credentials are required."),
            AuthError::RefreshTokenReused => Self::new(e.code(), "Valid credentials are required.")
                .with_auth_event(AuthEvent::RefreshReuseDetected),
            // Hashing, signing and storage failures, and kinds added later: by their code.
            _ => Self::new(e.code(), storage_detail(e.code())),
        }
    }
}

impl From<BodyError> for Problem {
    fn from(e: BodyError) -> Self {
        // serde_json's messages name the field and position only, never echo values.
        Self::new(ErrorCode::InvalidBody, e.to_string())
    }
}

impl From<CsrfError> for Problem {
    fn from(e: CsrfError) -> Self {
        Self::new(
            e.code(),
            "A valid CSRF token (X-CSRF-Token) from an allowed origin is required.",
        )
        .with_auth_event(AuthEvent::CsrfRejected)
    }
}

/// A store that failed outside a service (the auth rate limits): 503 `storage_unavailable`
/// when it cannot be reached, 500 `internal` otherwise; never the cause.
impl From<StorageError> for Problem {
    fn from(e: StorageError) -> Self {
        Self::new(e.code(), storage_detail(e.code()))
    }
}

impl From<RateLimited> for Problem {
    fn from(e: RateLimited) -> Self {
        Self::rate_limited(e.0)
    }
}

fn storage_detail(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::StorageUnavailable => "Storage is unavailable; retry later.",
        _ => "An internal error occurred.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_rfc9457_with_code_and_request_id() {
        let mut errors = ValidationErrors::new();
        errors.push("title", "must not be empty");
        let response = Problem::fields(ErrorCode::ValidationFailed, errors).into_response("req-1");
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_JSON);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "urn:taskflow:problem:validation_failed",
                "title": "Validation failed",
                "status": 422,
                "detail": "One or more fields are invalid.",
                "code": "validation_failed",
                "errors": [{"field": "title", "message": "must not be empty"}],
                "request_id": "req-1"
            })
        );
    }

    #[test]
    fn storage_failures_never_leak_their_cause() {
        let cause = taskflow_core::StorageError::internal("E11000 at 10.0.0.7: secret");
        let response = Problem::from(TaskError::Storage(cause)).into_response("r");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = String::from_utf8(response.into_body()).unwrap();
        assert!(
            !text.contains("secret") && !text.contains("E11000"),
            "{text}"
        );
        let unavailable = taskflow_core::StorageError::Unavailable("down".into());
        let response = Problem::from(TaskError::Storage(unavailable)).into_response("r");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "5");
    }

    #[test]
    fn every_code_has_its_status() {
        let cases = [
            (ErrorCode::InvalidBody, 400),
            (ErrorCode::ValidationFailed, 422),
            (ErrorCode::InvalidQuery, 400),
            (ErrorCode::InvalidCursor, 400),
            (ErrorCode::NotFound, 404),
            (ErrorCode::PreconditionFailed, 412),
            (ErrorCode::EmailTaken, 409),
            (ErrorCode::InvalidCredentials, 401),
            (ErrorCode::Unauthorized, 401),
            (ErrorCode::CsrfFailed, 403),
            (ErrorCode::RateLimited, 429),
            (ErrorCode::UnsupportedMediaType, 415),
            (ErrorCode::PayloadTooLarge, 413),
            (ErrorCode::StorageUnavailable, 503),
            (ErrorCode::Internal, 500),
            (ErrorCode::Overloaded, 503),
            (ErrorCode::Timeout, 504),
            (ErrorCode::HttpsRequired, 403),
            (ErrorCode::RequestTimeout, 408),
        ];
        for (code, status) in cases {
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
    }
}
