//! Tasks: the validated field types, the entity, and the rules for creating and changing one
//! (`completed_at` follows `completed`, `version` grows by one per effective change).
//!
//! The texts are shared (`Arc<str>`, `Arc<[Tag]>`), not owned: a change replaces a text and
//! never edits one in place, and every list clones a page of tasks out of the in-memory
//! store, where a clone is then a few reference counts instead of an allocation per text.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::ids::{TaskId, UserId};
use crate::clock::Timestamp;

/// A task title: 1..=200 characters after trimming, stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TaskTitle(Arc<str>);

/// Why a text is not a title.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TitleError {
    /// Empty after trimming.
    #[error("must not be empty")]
    Empty,
    /// Over 200 characters after trimming.
    #[error("must be at most 200 characters")]
    TooLong,
}

impl TaskTitle {
    /// The longest title, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims and validates a title.
    ///
    /// # Errors
    /// [`TitleError`] naming the broken rule.
    pub fn parse(text: &str) -> Result<Self, TitleError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(TitleError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(TitleError::TooLong);
        }
        Ok(Self(trimmed.into()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task description: 0..=10000 characters, kept exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct TaskDescription(Arc<str>);

/// Why a text is not a description.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DescriptionError {
    /// Over 10000 characters.
    #[error("must be at most 10000 characters")]
    TooLong,
}

impl TaskDescription {
    /// The longest description, in characters.
    pub const MAX_CHARS: usize = 10_000;

    /// Validates a description.
    ///
    /// # Errors
    /// [`DescriptionError::TooLong`] over 10000 characters.
    pub fn parse(text: &str) -> Result<Self, DescriptionError> {
        if text.chars().count() > Self::MAX_CHARS {
            return Err(DescriptionError::TooLong);
        }
        Ok(Self(text.into()))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How urgent a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// `low`
    Low,
    /// `medium`, the default.
    #[default]
    Medium,
    /// `high`
    High,
}

/// Why a text is not a priority.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of low, medium, high")]
pub struct PriorityError;

impl Priority {
    /// Every priority, lowest first.
    pub const ALL: [Self; 3] = [Self::Low, Self::Medium, Self::High];

    /// Parses the wire form (`low`, `medium`, `high`; exact).
    ///
    /// # Errors
    /// [`PriorityError`] for anything else.
    pub fn parse(text: &str) -> Result<Self, PriorityError> {
        match text {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            _ => Err(PriorityError),
        }
    }

    /// The wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tag: 1..=32 characters of `[a-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Tag(Arc<str>);

/// Why a text is not a tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    /// Empty.
    #[error("must not be empty")]
    Empty,
    /// Over 32 characters.
    #[error("must be at most 32 characters")]
    TooLong,
    /// A character outside `[a-z0-9_-]`.
    #[error("may only contain a-z, 0-9, '_' and '-'")]
    Charset,
}

impl Tag {
    /// The longest tag, in characters.
    pub const MAX_CHARS: usize = 32;

    /// Validates a tag (no trimming or case folding: what is stored is what was sent).
    ///
    /// # Errors
    /// [`TagError`] naming the broken rule.
    pub fn parse(text: &str) -> Result<Self, TagError> {
        if text.is_empty() {
            return Err(TagError::Empty);
        }
        if !text
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
        {
            return Err(TagError::Charset);
        }
        if text.len() > Self::MAX_CHARS {
            return Err(TagError::TooLong);
        }
        Ok(Self(text.into()))
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task's tags: at most 20, no repeats, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Tags(Arc<[Tag]>);

/// Why a list is not a valid tag set (per-tag errors are reported per element).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagsError {
    /// More than 20 tags.
    #[error("must have at most 20 tags")]
    TooMany,
    /// The same tag twice.
    #[error("must not repeat a tag ({0})")]
    Duplicate(String),
}

impl Tags {
    /// The most tags a task can have.
    pub const MAX: usize = 20;

    /// Builds a tag set from validated tags.
    ///
    /// # Errors
    /// [`TagsError`] when there are too many or one repeats.
    pub fn new(tags: Vec<Tag>) -> Result<Self, TagsError> {
        if tags.len() > Self::MAX {
            return Err(TagsError::TooMany);
        }
        for (i, tag) in tags.iter().enumerate() {
            if tags[..i].contains(tag) {
                return Err(TagsError::Duplicate(tag.as_str().to_owned()));
            }
        }
        Ok(Self(tags.into()))
    }

    /// The tags, in order.
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    /// Whether `tag` is one of them.
    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.contains(tag)
    }
}

/// A task as stored. Every field holds a validated value; only [`Task::new`] and
/// [`Task::patched`] create or change tasks, which keeps `completed_at` and `version` honest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The task's id.
    pub id: TaskId,
    /// The owner; never shown to clients, and every storage call is scoped by it.
    pub owner: UserId,
    /// Title.
    pub title: TaskTitle,
    /// Description (empty when none).
    pub description: TaskDescription,
    /// Whether the task is done.
    pub completed: bool,
    /// When it was last marked done; `Some` exactly when `completed`.
    pub completed_at: Option<Timestamp>,
    /// Deadline, if any.
    pub due_at: Option<Timestamp>,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Tags,
    /// Creation instant.
    pub created_at: Timestamp,
    /// Instant of the last effective change (`created_at` until then).
    pub updated_at: Timestamp,
    /// 1 at creation, plus one per effective change.
    pub version: u64,
}

/// The validated content of a new task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// Title.
    pub title: TaskTitle,
    /// Description.
    pub description: TaskDescription,
    /// Deadline.
    pub due_at: Option<Timestamp>,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Tags,
}

impl NewTask {
    /// A task with this title and every other field at its default.
    pub fn titled(title: TaskTitle) -> Self {
        Self {
            title,
            description: TaskDescription::default(),
            due_at: None,
            priority: Priority::default(),
            tags: Tags::default(),
        }
    }
}

/// A validated partial change; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskPatch {
    /// New title.
    pub title: Option<TaskTitle>,
    /// New description.
    pub description: Option<TaskDescription>,
    /// New completion state.
    pub completed: Option<bool>,
    /// New deadline: `Some(None)` removes it.
    pub due_at: Option<Option<Timestamp>>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New tags (replacing the old ones).
    pub tags: Option<Tags>,
}

