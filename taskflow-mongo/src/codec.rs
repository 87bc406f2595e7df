//! The explicit BSON mapping of every stored entity: ids as `ObjectId`, instants as BSON dates,
//! enums as strings, absent optionals as `null`. Decoding re-validates through the domain
//! constructors, so a foreign or corrupt document is an error, never an invalid value.

use std::net::IpAddr;

use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, DateTime, Document, doc, oid::ObjectId};
use taskflow_core::Timestamp;
use taskflow_core::auth::refresh::{RefreshTokenHash, SealedRefreshToken};
use taskflow_core::auth::session::{RefreshFamily, RotatedToken, Session, SessionValidity};
use taskflow_core::auth::throttle::FailureState;
use taskflow_core::domain::{
    DisplayName, Email, PasswordHash, Priority, SessionId, Tag, Tags, Task, TaskDescription,
    TaskId, TaskTitle, User, UserId,
};

use crate::error::CorruptDocument;

/// Collection names.
pub(crate) const USERS: &str = "users";
pub(crate) const TASKS: &str = "tasks";
pub(crate) const SESSIONS: &str = "sessions";
pub(crate) const LOGIN_FAILURES: &str = "login_failures";
pub(crate) const RATE_LIMITS: &str = "rate_limits";

pub(crate) fn oid(bytes: [u8; 12]) -> ObjectId {
    ObjectId::from_bytes(bytes)
}

pub(crate) fn date(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.unix_millis())
}

pub(crate) fn opt_date(t: Option<Timestamp>) -> Bson {
    t.map_or(Bson::Null, |t| Bson::DateTime(date(t)))
}

pub(crate) fn hash_key(hash: &RefreshTokenHash) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: hash.to_bytes().to_vec(),
    }
}

/// Reads the fields of one stored document, naming the collection in errors.
struct Reader<'a> {
    doc: &'a Document,
    collection: &'static str,
}

impl<'a> Reader<'a> {
    fn new(doc: &'a Document, collection: &'static str) -> Self {
        Self { doc, collection }
    }

    fn corrupt(&self, field: &'static str) -> CorruptDocument {
        CorruptDocument {
            collection: self.collection,
            field,
        }
    }

    fn oid(&self, field: &'static str) -> Result<[u8; 12], CorruptDocument> {
        self.doc
            .get_object_id(field)
            .map(|id| id.bytes())
            .map_err(|_| self.corrupt(field))
    }

    fn str(&self, field: &'static str) -> Result<&'a str, CorruptDocument> {
        self.doc.get_str(field).map_err(|_| self.corrupt(field))
    }

    fn opt_str(&self, field: &'static str) -> Result<Option<&'a str>, CorruptDocument> {
        match self.doc.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.corrupt(field)),
        }
    }

    fn bool(&self, field: &'static str) -> Result<bool, CorruptDocument> {
        self.doc.get_bool(field).map_err(|_| self.corrupt(field))
    }

    fn int(&self, field: &'static str) -> Result<i64, CorruptDocument> {
        match self.doc.get(field) {
            Some(Bson::Int64(n)) => Ok(*n),
            Some(Bson::Int32(n)) => Ok(i64::from(*n)),
            _ => Err(self.corrupt(field)),
        }
    }

    fn time(&self, field: &'static str) -> Result<Timestamp, CorruptDocument> {
        let date = self
            .doc
            .get_datetime(field)
            .map_err(|_| self.corrupt(field))?;
        Timestamp::from_unix_millis(date.timestamp_millis()).ok_or_else(|| self.corrupt(field))
    }

    fn hash(&self, field: &'static str) -> Result<RefreshTokenHash, CorruptDocument> {
        self.doc
            .get_binary_generic(field)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
            .map(RefreshTokenHash::from_bytes)
            .ok_or_else(|| self.corrupt(field))
    }

    fn opt_document(&self, field: &'static str) -> Result<Option<&'a Document>, CorruptDocument> {
        match self.doc.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::Document(d)) => Ok(Some(d)),
            Some(_) => Err(self.corrupt(field)),
        }
    }

    fn opt_time(&self, field: &'static str) -> Result<Option<Timestamp>, CorruptDocument> {
        match self.doc.get(field) {
            None | Some(Bson::Null) => Ok(None),
            Some(Bson::DateTime(_)) => self.time(field).map(Some),
            Some(_) => Err(self.corrupt(field)),
        }
    }
}

