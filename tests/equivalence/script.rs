//! The scripted session: every endpoint, successes and errors, in one order.

use reqwest::Method;
use serde_json::json;

use super::transport::*;
use super::*;

/// Health, the document, `HEAD`.
pub(crate) async fn operations(s: &mut Session) {
    let live = s
        .send(
            "live",
            200,
            Req::get("/health/live").header("x-request-id", SANE_IDS[0]),
        )
        .await;
    assert_eq!(live.header("x-request-id"), Some(SANE_IDS[0]));
    s.send("ready", 200, Req::get("/health/ready")).await;
    s.send("openapi", 200, Req::get("/api/v1/openapi.json"))
        .await;
    s.send("head live", 200, Req::new(Method::HEAD, "/health/live"))
        .await;
}

/// The users and credentials the later steps use.
pub(crate) struct Credentials {
    pub(crate) alice: Jar,
    pub(crate) bearer: String,
    pub(crate) refresh_token: String,
}

/// Register, login, token grants, refresh, me.
pub(crate) async fn authentication(s: &mut Session) -> Credentials {
    let register = Req::post("/api/v1/auth/register");
    let alice = json!({"email": "Alice@Example.com", "password": PASSWORD, "name": "Alice"});
    let created = s
        .send(
            "register",
            201,
            register
                .clone()
                .header("x-request-id", SANE_IDS[1])
                .json(&alice),
        )
        .await;
    assert_eq!(created.header("x-request-id"), Some(SANE_IDS[1]));
    s.send("register taken", 409, register.clone().json(&alice))
        .await;
    let invalid = json!({"email": "not-an-email", "password": "short"});
    s.send("register invalid", 422, register.clone().json(&invalid))
        .await;
    s.send(
        "register wrong type",
        415,
        register.clone().raw("text/plain", "email=a@b.c"),
    )
    .await;
    s.send(
        "register malformed",
        400,
        register.raw("application/json", "{\"email\":"),
    )
    .await;

    let login = Req::post("/api/v1/auth/login");
    let wrong = json!({"email": "alice@example.com", "password": "wrong password!"});
    s.send("login wrong", 401, login.clone().json(&wrong)).await;
    let right = json!({"email": "alice@example.com", "password": PASSWORD});
    let logged_in = s.send("login", 200, login.json(&right)).await;
    let mut alice = Jar::from(&logged_in);

    let token = Req::post("/api/v1/auth/token");
    let grant =
        json!({"grant_type": "password", "email": "alice@example.com", "password": PASSWORD});
    let first = s
        .send("token password", 200, token.clone().json(&grant))
        .await;
    let rotate =
        json!({"grant_type": "refresh_token", "refresh_token": first.text("refresh_token")});
    let second = s
        .send("token refresh", 200, token.clone().json(&rotate))
        .await;
    let me = || Req::get("/api/v1/auth/me");
    s.send(
        "me bearer",
        200,
        me().with(bearer(&second.text("access_token"))),
    )
    .await;
    let forged = json!({"grant_type": "refresh_token", "refresh_token": "not-a-refresh-token"});
    s.send("token refresh forged", 401, token.clone().json(&forged))
        .await;
    let unknown = json!({"grant_type": "magic"});
    s.send("token unknown grant", 400, token.clone().json(&unknown))
        .await;
    let third = s.send("token again", 200, token.json(&grant)).await;
    s.send("me anonymous", 401, me()).await;
    s.send("me cookies", 200, me().with(alice.cookies())).await;

    let refresh = Req::post("/api/v1/auth/refresh");
    let refreshed = s
        .send("refresh", 200, refresh.clone().with(alice.browser()))
        .await;
    alice.absorb(&refreshed);
    s.send("refresh without csrf", 403, refresh.with(alice.cookies()))
        .await;
    let csrf = || Req::get("/api/v1/auth/csrf");
    s.send("csrf token", 200, csrf().with(alice.cookies()))
        .await;
    s.send("csrf token anonymous", 401, csrf()).await;
    s.send(
        "csrf token foreign origin",
        403,
        csrf()
            .with(alice.cookies())
            .header("origin", "https://evil.example.com"),
    )
    .await;
    Credentials {
        alice,
        bearer: third.text("access_token"),
        refresh_token: second.text("refresh_token"),
    }
}

