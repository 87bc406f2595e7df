//! The list endpoint's raw query parameters and their validation into a [`TaskQuery`].
//!
//! Everything arrives as text so that every bad value, whatever its kind, gets the same
//! per-parameter error (`invalid_query`, HTTP 400) instead of a framework's own message.

use serde::Deserialize;

use taskflow_core::Timestamp;
use taskflow_core::domain::{Priority, Tag};
use taskflow_core::error::ValidationErrors;
use taskflow_core::query::{
    CursorToken, PageLimit, PageLimitError, SearchText, Sort, TaskFilter, TaskQuery,
};

/// Query parameters of `GET /api/v1/tasks`, as text; unknown parameters are rejected.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskListParams {
    /// `true` or `false`.
    pub completed: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// `low`, `medium` or `high`.
    pub priority: Option<String>,
    /// RFC 3339.
    pub due_before: Option<String>,
    /// RFC 3339.
    pub due_after: Option<String>,
    /// Title substring.
    pub q: Option<String>,
    /// Sort order.
    pub sort: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Why a text is not a boolean.
#[derive(Debug, thiserror::Error)]
#[error("must be true or false")]
struct BoolError;

fn parse_bool(text: &str) -> Result<bool, BoolError> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(BoolError),
    }
}

impl TaskListParams {
    /// Validates every parameter, reporting all bad ones at once.
    ///
    /// # Errors
    /// [`ValidationErrors`] naming each bad parameter.
    pub fn parse(self) -> Result<TaskQuery, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let filter = TaskFilter {
            completed: opt(&mut errors, ("completed", self.completed), parse_bool),
            tag: opt(&mut errors, ("tag", self.tag), Tag::parse),
            priority: opt(&mut errors, ("priority", self.priority), Priority::parse),
            due_before: opt(
                &mut errors,
                ("due_before", self.due_before),
                Timestamp::parse_rfc3339,
            ),
            due_after: opt(
                &mut errors,
                ("due_after", self.due_after),
                Timestamp::parse_rfc3339,
            ),
            q: opt(&mut errors, ("q", self.q), SearchText::parse),
        };
        let sort = opt(&mut errors, ("sort", self.sort), Sort::parse).unwrap_or_default();
        let limit = opt(&mut errors, ("limit", self.limit), |text| {
            text.parse::<u64>()
                .map_err(|_| PageLimitError)
                .and_then(PageLimit::new)
        })
        .unwrap_or_default();
        let cursor = self.cursor.map(CursorToken::new);
        errors.finish(|| TaskQuery {
            filter,
            sort,
            limit,
            cursor,
        })
    }
}

fn opt<T, E: std::fmt::Display>(
    errors: &mut ValidationErrors,
    (name, text): (&'static str, Option<String>),
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    text.and_then(|text| errors.check(name, parse(&text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskflow_core::query::{Direction, SortKey};

    fn parse(query: &str) -> Result<TaskQuery, ValidationErrors> {
        serde_urlencoded::from_str::<TaskListParams>(query)
            .expect("well-formed")
            .parse()
    }

    fn bad_fields(query: &str) -> Vec<String> {
        parse(query)
            .unwrap_err()
            .errors()
            .iter()
            .map(|e| e.field.to_string())
            .collect()
    }

    #[test]
    fn defaults() {
        let query = parse("").unwrap();
        assert_eq!(query, TaskQuery::default());
        assert_eq!(query.limit.get(), 20);
        assert_eq!(
            query.sort,
            Sort {
                key: SortKey::CreatedAt,
                direction: Direction::Desc
            }
        );
    }

    #[test]
    fn every_parameter_parses() {
        let query = parse(
            "completed=false&tag=home&priority=high&due_before=2026-12-01T00:00:00Z\
             &due_after=2026-11-01T00:00:00%2B01:00&q=Milk&sort=due_at&limit=5&cursor=abc",
        )
        .unwrap();
        assert_eq!(query.filter.completed, Some(false));
        assert_eq!(query.filter.tag.unwrap().as_str(), "home");
        assert_eq!(query.filter.priority, Some(Priority::High));
        assert_eq!(
            query.filter.due_after.unwrap().to_string(),
            "2026-10-31T23:00:00.000Z"
        );
        assert_eq!(query.filter.q.unwrap().as_lowercase(), "milk");
        assert_eq!(query.sort.key, SortKey::DueAt);
        assert_eq!(query.limit.get(), 5);
        assert_eq!(query.cursor.unwrap().as_str(), "abc");
    }

    #[test]
    fn every_bad_value_is_named() {
        assert_eq!(
            bad_fields(
                "completed=yes&tag=A&priority=urgent&due_before=x&due_after=y&q=&sort=title&limit=0"
            ),
            [
                "completed",
                "tag",
                "priority",
                "due_before",
                "due_after",
                "q",
                "sort",
                "limit"
            ]
        );
        for limit in ["101", "-1", "1.5", "ten", ""] {
            assert_eq!(bad_fields(&format!("limit={limit}")), ["limit"], "{limit}");
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_rejected() {
        assert!(serde_urlencoded::from_str::<TaskListParams>("page=2").is_err());
        assert!(serde_urlencoded::from_str::<TaskListParams>("tag=a&tag=b").is_err());
    }
}
