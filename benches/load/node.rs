//! TaskFlow against a typical Node stack: `RUN/node/rNN-STACK-SCENARIO/`, where
//! `scripts/load.sh --vs-node` kept both stacks up (TaskFlow's axum example server and
//! `benches/node-baseline`, an Express 4 + Mongoose 6 tutorial API), each on its own fresh
//! SecantusDB-py, and ran the same closed-loop load against one and then the other, the order
//! alternating between rounds. `proc.json`'s `cpu_secs` is the stack's own process,
//! `db_cpu_secs` its database's.

use std::fmt::Write as _;
use std::path::Path;

use crate::oha::{Run, files, read_json, to_f64};
use crate::pair::median;

/// The scenarios: directory name, title, and the throughput TaskFlow must reach as a multiple
/// of the Node stack's (with a lower p99 for the reads).
const SCENARIOS: [(&str, &str, f64, bool); 3] = [
    ("me", "`GET /api/v1/auth/me`", 2.0, true),
    (
        "list",
        "`GET /api/v1/tasks?limit=20` (the user has 20)",
        2.0,
        true,
    ),
    ("create", "`POST /api/v1/tasks`", 1.5, false),
];

const STACKS: [&str; 2] = ["node", "taskflow"];

/// One measured run of one stack.
#[derive(Debug, Clone, Copy)]
struct Probe {
    rps: f64,
    p50: f64,
    p99: f64,
    errors: u64,
    db_us: f64,
    app_us: f64,
    bytes: Option<f64>,
}

fn probe(dir: &Path) -> Option<Probe> {
    let run = Run::read(dir).ok()?;
    let (errors, attempts) = run.errors();
    let load = run.loads.first()?.clone();
    let n = to_f64(attempts.max(1));
    let bytes = files(dir, ".oha.json")
        .ok()
        .and_then(|f| f.first().cloned())
        .and_then(|p| read_json(&p).ok())
        .and_then(|j| j["summary"]["sizePerRequest"].as_f64());
    Some(Probe {
        rps: run.rps(),
        p50: load.p[0],
        p99: load.p[2],
        errors,
        db_us: run.server.db_cpu_secs * 1e6 / n,
        app_us: run.server.cpu_secs * 1e6 / n,
        bytes,
    })
}

/// A scenario's verdict: TaskFlow's throughput over Node's (median of the rounds' ratios),
/// and the median p99s.
pub(crate) struct Verdict {
    pub title: &'static str,
    pub target: f64,
    pub needs_lower_p99: bool,
    pub ratio: f64,
    pub p99: [f64; 2],
    pub errors: u64,
}

/// Writes the section and returns one verdict per scenario, or nothing when the run did not
/// compare the stacks.
pub(crate) fn section(md: &mut String, run_dir: &Path) -> Vec<Verdict> {
    let dir = run_dir.join("node");
    let rounds: Vec<usize> = (1..)
        .map_while(|r| {
            dir.join(format!("r{r:02}-taskflow-me"))
                .is_dir()
                .then_some(r)
        })
        .collect();
    if rounds.is_empty() {
        return Vec::new();
    }
    let meta = read_json(&dir.join("setup.json")).unwrap_or_default();
    let text = |k: &str| meta[k].as_str().unwrap_or("?").to_owned();
    md.push_str("\n## TaskFlow against a typical Node stack (MongoDB)\n\n");
    let _ = write!(
        md,
        "The same load against TaskFlow's axum example server and `benches/node-baseline`, a typical Express 4 + Mongoose 6 tutorial task API ({}: on every request `jwt.verify` and `User.findById`; the user's tasks found by user, not paged; bcryptjs at cost 10; no request log, where TaskFlow logs each request). Each stack on its own fresh {} in memory, both up at once, everything on CPU 1 and the load (`oha`) on CPU 0. Data: one user with 20 tasks (the list) and one writing (the creates), seeded over HTTP. Each run: {} connections, closed loop, {} s of warm-up then {} s measured; per round each stack runs `me`, `list`, `create` in turn, the stacks' order alternating between rounds ({} rounds). The verdict is the median over the rounds of TaskFlow's rate over Node's in the same round, and the median p99s. CPU per request: utime + stime of the stack's process and of its database's over the measured run, over the requests.\n\n",
        text("node_versions"),
        text("db"),
        meta["connections"].as_u64().unwrap_or(0),
        meta["warmup_secs"].as_u64().unwrap_or(0),
        meta["secs"].as_u64().unwrap_or(0),
        rounds.len(),
    );
    let get = |r: usize, stack: &str, scenario: &str| {
        probe(&dir.join(format!("r{r:02}-{stack}-{scenario}")))
    };
    md.push_str("| round | scenario | Node req/s | Node p50 / p99 ms | TaskFlow req/s | TaskFlow p50 / p99 ms | TaskFlow / Node |\n|---:|---|---:|---:|---:|---:|---:|\n");
    for &r in &rounds {
        for (scenario, title, _, _) in SCENARIOS {
            let [n, t] = STACKS.map(|s| get(r, s, scenario));
            let show = |p: Option<Probe>| {
                p.map_or(("–".into(), "–".into()), |p| {
                    (
                        format!("{:.0}", p.rps),
                        format!("{:.1} / {:.1}", p.p50, p.p99),
                    )
                })
            };
            let ((nr, nl), (tr, tl)) = (show(n), show(t));
            let ratio = n
                .zip(t)
                .map_or("–".into(), |(n, t)| format!("×{:.2}", t.rps / n.rps));
            let _ = writeln!(
                md,
                "| {r} | {title} | {nr} | {nl} | {tr} | {tl} | {ratio} |"
            );
        }
    }
    md.push_str("\nMedians over the rounds:\n\n| scenario | stack | req/s | p50 ms | p99 ms | errors | DB CPU µs per request | stack's CPU µs per request | bytes per response |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut verdicts = Vec::new();
    for (scenario, title, target, needs_lower_p99) in SCENARIOS {
        let mut p99 = [f64::NAN; 2];
        let mut errors = 0;
        for (i, stack) in STACKS.into_iter().enumerate() {
            let probes: Vec<Probe> = rounds
                .iter()
                .filter_map(|&r| get(r, stack, scenario))
                .collect();
            if probes.is_empty() {
                continue;
            }
            let m = |f: fn(&Probe) -> f64| median(probes.iter().map(f).collect());
            p99[i] = m(|p| p.p99);
            let errs: u64 = probes.iter().map(|p| p.errors).sum();
            errors += errs;
            let bytes = probes
                .iter()
                .find_map(|p| p.bytes)
                .map_or("–".into(), |b| format!("{b:.0}"));
            let _ = writeln!(
                md,
                "| {title} | {} | {:.0} | {:.2} | {:.2} | {errs} | {:.0} | {:.0} | {bytes} |",
                if stack == "node" { "Node" } else { "TaskFlow" },
                m(|p| p.rps),
                m(|p| p.p50),
                p99[i],
                m(|p| p.db_us),
                m(|p| p.app_us),
            );
        }
        let ratios: Vec<f64> = rounds
            .iter()
            .filter_map(|&r| {
                let (n, t) = get(r, "node", scenario).zip(get(r, "taskflow", scenario))?;
                Some(t.rps / n.rps)
            })
            .collect();
        verdicts.push(Verdict {
            title,
            target,
            needs_lower_p99,
            ratio: median(ratios),
            p99,
            errors,
        });
    }
    verdicts
}
