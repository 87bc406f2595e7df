//! Refresh families on MongoDB: a session stays one document of fixed size however often it
//! rotates (finding 8 of issue 14), and a refresh costs the commands the design promises.

use std::sync::{Arc, Mutex};

use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use taskflow_core::ManualClock;
use taskflow_core::auth::csrf::CsrfTokens;
use taskflow_core::auth::input::Registration;
use taskflow_core::auth::jwt::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow_core::auth::password::{Argon2Params, PasswordHasher};
use taskflow_core::auth::refresh::RefreshTokenKeys;
use taskflow_core::auth::session::{ClientMeta, Rotation, Session};
use taskflow_core::domain::{SessionId, UserId};
use taskflow_core::ports::SessionRepository;
use taskflow_core::service::{AuthError, AuthService, AuthStores};
use taskflow_core::testkit::at;
use taskflow_mongo::MongoStore;

use crate::common;

/// Every document of `user` in every collection of the store's database, with its size.
async fn documents_of(store: &MongoStore, user: &UserId) -> Vec<(String, usize)> {
    let database = store.database();
    let mut out = Vec::new();
    for collection in database.list_collection_names().await.expect("list") {
        let mut cursor = database
            .collection::<Document>(&collection)
            .find(doc! { "user_id": mongodb::bson::oid::ObjectId::from_bytes(user.to_bytes()) })
            .await
            .expect("find");
        while cursor.advance().await.expect("next") {
            let document = cursor.deserialize_current().expect("document");
            let size = mongodb::bson::to_vec(&document).expect("bson").len();
            out.push((collection.clone(), size));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stays_one_document_of_fixed_size_however_often_it_rotates() {
    let Some(store) = common::fresh_store(|c| c).await else {
        return;
    };
    let keys = RefreshTokenKeys::random();
    let user = UserId::generate();
    let session = Session {
        id: SessionId::generate(),
        user_id: user,
        created_at: at(0),
        last_used_at: at(0),
        expires_at: at(100_000),
        idle_expires_at: at(100_000),
        user_agent: Some("test".into()),
        ip: None,
        revoked_at: None,
    };
    let (_, mut live) = keys.mint(&user, &session.id, 0);
    store.create_session(&session, &live).await.expect("create");
    let mut after_two = Vec::new();
    for generation in 0..300_u64 {
        let (successor, successor_hash) = keys.mint(&user, &session.id, generation + 1);
        let rotation = Rotation {
            user_id: user,
            session_id: session.id,
            presented: live,
            generation,
            successor: successor_hash,
            sealed_successor: keys.seal(&successor, &live),
            now: at(i64::try_from(generation).expect("small") + 1),
            idle_expires_at: at(100_000),
        };
        let rotated = store.rotate_refresh_token(&rotation).await.expect("rotate");
        assert!(rotated.is_some(), "generation {generation}");
        live = successor_hash;
        if generation == 1 {
            after_two = documents_of(&store, &user).await;
        }
    }
    let after_300 = documents_of(&store, &user).await;
    assert_eq!(after_300.len(), 1, "{after_300:?}");
    assert_eq!(after_300[0].0, "sessions");
    assert_eq!(after_300, after_two, "the session document does not grow");
    assert!(after_300[0].1 < 700, "{after_300:?}");
    common::drop_database(&store).await;
}

type Log = Arc<Mutex<Vec<String>>>;

fn auth(store: &MongoStore, clock: Arc<ManualClock>) -> AuthService {
    let stores = AuthStores {
        users: Arc::new(store.clone()),
        sessions: Arc::new(store.clone()),
        throttle: Arc::new(store.clone()),
    };
    let hasher = PasswordHasher::new(Argon2Params::default(), 2).expect("params");
    let key = JwtKey::hs256("k", &[4; 32]).expect("key");
    let tokens = AccessTokens::new(
        KeySet::new(key, Vec::new()).expect("keys"),
        AccessTokenConfig::default(),
    );
    let secret = b"the deployment secret of this test";
    AuthService::new(
        stores,
        hasher,
        tokens,
        CsrfTokens::new(secret),
        RefreshTokenKeys::derive(secret),
        clock,
    )
}

/// The `sessions` commands (by name) run since the last call.
fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().expect("lock"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_is_one_command_a_replay_two_and_a_reuse_three() {
    let log: Log = Arc::default();
    let sink = log.clone();
    let handler = EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event
            && started.command.get_str(&started.command_name) == Ok("sessions")
        {
            sink.lock().expect("lock").push(started.command_name);
        }
    });
    let Some(store) = common::fresh_store(|mut c| {
        c.command_event_handler = Some(handler);
        c
    })
    .await
    else {
        return;
    };
    let clock = Arc::new(ManualClock::new(at(0)));
    let auth = auth(&store, clock.clone());
    taken(&log); // the indexes created by `connect`
    let registration = Registration::parse("commands@example.com", "correct horse battery", None);
    let (_, first) = auth
        .register(registration.expect("valid"), &ClientMeta::default())
        .await
        .expect("register");
    assert_eq!(taken(&log), ["insert"], "a login creates one document");

    let second = auth.refresh(first.refresh.expose()).await.expect("rotate");
    assert_eq!(taken(&log), ["findAndModify"], "the fast path");

    let replay = auth.refresh(first.refresh.expose()).await.expect("grace");
    assert_eq!(replay.refresh.expose(), second.refresh.expose());
    assert_eq!(taken(&log), ["findAndModify", "find"], "a replay in grace");

    let mut forged = first.refresh.expose().to_owned();
    let last = if forged.ends_with('A') { "B" } else { "A" };
    forged.replace_range(forged.len() - 1.., last);
    let err = auth.refresh(&forged).await.expect_err("forged");
    assert!(matches!(err, AuthError::Unauthorized), "{err:?}");
    assert!(taken(&log).is_empty(), "a made-up token costs no command");

    clock.advance(std::time::Duration::from_secs(11));
    let err = auth
        .refresh(first.refresh.expose())
        .await
        .expect_err("reuse");
    assert!(matches!(err, AuthError::RefreshTokenReused), "{err:?}");
    assert_eq!(taken(&log), ["findAndModify", "find", "update"], "a reuse");
    common::drop_database(&store).await;
}
