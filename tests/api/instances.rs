//! What one server cannot show: several instances behind nginx (the balanced topology,
//! `TASKFLOW_TEST_TOPOLOGY=balanced`; these tests skip in any other) take turns on the requests,
//! agree on the end of a session within the session-check cache bound of the contract, read
//! each other's writes at once, and an instance killed under load loses no acknowledged write
//! while the balancer routes around it, until it is back (as the other adapter).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use taskflow::core::domain::TaskId;
use taskflow::core::{Clock as _, ManualClock, SystemClock};
use tokio::time::{Instant, sleep};

use crate::deployment::{self, Balancer, ServerProcess};
use crate::helpers::*;

const ME: &str = "/api/v1/auth/me";
const TOKEN: &str = "/api/v1/auth/token";

/// `TASKFLOW_SESSION_CACHE_MS` at the contract's maximum: how long an instance may still
/// accept a session that ended through another (1 s). Set explicitly, so the tests check the
/// worst case the configuration allows.
const SESSION_CACHE_MS: u64 = 1000;
const SESSION_CACHE: (&str, &str) = ("TASKFLOW_SESSION_CACHE_MS", "1000");
/// Scheduling slack on top of the bound, on a busy machine.
const MARGIN: Duration = Duration::from_secs(1);

/// The count of `series` (name and labels exactly as exposed) in an exposition, 0 if absent.
fn count(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn requests_take_turns_over_every_instance_of_both_adapters() {
    let Some(spawn) = TestApp::balanced("the rotation test") else {
        return;
    };
    let app = spawn.spawn().await;
    let adapters = app.adapters();
    assert_eq!(adapters.len(), INSTANCES);
    assert!(
        adapters.contains(&Adapter::Axum) && adapters.contains(&Adapter::Warp),
        "{adapters:?}"
    );
    let rounds = 4;
    for _ in 0..rounds * INSTANCES {
        let live = app.get("/health/live", HeaderMap::new()).await;
        assert_eq!(live.status(), 200);
    }
    // Each instance's own count, read from it directly.
    let series = r#"taskflow_http_requests_total{route="/health/live",method="GET",status="200"}"#;
    for (instance, adapter) in app.instances().iter().zip(&adapters) {
        let text = instance.scrape(HeaderMap::new()).await;
        assert_eq!(
            count(&text, series),
            u64::try_from(rounds).expect("rounds"),
            "{adapter:?} instance at {}",
            instance.address
        );
    }
}

/// Polls `GET /api/v1/auth/me` with `headers` on `instance` until it answers 401, failing if
/// it still accepts a request sent [`SESSION_CACHE_MS`] + [`MARGIN`] after `ended` (the send
/// time counts, so a slow answer on a busy machine is no failure); then requires the refusal
/// to last.
async fn refused_within_the_bound(instance: &TestApp, headers: &HeaderMap, ended: Instant) {
    let bound = Duration::from_millis(SESSION_CACHE_MS);
    loop {
        let sent = ended.elapsed();
        let status = instance.get(ME, headers.clone()).await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200, "{}", instance.address);
        assert!(
            sent < bound + MARGIN,
            "{} still accepts a session {sent:?} after it ended (bound: {bound:?})",
            instance.address,
        );
        sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..3 {
        let again = instance.get(ME, headers.clone()).await;
        assert_problem(again, 401, "unauthorized").await;
    }
}

/// Asserts every instance accepts `headers` now (so an instance caching session checks would
/// hold the session as valid).
async fn accepted_everywhere(instances: &[TestApp], headers: &HeaderMap) {
    for instance in instances {
        let me = instance.get(ME, headers.clone()).await;
        assert_eq!(me.status(), 200, "{}", instance.address);
    }
}

#[tokio::test]
async fn a_session_ended_through_one_instance_is_refused_by_every_other_within_the_bound() {
    let Some(spawn) = TestApp::balanced("the session end test") else {
        return;
    };
    let app = spawn.spawn_with(&[SESSION_CACHE]).await;
    let instances = app.instances();
    let browser = app.register("ended@example.com").await;
    let api = app.token_grant("ended@example.com").await;
    let api = bearer(api["access_token"].as_str().expect("access token"));

    // A browser's logout through the first instance.
    accepted_everywhere(&instances, &browser.browser_headers()).await;
    let logout = instances[0]
        .post_empty("/api/v1/auth/logout", browser.browser_headers())
        .await;
    assert_eq!(logout.status(), 204);
    let ended = Instant::now();
    let here = instances[0].get(ME, browser.browser_headers()).await;
    assert_problem(here, 401, "unauthorized").await;
    for other in &instances[1..] {
        refused_within_the_bound(other, &browser.browser_headers(), ended).await;
    }

    // Logout-all through the second instance ends the API client's session too.
    accepted_everywhere(&instances, &api).await;
    let again = instances[1].login("ended@example.com").await;
    let all = instances[1]
        .post_empty("/api/v1/auth/logout-all", again.browser_headers())
        .await;
    assert_eq!(all.status(), 204);
    let ended = Instant::now();
    let here = instances[1].get(ME, api.clone()).await;
    assert_problem(here, 401, "unauthorized").await;
    for other in [&instances[0], &instances[2]] {
        refused_within_the_bound(other, &api, ended).await;
    }
}

#[tokio::test]
async fn a_refresh_token_replayed_through_one_instance_ends_the_session_on_every_other() {
    let Some(spawn) = TestApp::balanced("the refresh reuse test") else {
        return;
    };
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = spawn
        .spawn_with_clock(&[SESSION_CACHE], clock.clone())
        .await;
    let instances = app.instances();
    app.register("replayed@example.com").await;
    let stolen = instances[0].token_grant("replayed@example.com").await["refresh_token"].clone();
    let rotate = json!({"grant_type": "refresh_token", "refresh_token": stolen});
    let rotated = instances[0].post(TOKEN, &rotate, HeaderMap::new()).await;
    assert_eq!(rotated.status(), 200);
    let rotated = json_body(rotated).await;
    let access = bearer(rotated["access_token"].as_str().expect("access token"));
    // Past the reuse grace window; then every instance checks the rotated session.
    clock.advance(Duration::from_secs(11));
    accepted_everywhere(&instances, &access).await;

    let replay = instances[1].post(TOKEN, &rotate, HeaderMap::new()).await;
    assert_problem(replay, 401, "unauthorized").await;
    let here = instances[1].get(ME, access.clone()).await;
    assert_problem(here, 401, "unauthorized").await;
    // The session-check cache ages on the services' clock, which this test holds: once it has
    // moved by the bound, no instance may still answer from a check made before the reuse.
    clock.advance(Duration::from_millis(SESSION_CACHE_MS));
    for other in [&instances[0], &instances[2]] {
        for _ in 0..3 {
            let me = other.get(ME, access.clone()).await;
            assert_problem(me, 401, "unauthorized").await;
        }
    }
    let victim = json!({"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]});
    let refresh = instances[2].post(TOKEN, &victim, HeaderMap::new()).await;
    assert_problem(refresh, 401, "unauthorized").await;
}

/// `GET /api/v1/tasks/{id}` on `instance`: status, `ETag` and body (`Null` when none).
async fn read(instance: &TestApp, user: &TestUser, id: &str) -> (u16, Option<String>, Value) {
    let response = user.get_task(instance, id).await;
    let status = response.status().as_u16();
    let etag = header(&response, "etag").map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, etag, body)
}

#[tokio::test]
async fn a_write_through_one_instance_is_read_through_every_other_at_once() {
    let Some(spawn) = TestApp::balanced("the read-your-writes test") else {
        return;
    };
    let app = spawn.spawn().await;
    let instances = app.instances();
    let (a, b, c) = (&instances[0], &instances[1], &instances[2]);
    let user = app.register("ryw@example.com").await;

    let created = user
        .create_task(a, json!({"title": "written on a", "tags": ["x"]}))
        .await;
    let id = created["id"].as_str().expect("id");
    for other in [b, c] {
        let (status, etag, body) = read(other, &user, id).await;
        assert_eq!(status, 200, "{}", other.address);
        assert_eq!(etag.as_deref(), Some("\"v1\""));
        assert_eq!(body, created);
    }
    assert_eq!(user.list_ids(c, "tag=x").await, [id]);
    let summary = json_body(b.get("/api/v1/tasks/stats", user.browser_headers()).await).await;
    assert_eq!(summary["total"], 1);

    // A change through b, pinned to the version read through c.
    let patched = user
        .patch_task(
            b,
            id,
            &json!({"completed": true}),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(patched.status(), 200);
    for other in [a, c] {
        let (status, etag, body) = read(other, &user, id).await;
        assert_eq!(
            (status, etag.as_deref()),
            (200, Some("\"v2\"")),
            "{}",
            other.address
        );
        assert_eq!(body["completed"], true);
        let stale = with_headers(user.browser_headers(), &[("if-none-match", "\"v1\"")]);
        let path = format!("/api/v1/tasks/{id}");
        assert_eq!(other.get(&path, stale).await.status(), 200);
        let fresh = with_headers(user.browser_headers(), &[("if-none-match", "\"v2\"")]);
        assert_eq!(other.get(&path, fresh).await.status(), 304);
    }
    // The version b wrote is the one c checks a stale If-Match against.
    let stale = user
        .patch_task(c, id, &json!({"title": "lost"}), &[("if-match", "\"v1\"")])
        .await;
    assert_problem(stale, 412, "precondition_failed").await;
    assert_eq!(read(a, &user, id).await.2["title"], "written on a");

    assert_eq!(user.delete_task(c, id).await.status(), 204);
    for other in [a, b] {
        assert_eq!(read(other, &user, id).await.0, 404, "{}", other.address);
    }

    // Through the balancer every request lands on the next instance.
    for n in 0..INSTANCES {
        let task = user
            .create_task(&app, json!({"title": format!("t{n}")}))
            .await;
        let id = task["id"].as_str().expect("id");
        assert_eq!(read(&app, &user, id).await.2, task);
        let done = user
            .patch_task(&app, id, &json!({"completed": true}), &[])
            .await;
        assert_eq!(done.status(), 200);
        assert_eq!(read(&app, &user, id).await.2["version"], 2);
    }
}

/// One task write of the load: when it started and ended relative to the kill, and what
/// came back.
#[derive(Debug)]
struct Write {
    title: String,
    /// Started once the killed process had been reaped.
    started_after_kill: bool,
    /// Ended once the kill had been sent.
    ended_after_kill: bool,
    /// Status and task id, or the transport error.
    outcome: Result<(u16, Option<String>), String>,
}

/// The state the load tasks share with the test.
#[derive(Default)]
struct Load {
    /// Set just before the kill is sent.
    killing: AtomicBool,
    /// Set once the killed process is reaped.
    killed: AtomicBool,
    stop: AtomicBool,
    acknowledged: AtomicUsize,
    acknowledged_after_kill: AtomicUsize,
}

/// Creates tasks `w{which}-{n}` through `app` with `token` until told to stop.
async fn writer(app: Arc<TestApp>, token: String, load: Arc<Load>, which: usize) -> Vec<Write> {
    let mut writes = Vec::new();
    for n in 0.. {
        if load.stop.load(Ordering::SeqCst) {
            break;
        }
        let title = format!("w{which}-{n}");
        let started_after_kill = load.killed.load(Ordering::SeqCst);
        let sent = app
            .client
            .post(format!("{}/api/v1/tasks", app.address))
            .bearer_auth(&token)
            .json(&json!({"title": title}))
            .send()
            .await;
        let outcome = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                Ok((status, body["id"].as_str().map(str::to_owned)))
            }
            Err(e) => Err(e.to_string()),
        };
        if matches!(outcome, Ok((201, _))) {
            load.acknowledged.fetch_add(1, Ordering::SeqCst);
            if started_after_kill {
                load.acknowledged_after_kill.fetch_add(1, Ordering::SeqCst);
            }
        }
        writes.push(Write {
            title,
            started_after_kill,
            ended_after_kill: load.killing.load(Ordering::SeqCst),
            outcome,
        });
    }
    writes
}

/// Reads pages and stats through `app` until told to stop: every status (or error), with
/// whether the read started after the kill.
async fn reader(app: Arc<TestApp>, token: String, load: Arc<Load>) -> Vec<(bool, String)> {
    let mut reads = Vec::new();
    for n in 0usize.. {
        if load.stop.load(Ordering::SeqCst) {
            break;
        }
        let after_kill = load.killed.load(Ordering::SeqCst);
        let path = if n % 2 == 0 {
            "/api/v1/tasks?limit=5"
        } else {
            "/api/v1/tasks/stats"
        };
        let answer = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&token)
            .send()
            .await;
        let outcome = match answer {
            Ok(response) => response.status().as_u16().to_string(),
            Err(e) => e.to_string(),
        };
        reads.push((after_kill, outcome));
    }
    reads
}

