//! `/api/v1/auth/*`: register, login, token grants, refresh, the CSRF token, logout,
//! logout-all, me.
//!
//! Login, token and register are rate-limited per client IP before anything else and per
//! account once the email is known; refresh and logout via cookie carry the CSRF check.
//! Refresh is rate-limited per client IP before its token is verified, and charged to its
//! user only once the token proved who that is.
//!
//! Every answer that sets the session cookies also carries the session's CSRF token in its
//! body, and `GET /auth/csrf` hands it out again: a page served from another origin than the
//! API cannot read the API's CSRF cookie, so the body is where it learns the token.

use http::StatusCode;
use http::header::{HeaderValue, SET_COOKIE};
use taskflow_core::auth::refresh::RefreshToken;
use taskflow_core::auth::{ClientNet, CsrfError, RateDecision};
use taskflow_core::domain::Email;
use taskflow_core::error::ErrorCode;
use taskflow_core::service::IssuedSession;

use super::{Reply, authenticate, body, check_csrf, empty, json, unauthorized, with_limit};
use crate::app::App;
use crate::context::RequestContext;
use crate::cookies::CookieKind;
use crate::headers::{NO_STORE, set_cache_control};
use crate::input::{LoginInput, RegisterInput, TokenGrantInput};
use crate::metrics::AuthEvent;
use crate::problem::Problem;
use crate::views::{
    CsrfView, LoginView, RefreshView, RegisterView, TokenView, UserEnvelope, UserView,
};

/// Charges the client's `auth-ip` quota (one storage command; shared by every instance). A
/// storage failure refuses the request (503), never lets it through uncounted.
async fn limit_ip(app: &App, ctx: &RequestContext) -> Result<RateDecision, Problem> {
    let client = ClientNet::of(ctx.client_ip);
    Ok(app
        .0
        .auth_limits
        .check_auth_ip(client)
        .await?
        .into_result()?)
}

/// Charges the account's `auth-account` quota, once the IP admitted the request (a client over its
/// own quota spends nobody's account quota).
async fn limit_account(
    app: &App,
    ip: RateDecision,
    email: &Email,
) -> Result<RateDecision, Problem> {
    let account = app
        .0
        .auth_limits
        .check_auth_account(email)
        .await?
        .into_result()?;
    Ok(RateDecision::most_restrictive(ip, account))
}

fn validation(errors: taskflow_core::ValidationErrors) -> Problem {
    Problem::fields(ErrorCode::ValidationFailed, errors)
}

/// Sets the three auth cookies for `issued`.
fn set_session_cookies(app: &App, response: &mut http::Response<Vec<u8>>, issued: &IssuedSession) {
    let access_secs = app.0.access_ttl_secs;
    let now_ms =
        issued.access.expires_at.unix_millis() - i64::try_from(access_secs * 1000).unwrap_or(0);
    let refresh_secs =
        u64::try_from((issued.refresh_expires_at.unix_millis() - now_ms) / 1000).unwrap_or(0);
    let cookies = app.0.cookies;
    let values = [
        cookies.set(CookieKind::Access, &issued.access.token, access_secs),
        cookies.set(CookieKind::Refresh, issued.refresh.expose(), refresh_secs),
        cookies.set(CookieKind::Csrf, &issued.csrf_token, refresh_secs),
    ];
    append_cookies(response, &values);
}

fn clear_session_cookies(app: &App, response: &mut http::Response<Vec<u8>>) {
    let cookies = app.0.cookies;
    let values =
        [CookieKind::Access, CookieKind::Refresh, CookieKind::Csrf].map(|k| cookies.clear(k));
    append_cookies(response, &values);
}

