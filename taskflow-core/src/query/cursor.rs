//! Keyset cursors: the last position of a page, sealed with an HMAC that also covers the
//! owner, the filter and the sort, so a cursor only continues the very query that made it.
//!
//! Token layout (base64url, no padding): `version(1) | has_key(1) | key(8)? | id(12) | tag(16)`,
//! where `tag` is HMAC-SHA256 truncated to 128 bits.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Direction, SearchText, Sort, SortKey, TaskFilter};
use crate::clock::Timestamp;
use crate::domain::{Priority, Tag, TaskId, UserId};

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const DOMAIN: &[u8] = b"taskflow/cursor/v1";
/// Longer than any token this codec makes; longer input is rejected before decoding.
const MAX_TOKEN_LEN: usize = 64;

/// Where a task stands in a sort order: its sort key (if it has one) and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// The sort key's value; `None` for a task without a deadline under a `due_at` sort.
    pub key: Option<Timestamp>,
    /// The tie-breaker.
    pub id: TaskId,
}

/// An opaque cursor as the client holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CursorToken(String);

impl CursorToken {
    /// The longest text a cursor can be (longer ones are rejected before decoding).
    pub const MAX_LEN: usize = MAX_TOKEN_LEN;

    /// Wraps a cursor received from a client; it is only checked when decoded.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a cursor cannot continue a query. Deliberately one variant: whether it was tampered
/// with or replayed elsewhere is nobody's business but the server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is invalid for this query")]
pub struct CursorError;

/// The secret that seals cursors. All instances serving one deployment must share it, or a
/// cursor from one instance fails on another.
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey([REDACTED])")
    }
}

impl CursorKey {
    /// A fresh random key (cursors then survive only as long as this process).
    pub fn random() -> Self {
        Self(crate::domain::ids::random_bytes())
    }

    /// A key derived from a deployment secret, with domain separation so that the same secret
    /// can also sign tokens without the two uses ever colliding.
    ///
    /// # Panics
    /// Never: HMAC accepts keys of any length.
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        mac.update(b"taskflow/derive/cursor-key");
        Self(mac.finalize().into_bytes().into())
    }
}

/// Seals and opens cursors.
#[derive(Debug, Clone)]
pub struct CursorCodec {
    key: CursorKey,
}

impl CursorCodec {
    /// A codec sealing with `key`.
    pub fn new(key: CursorKey) -> Self {
        Self { key }
    }

    /// The cursor that continues the query (`owner`, `filter`, `sort`) after `position`.
    pub fn encode(
        &self,
        owner: &UserId,
        filter: &TaskFilter,
        sort: &Sort,
        position: &Position,
    ) -> CursorToken {
        let mut bytes = Vec::with_capacity(2 + 8 + 12 + TAG_LEN);
        bytes.push(VERSION);
        match position.key {
            Some(key) => {
                bytes.push(1);
                bytes.extend_from_slice(&key.unix_millis().to_be_bytes());
            }
            None => bytes.push(0),
        }
        bytes.extend_from_slice(&position.id.to_bytes());
        let tag = self
            .mac(owner, filter, *sort, &bytes)
            .finalize()
            .into_bytes();
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        CursorToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The position a cursor stands for, if this codec sealed it for exactly this query.
    ///
    /// # Errors
    /// [`CursorError`] when the token is malformed, altered, or made for another owner, filter
    /// or sort.
    pub fn decode(
        &self,
        owner: &UserId,
        filter: &TaskFilter,
        sort: &Sort,
        token: &CursorToken,
    ) -> Result<Position, CursorError> {
        if token.0.len() > MAX_TOKEN_LEN {
            return Err(CursorError);
        }
        // The default engine rejects non-canonical trailing bits, so no two texts decode alike.
        let bytes = URL_SAFE_NO_PAD.decode(&token.0).map_err(|_| CursorError)?;
        let body_len = bytes.len().checked_sub(TAG_LEN).ok_or(CursorError)?;
        let (body, tag) = bytes.split_at(body_len);
        self.mac(owner, filter, *sort, body)
            .verify_truncated_left(tag)
            .map_err(|_| CursorError)?;
        let position = parse_body(body).ok_or(CursorError)?;
        // A sealed cursor always matches its sort, but the check costs nothing.
        if position.key.is_none() && sort.key != SortKey::DueAt {
            return Err(CursorError);
        }
        Ok(position)
    }

    fn mac(&self, owner: &UserId, filter: &TaskFilter, sort: Sort, body: &[u8]) -> HmacSha256 {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.key.0).expect("HMAC accepts 32-byte keys");
        mac.update(DOMAIN);
        mac.update(&owner.to_bytes());
        write_query(&mut mac, filter, sort);
        mac.update(body);
        mac
    }
}

