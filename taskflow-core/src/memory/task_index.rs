//! One user's tasks with ordered indexes, mirroring the MongoDB compound indexes
//! `{user_id, completed, <sort key>, _id}`: a page costs O(log n + scanned), never a full scan.

use std::collections::{BTreeSet, HashMap};
use std::iter::Peekable;
use std::ops::Bound::{Excluded, Unbounded};

use crate::clock::Timestamp;
use crate::domain::{Task, TaskId};
use crate::query::{Direction, ListRequest, Position, Sort, SortKey, TaskStats};

type Keyed = BTreeSet<(Timestamp, TaskId)>;
type Positions<'a> = Box<dyn Iterator<Item = Position> + Send + 'a>;

/// The indexes of the open or of the completed tasks.
#[derive(Debug, Default)]
struct Partition {
    created: Keyed,
    updated: Keyed,
    due: Keyed,
    undated: BTreeSet<TaskId>,
}

impl Partition {
    fn add(&mut self, task: &Task) {
        self.created.insert((task.created_at, task.id));
        self.updated.insert((task.updated_at, task.id));
        match task.due_at {
            Some(due) => self.due.insert((due, task.id)),
            None => self.undated.insert(task.id),
        };
    }

    fn remove(&mut self, task: &Task) {
        self.created.remove(&(task.created_at, task.id));
        self.updated.remove(&(task.updated_at, task.id));
        match task.due_at {
            Some(due) => self.due.remove(&(due, task.id)),
            None => self.undated.remove(&task.id),
        };
    }

    /// Positions strictly after `after`, in `sort` order.
    fn positions(&self, sort: Sort, after: Option<Position>) -> Positions<'_> {
        let dir = sort.direction;
        match sort.key {
            SortKey::CreatedAt | SortKey::UpdatedAt => {
                let set = if sort.key == SortKey::CreatedAt {
                    &self.created
                } else {
                    &self.updated
                };
                match after {
                    // A keyed sort has no unkeyed positions: nothing comes after one.
                    Some(Position { key: None, .. }) => Box::new(std::iter::empty()),
                    Some(Position { key: Some(k), id }) => keyed(set, dir, Some((k, id))),
                    None => keyed(set, dir, None),
                }
            }
            SortKey::DueAt => match after {
                None => {
                    Box::new(keyed(&self.due, dir, None).chain(unkeyed(&self.undated, dir, None)))
                }
                Some(Position { key: Some(k), id }) => Box::new(
                    keyed(&self.due, dir, Some((k, id))).chain(unkeyed(&self.undated, dir, None)),
                ),
                Some(Position { key: None, id }) => unkeyed(&self.undated, dir, Some(id)),
            },
        }
    }
}

/// The entries of `set` strictly after `after` in direction `dir`, as positions.
fn walk<K: Ord + Copy + Send + Sync>(
    set: &BTreeSet<K>,
    dir: Direction,
    after: Option<K>,
    position: fn(&K) -> Position,
) -> Positions<'_> {
    match (dir, after) {
        (Direction::Asc, Some(a)) => Box::new(set.range((Excluded(a), Unbounded)).map(position)),
        (Direction::Asc, None) => Box::new(set.iter().map(position)),
        (Direction::Desc, Some(a)) => {
            Box::new(set.range((Unbounded, Excluded(a))).rev().map(position))
        }
        (Direction::Desc, None) => Box::new(set.iter().rev().map(position)),
    }
}

fn keyed(set: &Keyed, dir: Direction, after: Option<(Timestamp, TaskId)>) -> Positions<'_> {
    walk(set, dir, after, |&(key, id)| Position {
        key: Some(key),
        id,
    })
}

fn unkeyed(set: &BTreeSet<TaskId>, dir: Direction, after: Option<TaskId>) -> Positions<'_> {
    walk(set, dir, after, |&id| Position { key: None, id })
}

/// Merges two position streams that are each sorted by `sort`.
struct Merge<'a> {
    sort: Sort,
    a: Peekable<Positions<'a>>,
    b: Peekable<Positions<'a>>,
}

impl Iterator for Merge<'_> {
    type Item = Position;

    fn next(&mut self) -> Option<Position> {
        match (self.a.peek(), self.b.peek()) {
            (Some(x), Some(y)) if self.sort.compare(x, y).is_gt() => self.b.next(),
            (Some(_), _) => self.a.next(),
            (None, _) => self.b.next(),
        }
    }
}

/// One user's tasks and their indexes.
#[derive(Debug, Default)]
pub(super) struct UserTasks {
    tasks: HashMap<TaskId, Task>,
    /// `[open, completed]`.
    partitions: [Partition; 2],
}

impl UserTasks {
    pub(super) fn get(&self, id: &TaskId) -> Option<&Task> {
        self.tasks.get(id)
    }

    pub(super) fn contains(&self, id: &TaskId) -> bool {
        self.tasks.contains_key(id)
    }

    /// Inserts or replaces `task`, keeping the indexes in step.
    pub(super) fn put(&mut self, task: Task) {
        if let Some(old) = self.tasks.get(&task.id) {
            self.partitions[usize::from(old.completed)].remove(old);
        }
        self.partitions[usize::from(task.completed)].add(&task);
        self.tasks.insert(task.id, task);
    }

    pub(super) fn remove(&mut self, id: &TaskId) -> Option<Task> {
        let task = self.tasks.remove(id)?;
        self.partitions[usize::from(task.completed)].remove(&task);
        Some(task)
    }

    /// The page `request` asks for: index scan from the cursor, filtered, limited.
    pub(super) fn page(&self, request: &ListRequest) -> Vec<Task> {
        let positions: Positions<'_> = match request.filter.completed {
            Some(completed) => {
                self.partitions[usize::from(completed)].positions(request.sort, request.after)
            }
            None => Box::new(Merge {
                sort: request.sort,
                a: self.partitions[0]
                    .positions(request.sort, request.after)
                    .peekable(),
                b: self.partitions[1]
                    .positions(request.sort, request.after)
                    .peekable(),
            }),
        };
        positions
            .filter_map(|p| self.tasks.get(&p.id))
            .filter(|task| request.filter.matches(task))
            .take(request.limit)
            .cloned()
            .collect()
    }

    pub(super) fn stats(&self, now: Timestamp) -> TaskStats {
        let [open, completed] = &self.partitions;
        let smallest_id = TaskId::from_bytes([0; 12]);
        TaskStats {
            total: self.tasks.len() as u64,
            completed: completed.created.len() as u64,
            open: open.created.len() as u64,
            overdue: open.due.range(..(now, smallest_id)).count() as u64,
        }
    }
}
