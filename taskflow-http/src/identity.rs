//! Identity from the host: an application that authenticates its users itself (its own
//! login, a gateway, an SSO middleware) tells TaskFlow who makes a request, and the task
//! endpoints work for that user; TaskFlow's own auth endpoints are then not mounted (unless
//! [`AppBuilder::auth_endpoints`](crate::AppBuilder::auth_endpoints) asks for them).
//!
//! The host maps its users to TaskFlow's [`UserId`]s as it likes: with
//! [`UserId::derive`] (a stable id from its own, no table needed), or with ids it stores.
//!
//! What changes with host identity:
//! - A request the host does not identify (`Ok(None)`) is answered 401 `unauthorized`; an
//!   error the host returns is answered as it is (its own 401 or 403, say). With TaskFlow's
//!   auth endpoints also mounted, a request the host does not identify may still use
//!   TaskFlow's own credentials (a bearer token, or the session cookies with the CSRF check).
//! - CSRF protection is the host's: TaskFlow checks no CSRF token for a request the host
//!   identified, since it does not know how the host authenticated it. A host that
//!   authenticates browsers with cookies must protect unsafe methods itself (a CSRF token,
//!   `SameSite=Strict` cookies, or an `Origin` check), before it identifies the request.
//! - The per-user API rate limit still applies, to the identified user.

use std::sync::Arc;

use async_trait::async_trait;
use taskflow_core::domain::UserId;

use crate::context::RequestContext;
use crate::problem::Problem;

/// Who makes a request, in the host's eyes.
#[async_trait]
pub trait Identity: Send + Sync + 'static {
    /// The TaskFlow user making `request`, or `None` when the host does not know (401).
    ///
    /// # Errors
    /// The [`Problem`] to answer instead (the host's own 401 or 403, say).
    async fn identify(&self, request: &RequestContext) -> Result<Option<UserId>, Problem>;
}

#[async_trait]
impl<T: Identity + ?Sized> Identity for Arc<T> {
    async fn identify(&self, request: &RequestContext) -> Result<Option<UserId>, Problem> {
        (**self).identify(request).await
    }
}

/// An [`Identity`] from a function of the request: it reads what it needs of the request
/// (a header, an extension the host's middleware set) and returns the future of the answer.
///
/// ```
/// use taskflow_http::identity::{Identity, identity_fn};
/// use taskflow_core::domain::UserId;
///
/// // The host's gateway puts its user in `X-User` (after authenticating the request).
/// let identity = identity_fn(|request| {
///     let user = request.header(&"x-user".parse().unwrap()).map(str::to_owned);
///     async move { Ok(user.map(|name| UserId::derive("gateway", &name))) }
/// });
/// # fn is_identity(_: impl Identity) {}
/// # is_identity(identity);
/// ```
pub fn identity_fn<F, Fut>(function: F) -> IdentityFn<F>
where
    F: Fn(&RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<UserId>, Problem>> + Send + 'static,
{
    IdentityFn(function)
}

/// The [`Identity`] of [`identity_fn`].
#[derive(Clone)]
pub struct IdentityFn<F>(F);

impl<F> std::fmt::Debug for IdentityFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityFn")
    }
}

#[async_trait]
impl<F, Fut> Identity for IdentityFn<F>
where
    F: Fn(&RequestContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<UserId>, Problem>> + Send + 'static,
{
    async fn identify(&self, request: &RequestContext) -> Result<Option<UserId>, Problem> {
        (self.0)(request).await
    }
}
