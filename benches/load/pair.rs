//! Bare axum, axum and warp, side by side: the rounds of `RUN/pair/rNN-SERVER-SCENARIO/`,
//! where `scripts/load.sh` kept the three servers up and alternated short closed-loop probes
//! between them. A ratio taken within a round compares the servers on the same state of the
//! machine, which drifts by more than the 10% the adapter target allows over the minutes
//! between the servers' own sweeps.
//!
//! The servers: `bare` (`benches/bare_axum.rs`, one route answering `ok` on a plain
//! `axum::serve`: the floor of this machine) probed on `ok`; the `axum` and `warp` example
//! servers probed on `baseline` (`/health/live`), `me` (`GET /api/v1/auth/me`) and `list`
//! (the authenticated list of 20); bare axum also on `body`, the bytes of axum's list of 20
//! (the cost of sending that response, apart from making it). Rounds without a bare server
//! (older runs) still report the adapters.

use std::fmt::Write as _;
use std::path::Path;

use crate::oha::{Run, to_f64};

/// Below this share of its core, the bare server was not the limit of its own probe: the load
/// generator was (it has one core, CPU 0), and rates against it understate its lead.
pub(crate) const SATURATED_CORES: f64 = 0.9;

/// The figures of one probe.
#[derive(Debug, Clone, Copy)]
struct Probe {
    rps: f64,
    /// Server CPU per answered request, in microseconds.
    cpu_us: f64,
    /// Server CPU over the probe, in cores.
    cores: f64,
}

impl Probe {
    fn read(dir: &Path) -> Option<Self> {
        let run = Run::read(dir).ok()?;
        let (errors, attempts) = run.errors();
        // A probe with failures measures the failure, not the server.
        if attempts == 0 || errors > 0 {
            return None;
        }
        Some(Self {
            rps: run.rps(),
            cpu_us: run.server.cpu_secs * 1e6 / to_f64(attempts),
            cores: run.server.cpu_secs / run.server.wall_secs.max(1e-9),
        })
    }
}

/// One adapter's probes within a round.
#[derive(Debug, Clone, Copy)]
struct Adapter {
    list: Probe,
    baseline: Probe,
    me: Option<Probe>,
}

/// One round: the bare server's probe (when the run had one) and each adapter's.
struct Round {
    number: usize,
    bare: Option<Probe>,
    /// Bare axum sending the bytes of axum's list of 20 (`/body`; runs before it had none).
    bare_body: Option<Probe>,
    /// axum, warp.
    adapters: [Adapter; 2],
}

impl Round {
    /// scripts/load.sh's order: bare, axum, warp in odd rounds; warp, axum, bare in even ones.
    fn order(&self) -> &'static str {
        match (self.number.is_multiple_of(2), self.bare.is_some()) {
            (false, true) => "bare, axum, warp",
            (true, true) => "warp, axum, bare",
            (false, false) => "axum, warp",
            (true, false) => "warp, axum",
        }
    }
}

/// What the rounds add up to, for the targets (medians over the rounds of ratios taken
/// within a round; pairs are axum, warp).
pub(crate) struct Comparison {
    /// (warp - axum) / axum, list throughput.
    pub list_gap: f64,
    /// (warp - axum) / axum, `/health/live` throughput.
    pub live_gap: f64,
    /// Each adapter's list throughput over its own `/health/live`'s.
    pub of_baseline: [f64; 2],
    /// Against the bare server, when the run had one.
    pub bare: Option<OfBare>,
    pub rounds: usize,
}

/// Each adapter against bare axum (medians of within-round ratios; pairs are axum, warp).
pub(crate) struct OfBare {
    /// `/health/live` throughput over bare axum's.
    pub live: [f64; 2],
    /// List throughput over bare axum's.
    pub list: [f64; 2],
    /// `GET /auth/me` throughput over bare axum's (when probed).
    pub me: Option<[f64; 2]>,
    /// Bare axum's server CPU per request over `/health/live`'s: the share of bare axum's
    /// rate `/health/live` would reach if both saturated their core.
    pub live_by_cpu: [f64; 2],
    /// The same for the list.
    pub list_by_cpu: [f64; 2],
    /// Bare axum's server CPU per request sending the list's bytes over the list's: the share
    /// of the list's cost that is sending its response (when probed).
    pub list_by_cpu_of_body: Option<[f64; 2]>,
    /// Bare axum's server CPU over its probes, in cores (median).
    pub bare_cores: f64,
}

