//! The naive model every store must agree with: a vector, filtered and sorted.

use crate::domain::Task;
use crate::query::{ListRequest, Sort, TaskFilter};

/// Every task of `tasks` matching `filter`, in `sort` order.
pub fn matching(tasks: &[Task], filter: &TaskFilter, sort: Sort) -> Vec<Task> {
    let mut out: Vec<Task> = tasks
        .iter()
        .filter(|t| filter.matches(t))
        .cloned()
        .collect();
    out.sort_by(|a, b| sort.compare(&sort.position_of(a), &sort.position_of(b)));
    out
}

/// What a store must answer to `request` over `tasks` (all of one owner).
pub fn page(tasks: &[Task], request: &ListRequest) -> Vec<Task> {
    let sort = request.sort;
    matching(tasks, &request.filter, sort)
        .into_iter()
        .filter(|t| {
            request
                .after
                .is_none_or(|after| sort.compare(&sort.position_of(t), &after).is_gt())
        })
        .take(request.limit)
        .collect()
}