/// The environment of one example server instance of the deployment.
fn instance_env(database: &str, bind: &str) -> Vec<(String, String)> {
    let uri = std::env::var("TASKFLOW_TEST_MONGODB_URI")
        .expect("the balanced topology needs TASKFLOW_TEST_MONGODB_URI");
    [
        ("TASKFLOW_BIND", bind),
        ("TASKFLOW_MONGODB_URI", uri.as_str()),
        ("TASKFLOW_MONGODB_DB", database),
        ("TASKFLOW_JWT_SECRET", JWT_SECRET),
        ("TASKFLOW_TRUSTED_PROXIES", deployment::BALANCER_SOURCE),
        // The load is one user's: the per-user limit must not be what the test meets.
        ("TASKFLOW_API_RATE_PER_MIN", "1000000"),
        ("RUST_LOG", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Every task of the user behind `token`, walking the pages through `app`.
async fn every_task(app: &TestApp, token: &str) -> Vec<Value> {
    let mut tasks = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=100&cursor={c}"),
            None => "limit=100".to_owned(),
        };
        let page = app
            .get(&format!("/api/v1/tasks?{query}"), bearer(token))
            .await;
        assert_eq!(page.status(), 200);
        let page = json_body(page).await;
        tasks.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return tasks,
        }
    }
}

