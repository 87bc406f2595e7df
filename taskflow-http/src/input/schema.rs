//! The domain's validation rules as JSON Schema, for the OpenAPI document: the schemas of the
//! wire format's fields.
//!
//! Every bound is read from the type that enforces it (`TaskTitle::MAX_CHARS`, `Tags::MAX`,
//! ...), so the document cannot drift from the validation. Where a rule is "after trimming",
//! the schema states the canonical form a client should send (no surrounding whitespace, at most
//! the limit); the server additionally tolerates surrounding whitespace, which it trims. Every
//! value the schema admits is accepted.
//!
//! Patterns are written with explicit character classes rather than `\s`, whose meaning
//! differs between ECMA-262, Python and Rust regular expressions: their white space is exactly
//! Rust's `char::is_whitespace` (Unicode `White_Space`), which is what `str::trim` removes, and
//! their controls exactly `char::is_control`.

use utoipa::openapi::schema::{
    ArrayBuilder, Discriminator, KnownFormat, Object, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

use taskflow_core::auth::password::Password;
use taskflow_core::domain::{DisplayName, Email, Tag, Tags, TaskDescription, TaskTitle};
use taskflow_core::query::{CursorToken, SearchText};

use super::TokenGrantInput;

// Documentation only: the value is the core's `taskflow_core::domain::Priority`, which knows
// no OpenAPI; a unit test compares the two.
/// How urgent a task is.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Priority {
    /// `low`
    Low,
    /// `medium`, the default.
    Medium,
    /// `high`
    High,
}

/// Unicode `White_Space`, which `char::is_whitespace` tests and `str::trim` removes.
const WHITE_SPACE: [(char, char); 10] = [
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Unicode `Cc`, which `char::is_control` tests.
const CONTROL: [(char, char); 2] = [('\0', '\u{1f}'), ('\u{7f}', '\u{9f}')];

/// The inside of a character class holding `ranges`, as `\uXXXX` escapes (which ECMA-262,
/// Python and Rust regular expressions all read alike).
fn class(ranges: &[(char, char)]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for &(from, to) in ranges {
        let _ = write!(out, "\\u{:04x}", u32::from(from));
        if to != from {
            let _ = write!(out, "-\\u{:04x}", u32::from(to));
        }
    }
    out
}

/// A text that `str::trim` does not reduce to nothing: one character it keeps, anywhere.
pub fn non_blank_pattern() -> String {
    format!("[^{}]", class(&WHITE_SPACE))
}

/// A display name: no control character, and at least one character that is neither white
/// space nor a control.
pub fn display_name_pattern() -> String {
    let controls = class(&CONTROL);
    let white = class(&WHITE_SPACE);
    format!("^[^{controls}]*[^{controls}{white}][^{controls}]*$")
}

/// A tag's characters.
pub const TAG_PATTERN: &str = "^[a-z0-9_-]+$";

/// A domain with a dot after the last `@` (bare hosts are never deliverable; see
/// [`Email::parse`]).
pub const DOTTED_DOMAIN_PATTERN: &str = "@[^@]*\\.[^@]*$";

/// An id: 24 lowercase hexadecimal digits.
pub const ID_PATTERN: &str = "^[0-9a-f]{24}$";

/// A cursor: unpadded base64url.
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn string_or_null() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
}

fn describe(builder: ObjectBuilder, text: &str) -> ObjectBuilder {
    builder.description(Some(text))
}

/// An email address as clients send it.
pub fn email() -> Object {
    describe(
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(Email::MAX_LEN))
            .pattern(Some(DOTTED_DOMAIN_PATTERN)),
        "An email address whose domain has a dot. Surrounding white space is trimmed and the \
         address lower-cased before it is checked and stored; it identifies the account.",
    )
    .build()
}

/// An email address as the server shows it (normalised).
pub fn normalised_email() -> Object {
    describe(
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(Email::MAX_LEN))
            .pattern(Some(DOTTED_DOMAIN_PATTERN)),
        "The normalised (trimmed, lower-cased) email address.",
    )
    .build()
}

/// A new password.
pub fn new_password() -> Object {
    describe(
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
            .min_length(Some(Password::MIN_CHARS))
            .max_length(Some(Password::MAX_CHARS)),
        "The password: 8..=128 characters (Unicode scalar values), any characters.",
    )
    .build()
}

/// A password presented at login: anything; one that could never have been registered simply
/// does not match (401, like any wrong password).
pub fn presented_password() -> Object {
    describe(
        string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
        "The password. Any string: a wrong one is answered 401 `invalid_credentials`.",
    )
    .build()
}

/// An optional display name in a registration (`null` is the same as absent).
pub fn display_name_input() -> Object {
    describe(
        string_or_null()
            .min_length(Some(1))
            .max_length(Some(DisplayName::MAX_CHARS))
            .pattern(Some(display_name_pattern())),
        "Optional display name: 1..=100 characters, not only white space, no control \
         characters; surrounding white space is trimmed. `null` is the same as absent.",
    )
    .build()
}

/// A display name as shown, or `null`.
pub fn display_name() -> Object {
    describe(
        string_or_null()
            .min_length(Some(1))
            .max_length(Some(DisplayName::MAX_CHARS))
            .pattern(Some(display_name_pattern())),
        "The display name, or `null` when none was given.",
    )
    .build()
}

/// A task title.
pub fn title() -> Object {
    describe(
        string()
            .min_length(Some(1))
            .max_length(Some(TaskTitle::MAX_CHARS))
            .pattern(Some(non_blank_pattern())),
        "1..=200 characters, not only white space; surrounding white space is trimmed.",
    )
    .build()
}

