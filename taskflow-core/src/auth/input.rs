//! The raw auth request bodies and their validation (shared by both HTTP adapters, like
//! `domain::input` for tasks).

use serde::Deserialize;

use super::password::Password;
use crate::domain::{DisplayName, Email};
use crate::error::ValidationErrors;

/// Body of `POST /api/v1/auth/register`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// Login email.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::email))]
    pub email: String,
    /// Password, 8..=128 characters.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::new_password))]
    pub password: String,
    /// Optional display name, 1..=100 characters (`null` is the same as absent).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::display_name_input))]
    pub name: Option<String>,
}

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

impl RegisterInput {
    /// Validates every field at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each failing field (never echoing the password).
    pub fn validate(self) -> Result<Registration, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&self.email));
        let password = errors.check("password", Password::parse(self.password));
        let name = match self.name {
            Some(name) => errors.check("name", DisplayName::parse(&name)).map(Some),
            None => Some(None),
        };
        match (email, password, name) {
            (Some(email), Some(password), Some(name)) => Ok(Registration {
                email,
                password,
                name,
            }),
            _ => Err(errors),
        }
    }
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Login email.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::email))]
    pub email: String,
    /// Password.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::presented_password))]
    pub password: String,
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

impl LoginInput {
    /// Validates the email.
    ///
    /// # Errors
    /// [`ValidationErrors`] when the email is not an address.
    pub fn validate(self) -> Result<Credentials, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check("email", Email::parse(&self.email));
        let password = Password::parse(self.password).ok();
        match email {
            Some(email) => Ok(Credentials { email, password }),
            None => Err(errors),
        }
    }
}

/// Body of `POST /api/v1/auth/token` (for non-browser clients). Its schema is written by hand
/// in `crate::openapi` (one named schema per grant, chosen by `grant_type`).
#[derive(Debug, Deserialize)]
#[serde(tag = "grant_type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenGrantInput {
    /// `{grant_type: "password", email, password}`.
    Password {
        /// Login email.
        email: String,
        /// Password.
        password: String,
    },
    /// `{grant_type: "refresh_token", refresh_token}`.
    RefreshToken {
        /// The refresh token of the previous grant.
        refresh_token: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        let input = RegisterInput {
            email: " Ada@Example.com ".into(),
            password: "correct horse".into(),
            name: Some(" Ada ".into()),
        };
        let ok = input.validate().unwrap();
        assert_eq!(ok.email.as_str(), "ada@example.com");
        assert_eq!(ok.name.unwrap().as_str(), "Ada");
        let bad = RegisterInput {
            email: "nope".into(),
            password: "abc1234".into(),
            name: Some(String::new()),
        };
        let errors = bad.validate().unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_ref()).collect();
        assert_eq!(fields, ["email", "password", "name"]);
        assert!(
            errors
                .errors()
                .iter()
                .all(|e| !e.message.contains("abc1234"))
        );
    }

    #[test]
    fn login_checks_only_the_email_shape() {
        let ok = LoginInput {
            email: "a@example.com".into(),
            password: "x".into(),
        }
        .validate()
        .unwrap();
        assert!(ok.password.is_none());
        assert!(
            LoginInput {
                email: "bad".into(),
                password: "whatever1".into()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn token_grants_are_tagged() {
        let parse = |s: &str| serde_json::from_str::<TokenGrantInput>(s);
        assert!(matches!(
            parse(r#"{"grant_type":"password","email":"a@example.com","password":"p"}"#),
            Ok(TokenGrantInput::Password { .. })
        ));
        assert!(matches!(
            parse(r#"{"grant_type":"refresh_token","refresh_token":"t"}"#),
            Ok(TokenGrantInput::RefreshToken { .. })
        ));
        assert!(parse(r#"{"grant_type":"client_credentials"}"#).is_err());
        assert!(parse(r#"{"grant_type":"refresh_token","refresh_token":"t","x":1}"#).is_err());
        assert!(parse(r#"{"refresh_token":"t"}"#).is_err());
    }
}
