//! The wire format of request bodies and query strings: the shapes clients send (with their
//! JSON Schema for the OpenAPI document), decoded and validated into the core's domain values.
//! The JSON rules (one object, unknown fields refused, `null` handling) and the field-level
//! messages are written once here for both adapters; the rules themselves are the domain
//! types' (`TaskTitle::parse`, `Email::parse`, ...).

pub mod auth;
pub mod list;
pub mod params;
pub mod schema;
pub mod tasks;

use serde::de::DeserializeOwned;

pub use auth::{LoginInput, RegisterInput, TokenGrantInput};
pub use list::TaskListParams;
pub use tasks::{NewTaskInput, TaskPatchInput};

/// Why a request body is not the expected JSON object (`invalid_body`).
///
/// The message names the problem and its position but never echoes the body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is valid or invalid JSON, but not an object.
    #[error("the body must be a JSON object")]
    NotAnObject,
    /// Malformed JSON, a missing field, a wrong type or an unknown field.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// Decodes a request body that must be one JSON object of shape `T`.
///
/// serde would also accept a JSON array for a struct (field by position); an API that
/// documents objects must not, so anything but an object is refused up front.
///
/// # Errors
/// [`BodyError`] describing the first problem found.
pub fn from_json_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(e) => Err(BodyError::Json(e)),
            Ok(_) => Err(BodyError::NotAnObject),
        };
    }
    Ok(serde_json::from_slice(body)?)
}