fn parse_body(body: &[u8]) -> Option<Position> {
    let (&version, rest) = body.split_first()?;
    if version != VERSION {
        return None;
    }
    let (&has_key, rest) = rest.split_first()?;
    let (key, rest) = match has_key {
        0 => (None, rest),
        1 => {
            let (millis, rest) = rest.split_first_chunk::<8>()?;
            (
                Some(Timestamp::from_unix_millis(i64::from_be_bytes(*millis))?),
                rest,
            )
        }
        _ => return None,
    };
    let id: [u8; 12] = rest.try_into().ok()?;
    Some(Position {
        key,
        id: TaskId::from_bytes(id),
    })
}

/// Feeds a canonical, unambiguous encoding of the query into the MAC: fixed-width fields and
/// length-prefixed texts, each optional field led by a presence byte.
fn write_query(mac: &mut HmacSha256, filter: &TaskFilter, sort: Sort) {
    let key = match sort.key {
        SortKey::CreatedAt => 0u8,
        SortKey::UpdatedAt => 1,
        SortKey::DueAt => 2,
    };
    let direction = match sort.direction {
        Direction::Asc => 0u8,
        Direction::Desc => 1,
    };
    let completed = match filter.completed {
        None => 0u8,
        Some(false) => 1,
        Some(true) => 2,
    };
    let priority = match filter.priority {
        None => 0u8,
        Some(Priority::Low) => 1,
        Some(Priority::Medium) => 2,
        Some(Priority::High) => 3,
    };
    mac.update(&[key, direction, completed, priority]);
    write_text(mac, filter.tag.as_ref().map(Tag::as_str));
    write_text(mac, filter.q.as_ref().map(SearchText::as_lowercase));
    for instant in [filter.due_before, filter.due_after] {
        match instant {
            Some(t) => {
                mac.update(&[1]);
                mac.update(&t.unix_millis().to_be_bytes());
            }
            None => mac.update(&[0]),
        }
    }
}