pub(crate) fn user_to_document(user: &User) -> Document {
    doc! {
        "_id": oid(user.id.to_bytes()),
        "email": user.email.as_str(),
        "name": user.name.as_ref().map_or(Bson::Null, |n| Bson::String(n.as_str().to_owned())),
        "password_hash": user.password_hash.expose_phc(),
        "created_at": date(user.created_at),
    }
}

pub(crate) fn user_from_document(doc: &Document) -> Result<User, CorruptDocument> {
    let r = Reader::new(doc, USERS);
    Ok(User {
        id: UserId::from_bytes(r.oid("_id")?),
        email: Email::parse(r.str("email")?).map_err(|_| r.corrupt("email"))?,
        name: r
            .opt_str("name")?
            .map(DisplayName::parse)
            .transpose()
            .map_err(|_| r.corrupt("name"))?,
        password_hash: PasswordHash::from_phc(r.str("password_hash")?.to_owned()),
        created_at: r.time("created_at")?,
    })
}

/// A stored version: BSON has no unsigned integers, and versions never come near `i64::MAX`.
pub(crate) fn version(v: u64) -> Result<i64, CorruptDocument> {
    i64::try_from(v).map_err(|_| CorruptDocument {
        collection: TASKS,
        field: "version",
    })
}

pub(crate) fn task_to_document(task: &Task) -> Result<Document, CorruptDocument> {
    let tags: Vec<Bson> = task
        .tags
        .as_slice()
        .iter()
        .map(|t| Bson::String(t.as_str().to_owned()))
        .collect();
    Ok(doc! {
        "_id": oid(task.id.to_bytes()),
        "user_id": oid(task.owner.to_bytes()),
        "title": task.title.as_str(),
        "description": task.description.as_str(),
        "completed": task.completed,
        "completed_at": opt_date(task.completed_at),
        "due_at": opt_date(task.due_at),
        "priority": task.priority.as_str(),
        "tags": tags,
        "created_at": date(task.created_at),
        "updated_at": date(task.updated_at),
        "version": version(task.version)?,
    })
}

