//! axum against warp, side by side: the rounds of `RUN/pair/rNN-ADAPTER-SCENARIO/`, where
//! `scripts/load.sh` kept both servers up and alternated short closed-loop probes between
//! them. A ratio taken within a round compares the adapters on the same state of the
//! machine, which drifts by more than the 10% the target allows over the minutes between
//! the two servers' own sweeps.

use std::fmt::Write as _;
use std::path::Path;

use crate::oha::{Run, to_f64};

/// The figures of one probe.
#[derive(Debug, Clone, Copy)]
struct Probe {
    rps: f64,
    /// Server CPU per answered request, in microseconds.
    cpu_us: f64,
}

impl Probe {
    fn read(dir: &Path) -> Option<Self> {
        let run = Run::read(dir).ok()?;
        let (errors, attempts) = run.errors();
        // A probe with failures measures the failure, not the adapter.
        if attempts == 0 || errors > 0 {
            return None;
        }
        Some(Self {
            rps: run.rps(),
            cpu_us: run.server.cpu_secs * 1e6 / to_f64(attempts),
        })
    }
}

/// One round: each adapter's list and baseline probes.
struct Round {
    number: usize,
    list: [Probe; 2],
    baseline: [Probe; 2],
}

/// What the rounds add up to, for the targets.
pub(crate) struct Comparison {
    /// Median over the rounds of (warp - axum) / axum, list throughput.
    pub list_gap: f64,
    /// Median over the rounds of each adapter's list throughput over its baseline's: axum,
    /// warp.
    pub of_baseline: [f64; 2],
    pub rounds: usize,
}

fn rounds(dir: &Path) -> Vec<Round> {
    let probe = |r: usize, adapter: &str, scenario: &str| {
        Probe::read(&dir.join(format!("r{r:02}-{adapter}-{scenario}")))
    };
    (1..)
        .map_while(|r| dir.join(format!("r{r:02}-axum-list")).is_dir().then_some(r))
        .filter_map(|r| {
            Some(Round {
                number: r,
                list: [probe(r, "axum", "list")?, probe(r, "warp", "list")?],
                baseline: [probe(r, "axum", "baseline")?, probe(r, "warp", "baseline")?],
            })
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => f64::midpoint(xs[n / 2 - 1], xs[n / 2]),
    }
}

fn gap(p: [Probe; 2]) -> f64 {
    (p[1].rps - p[0].rps) / p[0].rps
}

/// Writes the section and returns the list's verdict, or `None` without complete rounds.
pub(crate) fn section(md: &mut String, run_dir: &Path) -> Option<Comparison> {
    let rounds = rounds(&run_dir.join("pair"));
    if rounds.is_empty() {
        return None;
    }
    md.push_str("\n## axum against warp, side by side\n\nBoth example servers up at once on the in-memory store (same data set, both pinned to CPU 1, only one under load at a time); each round probes the authenticated 20-item list and the bare baseline on one server and then on the other (closed loop, 64 connections), alternating which goes first. \"warp vs axum\" compares the two servers within a round; the verdict is the median over the rounds. Server CPU is per answered request.\n\n");
    md.push_str("| round | first | list axum req/s | list warp req/s | warp vs axum | list CPU µs axum / warp | baseline axum req/s | baseline warp req/s | warp vs axum | baseline CPU µs axum / warp |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &rounds {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:+.1}% | {:.1} / {:.1} | {:.0} | {:.0} | {:+.1}% | {:.1} / {:.1} |",
            r.number,
            // scripts/load.sh's order: axum first in odd rounds.
            if r.number % 2 == 0 { "warp" } else { "axum" },
            r.list[0].rps,
            r.list[1].rps,
            gap(r.list) * 100.0,
            r.list[0].cpu_us,
            r.list[1].cpu_us,
            r.baseline[0].rps,
            r.baseline[1].rps,
            gap(r.baseline) * 100.0,
            r.baseline[0].cpu_us,
            r.baseline[1].cpu_us,
        );
    }
    let med = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let list_gap = med(&|r| gap(r.list));
    let _ = writeln!(
        md,
        "| **median** | | {:.0} | {:.0} | **{:+.1}%** | {:.1} / {:.1} | {:.0} | {:.0} | {:+.1}% | {:.1} / {:.1} |",
        med(&|r| r.list[0].rps),
        med(&|r| r.list[1].rps),
        list_gap * 100.0,
        med(&|r| r.list[0].cpu_us),
        med(&|r| r.list[1].cpu_us),
        med(&|r| r.baseline[0].rps),
        med(&|r| r.baseline[1].rps),
        med(&|r| gap(r.baseline)) * 100.0,
        med(&|r| r.baseline[0].cpu_us),
        med(&|r| r.baseline[1].cpu_us),
    );
    let of_baseline = [0, 1].map(|i| med(&|r| r.list[i].rps / r.baseline[i].rps));
    let _ = writeln!(
        md,
        "\nList of 20 over the bare baseline, each server against itself within a round (median): axum {:.1}%, warp {:.1}%.",
        of_baseline[0] * 100.0,
        of_baseline[1] * 100.0
    );
    Some(Comparison {
        list_gap,
        of_baseline,
        rounds: rounds.len(),
    })
}