fn rounds(dir: &Path) -> Vec<Round> {
    let probe = |r: usize, server: &str, scenario: &str| {
        Probe::read(&dir.join(format!("r{r:02}-{server}-{scenario}")))
    };
    let adapter = |r: usize, name: &str| {
        Some(Adapter {
            list: probe(r, name, "list")?,
            baseline: probe(r, name, "baseline")?,
            me: probe(r, name, "me"),
        })
    };
    (1..)
        .map_while(|r| dir.join(format!("r{r:02}-axum-list")).is_dir().then_some(r))
        .filter_map(|r| {
            Some(Round {
                number: r,
                bare: probe(r, "bare", "ok"),
                bare_body: probe(r, "bare", "body"),
                adapters: [adapter(r, "axum")?, adapter(r, "warp")?],
            })
        })
        .collect()
}

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => f64::midpoint(xs[n / 2 - 1], xs[n / 2]),
    }
}

fn gap(axum: Probe, warp: Probe) -> f64 {
    (warp.rps - axum.rps) / axum.rps
}

fn rate(p: Option<Probe>) -> String {
    p.map_or("–".into(), |p| format!("{:.0}", p.rps))
}

fn cpu(p: Option<Probe>) -> String {
    p.map_or("–".into(), |p| format!("{:.1}", p.cpu_us))
}

/// Median over the rounds of `f`, over the rounds where it has a value.
fn med(rounds: &[Round], f: impl Fn(&Round) -> Option<f64>) -> Option<f64> {
    let xs: Vec<f64> = rounds.iter().filter_map(f).collect();
    (!xs.is_empty()).then(|| median(xs))
}

fn show(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or("–".into(), f)
}

/// Writes the section and returns the verdicts' figures, or `None` without complete rounds.
pub(crate) fn section(md: &mut String, run_dir: &Path) -> Option<Comparison> {
    let rounds = rounds(&run_dir.join("pair"));
    if rounds.is_empty() {
        return None;
    }
    let with_bare = rounds.iter().any(|r| r.bare.is_some());
    md.push_str("\n## Bare axum, axum and warp, side by side\n\n");
    if with_bare {
        md.push_str("Three servers up at once, all pinned to CPU 1, only one under load at a time: **bare axum** (`benches/bare_axum.rs`: one route answering `ok` on a plain `axum::serve`, no TaskFlow code, the same runtime and allocator: the floor of this machine) and the axum and warp example servers on the in-memory store (same data set). ");
    } else {
        md.push_str("The axum and warp example servers up at once on the in-memory store (same data set, both pinned to CPU 1, only one under load at a time). ");
    }
    md.push_str("Each round probes every server in turn (closed loop, 64 connections), alternating the order; TaskFlow's probes are `/health/live`, `GET /api/v1/auth/me` and the authenticated 20-item list. A ratio compares two probes of the same round; a verdict is the median of a ratio over the rounds. Server CPU is per answered request.\n\n");
    let (list_gap, live_gap) = throughput_table(md, &rounds);
    let bare_cores = cpu_table(md, &rounds);
    let m = |f: &dyn Fn(&Round) -> Option<f64>| med(&rounds, f);
    let of_baseline = [0, 1].map(|i| {
        m(&|r| Some(r.adapters[i].list.rps / r.adapters[i].baseline.rps)).unwrap_or(f64::NAN)
    });
    let bare = with_bare.then(|| {
        let share = |i: usize, f: fn(&Adapter) -> Option<Probe>| {
            m(&|r| Some(f(&r.adapters[i])?.rps / r.bare?.rps))
        };
        let by_cpu = |i: usize, f: fn(&Adapter) -> Option<Probe>| {
            m(&|r| Some(r.bare?.cpu_us / f(&r.adapters[i])?.cpu_us)).unwrap_or(f64::NAN)
        };
        let nan = |x: Option<f64>| x.unwrap_or(f64::NAN);
        let me = [share(0, |a| a.me), share(1, |a| a.me)];
        let of_body = [0, 1].map(|i| m(&|r| Some(r.bare_body?.cpu_us / r.adapters[i].list.cpu_us)));
        OfBare {
            live: [0, 1].map(|i| nan(share(i, |a| Some(a.baseline)))),
            list: [0, 1].map(|i| nan(share(i, |a| Some(a.list)))),
            me: me[0].zip(me[1]).map(|(a, w)| [a, w]),
            live_by_cpu: [0, 1].map(|i| by_cpu(i, |a| Some(a.baseline))),
            list_by_cpu: [0, 1].map(|i| by_cpu(i, |a| Some(a.list))),
            list_by_cpu_of_body: of_body[0].zip(of_body[1]).map(|(a, w)| [a, w]),
            bare_cores: nan(bare_cores),
        }
    });
    shares_table(md, bare.as_ref(), of_baseline);
    Some(Comparison {
        list_gap: list_gap.unwrap_or(f64::NAN),
        live_gap: live_gap.unwrap_or(f64::NAN),
        of_baseline,
        bare,
        rounds: rounds.len(),
    })
}

