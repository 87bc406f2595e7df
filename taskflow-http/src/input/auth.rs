//! The auth request bodies and their validation into the core's [`Registration`] and
//! [`Credentials`] (shared by both HTTP adapters, like `tasks` for tasks).

use serde::Deserialize;
use taskflow_core::auth::{Credentials, Registration};
use taskflow_core::error::ValidationErrors;

/// Body of `POST /api/v1/auth/register`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    /// Login email.
    #[schema(schema_with = super::schema::email)]
    pub email: String,
    /// Password, 8..=128 characters.
    #[schema(schema_with = super::schema::new_password)]
    pub password: String,
    /// Optional display name, 1..=100 characters (`null` is the same as absent).
    #[serde(default)]
    #[schema(schema_with = super::schema::display_name_input)]
    pub name: Option<String>,
}

impl RegisterInput {
    /// Validates every field at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each failing field (never echoing the password).
    pub fn validate(self) -> Result<Registration, ValidationErrors> {
        Registration::parse(&self.email, self.password, self.name.as_deref())
    }
}

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Login email.
    #[schema(schema_with = super::schema::email)]
    pub email: String,
    /// Password.
    #[schema(schema_with = super::schema::presented_password)]
    pub password: String,
}

impl LoginInput {
    /// Validates the email.
    ///
    /// # Errors
    /// [`ValidationErrors`] when the email is not an address.
    pub fn validate(self) -> Result<Credentials, ValidationErrors> {
        Credentials::parse(&self.email, self.password)
    }
}

/// Body of `POST /api/v1/auth/token` (for non-browser clients). Its schema is written by hand
/// in `super::schema` (one named schema per grant, chosen by `grant_type`).
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
