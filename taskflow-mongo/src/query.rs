//! Translation of a validated [`ListRequest`] into one MongoDB command.
//!
//! Every filter is built here from core types only (no client document ever becomes a filter),
//! always starts with `user_id` equality, and has the shape an index serves: equality on
//! `user_id` (and `completed` when filtered), then one range on the sort key (at least
//! "from year 1 on", which every date satisfies), then `_id`; other conditions follow.
//!
//! Keyset pagination becomes range filters, never `skip`. Resuming after `(k, id)` in an
//! ascending order is two index ranges, the *phases* of the list:
//! 1. the ties: `key == k && _id > id`, sorted by `_id`;
//! 2. the rest: `key > k`, sorted by `(key, _id)`.
//!
//! A `due_at` order puts tasks without a deadline after all dated ones in both directions, so
//! it adds a third phase: `due_at == null`, sorted by `_id`. (A single `$or` of the ranges
//! would do on mongod, but each branch of an `$or` is planned on its own and simple servers
//! fall back to a collection scan; plain ranges are index scans everywhere. A stored sort key
//! would make each list one range, but no one key puts undated tasks last in both directions
//! of one index: it would cost two more indexes on every write, and a data migration.)
//!
//! A list is still one command: a `find` when it has one phase, otherwise one `aggregate`
//! that runs each phase as `$match`, `$sort`, `$limit` (the first as the pipeline's head,
//! the others inside `$unionWith`, each an index range read in order) and orders the union by
//! phase, then by the sort ([`union_pipeline`]).

use mongodb::bson::{Bson, Document, doc};
use taskflow_core::Timestamp;
use taskflow_core::domain::UserId;
use taskflow_core::query::{Direction, ListRequest, Position, SortKey, TaskFilter};

use crate::codec::{TASKS, date, oid};

/// One `find` of a list: a filter and the sort it is read in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FindSpec {
    /// The filter, `user_id` first.
    pub(crate) filter: Document,
    /// The sort, `(key, _id)` in the list's direction.
    pub(crate) sort: Document,
}

/// A bound of a range: the value and whether it is included.
type Bound = (Timestamp, bool);

/// A range of instants, kept as tight as its constraints allow, so the filter never names the
/// same operator twice and servers see one lower and one upper bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Range {
    lower: Option<Bound>,
    upper: Option<Bound>,
}

impl Range {
    fn above(mut self, value: Timestamp, inclusive: bool) -> Self {
        let tighter = self
            .lower
            .is_none_or(|(v, inc)| value > v || (value == v && inc && !inclusive));
        if tighter {
            self.lower = Some((value, inclusive));
        }
        self
    }

    fn below(mut self, value: Timestamp, inclusive: bool) -> Self {
        let tighter = self
            .upper
            .is_none_or(|(v, inc)| value < v || (value == v && inc && !inclusive));
        if tighter {
            self.upper = Some((value, inclusive));
        }
        self
    }

    /// Strictly after `value` in `direction`.
    fn after(self, value: Timestamp, direction: Direction) -> Self {
        match direction {
            Direction::Asc => self.above(value, false),
            Direction::Desc => self.below(value, false),
        }
    }

    fn contains(&self, value: Timestamp) -> bool {
        self.lower
            .is_none_or(|(v, inc)| value > v || (inc && value == v))
            && self
                .upper
                .is_none_or(|(v, inc)| value < v || (inc && value == v))
    }

    fn is_empty(&self) -> bool {
        match (self.lower, self.upper) {
            (Some((lo, lo_inc)), Some((hi, hi_inc))) => {
                lo > hi || (lo == hi && !(lo_inc && hi_inc))
            }
            _ => false,
        }
    }

    fn is_unbounded(&self) -> bool {
        self.lower.is_none() && self.upper.is_none()
    }

    /// The operator document (`{$gte: a, $lt: b}`); empty when unbounded.
    fn to_document(self) -> Document {
        let mut out = Document::new();
        if let Some((v, inc)) = self.lower {
            out.insert(if inc { "$gte" } else { "$gt" }, date(v));
        }
        if let Some((v, inc)) = self.upper {
            out.insert(if inc { "$lte" } else { "$lt" }, date(v));
        }
        out
    }
}

/// The smallest instant a task can carry (0001-01-01): the lower bound that selects "has a
/// deadline", as every date is at or after it and `null` is not a date.
const MIN_INSTANT: Timestamp = match Timestamp::from_unix_millis(-62_135_596_800_000) {
    Some(t) => t,
    None => panic!("year 1 is representable"),
};

