//! The JSON of a page of tasks, written straight into one buffer: the body of the hottest
//! endpoint. It is byte for byte what `serde_json` makes of [`TaskPageView`](super::TaskPageView)
//! (a property test holds them together), without its per-byte escaping of every key, id and
//! timestamp: the keys are literals here, ids are hex digits and timestamps fixed-width ASCII,
//! so only the user's texts (title, description, tags) and the cursor go through `serde_json`.
//! Serialising a page took 16% of a list request's CPU through the derived `Serialize`.

use taskflow_core::Timestamp;
use taskflow_core::domain::{Tag, Task};
use taskflow_core::query::TaskPage;

/// The JSON of a page without its tasks, about.
const PAGE_BYTES: usize = 64;
/// The JSON of one task, a generous typical size (a short description, a few tags): most
/// pages then take one allocation, and a longer one just grows the buffer.
const TASK_BYTES: usize = 384;

/// `{"items":[task...],"next_cursor":"..."|null}`.
pub(crate) fn page_json(page: &TaskPage) -> Vec<u8> {
    let mut out = Vec::with_capacity(PAGE_BYTES + TASK_BYTES * page.items.len());
    out.extend_from_slice(b"{\"items\":[");
    for (i, task) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        task_json(&mut out, task);
    }
    out.extend_from_slice(b"],\"next_cursor\":");
    match &page.next_cursor {
        Some(cursor) => text(&mut out, cursor.as_str()),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
    out
}

/// One task, its fields in the order of [`TaskView`](super::TaskView).
fn task_json(out: &mut Vec<u8>, task: &Task) {
    out.extend_from_slice(b"{\"id\":\"");
    out.extend_from_slice(&task.id.hex_bytes());
    out.extend_from_slice(b"\",\"title\":");
    text(out, task.title.as_str());
    out.extend_from_slice(b",\"description\":");
    text(out, task.description.as_str());
    out.extend_from_slice(if task.completed {
        b",\"completed\":true,\"completed_at\":"
    } else {
        b",\"completed\":false,\"completed_at\":"
    });
    optional_instant(out, task.completed_at);
    out.extend_from_slice(b",\"due_at\":");
    optional_instant(out, task.due_at);
    out.extend_from_slice(b",\"priority\":\"");
    out.extend_from_slice(task.priority.as_str().as_bytes());
    out.extend_from_slice(b"\",\"tags\":[");
    for (i, tag) in task.tags.as_slice().iter().map(Tag::as_str).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        text(out, tag);
    }
    out.extend_from_slice(b"],\"created_at\":");
    instant(out, task.created_at);
    out.extend_from_slice(b",\"updated_at\":");
    instant(out, task.updated_at);
    out.extend_from_slice(b",\"version\":");
    // Writing a number into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, &task.version);
    out.push(b'}');
}

/// A JSON string of user text, escaped by `serde_json`.
fn text(out: &mut Vec<u8>, value: &str) {
    // Writing a `str` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn instant(out: &mut Vec<u8>, at: Timestamp) {
    out.push(b'"');
    out.extend_from_slice(&at.rfc3339_bytes());
    out.push(b'"');
}

fn optional_instant(out: &mut Vec<u8>, at: Option<Timestamp>) {
    match at {
        Some(at) => instant(out, at),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use taskflow_core::domain::{Priority, Tags, Task, TaskDescription, TaskId, TaskTitle, UserId};
    use taskflow_core::query::CursorToken;

    use super::*;
    use crate::views::TaskPageView;

    fn instant() -> impl Strategy<Value = Timestamp> {
        (-62_135_596_800_000_i64..=253_402_300_799_999)
            .prop_map(|millis| Timestamp::from_unix_millis(millis).unwrap())
    }

    prop_compose! {
        fn task()(
            id in any::<[u8; 12]>(),
            title in any::<String>(),
            description in any::<String>(),
            completed in any::<bool>(),
            completed_at in proptest::option::of(instant()),
            due_at in proptest::option::of(instant()),
            priority in proptest::sample::select(Priority::ALL.to_vec()),
            tags in proptest::collection::btree_set("[a-z0-9_-]{1,8}", 0..4),
            created_at in instant(),
            updated_at in instant(),
            version in any::<u64>(),
        ) -> Task {
            Task {
                id: TaskId::from_bytes(id),
                owner: UserId::from_bytes([7; 12]),
                title: TaskTitle::parse(&title).unwrap_or_else(|_| TaskTitle::parse("t").unwrap()),
                description: TaskDescription::parse(&description).unwrap(),
                completed,
                completed_at,
                due_at,
                priority,
                tags: Tags::new(tags.iter().map(|t| Tag::parse(t).unwrap()).collect()).unwrap(),
                created_at,
                updated_at,
                version,
            }
        }
    }

    proptest! {
        /// Every page, whatever its texts (quotes, backslashes, control characters, any
        /// Unicode), is written exactly as `serde_json` writes the view.
        #[test]
        fn agrees_with_serde_json_byte_for_byte(
            items in proptest::collection::vec(task(), 0..6),
            cursor in proptest::option::of(any::<String>()),
        ) {
            let page = TaskPage { items, next_cursor: cursor.map(CursorToken::new) };
            let expected = serde_json::to_vec(&TaskPageView::from(&page)).unwrap();
            prop_assert_eq!(
                String::from_utf8(page_json(&page)).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
