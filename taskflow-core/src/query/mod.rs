//! Listing tasks: filters, sort orders, page sizes, the total order that keyset pagination
//! walks, and the raw query parameters adapters parse into a [`TaskQuery`].

mod cursor;

use std::cmp::Ordering;

pub use cursor::{CursorCodec, CursorError, CursorKey, CursorToken, Position};

use crate::clock::Timestamp;
use crate::domain::{Priority, Tag, Task};

/// A case-insensitive title substring: 1..=200 characters, matched after lower-casing both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    lowered: String,
}

/// Why a text is not a search text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchTextError {
    /// Empty.
    #[error("must not be empty")]
    Empty,
    /// Over 200 characters.
    #[error("must be at most 200 characters")]
    TooLong,
}

impl SearchText {
    /// The longest search text, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Validates a search text (not trimmed: a space can be part of what is searched).
    ///
    /// # Errors
    /// [`SearchTextError`] naming the broken rule.
    pub fn parse(text: &str) -> Result<Self, SearchTextError> {
        if text.is_empty() {
            return Err(SearchTextError::Empty);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(SearchTextError::TooLong);
        }
        Ok(Self {
            lowered: text.to_lowercase(),
        })
    }

    /// The lower-cased text.
    pub fn as_lowercase(&self) -> &str {
        &self.lowered
    }

    /// Whether `title` contains this text, ignoring case.
    pub fn matches(&self, title: &str) -> bool {
        title.to_lowercase().contains(&self.lowered)
    }
}

/// Which tasks a list returns. Every condition must hold; `None` means "any".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskFilter {
    /// Only done (`true`) or open (`false`) tasks.
    pub completed: Option<bool>,
    /// Only tasks carrying this tag.
    pub tag: Option<Tag>,
    /// Only tasks of this priority.
    pub priority: Option<Priority>,
    /// Only tasks due strictly before this instant (tasks without a deadline never match).
    pub due_before: Option<Timestamp>,
    /// Only tasks due at or after this instant (tasks without a deadline never match), so that
    /// `due_after=a&due_before=b` is the half-open interval `[a, b)` and intervals tile.
    pub due_after: Option<Timestamp>,
    /// Only tasks whose title contains this text, ignoring case.
    pub q: Option<SearchText>,
}

impl TaskFilter {
    /// Whether `task` passes every condition.
    pub fn matches(&self, task: &Task) -> bool {
        self.completed.is_none_or(|c| task.completed == c)
            && self.tag.as_ref().is_none_or(|t| task.tags.contains(t))
            && self.priority.is_none_or(|p| task.priority == p)
            && self
                .due_before
                .is_none_or(|b| task.due_at.is_some_and(|d| d < b))
            && self
                .due_after
                .is_none_or(|a| task.due_at.is_some_and(|d| d >= a))
            && self
                .q
                .as_ref()
                .is_none_or(|q| q.matches(task.title.as_str()))
    }
}

/// The field a list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// Creation instant.
    CreatedAt,
    /// Last change instant.
    UpdatedAt,
    /// Deadline; tasks without one come after all dated tasks in both directions.
    DueAt,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl Direction {
    /// `ordering` read in this direction.
    pub fn apply(self, ordering: Ordering) -> Ordering {
        match self {
            Self::Asc => ordering,
            Self::Desc => ordering.reverse(),
        }
    }
}

/// A sort order: key and direction, with ties broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    /// The key.
    pub key: SortKey,
    /// The direction.
    pub direction: Direction,
}

/// Why a text is not a sort order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of created_at, -created_at, due_at, -due_at, updated_at, -updated_at")]
pub struct SortError;

impl Default for Sort {
    /// Newest first: `-created_at`.
    fn default() -> Self {
        Self {
            key: SortKey::CreatedAt,
            direction: Direction::Desc,
        }
    }
}

impl Sort {
    /// Parses `created_at`, `-created_at`, `due_at`, `-due_at`, `updated_at`, `-updated_at`.
    ///
    /// # Errors
    /// [`SortError`] for anything else.
    pub fn parse(text: &str) -> Result<Self, SortError> {
        let (direction, name) = match text.strip_prefix('-') {
            Some(rest) => (Direction::Desc, rest),
            None => (Direction::Asc, text),
        };
        let key = match name {
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            "due_at" => SortKey::DueAt,
            _ => return Err(SortError),
        };
        Ok(Self { key, direction })
    }

    /// Where `task` stands in this order.
    pub fn position_of(&self, task: &Task) -> Position {
        let key = match self.key {
            SortKey::CreatedAt => Some(task.created_at),
            SortKey::UpdatedAt => Some(task.updated_at),
            SortKey::DueAt => task.due_at,
        };
        Position { key, id: task.id }
    }

    /// The total order of positions: keyed positions first (by key, then id, both in this
    /// direction), then unkeyed ones (by id in this direction).
    pub fn compare(&self, a: &Position, b: &Position) -> Ordering {
        match (a.key, b.key) {
            (Some(x), Some(y)) => self.direction.apply(x.cmp(&y).then(a.id.cmp(&b.id))),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => self.direction.apply(a.id.cmp(&b.id)),
        }
    }
}