impl Task {
    /// A new task of `owner`, created at `now`, at version 1.
    pub fn new(id: TaskId, owner: UserId, new: NewTask, now: Timestamp) -> Self {
        Self {
            id,
            owner,
            title: new.title,
            description: new.description,
            completed: false,
            completed_at: None,
            due_at: new.due_at,
            priority: new.priority,
            tags: new.tags,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// This task with `patch` applied at `now`, or `None` when the patch changes nothing
    /// (so a no-op keeps its version, `updated_at` and ETag).
    ///
    /// `completed_at` is set when `completed` turns true and cleared when it turns false;
    /// `updated_at` never moves backwards even if the clock does.
    #[must_use]
    pub fn patched(&self, patch: &TaskPatch, now: Timestamp) -> Option<Self> {
        let mut next = self.clone();
        if let Some(title) = &patch.title {
            next.title = title.clone();
        }
        if let Some(description) = &patch.description {
            next.description = description.clone();
        }
        if let Some(due_at) = patch.due_at {
            next.due_at = due_at;
        }
        if let Some(priority) = patch.priority {
            next.priority = priority;
        }
        if let Some(tags) = &patch.tags {
            next.tags = tags.clone();
        }
        if let Some(completed) = patch.completed
            && completed != self.completed
        {
            next.completed = completed;
            next.completed_at = completed.then_some(now);
        }
        if next == *self {
            return None;
        }
        next.updated_at = now.max(self.updated_at);
        next.version = self.version + 1;
        Some(next)
    }

    /// Whether the task is open and past its deadline at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        !self.completed && self.due_at.is_some_and(|due| due < now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(millis: i64) -> Timestamp {
        Timestamp::from_unix_millis(millis).unwrap()
    }

    fn task() -> Task {
        let new = NewTask::titled(TaskTitle::parse("Write tests").unwrap());
        Task::new(TaskId::generate(), UserId::generate(), new, ts(1_000))
    }

    #[test]
    fn title_rules() {
        assert_eq!(
            TaskTitle::parse("  Buy milk \t").unwrap().as_str(),
            "Buy milk"
        );
        assert_eq!(TaskTitle::parse(" \n "), Err(TitleError::Empty));
        assert_eq!(
            TaskTitle::parse("").unwrap_err().to_string(),
            "must not be empty"
        );
        let max = "ü".repeat(200);
        assert_eq!(
            TaskTitle::parse(&format!("  {max}  ")).unwrap().as_str(),
            max
        );
        assert_eq!(TaskTitle::parse(&"ü".repeat(201)), Err(TitleError::TooLong));
    }

    #[test]
    fn description_rules() {
        assert_eq!(TaskDescription::parse("").unwrap().as_str(), "");
        assert_eq!(
            TaskDescription::parse(" keep\n ").unwrap().as_str(),
            " keep\n "
        );
        assert!(TaskDescription::parse(&"ß".repeat(10_000)).is_ok());
        assert_eq!(
            TaskDescription::parse(&"ß".repeat(10_001)),
            Err(DescriptionError::TooLong)
        );
    }

    #[test]
    fn priority_rules() {
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Ok(p));
        }
        assert_eq!(Priority::default(), Priority::Medium);
        for bad in ["", "HIGH", "urgent", " low"] {
            assert_eq!(Priority::parse(bad), Err(PriorityError), "{bad}");
        }
    }

    #[test]
    fn tag_rules() {
        assert!(Tag::parse("a").is_ok());
        assert!(Tag::parse("work_2026-q4").is_ok());
        assert!(Tag::parse(&"x".repeat(32)).is_ok());
        assert_eq!(Tag::parse(""), Err(TagError::Empty));
        assert_eq!(Tag::parse(&"x".repeat(33)), Err(TagError::TooLong));
        for bad in ["Work", "a b", "é", "a.b", "$gt"] {
            assert_eq!(Tag::parse(bad), Err(TagError::Charset), "{bad}");
        }
    }

    #[test]
    fn tags_rules() {
        let many: Vec<Tag> = (0..21)
            .map(|i| Tag::parse(&format!("t{i}")).unwrap())
            .collect();
        assert!(Tags::new(many[..20].to_vec()).is_ok());
        assert_eq!(Tags::new(many), Err(TagsError::TooMany));
        let dup = vec![Tag::parse("a").unwrap(), Tag::parse("a").unwrap()];
        assert_eq!(Tags::new(dup), Err(TagsError::Duplicate("a".into())));
    }

    #[test]
    fn new_task_starts_at_version_one_and_open() {
        let t = task();
        assert_eq!(t.version, 1);
        assert!(!t.completed);
        assert_eq!(t.completed_at, None);
        assert_eq!(t.created_at, t.updated_at);
        assert_eq!(t.priority, Priority::Medium);
    }

    #[test]
    fn completing_sets_and_reopening_clears_completed_at() {
        let t = task();
        let done = t
            .patched(
                &TaskPatch {
                    completed: Some(true),
                    ..TaskPatch::default()
                },
                ts(2_000),
            )
            .unwrap();
        assert!(done.completed);
        assert_eq!(done.completed_at, Some(ts(2_000)));
        assert_eq!(done.version, 2);
        assert_eq!(done.updated_at, ts(2_000));
        // Completing again is not a change: completed_at keeps the first instant.
        let again = TaskPatch {
            completed: Some(true),
            ..TaskPatch::default()
        };
        assert_eq!(done.patched(&again, ts(3_000)), None);
        let reopened = done
            .patched(
                &TaskPatch {
                    completed: Some(false),
                    ..TaskPatch::default()
                },
                ts(4_000),
            )
            .unwrap();
        assert_eq!(reopened.completed_at, None);
        assert_eq!(reopened.version, 3);
    }

    #[test]
    fn no_op_patch_changes_nothing() {
        let t = task();
        let same_title = TaskPatch {
            title: Some(t.title.clone()),
            ..TaskPatch::default()
        };
        assert_eq!(t.patched(&same_title, ts(9_000)), None);
        assert_eq!(t.patched(&TaskPatch::default(), ts(9_000)), None);
    }

    #[test]
    fn due_at_can_be_set_and_cleared() {
        let t = task();
        let set = TaskPatch {
            due_at: Some(Some(ts(5_000))),
            ..TaskPatch::default()
        };
        let with_due = t.patched(&set, ts(2_000)).unwrap();
        assert_eq!(with_due.due_at, Some(ts(5_000)));
        assert!(with_due.is_overdue(ts(5_001)));
        assert!(!with_due.is_overdue(ts(5_000)));
        let clear = TaskPatch {
            due_at: Some(None),
            ..TaskPatch::default()
        };
        assert_eq!(with_due.patched(&clear, ts(3_000)).unwrap().due_at, None);
    }

    #[test]
    fn updated_at_never_goes_backwards() {
        let t = task();
        let patch = TaskPatch {
            priority: Some(Priority::High),
            ..TaskPatch::default()
        };
        let changed = t.patched(&patch, ts(10)).unwrap();
        assert_eq!(changed.updated_at, ts(1_000));
    }
}