fn write_text(mac: &mut HmacSha256, text: Option<&str>) {
    match text {
        Some(text) => {
            mac.update(&[1]);
            mac.update(&(text.len() as u64).to_be_bytes());
            mac.update(text.as_bytes());
        }
        None => mac.update(&[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(CursorKey::derive(b"test secret"))
    }

    fn position(key: Option<i64>) -> Position {
        Position {
            key: key.map(|k| Timestamp::from_unix_millis(k).unwrap()),
            id: TaskId::generate(),
        }
    }

    #[test]
    fn round_trips_keyed_and_unkeyed_positions() {
        let owner = UserId::generate();
        let filter = TaskFilter::default();
        let due = Sort::parse("due_at").unwrap();
        for pos in [
            position(Some(1_700_000_000_000)),
            position(None),
            position(Some(-5)),
        ] {
            let token = codec().encode(&owner, &filter, &due, &pos);
            assert!(token.as_str().len() <= MAX_TOKEN_LEN);
            assert_eq!(codec().decode(&owner, &filter, &due, &token), Ok(pos));
        }
    }

    #[test]
    fn bound_to_owner_filter_sort_and_key() {
        let owner = UserId::generate();
        let filter = TaskFilter {
            completed: Some(false),
            ..TaskFilter::default()
        };
        let sort = Sort::default();
        let token = codec().encode(&owner, &filter, &sort, &position(Some(10)));
        let other_filters = [
            TaskFilter::default(),
            TaskFilter {
                completed: Some(true),
                ..TaskFilter::default()
            },
            TaskFilter {
                completed: Some(false),
                tag: Some(Tag::parse("x").unwrap()),
                ..TaskFilter::default()
            },
            TaskFilter {
                completed: Some(false),
                q: Some(SearchText::parse("x").unwrap()),
                ..TaskFilter::default()
            },
        ];
        for other in &other_filters {
            assert_eq!(
                codec().decode(&owner, other, &sort, &token),
                Err(CursorError)
            );
        }
        let asc = Sort::parse("created_at").unwrap();
        assert_eq!(
            codec().decode(&owner, &filter, &asc, &token),
            Err(CursorError)
        );
        assert_eq!(
            codec().decode(&UserId::generate(), &filter, &sort, &token),
            Err(CursorError)
        );
        let other_key = CursorCodec::new(CursorKey::derive(b"another secret"));
        assert_eq!(
            other_key.decode(&owner, &filter, &sort, &token),
            Err(CursorError)
        );
        assert!(codec().decode(&owner, &filter, &sort, &token).is_ok());
    }

    #[test]
    fn tag_and_q_with_same_text_are_different_queries() {
        let owner = UserId::generate();
        let sort = Sort::default();
        let by_tag = TaskFilter {
            tag: Some(Tag::parse("ab").unwrap()),
            ..TaskFilter::default()
        };
        let by_q = TaskFilter {
            q: Some(SearchText::parse("ab").unwrap()),
            ..TaskFilter::default()
        };
        let token = codec().encode(&owner, &by_tag, &sort, &position(Some(1)));
        assert_eq!(
            codec().decode(&owner, &by_q, &sort, &token),
            Err(CursorError)
        );
    }

    /// A body of any shape, sealed with the real key (as only the key holder could), so that it
    /// passes the MAC and reaches the body parser.
    fn sealed(owner: &UserId, filter: &TaskFilter, sort: Sort, body: &[u8]) -> CursorToken {
        let tag = codec()
            .mac(owner, filter, sort, body)
            .finalize()
            .into_bytes();
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        CursorToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Bodies near the layout (every version and key flag, keys at and beyond the timestamp
    /// range, ids of every length) and arbitrary bytes.
    fn body() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let near = (
            0_u8..3,
            0_u8..3,
            prop_oneof![
                any::<i64>(),
                Just(-62_135_596_800_000_i64),
                Just(-62_135_596_800_001),
                Just(253_402_300_799_999),
                Just(253_402_300_800_000),
            ],
            proptest::collection::vec(any::<u8>(), 10..14),
        )
            .prop_map(|(version, has_key, millis, id)| {
                let mut body = vec![version, has_key];
                if has_key == 1 {
                    body.extend_from_slice(&millis.to_be_bytes());
                }
                body.extend_from_slice(&id);
                body
            });
        prop_oneof![near, proptest::collection::vec(any::<u8>(), 0..40)]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

        /// The body parser accepts exactly the well-formed bodies, and what it accepts seals
        /// back to the same token; nothing panics.
        #[test]
        fn sealed_bodies_of_any_shape_are_parsed_or_refused(
            body in body(),
            due in proptest::prelude::any::<bool>(),
        ) {
            let owner = UserId::from_bytes([9; 12]);
            let filter = TaskFilter::default();
            let sort = Sort::parse(if due { "due_at" } else { "-created_at" }).unwrap();
            let token = sealed(&owner, &filter, sort, &body);
            let in_range = |millis: &[u8]| {
                let millis = i64::from_be_bytes(millis.try_into().unwrap());
                Timestamp::from_unix_millis(millis).is_some()
            };
            let well_formed = match body.as_slice() {
                [1, 0, id @ ..] => id.len() == 12 && due,
                [1, 1, rest @ ..] => rest.len() == 20 && in_range(&rest[..8]),
                _ => false,
            };
            match codec().decode(&owner, &filter, &sort, &token) {
                Ok(position) => {
                    proptest::prop_assert!(well_formed, "{body:?}");
                    proptest::prop_assert_eq!(codec().encode(&owner, &filter, &sort, &position), token);
                }
                Err(_) => proptest::prop_assert!(!well_formed, "{body:?}"),
            }
        }
    }

    #[test]
    fn garbage_is_rejected() {
        let owner = UserId::generate();
        let filter = TaskFilter::default();
        let sort = Sort::default();
        for bad in ["", "a", "!!!!", &"A".repeat(65), "AQEAAAAAAAAAAA"] {
            let token = CursorToken::new(bad);
            assert_eq!(
                codec().decode(&owner, &filter, &sort, &token),
                Err(CursorError),
                "{bad}"
            );
        }
    }
}