/// How many tasks a page holds: 1..=100, 20 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageLimit(u8);

/// Why a number is not a page limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an integer from 1 to 100")]
pub struct PageLimitError;

impl Default for PageLimit {
    fn default() -> Self {
        Self(20)
    }
}

impl PageLimit {
    /// The largest page.
    pub const MAX: u8 = 100;

    /// A limit of `n` items.
    ///
    /// # Errors
    /// [`PageLimitError`] outside 1..=100.
    pub fn new(n: u64) -> Result<Self, PageLimitError> {
        match u8::try_from(n) {
            Ok(n @ 1..=Self::MAX) => Ok(Self(n)),
            _ => Err(PageLimitError),
        }
    }

    /// The limit as a count.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// A validated list request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskQuery {
    /// Which tasks.
    pub filter: TaskFilter,
    /// In which order.
    pub sort: Sort,
    /// How many per page.
    pub limit: PageLimit,
    /// Where the previous page ended (`next_cursor` of that page).
    pub cursor: Option<CursorToken>,
}

/// What a storage port is asked for when listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// Which tasks.
    pub filter: TaskFilter,
    /// In which order.
    pub sort: Sort,
    /// Only tasks strictly after this position in `sort` order.
    pub after: Option<Position>,
    /// At most this many tasks.
    pub limit: usize,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    /// The tasks, in order.
    pub items: Vec<Task>,
    /// The cursor of the next page, `None` on the last one.
    pub next_cursor: Option<CursorToken>,
}

/// Counts over one user's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct TaskStats {
    /// Every task.
    pub total: u64,
    /// Done tasks.
    pub completed: u64,
    /// Tasks not done.
    pub open: u64,
    /// Open tasks whose deadline has passed.
    pub overdue: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TaskId;

    fn pos(key: Option<i64>, id: u8) -> Position {
        Position {
            key: key.map(|k| Timestamp::from_unix_millis(k).unwrap()),
            id: TaskId::from_bytes([id; 12]),
        }
    }

    #[test]
    fn sort_parsing() {
        assert_eq!(Sort::parse("-created_at"), Ok(Sort::default()));
        assert_eq!(
            Sort::parse("due_at"),
            Ok(Sort {
                key: SortKey::DueAt,
                direction: Direction::Asc
            })
        );
        assert_eq!(
            Sort::parse("-updated_at"),
            Ok(Sort {
                key: SortKey::UpdatedAt,
                direction: Direction::Desc
            })
        );
        for bad in ["", "-", "title", "--due_at", "+due_at", "CREATED_AT"] {
            assert_eq!(Sort::parse(bad), Err(SortError), "{bad}");
        }
    }

    #[test]
    fn undated_positions_come_last_in_both_directions() {
        for direction in [Direction::Asc, Direction::Desc] {
            let sort = Sort {
                key: SortKey::DueAt,
                direction,
            };
            assert_eq!(
                sort.compare(&pos(Some(5), 1), &pos(None, 0)),
                Ordering::Less
            );
            assert_eq!(
                sort.compare(&pos(None, 0), &pos(Some(-5), 9)),
                Ordering::Greater
            );
        }
    }

    #[test]
    fn ties_break_on_id_in_the_sort_direction() {
        let asc = Sort {
            key: SortKey::CreatedAt,
            direction: Direction::Asc,
        };
        let desc = Sort {
            key: SortKey::CreatedAt,
            direction: Direction::Desc,
        };
        assert_eq!(
            asc.compare(&pos(Some(1), 1), &pos(Some(1), 2)),
            Ordering::Less
        );
        assert_eq!(
            desc.compare(&pos(Some(1), 1), &pos(Some(1), 2)),
            Ordering::Greater
        );
        assert_eq!(
            desc.compare(&pos(Some(2), 1), &pos(Some(1), 2)),
            Ordering::Less
        );
        assert_eq!(
            desc.compare(&pos(None, 1), &pos(None, 2)),
            Ordering::Greater
        );
    }

    #[test]
    fn page_limit_bounds() {
        assert_eq!(PageLimit::default().get(), 20);
        assert_eq!(PageLimit::new(1).unwrap().get(), 1);
        assert_eq!(PageLimit::new(100).unwrap().get(), 100);
        for bad in [0, 101, 256, u64::MAX] {
            assert_eq!(PageLimit::new(bad), Err(PageLimitError), "{bad}");
        }
    }

    #[test]
    fn search_text_is_case_insensitive() {
        let q = SearchText::parse("MiLk").unwrap();
        assert!(q.matches("Buy milk today"));
        assert!(q.matches("MILK"));
        assert!(!q.matches("mil k"));
        assert_eq!(SearchText::parse(""), Err(SearchTextError::Empty));
        assert_eq!(
            SearchText::parse(&"x".repeat(201)),
            Err(SearchTextError::TooLong)
        );
    }
}
