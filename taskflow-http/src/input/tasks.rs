//! The task bodies clients send, and their validation into the domain's [`NewTask`] and
//! [`TaskPatch`], every broken rule reported at once (the rules are the domain types' own).
//! Deserialisation failures are `invalid_body`; [`ValidationErrors`] from `validate` are
//! `validation_failed`.

use serde::{Deserialize, Deserializer};
use taskflow_core::Timestamp;
use taskflow_core::domain::{NewTask, Priority, Tag, Tags, TaskDescription, TaskPatch, TaskTitle};
use taskflow_core::error::ValidationErrors;

/// Body of `POST /api/v1/tasks`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskInput {
    /// Required title: 1..=200 characters after trimming.
    #[schema(schema_with = super::schema::title)]
    pub title: String,
    /// Optional description, at most 10000 characters.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::description)]
    pub description: Option<String>,
    /// Optional deadline (RFC 3339); `null` means none.
    #[schema(schema_with = super::schema::due_at_input)]
    #[serde(default)]
    pub due_at: Option<String>,
    /// Optional priority (`medium` when absent).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<super::schema::Priority>, nullable = false)]
    pub priority: Option<String>,
    /// Optional tags: at most 20, each 1..=32 of `[a-z0-9_-]`, no tag twice.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::tags)]
    pub tags: Option<Vec<String>>,
}

/// Body of `PATCH /api/v1/tasks/{id}`: absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchInput {
    /// New title.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::title)]
    pub title: Option<String>,
    /// New description.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::description)]
    pub description: Option<String>,
    /// New completion state.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub completed: Option<bool>,
    /// New deadline (RFC 3339): absent keeps it, `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = super::schema::due_at_input)]
    pub due_at: Option<Option<String>>,
    /// New priority.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<super::schema::Priority>, nullable = false)]
    pub priority: Option<String>,
    /// New tags, replacing the old ones.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = super::schema::tags)]
    pub tags: Option<Vec<String>>,
}

/// An optional field that, when present, must not be `null` (a `null` is a wrong type).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// An optional field where `null` is a value of its own (remove), distinct from absent (keep).
#[allow(clippy::option_option)] // exactly the three states of a JSON merge-patch field
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn parse_tags(errors: &mut ValidationErrors, raw: &[String]) -> Option<Tags> {
    let mut tags = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, text) in raw.iter().enumerate() {
        match Tag::parse(text) {
            Ok(tag) => tags.push(tag),
            Err(e) => {
                ok = false;
                errors.push(format!("tags[{i}]"), e);
            }
        }
    }
    let whole = errors.check("tags", Tags::new(tags));
    whole.filter(|_| ok)
}

impl NewTaskInput {
    /// Validates every field, reporting all broken rules at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each failing field.
    pub fn validate(self) -> Result<NewTask, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let title = errors.check("title", TaskTitle::parse(&self.title));
        let description = match self.description {
            Some(text) => errors.check("description", TaskDescription::parse(&text)),
            None => Some(TaskDescription::default()),
        };
        let due_at = match self.due_at {
            Some(text) => errors
                .check("due_at", Timestamp::parse_rfc3339(&text))
                .map(Some),
            None => Some(None),
        };
        let priority = match self.priority {
            Some(text) => errors.check("priority", Priority::parse(&text)),
            None => Some(Priority::default()),
        };
        let tags = match self.tags {
            Some(raw) => parse_tags(&mut errors, &raw),
            None => Some(Tags::default()),
        };
        match (title, description, due_at, priority, tags) {
            (Some(title), Some(description), Some(due_at), Some(priority), Some(tags))
                if errors.is_empty() =>
            {
                Ok(NewTask {
                    title,
                    description,
                    due_at,
                    priority,
                    tags,
                })
            }
            _ => Err(errors),
        }
    }
}