/// The tasks `create` made: by cookie, by bearer, and a third to delete.
pub(crate) struct Tasks {
    pub(crate) milk: String,
    pub(crate) report: String,
    pub(crate) call: String,
}

/// Create: valid, invalid, unknown field, wrong type, too large (declared and chunked),
/// unauthenticated, without CSRF.
pub(crate) async fn create(s: &mut Session, creds: &Credentials) -> Tasks {
    let create = || Req::post("/api/v1/tasks");
    let browser = creds.alice.browser();
    let milk = json!({"title": "Buy milk", "tags": ["home"], "priority": "high", "due_at": "2030-01-02T03:04:05Z"});
    let milk = s
        .send("create", 201, create().with(browser.clone()).json(&milk))
        .await;
    let report = json!({"title": "Write report", "description": "Q3", "tags": ["work"], "due_at": "2030-02-01T00:00:00+02:00"});
    let report = s
        .send(
            "create by bearer",
            201,
            create().with(bearer(&creds.bearer)).json(&report),
        )
        .await;
    let call = json!({"title": "Call mom", "priority": "low"});
    let call = s
        .send(
            "create third",
            201,
            create().with(browser.clone()).json(&call),
        )
        .await;
    let invalid = json!({"title": "   ", "tags": ["Not Valid"]});
    s.send(
        "create invalid",
        422,
        create().with(browser.clone()).json(&invalid),
    )
    .await;
    let unknown = json!({"title": "x", "owner": "someone"});
    s.send(
        "create unknown field",
        400,
        create().with(browser.clone()).json(&unknown),
    )
    .await;
    s.send(
        "create wrong type",
        415,
        create()
            .with(browser.clone())
            .raw("text/plain", "{\"title\":\"x\"}"),
    )
    .await;
    let large = json!({"title": "big", "description": "x".repeat(3000)});
    s.send(
        "create too large",
        413,
        create().with(browser.clone()).json(&large),
    )
    .await;
    let chunk = br#"{"title":"big","description":""#.to_vec();
    let filler = vec![b'y'; 900];
    s.send_chunked(
        "create too large, chunked",
        413,
        create()
            .with(bearer(&creds.bearer))
            .header("content-type", "application/json"),
        &[
            chunk,
            filler.clone(),
            filler.clone(),
            filler,
            b"\"}".to_vec(),
        ],
    )
    .await;
    s.send_chunked(
        "create chunked",
        201,
        create()
            .with(bearer(&creds.bearer))
            .header("content-type", "application/json"),
        &[
            br#"{"title":"#.to_vec(),
            br#""Chunked""#.to_vec(),
            b"}".to_vec(),
        ],
    )
    .await;
    let anonymous = json!({"title": "nobody"});
    s.send("create anonymous", 401, create().json(&anonymous))
        .await;
    s.send(
        "create without csrf",
        403,
        create().with(creds.alice.cookies()).json(&anonymous),
    )
    .await;
    Tasks {
        milk: milk.text("id"),
        report: report.text("id"),
        call: call.text("id"),
    }
}