fn n0(x: Option<f64>) -> String {
    show(x, |x| format!("{x:.0}"))
}

fn n1(x: Option<f64>) -> String {
    show(x, |x| format!("{x:.1}"))
}

/// The rates of every round and their medians; returns the median gaps of warp against
/// axum, list and `/health/live`.
fn throughput_table(md: &mut String, rounds: &[Round]) -> (Option<f64>, Option<f64>) {
    md.push_str("| round | order | bare axum req/s | `/health/live` axum / warp | `/auth/me` axum / warp | list of 20 axum / warp | list: warp vs axum | `/health/live`: warp vs axum |\n|---:|---|---:|---:|---:|---:|---:|---:|\n");
    let pair = |a: Option<Probe>, w: Option<Probe>| format!("{} / {}", rate(a), rate(w));
    for r in rounds {
        let [a, w] = r.adapters;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:+.1}% | {:+.1}% |",
            r.number,
            r.order(),
            rate(r.bare),
            pair(Some(a.baseline), Some(w.baseline)),
            pair(a.me, w.me),
            pair(Some(a.list), Some(w.list)),
            gap(a.list, w.list) * 100.0,
            gap(a.baseline, w.baseline) * 100.0,
        );
    }
    let signed = |x: Option<f64>| show(x, |x| format!("{:+.1}%", x * 100.0));
    let m = |f: &dyn Fn(&Round) -> Option<f64>| med(rounds, f);
    let list_gap = m(&|r| Some(gap(r.adapters[0].list, r.adapters[1].list)));
    let live_gap = m(&|r| Some(gap(r.adapters[0].baseline, r.adapters[1].baseline)));
    let _ = writeln!(
        md,
        "| **median** | | {} | {} / {} | {} / {} | {} / {} | **{}** | {} |",
        n0(m(&|r| r.bare.map(|p| p.rps))),
        n0(m(&|r| Some(r.adapters[0].baseline.rps))),
        n0(m(&|r| Some(r.adapters[1].baseline.rps))),
        n0(m(&|r| r.adapters[0].me.map(|p| p.rps))),
        n0(m(&|r| r.adapters[1].me.map(|p| p.rps))),
        n0(m(&|r| Some(r.adapters[0].list.rps))),
        n0(m(&|r| Some(r.adapters[1].list.rps))),
        signed(list_gap),
        signed(live_gap),
    );
    (list_gap, live_gap)
}