impl TaskPatchInput {
    /// Validates every present field, reporting all broken rules at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each failing field.
    pub fn validate(self) -> Result<TaskPatch, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let patch = TaskPatch {
            title: self
                .title
                .and_then(|t| errors.check("title", TaskTitle::parse(&t))),
            description: self
                .description
                .and_then(|d| errors.check("description", TaskDescription::parse(&d))),
            completed: self.completed,
            due_at: match self.due_at {
                Some(Some(text)) => errors
                    .check("due_at", Timestamp::parse_rfc3339(&text))
                    .map(Some),
                Some(None) => Some(None),
                None => None,
            },
            priority: self
                .priority
                .and_then(|p| errors.check("priority", Priority::parse(&p))),
            tags: self.tags.and_then(|raw| parse_tags(&mut errors, &raw)),
        };
        errors.finish(|| patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{BodyError, from_json_object};

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.errors().iter().map(|e| e.field.as_ref()).collect()
    }

    #[test]
    fn new_task_defaults() {
        let input = NewTaskInput {
            title: " Plan ".into(),
            ..NewTaskInput::default()
        };
        let task = input.validate().unwrap();
        assert_eq!(task.title.as_str(), "Plan");
        assert_eq!(task.priority, Priority::Medium);
        assert_eq!(task.description.as_str(), "");
        assert!(task.tags.as_slice().is_empty());
        assert_eq!(task.due_at, None);
    }

    #[test]
    fn new_task_reports_every_failing_field() {
        let input = NewTaskInput {
            title: "  ".into(),
            description: Some("d".repeat(10_001)),
            due_at: Some("next week".into()),
            priority: Some("urgent".into()),
            tags: Some(vec!["ok".into(), "Bad".into(), "ok".into()]),
        };
        let errors = input.validate().unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "title",
                "description",
                "due_at",
                "priority",
                "tags[1]",
                "tags"
            ]
        );
    }

    #[test]
    fn json_shape_rules_are_deserialisation_errors() {
        let parse = |json: &str| from_json_object::<NewTaskInput>(json.as_bytes());
        assert!(parse(r#"{"title":"a"}"#).is_ok());
        assert!(parse(r#"{"title":"a","due_at":null}"#).is_ok());
        assert!(parse("{}").is_err(), "missing title");
        assert!(parse(r#"{"title":1}"#).is_err(), "wrong type");
        assert!(
            parse(r#"{"title":"a","owner":"x"}"#).is_err(),
            "unknown field"
        );
        assert!(
            parse(r#"{"title":"a","version":3}"#).is_err(),
            "server-owned field"
        );
        assert!(
            parse(r#"{"title":"a","priority":null}"#).is_err(),
            "null where not allowed"
        );
        assert!(matches!(parse(r#"["title"]"#), Err(BodyError::NotAnObject)));
        assert!(matches!(parse("null"), Err(BodyError::NotAnObject)));
        assert!(matches!(parse("{\"title\":"), Err(BodyError::Json(_))));
        assert!(matches!(parse(""), Err(BodyError::Json(_))));
        assert!(matches!(parse(" [1,"), Err(BodyError::Json(_))));
    }

    #[test]
    fn patch_distinguishes_absent_and_null_due_at() {
        let parse = |json: &str| serde_json::from_str::<TaskPatchInput>(json).unwrap();
        assert_eq!(parse("{}").validate().unwrap(), TaskPatch::default());
        assert_eq!(
            parse(r#"{"due_at":null}"#).validate().unwrap().due_at,
            Some(None)
        );
        let set = parse(r#"{"due_at":"2026-11-26T10:00:00Z"}"#)
            .validate()
            .unwrap();
        assert!(matches!(set.due_at, Some(Some(_))));
        assert!(serde_json::from_str::<TaskPatchInput>(r#"{"title":null}"#).is_err());
        assert!(serde_json::from_str::<TaskPatchInput>(r#"{"completed":"yes"}"#).is_err());
        assert!(serde_json::from_str::<TaskPatchInput>(r#"{"id":"x"}"#).is_err());
    }

    #[test]
    fn patch_reports_every_failing_field() {
        let input = TaskPatchInput {
            title: Some(String::new()),
            priority: Some("x".into()),
            tags: Some(vec![String::new()]),
            due_at: Some(Some("bad".into())),
            ..TaskPatchInput::default()
        };
        let errors = input.validate().unwrap_err();
        assert_eq!(fields(&errors), ["title", "due_at", "priority", "tags[0]"]);
    }
}
