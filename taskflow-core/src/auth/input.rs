//! The validated inputs of registration and login, which the auth service takes. The wire
//! format they are read from (JSON bodies) is the HTTP layer's; the rules are the domain
//! types' own ([`Email::parse`], [`Password::parse`], [`DisplayName::parse`]).

use super::password::Password;
use crate::domain::{DisplayName, Email};
use crate::error::ValidationErrors;

/// A validated registration.
#[derive(Debug)]
pub struct Registration {
    /// Normalised email.
    pub email: Email,
    /// The password.
    pub password: Password,
    /// Display name.
    pub name: Option<DisplayName>,
}

/// A validated login attempt. The password is not checked against the registration rules
/// here: a password that breaks them simply cannot match, and answering 401 rather than 422
/// keeps login answers uniform.
#[derive(Debug)]
pub struct Credentials {
    /// Normalised email.
    pub email: Email,
    /// The password as typed, if it is within the registration rules.
    pub password: Option<Password>,
}

impl Registration {
    /// Validates a registration, every field at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each failing field (never echoing the password).
    pub fn parse(
        email: &str,
        password: impl Into<String>,
        name: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(email));
        let password = errors.check("password", Password::parse(password.into()));
        let name = match name {
            Some(name) => errors.check("name", DisplayName::parse(name)).map(Some),
            None => Some(None),
        };
        match (email, password, name) {
            (Some(email), Some(password), Some(name)) => Ok(Self {
                email,
                password,
                name,
            }),
            _ => Err(errors),
        }
    }
}

impl Credentials {
    /// Validates a login attempt: the email only (see [`Credentials`] for why).
    ///
    /// # Errors
    /// [`ValidationErrors`] when the email is not an address.
    pub fn parse(email: &str, password: impl Into<String>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(email));
        let password = Password::parse(password.into()).ok();
        match email {
            Some(email) => Ok(Self { email, password }),
            None => Err(errors),
        }
    }
}