fn append_cookies(response: &mut http::Response<Vec<u8>>, values: &[String]) {
    for value in values {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
}

fn no_store(mut response: http::Response<Vec<u8>>) -> http::Response<Vec<u8>> {
    set_cache_control(response.headers_mut(), NO_STORE);
    response
}

/// `POST /api/v1/auth/register`: 201 `{user, csrf_token}` and the session cookies.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    post,
    path = "/auth/register",
    tag = "auth",
    security(),
    request_body = crate::input::RegisterInput,
    responses((status = 201, description = "Registered and logged in; sets the session cookies", body = crate::views::RegisterView<'static>), (status = 400, description = "Malformed body", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 413, description = "Body too large", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 415, description = "Not JSON", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 422, description = "Validation failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 409, description = "Email taken", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn register(app: &App, ctx: &RequestContext, bytes: &[u8]) -> Reply {
    let ip = limit_ip(app, ctx).await?;
    let input: RegisterInput = body(ctx, bytes)?;
    let registration = input.validate().map_err(validation)?;
    let limit = limit_account(app, ip, &registration.email).await?;
    let (user, issued) = app
        .0
        .auth
        .register(registration, &ctx.client_meta())
        .await?;
    ctx.set_user(user.id);
    app.0.metrics.auth_event(AuthEvent::Register);
    let mut response = json(
        StatusCode::CREATED,
        &RegisterView {
            user: UserView::from(&user),
            csrf_token: &issued.csrf_token,
        },
    );
    set_session_cookies(app, &mut response, &issued);
    Ok(with_limit(no_store(response), &limit))
}

/// `POST /api/v1/auth/login`: 200 `{user, access_expires_at, csrf_token}` and the session
/// cookies.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    security(),
    request_body = crate::input::LoginInput,
    responses((status = 200, description = "Logged in; sets the session cookies", body = crate::views::LoginView<'static>), (status = 400, description = "Malformed body", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 413, description = "Body too large", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 415, description = "Not JSON", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 422, description = "Validation failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn login(app: &App, ctx: &RequestContext, bytes: &[u8]) -> Reply {
    let ip = limit_ip(app, ctx).await?;
    let input: LoginInput = body(ctx, bytes)?;
    let credentials = input.validate().map_err(validation)?;
    let limit = limit_account(app, ip, &credentials.email).await?;
    let (user, issued) = app.0.auth.login(credentials, &ctx.client_meta()).await?;
    ctx.set_user(user.id);
    app.0.metrics.auth_event(AuthEvent::LoginSuccess);
    let view = LoginView {
        user: UserView::from(&user),
        access_expires_at: issued.access.expires_at,
        csrf_token: &issued.csrf_token,
    };
    let mut response = json(StatusCode::OK, &view);
    set_session_cookies(app, &mut response, &issued);
    Ok(with_limit(no_store(response), &limit))
}

/// `POST /api/v1/auth/token`: password or refresh-token grant for non-browser clients; the
/// tokens are in the body and no cookie is set.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    post,
    path = "/auth/token",
    tag = "auth",
    security(),
    request_body = crate::input::TokenGrantInput,
    responses((status = 200, description = "Tokens for non-browser clients", body = crate::views::TokenView<'static>), (status = 400, description = "Malformed body", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 413, description = "Body too large", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 415, description = "Not JSON", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 422, description = "Validation failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn token(app: &App, ctx: &RequestContext, bytes: &[u8]) -> Reply {
    let ip = limit_ip(app, ctx).await?;
    let grant: TokenGrantInput = body(ctx, bytes)?;
    let (issued, limit, event) = match grant {
        TokenGrantInput::Password { email, password } => {
            let credentials = LoginInput { email, password }
                .validate()
                .map_err(validation)?;
            let limit = limit_account(app, ip, &credentials.email).await?;
            let (user, issued) = app.0.auth.login(credentials, &ctx.client_meta()).await?;
            ctx.set_user(user.id);
            (issued, limit, AuthEvent::LoginSuccess)
        }
        TokenGrantInput::RefreshToken { refresh_token } => (
            app.0.auth.refresh(&refresh_token).await?,
            ip,
            AuthEvent::Refresh,
        ),
    };
    app.0.metrics.auth_event(event);
    let view = TokenView {
        access_token: &issued.access.token,
        refresh_token: issued.refresh.expose(),
        token_type: "Bearer",
        expires_in: app.0.access_ttl_secs,
    };
    Ok(with_limit(no_store(json(StatusCode::OK, &view)), &limit))
}

/// `POST /api/v1/auth/refresh`: rotates the refresh cookie and re-issues the access cookie;
/// 200 `{access_expires_at, csrf_token}`.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    security(("refreshCookie" = [], "csrfCookie" = [], "csrfHeader" = [])),
    responses((status = 200, description = "Rotated cookies", body = crate::views::RefreshView<'static>), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 403, description = "CSRF check failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn refresh(app: &App, ctx: &RequestContext) -> Reply {
    // The token names a user, but anyone can write a token naming anyone: until it is
    // verified, only the client's address may be charged.
    let client = ClientNet::of(ctx.client_ip);
    let ip = app.0.limits.check_refresh_ip(client).into_result()?;
    let token = app
        .0
        .cookies
        .get(ctx.headers(), CookieKind::Refresh)
        .ok_or_else(unauthorized)?;
    let presented = RefreshToken::parse(&token).map_err(|_| unauthorized())?;
    check_csrf(app, ctx, &presented.session_id)?;
    let issued = app.0.auth.refresh(&token).await?;
    let user = issued.principal.user_id;
    ctx.set_user(user);
    // Now verified, the refresh counts against its user's quota. The old token is spent
    // already: refusing now would lose the rotation (the client would keep the spent token,
    // whose next use revokes its session as a replay), so an exhausted quota is reported in
    // the headers but not enforced; `refresh-ip` bounds how often this can happen.
    let account = app.0.limits.check_api_user(&user);
    let limit = RateDecision::most_restrictive(ip, account);
    app.0.metrics.auth_event(AuthEvent::Refresh);
    let mut response = json(
        StatusCode::OK,
        &RefreshView {
            access_expires_at: issued.access.expires_at,
            csrf_token: &issued.csrf_token,
        },
    );
    set_session_cookies(app, &mut response, &issued);
    Ok(with_limit(no_store(response), &limit))
}

/// `GET /api/v1/auth/csrf`: 200 `{csrf_token}`, the CSRF token of the session that
/// authenticated the request, for a page that lost it from memory (a reload) and cannot read
/// the CSRF cookie (it is served from another origin than the API). Without a valid access
/// token, a refresh cookie this deployment issued names the session instead, so a page
/// reloaded after its access token expired can send the refresh it then needs.
///
/// A request that sends `Origin` must send an allowed one (403 `csrf_failed` otherwise), as
/// unsafe requests must: CORS already keeps a foreign page from reading the answer, and this
/// keeps the token from being handed to one even where CORS is bypassed (a proxy that adds
/// `Access-Control-Allow-Origin` of its own). A bearer caller gets its session's token too:
/// useless to it (bearer requests need no CSRF token) and harmless, since the token is only
/// half of a double submission and the caller holds the session already.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    get,
    path = "/auth/csrf",
    tag = "auth",
    security(("bearer" = []), ("cookie" = []), ("refreshCookie" = [])),
    responses((status = 200, description = "The CSRF token of the caller's session", body = crate::views::CsrfView<'static>), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 403, description = "`Origin` is not an allowed origin", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn csrf(app: &App, ctx: &RequestContext) -> Reply {
    if ctx
        .origin()
        .is_some_and(|origin| !app.0.csrf.origins.is_allowed(origin))
    {
        return Err(CsrfError::OriginNotAllowed.into());
    }
    let (session, limit) = match authenticate(app, ctx).await {
        Ok(caller) => (caller.principal.session_id, caller.limit),
        // A page reloaded after its access token expired has only its refresh cookie left (sent
        // here: its path is the auth prefix). The refresh it needs is an unsafe request, so it
        // needs this token first; the refresh token's tag proves which session it belongs to.
        Err(problem) if problem.code() == ErrorCode::Unauthorized => {
            let token = app
                .0
                .cookies
                .get(ctx.headers(), CookieKind::Refresh)
                .ok_or(problem)?;
            let owner = app.0.auth.refresh_token_owner(&token).await?;
            let limit = app.0.limits.check_api_user(&owner.user_id).into_result()?;
            ctx.set_user(owner.user_id);
            (owner.session_id, limit)
        }
        Err(problem) => return Err(problem),
    };
    let token = app.0.csrf.tokens.token_for(&session);
    let response = json(StatusCode::OK, &CsrfView { csrf_token: &token });
    Ok(with_limit(no_store(response), &limit))
}

/// `POST /api/v1/auth/logout`: ends this session (by access token, or by the refresh cookie
/// when the access token is missing, expired or stale) and clears the cookies.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [], "csrfCookie" = [], "csrfHeader" = []), ("refreshCookie" = [], "csrfCookie" = [], "csrfHeader" = [])),
    responses((status = 204, description = "Session revoked, cookies cleared"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 403, description = "CSRF check failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn logout(app: &App, ctx: &RequestContext) -> Reply {
    let refresh = app.0.cookies.get(ctx.headers(), CookieKind::Refresh);
    match (authenticate(app, ctx).await, refresh) {
        (Ok(caller), _) => app.0.auth.logout(&caller.principal).await?,
        // An expired or stale access cookie must not keep a browser from logging out: the
        // refresh cookie names the session too.
        (Err(problem), Some(token)) if problem.code() == ErrorCode::Unauthorized => {
            let presented = RefreshToken::parse(&token).map_err(|_| unauthorized())?;
            check_csrf(app, ctx, &presented.session_id)?;
            app.0.auth.logout_by_refresh_token(&token).await?;
        }
        (Err(problem), _) => return Err(problem),
    }
    app.0.metrics.auth_event(AuthEvent::Logout);
    let mut response = no_store(empty(StatusCode::NO_CONTENT));
    clear_session_cookies(app, &mut response);
    Ok(response)
}

/// `POST /api/v1/auth/logout-all`: ends every session of the caller.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    post,
    path = "/auth/logout-all",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [], "csrfCookie" = [], "csrfHeader" = [])),
    responses((status = 204, description = "Every session revoked, cookies cleared"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 403, description = "CSRF check failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn logout_all(app: &App, ctx: &RequestContext) -> Reply {
    let caller = authenticate(app, ctx).await?;
    app.0.auth.logout_all(&caller.principal).await?;
    app.0.metrics.auth_event(AuthEvent::LogoutAll);
    let mut response = no_store(empty(StatusCode::NO_CONTENT));
    clear_session_cookies(app, &mut response);
    Ok(with_limit(response, &caller.limit))
}

/// `GET /api/v1/auth/me`: `{user}`.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The account", body = crate::views::UserEnvelope<'static>), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn me(app: &App, ctx: &RequestContext) -> Reply {
    let caller = authenticate(app, ctx).await?;
    let user = app.0.auth.me(&caller.principal).await?;
    let response = json(
        StatusCode::OK,
        &UserEnvelope {
            user: UserView::from(&user),
        },
    );
    Ok(with_limit(no_store(response), &caller.limit))
}