/// The case-insensitive "title contains" pattern: every regex metacharacter escaped, so the
/// text is matched literally (never interpreted as a pattern).
pub(crate) fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            '\\' | '^' | '$' | '.' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}'
            | '-' | '#' | '/' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\x00"),
            _ => out.push(c),
        }
    }
    out
}

fn direction_value(direction: Direction) -> i32 {
    match direction {
        Direction::Asc => 1,
        Direction::Desc => -1,
    }
}

fn key_field(key: SortKey) -> &'static str {
    match key {
        SortKey::CreatedAt => "created_at",
        SortKey::UpdatedAt => "updated_at",
        SortKey::DueAt => "due_at",
    }
}

/// The range the `due_before`/`due_after` filter puts on `due_at` (unbounded without them).
fn due_range(filter: &TaskFilter) -> Range {
    let mut range = Range::default();
    if let Some(after) = filter.due_after {
        range = range.above(after, true);
    }
    if let Some(before) = filter.due_before {
        range = range.below(before, false);
    }
    range
}

/// The plan of one list request: its phases, in list order.
struct ListPlan {
    base: Document,
    residual: Document,
    key: &'static str,
    sort: Document,
    direction: Direction,
}

impl ListPlan {
    fn new(owner: &UserId, request: &ListRequest) -> Self {
        let filter = &request.filter;
        let mut base = doc! { "user_id": oid(owner.to_bytes()) };
        if let Some(completed) = filter.completed {
            base.insert("completed", completed);
        }
        let mut residual = Document::new();
        if let Some(tag) = &filter.tag {
            residual.insert("tags", tag.as_str());
        }
        if let Some(priority) = filter.priority {
            residual.insert("priority", priority.as_str());
        }
        if let Some(q) = &filter.q {
            residual.insert(
                "title",
                doc! { "$regex": escape_regex(q.as_lowercase()), "$options": "i" },
            );
        }
        let key = key_field(request.sort.key);
        let dir = direction_value(request.sort.direction);
        Self {
            base,
            residual,
            key,
            sort: doc! { key: dir, "_id": dir },
            direction: request.sort.direction,
        }
    }

    fn find(&self, conditions: Document) -> FindSpec {
        let mut filter = self.base.clone();
        filter.extend(conditions);
        filter.extend(self.residual.clone());
        FindSpec {
            filter,
            sort: self.sort.clone(),
        }
    }

    fn id_after(&self, position: &Position) -> Document {
        let op = match self.direction {
            Direction::Asc => "$gt",
            Direction::Desc => "$lt",
        };
        doc! { op: oid(position.id.to_bytes()) }
    }

    /// The keyed part: ties with the cursor's key, then the range strictly after it.
    /// `range` is any other constraint on the key itself (the due filter of a `due_at` sort).
    fn keyed(&self, range: Range, after: Option<(Timestamp, &Position)>, out: &mut Vec<FindSpec>) {
        let mut rest = range;
        if let Some((key, position)) = after {
            if range.contains(key) {
                out.push(self.find(doc! { self.key: date(key), "_id": self.id_after(position) }));
            }
            rest = rest.after(key, self.direction);
        }
        if rest.is_empty() {
            return;
        }
        if rest.is_unbounded() {
            // Always a range on the key: it names the index to read (on servers that pick by
            // filter shape) and, for `due_at`, selects the dated tasks only.
            rest = rest.above(MIN_INSTANT, true);
        }
        out.push(self.find(doc! { self.key: rest.to_document() }));
    }

    /// The tasks without a deadline (a `due_at` sort without due filters), after `after`.
    fn undated(&self, after: Option<&Position>, out: &mut Vec<FindSpec>) {
        let mut conditions = doc! { "due_at": Bson::Null };
        if let Some(position) = after {
            conditions.insert("_id", self.id_after(position));
        }
        out.push(self.find(conditions));
    }
}

/// The field the union of a list's phases is ordered by first (each phase's documents carry
/// their phase's index in it; the codec ignores it).
const PHASE: &str = "_phase";

/// The one `aggregate` pipeline answering a list of several `phases`, each limited to `limit`:
/// the first phase as the pipeline's head and the others in `$unionWith`, each tagged with its
/// index, then the union in phase order (`$unionWith` leaves the order of what it combines
/// unspecified) and cut to `limit`. The final sort handles at most `limit` documents per phase.
pub(crate) fn union_pipeline(phases: &[FindSpec], limit: i64) -> Vec<Document> {
    let phase = |index: i32, spec: &FindSpec| {
        vec![
            doc! { "$match": spec.filter.clone() },
            doc! { "$sort": spec.sort.clone() },
            doc! { "$limit": limit },
            doc! { "$set": { PHASE: index } },
        ]
    };
    let mut pipeline = Vec::with_capacity(4 + phases.len() + 2);
    let mut order = doc! { PHASE: 1 };
    for (index, spec) in (0..).zip(phases) {
        if index == 0 {
            pipeline.extend(phase(index, spec));
            order.extend(spec.sort.clone());
        } else {
            let stages = phase(index, spec);
            pipeline.push(doc! { "$unionWith": { "coll": TASKS, "pipeline": stages } });
        }
    }
    pipeline.push(doc! { "$sort": order });
    pipeline.push(doc! { "$limit": limit });
    pipeline
}