/// List: all, 304, filters, sort and cursor, bad cursor, cursor of another query, unknown
/// parameter, bad value.
pub(crate) async fn list(s: &mut Session, creds: &Credentials) {
    let list = |query: &str| Req::get(format!("/api/v1/tasks{query}")).with(creds.alice.cookies());
    let all = s.send("list", 200, list("")).await;
    let etag = all.header("etag").expect("list etag").to_owned();
    s.send(
        "list not modified",
        304,
        list("").header("if-none-match", etag),
    )
    .await;
    s.send(
        "list filtered",
        200,
        list("?completed=false&priority=high&tag=home&q=MILK"),
    )
    .await;
    let first = s
        .send("list page 1", 200, list("?sort=due_at&limit=1"))
        .await;
    let cursor = first.text("next_cursor");
    s.send(
        "list page 2",
        200,
        list(&format!("?sort=due_at&limit=1&cursor={cursor}")),
    )
    .await;
    s.send(
        "list cursor of another query",
        400,
        list(&format!("?sort=-due_at&limit=1&cursor={cursor}")),
    )
    .await;
    s.send("list bad cursor", 400, list("?cursor=AAAA-not-a-cursor"))
        .await;
    s.send("list unknown parameter", 400, list("?colour=blue"))
        .await;
    s.send("list bad limit", 400, list("?limit=0&priority=urgent"))
        .await;
    s.send(
        "list by bearer",
        200,
        Req::get("/api/v1/tasks").with(bearer(&creds.bearer)),
    )
    .await;
}

/// Get (and 304), update with `If-Match` (match and mismatch), delete, stats.
pub(crate) async fn single(s: &mut Session, creds: &Credentials, tasks: &Tasks) {
    let browser = creds.alice.browser();
    let at = |id: &str| format!("/api/v1/tasks/{id}");
    let get = |id: &str| Req::get(at(id)).with(creds.alice.cookies());
    let got = s.send("get", 200, get(&tasks.milk)).await;
    let etag = got.header("etag").expect("task etag").to_owned();
    s.send(
        "get not modified",
        304,
        get(&tasks.milk).header("if-none-match", etag.clone()),
    )
    .await;
    s.send(
        "get by bearer",
        200,
        Req::get(at(&tasks.report)).with(bearer(&creds.bearer)),
    )
    .await;
    s.send("get unknown", 404, get("0123456789abcdef01234567"))
        .await;
    s.send("get malformed id", 404, get("not-an-id")).await;
    s.send("get id not UTF-8", 404, get("%FF%FE")).await;

    let patch = |id: &str| Req::new(Method::PATCH, at(id)).with(browser.clone());
    let done = json!({"completed": true, "tags": ["home", "errands"]});
    s.send(
        "update if-match",
        200,
        patch(&tasks.milk)
            .header("if-match", etag.clone())
            .json(&done),
    )
    .await;
    let again = json!({"title": "Buy oat milk"});
    s.send(
        "update stale if-match",
        412,
        patch(&tasks.milk).header("if-match", etag).json(&again),
    )
    .await;
    let invalid = json!({"priority": "urgent"});
    s.send("update invalid", 422, patch(&tasks.milk).json(&invalid))
        .await;
    s.send(
        "update wrong type",
        415,
        patch(&tasks.milk).raw("application/xml", "<task/>"),
    )
    .await;

    let delete = || Req::new(Method::DELETE, at(&tasks.call)).with(browser.clone());
    s.send("delete", 204, delete()).await;
    s.send("delete again", 404, delete()).await;

    let stats = || Req::get("/api/v1/tasks/stats").with(creds.alice.cookies());
    let counted = s.send("stats", 200, stats()).await;
    let etag = counted.header("etag").expect("stats etag").to_owned();
    s.send(
        "stats not modified",
        304,
        stats().header("if-none-match", etag),
    )
    .await;
}