pub(crate) fn task_from_document(doc: &Document) -> Result<Task, CorruptDocument> {
    let r = Reader::new(doc, TASKS);
    let tags = doc
        .get_array("tags")
        .map_err(|_| r.corrupt("tags"))?
        .iter()
        .map(|t| match t {
            Bson::String(s) => Tag::parse(s).map_err(|_| r.corrupt("tags")),
            _ => Err(r.corrupt("tags")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Task {
        id: TaskId::from_bytes(r.oid("_id")?),
        owner: UserId::from_bytes(r.oid("user_id")?),
        title: TaskTitle::parse(r.str("title")?).map_err(|_| r.corrupt("title"))?,
        description: TaskDescription::parse(r.str("description")?)
            .map_err(|_| r.corrupt("description"))?,
        completed: r.bool("completed")?,
        completed_at: r.opt_time("completed_at")?,
        due_at: r.opt_time("due_at")?,
        priority: Priority::parse(r.str("priority")?).map_err(|_| r.corrupt("priority"))?,
        tags: Tags::new(tags).map_err(|_| r.corrupt("tags"))?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        version: u64::try_from(r.int("version")?).map_err(|_| r.corrupt("version"))?,
    })
}

pub(crate) fn session_to_document(session: &Session) -> Document {
    doc! {
        "_id": oid(session.id.to_bytes()),
        "user_id": oid(session.user_id.to_bytes()),
        "created_at": date(session.created_at),
        "last_used_at": date(session.last_used_at),
        "expires_at": date(session.expires_at),
        "idle_expires_at": date(session.idle_expires_at),
        "user_agent": session.user_agent.clone().map_or(Bson::Null, Bson::String),
        "ip": session.ip.map_or(Bson::Null, |ip| Bson::String(ip.to_string())),
        "revoked_at": opt_date(session.revoked_at),
    }
}

pub(crate) fn session_from_document(doc: &Document) -> Result<Session, CorruptDocument> {
    let r = Reader::new(doc, SESSIONS);
    Ok(Session {
        id: SessionId::from_bytes(r.oid("_id")?),
        user_id: UserId::from_bytes(r.oid("user_id")?),
        created_at: r.time("created_at")?,
        last_used_at: r.time("last_used_at")?,
        expires_at: r.time("expires_at")?,
        idle_expires_at: r.time("idle_expires_at")?,
        user_agent: r.opt_str("user_agent")?.map(str::to_owned),
        ip: r
            .opt_str("ip")?
            .map(str::parse::<IpAddr>)
            .transpose()
            .map_err(|_| r.corrupt("ip"))?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

/// The session check's fields of a session, as read with a projection of only those.
pub(crate) fn validity_from_document(doc: &Document) -> Result<SessionValidity, CorruptDocument> {
    let r = Reader::new(doc, SESSIONS);
    Ok(SessionValidity {
        revoked_at: r.opt_time("revoked_at")?,
        expires_at: r.time("expires_at")?,
        idle_expires_at: r.time("idle_expires_at")?,
    })
}

/// The `refresh` field of a session: its family state (`None` once revoked).
pub(crate) const REFRESH: &str = "refresh";

/// A refresh family as the `refresh` subdocument of its session. Fixed size: three hashes'
/// worth of binaries, an instant and a counter, whatever the number of rotations.
pub(crate) fn family_to_document(family: &RefreshFamily) -> Result<Document, CorruptDocument> {
    let previous = family.previous.as_ref().map_or(Bson::Null, |p| {
        Bson::Document(doc! {
            "hash": hash_key(&p.hash),
            "rotated_at": date(p.rotated_at),
            "successor": Binary {
                subtype: BinarySubtype::Generic,
                bytes: p.successor.as_bytes().to_vec(),
            },
        })
    });
    Ok(doc! {
        "generation": generation(family.generation)?,
        "current": hash_key(&family.current),
        "previous": previous,
    })
}

/// A stored generation: BSON has no unsigned integers, and nothing rotates `i64::MAX` times.
pub(crate) fn generation(g: u64) -> Result<i64, CorruptDocument> {
    i64::try_from(g).map_err(|_| CorruptDocument {
        collection: SESSIONS,
        field: "refresh.generation",
    })
}

/// The family of a stored session; `None` when it has none (revoked, or stored by a version
/// before families).
pub(crate) fn family_from_document(
    doc: &Document,
) -> Result<Option<RefreshFamily>, CorruptDocument> {
    let Some(refresh) = Reader::new(doc, SESSIONS).opt_document(REFRESH)? else {
        return Ok(None);
    };
    let r = Reader::new(refresh, SESSIONS);
    let previous = match r.opt_document("previous")? {
        None => None,
        Some(p) => {
            let p = Reader::new(p, SESSIONS);
            let successor = p
                .doc
                .get_binary_generic("successor")
                .map_err(|_| p.corrupt("successor"))?;
            Some(RotatedToken {
                hash: p.hash("hash")?,
                rotated_at: p.time("rotated_at")?,
                successor: SealedRefreshToken::from_bytes(successor.clone()),
            })
        }
    };
    Ok(Some(RefreshFamily {
        generation: u64::try_from(r.int("generation")?).map_err(|_| r.corrupt("generation"))?,
        current: r.hash("current")?,
        previous,
    }))
}

pub(crate) fn failure_from_document(doc: &Document) -> Result<FailureState, CorruptDocument> {
    let r = Reader::new(doc, LOGIN_FAILURES);
    let failures = r.int("failures")?;
    Ok(FailureState {
        // A counter past u32::MAX is as good as u32::MAX: the delay is capped long before.
        failures: u32::try_from(failures.max(0)).unwrap_or(u32::MAX),
        last_failure_at: r.time("last_failure_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskflow_core::domain::NewTask;

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    #[test]
    fn task_round_trips_with_bson_types() {
        let new = NewTask {
            title: TaskTitle::parse("Write ünïcode").unwrap(),
            description: TaskDescription::parse(" kept \n").unwrap(),
            due_at: Some(ts(-62_135_596_800_000)),
            priority: Priority::High,
            tags: Tags::new(vec![Tag::parse("b").unwrap(), Tag::parse("a").unwrap()]).unwrap(),
        };
        let mut task = Task::new(TaskId::generate(), UserId::generate(), new, ts(1_234));
        task.version = 42;
        let doc = task_to_document(&task).unwrap();
        assert!(matches!(doc.get("_id"), Some(Bson::ObjectId(_))));
        assert!(matches!(doc.get("user_id"), Some(Bson::ObjectId(_))));
        assert!(matches!(doc.get("created_at"), Some(Bson::DateTime(_))));
        assert_eq!(doc.get("completed_at"), Some(&Bson::Null));
        assert_eq!(doc.get_str("priority").unwrap(), "high");
        assert_eq!(doc.get_i64("version").unwrap(), 42);
        assert_eq!(task_from_document(&doc).unwrap(), task);
    }

    #[test]
    fn corrupt_documents_name_the_field_not_the_value() {
        let task = Task::new(
            TaskId::generate(),
            UserId::generate(),
            NewTask::titled(TaskTitle::parse("t").unwrap()),
            ts(0),
        );
        let mut doc = task_to_document(&task).unwrap();
        doc.insert("priority", "urgent-secret");
        let err = task_from_document(&doc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a stored `tasks` document has an invalid `priority` field"
        );
        doc.insert("priority", "low");
        doc.insert("tags", vec![Bson::Int32(1)]);
        assert_eq!(task_from_document(&doc).unwrap_err().field, "tags");
    }

    #[test]
    fn session_and_refresh_family_round_trip() {
        let session = Session {
            id: SessionId::generate(),
            user_id: UserId::generate(),
            created_at: ts(1),
            last_used_at: ts(2),
            expires_at: ts(3),
            idle_expires_at: ts(4),
            user_agent: None,
            ip: Some("2001:db8::7".parse().unwrap()),
            revoked_at: Some(ts(5)),
        };
        let mut doc = session_to_document(&session);
        assert_eq!(session_from_document(&doc).unwrap(), session);
        assert_eq!(
            family_from_document(&doc).unwrap(),
            None,
            "no family stored"
        );
        let first = RefreshFamily::first(RefreshTokenHash::from_bytes([7; 32]));
        let rotated = RefreshFamily {
            generation: 3,
            current: RefreshTokenHash::from_bytes([8; 32]),
            previous: Some(RotatedToken {
                hash: RefreshTokenHash::from_bytes([7; 32]),
                rotated_at: ts(9),
                successor: SealedRefreshToken::from_bytes(vec![1; 121]),
            }),
        };
        for family in [first, rotated] {
            doc.insert(REFRESH, family_to_document(&family).unwrap());
            assert_eq!(family_from_document(&doc).unwrap(), Some(family));
            assert_eq!(session_from_document(&doc).unwrap(), session);
        }
        let refresh = doc.get_document(REFRESH).unwrap();
        assert!(matches!(refresh.get("current"), Some(Bson::Binary(b)) if b.bytes.len() == 32));
        assert_eq!(refresh.get_i64("generation"), Ok(3));
        doc.insert(REFRESH, doc! { "generation": -1_i64, "current": hash_key(&RefreshTokenHash::from_bytes([0; 32])) });
        assert_eq!(family_from_document(&doc).unwrap_err().field, "generation");
        doc.insert(REFRESH, "not a document");
        assert_eq!(family_from_document(&doc).unwrap_err().field, REFRESH);
    }

    #[test]
    fn user_round_trips() {
        let user = User {
            id: UserId::generate(),
            email: Email::parse("ada@example.com").unwrap(),
            name: None,
            password_hash: PasswordHash::from_phc("$argon2id$v=19$x".into()),
            created_at: ts(99),
        };
        let back = user_from_document(&user_to_document(&user)).unwrap();
        assert_eq!(
            (back.id, back.email, back.name, back.created_at),
            (user.id, user.email, user.name, user.created_at)
        );
        assert_eq!(back.password_hash.expose_phc(), "$argon2id$v=19$x");
    }
}
