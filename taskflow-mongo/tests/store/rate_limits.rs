//! The shared rate limits on MongoDB: a check is one `findAndModify` targeted by `_id`, what a
//! login and a registration cost in all, and state that the TTL index removes once its TAT
//! has passed.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use mongodb::bson::{Bson, Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use taskflow_core::auth::csrf::CsrfTokens;
use taskflow_core::auth::gcra::Gcra;
use taskflow_core::auth::input::{Credentials, Registration};
use taskflow_core::auth::jwt::{AccessTokenConfig, AccessTokens, JwtKey, KeySet};
use taskflow_core::auth::password::{Argon2Params, PasswordHasher};
use taskflow_core::auth::refresh::RefreshTokenKeys;
use taskflow_core::auth::session::ClientMeta;
use taskflow_core::auth::{ClientNet, RateLimitConfig};
use taskflow_core::ports::RateLimitRepository;
use taskflow_core::service::AuthRateLimits;
use taskflow_core::service::{AuthService, AuthStores};
use taskflow_core::testkit::at;
use taskflow_core::{Clock, ManualClock, SystemClock};
use taskflow_mongo::MongoStore;

use crate::common;

/// `(command, collection)` of every command started.
type Log = Arc<Mutex<Vec<(String, String)>>>;

fn taken(log: &Log) -> Vec<(String, String)> {
    std::mem::take(&mut *log.lock().expect("lock"))
}

fn named(commands: &[(&str, &str)]) -> Vec<(String, String)> {
    commands
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect()
}

/// A store whose commands (and their documents) are logged.
async fn logged_store() -> Option<(MongoStore, Log, Arc<Mutex<Vec<Document>>>)> {
    let log: Log = Arc::default();
    let bodies: Arc<Mutex<Vec<Document>>> = Arc::default();
    let (sink, body_sink) = (log.clone(), bodies.clone());
    let handler = EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event {
            let collection = started
                .command
                .get_str(&started.command_name)
                .unwrap_or_default()
                .to_owned();
            if collection == "rate_limits" {
                body_sink
                    .lock()
                    .expect("lock")
                    .push(started.command.clone());
            }
            sink.lock()
                .expect("lock")
                .push((started.command_name, collection));
        }
    });
    let store = common::fresh_store(|mut c| {
        c.command_event_handler = Some(handler);
        c
    })
    .await?;
    taken(&log); // the indexes created by `connect`
    Some((store, log, bodies))
}

fn auth(store: &MongoStore, clock: Arc<dyn Clock>) -> AuthService {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_is_one_targeted_command_and_a_login_seven_in_all() {
    let Some((store, log, bodies)) = logged_store().await else {
        return;
    };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at(0)));
    let limits = AuthRateLimits::new(
        RateLimitConfig::default(),
        Arc::new(store.clone()),
        clock.clone(),
    );
    let client = ClientNet::of(IpAddr::from([203, 0, 113, 9]));
    let decision = limits.check_auth_ip(client).await.expect("check");
    assert_eq!(decision.remaining, 9);
    assert_eq!(taken(&log), named(&[("findAndModify", "rate_limits")]));
    let sent = bodies.lock().expect("lock").pop().expect("logged");
    assert_eq!(
        sent.get_document("query"),
        Ok(&doc! { "_id": "auth-ip:203.0.113.9" })
    );
    assert_eq!(sent.get_bool("upsert"), Ok(true));

    // What the endpoints spend on MongoDB: the two limits, then the service.
    let auth = auth(&store, clock);
    let email = "counted@example.com";
    let registration = Registration::parse(email, "correct horse battery", None).expect("valid");
    limits.check_auth_ip(client).await.expect("check");
    limits
        .check_auth_account(&registration.email)
        .await
        .expect("check");
    auth.register(registration, &ClientMeta::default())
        .await
        .expect("register");
    assert_eq!(
        taken(&log),
        named(&[
            ("findAndModify", "rate_limits"),
            ("findAndModify", "rate_limits"),
            ("insert", "users"),
            ("insert", "sessions"),
        ]),
        "a registration: 4 commands"
    );
    let credentials = Credentials::parse(email, "correct horse battery").expect("valid");
    limits.check_auth_ip(client).await.expect("check");
    limits
        .check_auth_account(&credentials.email)
        .await
        .expect("check");
    auth.login(credentials, &ClientMeta::default())
        .await
        .expect("login");
    assert_eq!(
        taken(&log),
        named(&[
            ("findAndModify", "rate_limits"),
            ("findAndModify", "rate_limits"),
            ("find", "login_failures"),
            ("insert", "login_failures"),
            ("find", "users"),
            ("delete", "login_failures"),
            ("insert", "sessions"),
        ]),
        "a login: 7 commands"
    );
    common::drop_database(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_whose_tat_has_passed_is_removed_by_the_ttl_index() {
    let Some(store) = common::fresh_store(|c| c).await else {
        return;
    };
    let quota = Gcra::per_minute("auth-ip", NonZeroU32::new(10).expect("not zero"));
    // One key checked two minutes ago by the real clock (its TAT passed long ago), one now.
    let real_now = SystemClock.now();
    let old = quota.key(&"198.51.100.1");
    let live = quota.key(&"198.51.100.2");
    let two_minutes_ago = real_now.saturating_sub(std::time::Duration::from_secs(120));
    store
        .apply_rate_limit(&old, &quota.update_at(two_minutes_ago))
        .await
        .expect("apply");
    store
        .apply_rate_limit(&live, &quota.update_at(real_now))
        .await
        .expect("apply");
    let collection = store.database().collection::<Document>("rate_limits");
    assert_eq!(collection.count_documents(doc! {}).await.expect("count"), 2);
    // mongod's TTL monitor runs every 60 s; SecantusDB runs it on demand.
    let prune = store
        .database()
        .client()
        .database("admin")
        .run_command(doc! { "secantusAdmin.pruneTtl": 1 })
        .await;
    match prune {
        Ok(_) => {
            let left: Vec<Bson> = collection.distinct("_id", doc! {}).await.expect("distinct");
            assert_eq!(left, [Bson::String(live.as_str().to_owned())]);
        }
        Err(e) => eprintln!("no on-demand TTL pass on this server ({e}); the index is checked"),
    }
    common::drop_database(&store).await;
}
