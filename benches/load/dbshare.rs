//! The database's share of each endpoint on MongoDB: `RUN/db/<server>/<endpoint>/` (with `RUN/db/<server>/setup.json`), one run
//! per endpoint against the axum example server on a fresh database server, where
//! `scripts/load.sh` saved the server's `/metrics` before and after the run
//! (`metrics.before.txt`, `metrics.after.txt`) next to its usual `proc.json` and
//! `*.oha.json`. Commands per request come from the server's own
//! `taskflow_storage_command_duration_seconds_count` (every command the driver sent, by name);
//! CPU per request from the processes' utime + stime over the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::oha::{Run, read_json, to_f64};

/// The endpoints, in table order: directory name and title.
pub(crate) const ENDPOINTS: [(&str, &str); 8] = [
    ("me", "`GET /api/v1/auth/me`"),
    ("get", "`GET /api/v1/tasks/{id}`"),
    ("list", "`GET /api/v1/tasks?limit=20`"),
    ("stats", "`GET /api/v1/tasks/stats`"),
    ("create", "`POST /api/v1/tasks`"),
    ("patch", "`PATCH /api/v1/tasks/{id}`"),
    ("delete", "`DELETE /api/v1/tasks/{id}`"),
    ("login", "`POST /api/v1/auth/login`"),
];

/// The database servers, in table order: directory name and what it is.
const SERVERS: [(&str, &str); 2] = [
    (
        "secantusd-rs",
        "SecantusDB's Rust server (`secantusd-rs`, the one the sweeps above use)",
    ),
    (
        "secantusd-py",
        "SecantusDB-py (`secantusd-py`, in memory: the server CI uses, the slowest per command)",
    ),
];

/// `taskflow_storage_command_duration_seconds_count` by command name (both outcomes), and
/// the failed ones apart.
#[derive(Debug, Default, Clone)]
struct Commands {
    by_name: BTreeMap<String, f64>,
    failed: f64,
}

fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
    let len = labels[start..].find('"')?;
    Some(&labels[start..start + len])
}

fn commands(text: &str) -> Commands {
    let mut out = Commands::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("taskflow_storage_command_duration_seconds_count{")
        else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        let Ok(n) = value.trim().parse::<f64>() else {
            continue;
        };
        let name = label(labels, "command").unwrap_or("?").to_owned();
        *out.by_name.entry(name).or_default() += n;
        if label(labels, "outcome") == Some("failed") {
            out.failed += n;
        }
    }
    out
}

/// The commands sent between two scrapes.
fn sent(before: &Commands, after: &Commands) -> Commands {
    let mut by_name = BTreeMap::new();
    for (name, n) in &after.by_name {
        let d = n - before.by_name.get(name).copied().unwrap_or(0.0);
        if d > 0.0 {
            by_name.insert(name.clone(), d);
        }
    }
    Commands {
        by_name,
        failed: after.failed - before.failed,
    }
}

/// One endpoint's figures on one database server.
struct Figures {
    requests: u64,
    errors: u64,
    commands: Option<Commands>,
    db_us: f64,
    server_us: f64,
    rps: f64,
    p50: f64,
    p99: f64,
}

fn figures(dir: &Path) -> Option<Figures> {
    let run = Run::read(dir).ok()?;
    let (errors, requests) = run.errors();
    if requests == 0 {
        return None;
    }
    let scrape = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .ok()
            .map(|t| commands(&t))
    };
    let commands = scrape("metrics.before.txt")
        .zip(scrape("metrics.after.txt"))
        .map(|(b, a)| sent(&b, &a));
    let n = to_f64(requests);
    let load = run.loads.first().cloned().unwrap_or_default();
    Some(Figures {
        requests,
        errors,
        commands,
        db_us: run.server.db_cpu_secs * 1e6 / n,
        server_us: run.server.cpu_secs * 1e6 / n,
        rps: run.rps(),
        p50: load.p[0],
        p99: load.p[2],
    })
}

fn per_request(c: &Commands, requests: u64) -> (f64, String) {
    let n = to_f64(requests);
    let total: f64 = c.by_name.values().sum();
    let names: Vec<String> = c
        .by_name
        .iter()
        .map(|(name, k)| format!("{name} {:.2}", k / n))
        .collect();
    let mut detail = names.join(", ");
    if c.failed > 0.0 {
        let _ = write!(detail, " ({:.0} failed)", c.failed);
    }
    (total / n, detail)
}