/// A task description.
pub fn description() -> Object {
    describe(
        string().max_length(Some(TaskDescription::MAX_CHARS)),
        "0..=10000 characters, kept exactly as written.",
    )
    .build()
}

/// One tag.
pub fn tag() -> Object {
    describe(
        string()
            .min_length(Some(1))
            .max_length(Some(Tag::MAX_CHARS))
            .pattern(Some(TAG_PATTERN)),
        "1..=32 characters of `[a-z0-9_-]`.",
    )
    .build()
}

/// A task's tags.
pub fn tags() -> Schema {
    ArrayBuilder::new()
        .items(tag())
        .max_items(Some(Tags::MAX))
        .unique_items(true)
        .description(Some(
            "At most 20 tags, no tag twice, kept in the order given.",
        ))
        .build()
        .into()
}

fn date_time(builder: ObjectBuilder) -> ObjectBuilder {
    builder.format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

/// An instant, always shown in UTC with milliseconds.
pub fn instant() -> Object {
    date_time(string()).build()
}

/// An instant or `null`.
pub fn instant_or_null() -> Object {
    date_time(string_or_null()).build()
}

/// A deadline as clients send it: any RFC 3339 offset, or `null` for none.
pub fn due_at_input() -> Object {
    describe(
        date_time(string_or_null()),
        "Deadline (RFC 3339, any offset; stored in UTC with millisecond precision; between \
         0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z), or `null` for none.",
    )
    .build()
}

/// An id.
pub fn id() -> Object {
    describe(
        string().pattern(Some(ID_PATTERN)),
        "Opaque id: 24 lowercase hexadecimal digits.",
    )
    .build()
}

/// A list search text.
pub fn search_text() -> Object {
    describe(
        string(),
        "Case-insensitive substring of the title, 1..=200 characters, not trimmed.",
    )
    .min_length(Some(1))
    .max_length(Some(SearchText::MAX_CHARS))
    .build()
}

/// A pagination cursor.
pub fn cursor() -> Object {
    describe(
        string(),
        "`next_cursor` of the previous page, with the same filter and sort. Opaque: an empty, \
         altered or foreign cursor (another query or user) is 400 `invalid_cursor`.",
    )
    .min_length(Some(1))
    .max_length(Some(CursorToken::MAX_LEN))
    .pattern(Some(CURSOR_PATTERN))
    .build()
}

/// A pagination cursor, or `null` on the last page.
pub fn cursor_or_null() -> Object {
    string_or_null()
        .min_length(Some(1))
        .max_length(Some(CursorToken::MAX_LEN))
        .pattern(Some(CURSOR_PATTERN))
        .description(Some(
            "The cursor of the next page (same filter and sort), or `null` on the last page.",
        ))
        .build()
}

fn grant(grant_type: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "grant_type",
            string().enum_values(Some([grant_type])).build(),
        )
        .required("grant_type")
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ))
}

/// `{grant_type: "password", email, password}`.
fn password_grant() -> Object {
    grant("password")
        .description(Some(
            "Exchanges an account's email and password for tokens.",
        ))
        .property("email", email())
        .required("email")
        .property("password", presented_password())
        .required("password")
        .build()
}

/// `{grant_type: "refresh_token", refresh_token}`.
fn refresh_token_grant() -> Object {
    grant("refresh_token")
        .description(Some(
            "Exchanges a refresh token for new tokens; the presented one is rotated.",
        ))
        .property(
            "refresh_token",
            describe(
                string(),
                "The refresh token of the previous grant. Any string: one that is not a live \
                 refresh token is answered 401.",
            )
            .build(),
        )
        .required("refresh_token")
        .build()
}

const PASSWORD_GRANT: &str = "PasswordGrant";
const REFRESH_TOKEN_GRANT: &str = "RefreshTokenGrant";

impl utoipa::PartialSchema for TokenGrantInput {
    fn schema() -> RefOr<Schema> {
        let path = |name: &str| format!("#/components/schemas/{name}");
        OneOfBuilder::new()
            .item(Ref::from_schema_name(PASSWORD_GRANT))
            .item(Ref::from_schema_name(REFRESH_TOKEN_GRANT))
            .discriminator(Some(Discriminator::with_mapping(
                "grant_type",
                [
                    ("password", path(PASSWORD_GRANT)),
                    ("refresh_token", path(REFRESH_TOKEN_GRANT)),
                ],
            )))
            .description(Some(
                "Body of `POST /api/v1/auth/token` (for non-browser clients), chosen by `grant_type`.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for TokenGrantInput {
    fn name() -> std::borrow::Cow<'static, str> {
        "TokenGrantInput".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((PASSWORD_GRANT.to_owned(), password_grant().into()));
        schemas.push((REFRESH_TOKEN_GRANT.to_owned(), refresh_token_grant().into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(ranges: &[(char, char)]) -> Vec<char> {
        ranges.iter().flat_map(|&(from, to)| from..=to).collect()
    }

    /// The patterns' classes against Rust's own definitions, over every character.
    #[test]
    fn classes_are_what_trim_and_is_control_test() {
        let white: Vec<char> = ('\0'..=char::MAX).filter(|c| c.is_whitespace()).collect();
        assert_eq!(chars(&WHITE_SPACE), white);
        let controls: Vec<char> = ('\0'..=char::MAX).filter(|c| c.is_control()).collect();
        assert_eq!(chars(&CONTROL), controls);
        assert_eq!(class(&CONTROL), "\\u0000-\\u001f\\u007f-\\u009f");
        assert!(non_blank_pattern().starts_with("[^\\u0009-\\u000d\\u0020\\u0085"));
    }
}