/// Server CPU per request of every round and the medians; returns bare axum's median share
/// of its core.
fn cpu_table(md: &mut String, rounds: &[Round]) -> Option<f64> {
    md.push_str("\nServer CPU per request (µs, utime + stime of the server over its probe):\n\n| round | bare axum | bare axum, the list's bytes | `/health/live` axum / warp | `/auth/me` axum / warp | list of 20 axum / warp | bare axum's server CPU (cores) |\n|---:|---:|---:|---:|---:|---:|---:|\n");
    let cpus = |a: Option<Probe>, w: Option<Probe>| format!("{} / {}", cpu(a), cpu(w));
    for r in rounds {
        let [a, w] = r.adapters;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.number,
            cpu(r.bare),
            cpu(r.bare_body),
            cpus(Some(a.baseline), Some(w.baseline)),
            cpus(a.me, w.me),
            cpus(Some(a.list), Some(w.list)),
            show(r.bare.map(|p| p.cores), |x| format!("{x:.2}")),
        );
    }
    let m = |f: &dyn Fn(&Round) -> Option<f64>| med(rounds, f);
    let bare_cores = m(&|r| r.bare.map(|p| p.cores));
    let _ = writeln!(
        md,
        "| **median** | {} | {} | {} / {} | {} / {} | {} / {} | {} |",
        n1(m(&|r| r.bare.map(|p| p.cpu_us))),
        n1(m(&|r| r.bare_body.map(|p| p.cpu_us))),
        n1(m(&|r| Some(r.adapters[0].baseline.cpu_us))),
        n1(m(&|r| Some(r.adapters[1].baseline.cpu_us))),
        n1(m(&|r| r.adapters[0].me.map(|p| p.cpu_us))),
        n1(m(&|r| r.adapters[1].me.map(|p| p.cpu_us))),
        n1(m(&|r| Some(r.adapters[0].list.cpu_us))),
        n1(m(&|r| Some(r.adapters[1].list.cpu_us))),
        show(bare_cores, |x| format!("{x:.2}")),
    );
    bare_cores
}

fn shares_table(md: &mut String, bare: Option<&OfBare>, of_baseline: [f64; 2]) {
    md.push_str("\nShares (medians over the rounds of within-round ratios):\n\n| | axum | warp |\n|---|---:|---:|\n");
    let pc = |x: Option<f64>| show(x, |x| format!("{:.1}%", x * 100.0));
    let row = |md: &mut String, name: &str, xs: [Option<f64>; 2]| {
        let _ = writeln!(md, "| {name} | {} | {} |", pc(xs[0]), pc(xs[1]));
    };
    let some = |xs: [f64; 2]| xs.map(|x| Some(x).filter(|x| x.is_finite()));
    if let Some(b) = bare {
        row(md, "`/health/live` of bare axum (throughput)", some(b.live));
        row(
            md,
            "`/auth/me` of bare axum (throughput)",
            b.me.map_or([None, None], some),
        );
        row(md, "list of 20 of bare axum (throughput)", some(b.list));
        row(
            md,
            "`/health/live` of bare axum (server CPU per request, bare's over TaskFlow's)",
            some(b.live_by_cpu),
        );
        row(
            md,
            "list of 20 of bare axum (server CPU per request, bare's over TaskFlow's)",
            some(b.list_by_cpu),
        );
        row(
            md,
            "list of 20 of bare axum sending the same bytes (server CPU per request)",
            b.list_by_cpu_of_body.map_or([None, None], some),
        );
    }
    row(
        md,
        "list of 20 of the server's own `/health/live` (throughput)",
        some(of_baseline),
    );
    if let Some(b) = bare
        && b.bare_cores < SATURATED_CORES
    {
        let _ = writeln!(
            md,
            "\nBare axum used {:.2} of its core during its probes (median): the load generator, on its one core, not the server, set bare axum's rate, so the throughput shares above flatter TaskFlow. The CPU-per-request shares are the server-side figures (what each would serve with its core to itself), and the targets against bare axum are judged on them.",
            b.bare_cores
        );
    }
}
