//! Users: validated email and display name, and the account record with its secret hash.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::ids::UserId;
use crate::clock::Timestamp;

/// A normalised email address: trimmed, lower-cased, syntactically valid, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// Why a text is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Empty after trimming.
    #[error("must not be empty")]
    Empty,
    /// Longer than 254 bytes (the SMTP path limit).
    #[error("must be at most 254 characters")]
    TooLong,
    /// Not an address such as `name@example.com`.
    #[error("must be an email address such as name@example.com")]
    Format,
}

impl Email {
    /// The longest address, in bytes (the SMTP path limit).
    pub const MAX_LEN: usize = 254;

    /// Trims, lower-cases and validates an address.
    ///
    /// # Errors
    /// [`EmailError`] naming the broken rule.
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let normalised = text.trim().to_lowercase();
        if normalised.is_empty() {
            return Err(EmailError::Empty);
        }
        if normalised.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong);
        }
        // A dotted domain: accounts are reached by mail, and bare hosts are never deliverable.
        let dotted = normalised
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.'));
        if !dotted || !email_address::EmailAddress::is_valid(&normalised) {
            return Err(EmailError::Format);
        }
        Ok(Self(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user's display name: 1..=100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

/// Why a text is not a display name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisplayNameError {
    /// Empty after trimming.
    #[error("must not be empty")]
    Empty,
    /// Over 100 characters.
    #[error("must be at most 100 characters")]
    TooLong,
    /// Contains a control character.
    #[error("must not contain control characters")]
    Control,
}

impl DisplayName {
    /// The longest name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims and validates a name.
    ///
    /// # Errors
    /// [`DisplayNameError`] naming the broken rule.
    pub fn parse(text: &str) -> Result<Self, DisplayNameError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(DisplayNameError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(DisplayNameError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(DisplayNameError::Control);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password hash in PHC string format (`$argon2id$v=19$m=...`).
///
/// Secret: its `Debug` is redacted and it is not `Serialize`, so it cannot reach an API shape
/// or a log line by accident.
#[derive(Clone)]
pub struct PasswordHash(SecretString);

impl PasswordHash {
    /// Wraps a PHC string produced by the password hasher or read from storage.
    pub fn from_phc(phc: String) -> Self {
        Self(SecretString::from(phc))
    }

    /// The PHC string, for the hasher and for storage only.
    pub fn expose_phc(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

/// A user account as stored.
///
/// Deliberately not `Serialize`: the API shape is built by the adapters from the public fields,
/// so the password hash can never be serialised.
#[derive(Debug, Clone)]
pub struct User {
    /// The account's identifier.
    pub id: UserId,
    /// The login email, unique across accounts.
    pub email: Email,
    /// The optional display name.
    pub name: Option<DisplayName>,
    /// The password hash.
    pub password_hash: PasswordHash,
    /// When the account was created.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM \n").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn email_rules() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        for bad in [
            "plain",
            "a@",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Format), "{bad}");
        }
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(DisplayName::parse(" Ada ").unwrap().as_str(), "Ada");
        assert_eq!(DisplayName::parse(" "), Err(DisplayNameError::Empty));
        assert_eq!(
            DisplayName::parse(&"é".repeat(100))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            100
        );
        assert_eq!(
            DisplayName::parse(&"é".repeat(101)),
            Err(DisplayNameError::TooLong)
        );
        assert_eq!(
            DisplayName::parse("a\u{0}b"),
            Err(DisplayNameError::Control)
        );
    }

    #[test]
    fn password_hash_never_shows_in_debug() {
        let user = User {
            id: UserId::generate(),
            email: Email::parse("a@example.com").unwrap(),
            name: None,
            password_hash: PasswordHash::from_phc("$argon2id$v=19$secret-material".into()),
            created_at: Timestamp::from_unix_millis(0).unwrap(),
        };
        let debug = format!("{user:?}");
        assert!(!debug.contains("secret-material"), "{debug}");
        assert!(debug.contains("REDACTED"));
        assert_eq!(
            user.password_hash.expose_phc(),
            "$argon2id$v=19$secret-material"
        );
    }
}