/// The phases answering `request` for `owner`, in list order: each a range of one index, to
/// be read each up to the limit and concatenated (see [`union_pipeline`]).
pub(crate) fn list_plan(owner: &UserId, request: &ListRequest) -> Vec<FindSpec> {
    let mut plan = ListPlan::new(owner, request);
    let filter = &request.filter;
    let due = due_range(filter);
    let mut out = Vec::with_capacity(3);
    if request.sort.key == SortKey::DueAt {
        let dated_only = filter.due_after.is_some() || filter.due_before.is_some();
        match request.after {
            None => {
                plan.keyed(due, None, &mut out);
                if !dated_only {
                    plan.undated(None, &mut out);
                }
            }
            Some(ref position @ Position { key: Some(key), .. }) => {
                plan.keyed(due, Some((key, position)), &mut out);
                if !dated_only {
                    plan.undated(None, &mut out);
                }
            }
            Some(ref position @ Position { key: None, .. }) => {
                if !dated_only {
                    plan.undated(Some(position), &mut out);
                }
            }
        }
        return out;
    }
    // A created_at / updated_at sort: the due filter is a plain residual condition.
    if due.is_empty() {
        return out;
    }
    if !due.is_unbounded() {
        plan.residual.insert("due_at", due.to_document());
    }
    match request.after {
        None => plan.keyed(Range::default(), None, &mut out),
        Some(ref position @ Position { key: Some(key), .. }) => {
            plan.keyed(Range::default(), Some((key, position)), &mut out);
        }
        // Every task has this key: nothing comes after an unkeyed position.
        Some(Position { key: None, .. }) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskflow_core::domain::{Priority, Tag, TaskId};
    use taskflow_core::query::{SearchText, Sort};

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    fn request(sort: &str, filter: TaskFilter, after: Option<Position>) -> ListRequest {
        ListRequest {
            filter,
            sort: Sort::parse(sort).unwrap(),
            after,
            limit: 10,
        }
    }

    #[test]
    fn escapes_every_metacharacter() {
        assert_eq!(escape_regex("a.b*c"), "a\\.b\\*c");
        assert_eq!(
            escape_regex("^$.|?*+()[]{}\\-#/"),
            "\\^\\$\\.\\|\\?\\*\\+\\(\\)\\[\\]\\{\\}\\\\\\-\\#\\/"
        );
        assert_eq!(escape_regex("ünï code"), "ünï code");
        assert_eq!(escape_regex("a\0b"), "a\\x00b");
    }

    #[test]
    fn first_page_is_one_key_range_with_user_id_first() {
        let owner = UserId::generate();
        let plan = list_plan(&owner, &request("-created_at", TaskFilter::default(), None));
        assert_eq!(plan.len(), 1);
        assert_eq!(
            plan[0].filter,
            doc! { "user_id": oid(owner.to_bytes()), "created_at": { "$gte": date(MIN_INSTANT) } }
        );
        assert_eq!(plan[0].sort, doc! { "created_at": -1, "_id": -1 });
    }

    #[test]
    fn cursor_becomes_ties_then_strict_range() {
        let owner = UserId::generate();
        let id = TaskId::generate();
        let after = Position {
            key: Some(ts(5)),
            id,
        };
        let filter = TaskFilter {
            completed: Some(true),
            ..TaskFilter::default()
        };
        let plan = list_plan(&owner, &request("-updated_at", filter, Some(after)));
        let user = oid(owner.to_bytes());
        assert_eq!(
            plan.iter().map(|f| f.filter.clone()).collect::<Vec<_>>(),
            vec![
                doc! { "user_id": user, "completed": true, "updated_at": date(ts(5)), "_id": { "$lt": oid(id.to_bytes()) } },
                doc! { "user_id": user, "completed": true, "updated_at": { "$lt": date(ts(5)) } },
            ]
        );
    }

    #[test]
    fn due_sort_adds_the_undated_range_and_merges_bounds() {
        let owner = UserId::generate();
        let user = oid(owner.to_bytes());
        let plan = list_plan(&owner, &request("due_at", TaskFilter::default(), None));
        assert_eq!(plan.len(), 2);
        assert_eq!(
            plan[0].filter,
            doc! { "user_id": user, "due_at": { "$gte": date(MIN_INSTANT) } }
        );
        assert_eq!(
            plan[1].filter,
            doc! { "user_id": user, "due_at": Bson::Null }
        );
        let filter = TaskFilter {
            due_after: Some(ts(10)),
            due_before: Some(ts(20)),
            ..TaskFilter::default()
        };
        let id = TaskId::generate();
        let after = Position {
            key: Some(ts(15)),
            id,
        };
        let plan = list_plan(&owner, &request("due_at", filter.clone(), Some(after)));
        assert_eq!(plan.len(), 2, "no undated range under a due filter");
        assert_eq!(
            plan[1].filter,
            doc! { "user_id": user, "due_at": { "$gt": date(ts(15)), "$lt": date(ts(20)) } }
        );
        let undated = Position { key: None, id };
        assert!(list_plan(&owner, &request("due_at", filter, Some(undated))).is_empty());
        let plan = list_plan(
            &owner,
            &request("-due_at", TaskFilter::default(), Some(undated)),
        );
        assert_eq!(
            plan,
            vec![FindSpec {
                filter: doc! { "user_id": user, "due_at": Bson::Null, "_id": { "$lt": oid(id.to_bytes()) } },
                sort: doc! { "due_at": -1, "_id": -1 },
            }]
        );
    }

    #[test]
    fn several_phases_become_one_pipeline_in_phase_order() {
        let owner = UserId::generate();
        let user = oid(owner.to_bytes());
        let plan = list_plan(&owner, &request("-due_at", TaskFilter::default(), None));
        let pipeline = union_pipeline(&plan, 21);
        let sort = doc! { "due_at": -1, "_id": -1 };
        assert_eq!(
            pipeline,
            vec![
                doc! { "$match": { "user_id": user, "due_at": { "$gte": date(MIN_INSTANT) } } },
                doc! { "$sort": sort.clone() },
                doc! { "$limit": 21_i64 },
                doc! { "$set": { "_phase": 0 } },
                doc! { "$unionWith": { "coll": "tasks", "pipeline": [
                    { "$match": { "user_id": user, "due_at": Bson::Null } },
                    { "$sort": sort },
                    { "$limit": 21_i64 },
                    { "$set": { "_phase": 1 } },
                ] } },
                doc! { "$sort": { "_phase": 1, "due_at": -1, "_id": -1 } },
                doc! { "$limit": 21_i64 },
            ]
        );
    }

    #[test]
    fn residual_filters_follow_the_index_fields() {
        let owner = UserId::generate();
        let filter = TaskFilter {
            tag: Some(Tag::parse("work").unwrap()),
            priority: Some(Priority::High),
            q: Some(SearchText::parse("A.B").unwrap()),
            due_before: Some(ts(9)),
            ..TaskFilter::default()
        };
        let plan = list_plan(&owner, &request("created_at", filter, None));
        let keys: Vec<&str> = plan[0].filter.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "user_id",
                "created_at",
                "tags",
                "priority",
                "title",
                "due_at"
            ]
        );
        assert_eq!(
            plan[0].filter.get_document("title").unwrap(),
            &doc! { "$regex": "a\\.b", "$options": "i" }
        );
    }

    #[test]
    fn empty_due_interval_lists_nothing() {
        let owner = UserId::generate();
        let filter = TaskFilter {
            due_after: Some(ts(10)),
            due_before: Some(ts(10)),
            ..TaskFilter::default()
        };
        for sort in ["created_at", "due_at", "-due_at"] {
            assert!(
                list_plan(&owner, &request(sort, filter.clone(), None)).is_empty(),
                "{sort}"
            );
        }
    }

    #[test]
    fn ranges_keep_the_tightest_bound() {
        let r = Range::default()
            .above(ts(5), true)
            .above(ts(5), false)
            .above(ts(3), true)
            .below(ts(9), false)
            .below(ts(9), true);
        assert_eq!(r.lower, Some((ts(5), false)));
        assert_eq!(r.upper, Some((ts(9), false)));
        assert!(!r.contains(ts(5)) && r.contains(ts(6)) && !r.contains(ts(9)));
        assert!(
            Range::default()
                .above(ts(1), true)
                .below(ts(1), false)
                .is_empty()
        );
        assert!(
            !Range::default()
                .above(ts(1), true)
                .below(ts(1), true)
                .is_empty()
        );
    }
}