/// Writes the section when the run measured it.
pub(crate) fn section(md: &mut String, run_dir: &Path) {
    let dir = run_dir.join("db");
    let present: Vec<_> = SERVERS
        .iter()
        .filter(|(name, _)| dir.join(name).is_dir())
        .collect();
    if present.is_empty() {
        return;
    }
    let meta = |server: &str| read_json(&dir.join(server).join("setup.json")).unwrap_or_default();
    md.push_str("\n## The database's share of each endpoint (MongoDB)\n\n");
    let first = meta(present[0].0);
    let _ = write!(
        md,
        "The axum example server on a fresh database server of each kind, both pinned to CPU 1 (the load on CPU 0), seeded with one user and {} tasks; then each endpoint in turn, closed loop with {} connections, a fixed number of requests (deletions: each of the user's tasks once, with the harness' own client, since `oha` draws URLs at random; logins: fewer, on one connection, since argon2id costs tens of ms and the failed-login backoff refuses a login to an account that has another in flight). **Commands per request**: the difference of the server's own `taskflow_storage_command_duration_seconds_count` (every command the driver sent, by name) between a scrape of `/metrics` before and after the run, over the requests. **CPU per request**: utime + stime of the database process, and of TaskFlow's, over the run, over the requests.",
        first["tasks"].as_u64().unwrap_or(0),
        first["connections"].as_u64().unwrap_or(0),
    );
    if let Some(cache) = first["session_cache_ms"].as_str() {
        let _ = write!(md, " Session-check cache: {cache}.");
    }
    md.push_str("\n\n| endpoint | commands per request | by command |");
    for (name, _) in &present {
        let _ = write!(md, " DB CPU µs per request, {name} |");
    }
    md.push_str("\n|---|---:|---|");
    for _ in &present {
        md.push_str("---:|");
    }
    md.push('\n');
    let all: Vec<Vec<Option<Figures>>> = present
        .iter()
        .map(|(server, _)| {
            ENDPOINTS
                .iter()
                .map(|(e, _)| figures(&dir.join(server).join(e)))
                .collect()
        })
        .collect();
    for (i, (_, title)) in ENDPOINTS.iter().enumerate() {
        // The commands an endpoint sends do not depend on the database server: shown from
        // the first one measured.
        let commands = all.iter().find_map(|f| {
            f[i].as_ref()
                .and_then(|f| Some((f.commands.as_ref()?, f.requests)))
        });
        let (count, detail) = commands.map_or(("–".into(), "–".into()), |(c, n)| {
            let (count, detail) = per_request(c, n);
            (format!("{count:.2}"), detail)
        });
        let _ = write!(md, "| {title} | {count} | {detail} |");
        for figs in &all {
            let _ = write!(
                md,
                " {} |",
                figs[i]
                    .as_ref()
                    .map_or("–".into(), |f| format!("{:.0}", f.db_us))
            );
        }
        md.push('\n');
    }
    for ((server, what), figs) in present.iter().zip(&all) {
        let m = meta(server);
        let _ = write!(md, "\n### On {what}\n\n");
        if let Some(version) = m["version"].as_str() {
            let _ = write!(md, "{version}. ");
        }
        if let Some(idle) = m["idle_db_cores"].as_f64() {
            let _ = write!(
                md,
                "Idle, before the runs, the database used {idle:.3} cores (included in the figures below). "
            );
        }
        md.push_str("\n\n| endpoint | requests | commands per request | DB CPU µs per request | TaskFlow CPU µs per request | database's share of the CPU | req/s | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for ((_, title), f) in ENDPOINTS.iter().zip(figs) {
            let Some(f) = f else {
                let _ = writeln!(md, "| {title} | – | – | – | – | – | – | – | – | – |");
                continue;
            };
            let count = f.commands.as_ref().map_or("–".into(), |c| {
                format!("{:.2}", per_request(c, f.requests).0)
            });
            let _ = writeln!(
                md,
                "| {title} | {} | {count} | {:.0} | {:.0} | {:.0}% | {:.0} | {:.2} | {:.2} | {} |",
                f.requests,
                f.db_us,
                f.server_us,
                100.0 * f.db_us / (f.db_us + f.server_us).max(1e-9),
                f.rps,
                f.p50,
                f.p99,
                f.errors,
            );
        }
    }
}