/// Polls `condition` until it holds, failing the test after 30 s.
async fn eventually(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(Instant::now() < deadline, "no {what} within 30 s");
        sleep(Duration::from_millis(50)).await;
    }
}

/// Checks the outcomes of the load against the kill; returns how many writes were cut in
/// flight. Failures only among the writes in flight on the killed instance, as nginx's 502 (a
/// POST it had sent is never passed on to another instance); everything started after the
/// kill was served by the other instances, then by the restarted one too; reads never fail
/// (nginx passes a read on when its instance dies under it).
fn failures_in_flight(writes: &[Write], reads: &[(bool, String)]) -> usize {
    let mut in_flight = 0;
    for write in writes {
        match &write.outcome {
            Ok((201, Some(_))) => {}
            other => {
                assert!(
                    !write.started_after_kill && write.ended_after_kill,
                    "{write:?}: only a write in flight at the kill may fail"
                );
                assert!(matches!(other, Ok((502, _))), "{write:?}");
                in_flight += 1;
            }
        }
    }
    for (after_kill, outcome) in reads {
        assert_eq!(
            outcome, "200",
            "a read failed (after the kill: {after_kill})"
        );
    }
    assert!(reads.iter().any(|(after_kill, _)| *after_kill));
    in_flight
}

/// Asserts that every acknowledged write is stored, once, and read back through `app`; that
/// no write is stored twice; and that at most the `in_flight` unacknowledged ones are there
/// besides.
async fn assert_stored_once(app: &TestApp, token: &str, writes: &[Write], in_flight: usize) {
    let acknowledged: Vec<(&str, &str)> = writes
        .iter()
        .filter_map(|w| match &w.outcome {
            Ok((201, Some(id))) => Some((w.title.as_str(), id.as_str())),
            _ => None,
        })
        .collect();
    for (title, id) in &acknowledged {
        let task = app.get(&format!("/api/v1/tasks/{id}"), bearer(token)).await;
        assert_eq!(task.status(), 200, "acknowledged write {title} ({id}) lost");
        assert_eq!(json_body(task).await["title"], *title);
    }
    let stored = every_task(app, token).await;
    let titles: Vec<&str> = stored
        .iter()
        .map(|t| t["title"].as_str().expect("title"))
        .collect();
    let mut unique = titles.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), titles.len(), "a write was stored twice");
    for (title, _) in &acknowledged {
        assert!(titles.contains(title), "{title} missing from the list");
    }
    assert!(titles.len() <= acknowledged.len() + in_flight);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_under_load_loses_no_acknowledged_write_and_the_others_serve_on() {
    if TestApp::balanced("the instance kill test").is_none() {
        return;
    }
    // Example server processes (what a platform runs and kills), on one database.
    let dir = std::env::temp_dir().join(format!("taskflow-instances-{}", TaskId::generate()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let database = format!("taskflow_api_{}", TaskId::generate());
    let adapters = deployment::adapters();
    let mut servers = Vec::new();
    for (i, adapter) in adapters.iter().enumerate() {
        let env = instance_env(&database, "127.0.0.1:0");
        let log = dir.join(format!("instance-{i}.log"));
        servers.push(ServerProcess::start(*adapter, &env, &dir, &log).await);
    }
    let upstreams: Vec<_> = servers.iter().map(|s| s.address).collect();
    let balancer = Balancer::start(&upstreams).await;
    let app = Arc::new(TestApp::through(&balancer));
    app.register("load@example.com").await;
    let grant = app.token_grant("load@example.com").await;
    let token = grant["access_token"].as_str().expect("token").to_owned();

    let load = Arc::new(Load::default());
    let writing: Vec<_> = (0..6)
        .map(|w| tokio::spawn(writer(app.clone(), token.clone(), load.clone(), w)))
        .collect();
    let reading = tokio::spawn(reader(app.clone(), token.clone(), load.clone()));
    eventually("30 acknowledged writes", async || {
        load.acknowledged.load(Ordering::SeqCst) >= 30
    })
    .await;

    // SIGKILL the first instance mid-load: no drain, requests in flight on it are cut.
    load.killing.store(true, Ordering::SeqCst);
    servers[0].kill();
    load.killed.store(true, Ordering::SeqCst);
    eventually("30 acknowledged writes after the kill", async || {
        load.acknowledged_after_kill.load(Ordering::SeqCst) >= 30
    })
    .await;
    // nginx leaves the dead instance out for its fail_timeout, then tries it again: that
    // request must be passed on to another instance rather than fail.
    let passed_on = format!("{}, ", upstreams[0]);
    eventually("request passed on from the dead instance", async || {
        let logged = balancer.upstreams_logged();
        logged.iter().any(|tried| tried.starts_with(&passed_on))
    })
    .await;

    // Back on the same address, as the other adapter (a rolling change between adapters),
    // until the balancer has sent it writes again.
    let env = instance_env(&database, &upstreams[0].to_string());
    let log = dir.join("instance-0-restarted.log");
    servers[0] = ServerProcess::start(adapters[1], &env, &dir, &log).await;
    let restarted = TestApp::at(upstreams[0]);
    let writes_there =
        r#"taskflow_http_requests_total{route="/api/v1/tasks",method="POST",status="201"}"#;
    eventually("write sent to the restarted instance", async || {
        count(&restarted.scrape(HeaderMap::new()).await, writes_there) > 0
    })
    .await;

    load.stop.store(true, Ordering::SeqCst);
    let mut writes = Vec::new();
    for w in writing {
        writes.extend(w.await.expect("writer"));
    }
    let reads = reading.await.expect("reader");
    let in_flight = failures_in_flight(&writes, &reads);
    assert_stored_once(&app, &token, &writes, in_flight).await;
    eprintln!(
        "instance kill: {} writes ({} after the kill), {in_flight} cut in flight, {} reads",
        writes.len(),
        writes.iter().filter(|w| w.started_after_kill).count(),
        reads.len(),
    );
    drop(servers);
    drop(balancer);
    let _ = std::fs::remove_dir_all(&dir);
}