/// Unknown routes, wrong methods, CORS preflights and actual CORS requests.
pub(crate) async fn routing(s: &mut Session, creds: &Credentials) {
    let nope = s
        .send(
            "no route",
            404,
            Req::get("/api/v1/nope").header("x-request-id", SANE_IDS[2]),
        )
        .await;
    assert_eq!(nope.header("x-request-id"), Some(SANE_IDS[2]));
    let insane = s
        .send(
            "no route, insane request id",
            404,
            Req::get("/nope").header("x-request-id", "bad id <script>"),
        )
        .await;
    assert_ne!(insane.header("x-request-id"), Some("bad id <script>"));
    s.send("trailing slash", 404, Req::get("/api/v1/tasks/"))
        .await;
    s.send(
        "wrong method",
        405,
        Req::new(Method::DELETE, "/api/v1/tasks"),
    )
    .await;
    s.send("wrong method on auth", 405, Req::get("/api/v1/auth/login"))
        .await;
    // Made-up methods (any token is one; methods are case-sensitive): refused alike, and
    // counted in the metrics compared at the end as `other`, never as themselves.
    let made_up = |name: &str| Method::from_bytes(name.as_bytes()).expect("a method token");
    s.send(
        "made-up method",
        405,
        Req::new(made_up("BREW"), "/api/v1/tasks"),
    )
    .await;
    s.send(
        "made-up method, no route",
        404,
        Req::new(made_up("BREW"), "/api/v1/nope"),
    )
    .await;
    s.send(
        "lower-case method",
        405,
        Req::new(made_up("get"), "/health/live"),
    )
    .await;
    s.send(
        "long made-up method",
        405,
        Req::new(made_up(&"X".repeat(16 * 1024)), "/api/v1/auth/me"),
    )
    .await;
    s.send(
        "wrong method on a task",
        405,
        Req::post("/api/v1/tasks/0123456789abcdef01234567"),
    )
    .await;

    let preflight = |origin: &str, headers: &str| {
        Req::new(Method::OPTIONS, "/api/v1/tasks")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", headers)
    };
    s.send(
        "preflight allowed",
        204,
        preflight(ALLOWED_ORIGIN, "content-type, x-csrf-token"),
    )
    .await;
    s.send(
        "preflight foreign origin",
        204,
        preflight("https://evil.example", "content-type"),
    )
    .await;
    s.send(
        "preflight foreign header",
        204,
        preflight(ALLOWED_ORIGIN, "x-evil"),
    )
    .await;
    let me = || Req::get("/api/v1/auth/me").with(creds.alice.cookies());
    s.send("cors allowed", 200, me().header("origin", ALLOWED_ORIGIN))
        .await;
    s.send(
        "cors foreign",
        200,
        me().header("origin", "https://evil.example"),
    )
    .await;
}

/// Logout, logout-all, and the metrics of the whole session.
pub(crate) async fn logout(s: &mut Session, creds: &Credentials) {
    let out = s
        .send(
            "logout",
            204,
            Req::post("/api/v1/auth/logout").with(creds.alice.browser()),
        )
        .await;
    let mut jar = creds.alice.clone();
    jar.absorb(&out);
    assert!(jar.0.is_empty(), "logout clears every cookie");
    s.send(
        "me after logout",
        401,
        Req::get("/api/v1/auth/me").with(creds.alice.cookies()),
    )
    .await;
    let right = json!({"email": "alice@example.com", "password": PASSWORD});
    let login = s
        .send(
            "login again",
            200,
            Req::post("/api/v1/auth/login").json(&right),
        )
        .await;
    let again = Jar::from(&login);
    s.send(
        "logout-all",
        204,
        Req::post("/api/v1/auth/logout-all").with(again.browser()),
    )
    .await;
    s.send(
        "me bearer after logout-all",
        401,
        Req::get("/api/v1/auth/me").with(bearer(&creds.bearer)),
    )
    .await;
    let rotate = json!({"grant_type": "refresh_token", "refresh_token": creds.refresh_token});
    s.send(
        "token refresh after logout-all",
        401,
        Req::post("/api/v1/auth/token").json(&rotate),
    )
    .await;
    s.send("metrics", 200, Req::get("/metrics")).await;
}

/// The whole session against one adapter.
pub(crate) async fn session(adapter: Adapter) -> Vec<Exchange> {
    let mut s = Session::new(adapter).await;
    operations(&mut s).await;
    let creds = authentication(&mut s).await;
    let tasks = create(&mut s, &creds).await;
    list(&mut s, &creds).await;
    single(&mut s, &creds, &tasks).await;
    routing(&mut s, &creds).await;
    logout(&mut s, &creds).await;
    s.transcript
}
