//! The load harness' helper, driven by `scripts/load.sh` (not a criterion benchmark):
//!
//! - `seed`: registers users over HTTP and creates their tasks with many requests in flight,
//!   then walks one user's pages with cursors; writes tokens, task ids and page URLs as JSON.
//! - `drive`: sends each URL of a file once (the deletions of the database-share runs), and
//!   writes what it saw as `oha` would.
//! - `report`: turns the `oha` JSON outputs and the server samples of a run into
//!   `BENCHMARKS.md` (a table per scenario, axum against warp side by side, the targets) and
//!   the latency-vs-throughput SVG.
//!
//! `cargo bench --bench load -- seed --base http://127.0.0.1:8080 --out state.json`
//! `cargo bench --bench load -- report --run DIR --out BENCHMARKS.md --chart docs/bench/latency.svg`

mod chart;
mod dbshare;
mod drive;
mod node;
mod oha;
mod pair;
mod report;
mod seed;

use std::collections::HashMap;
use std::process::ExitCode;

/// `--name value` pairs after the subcommand (`cargo bench` appends a bare `--bench`).
#[derive(Debug, Default)]
struct Args(HashMap<String, String>);

impl Args {
    fn parse(raw: &[String]) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut iter = raw.iter().filter(|a| a.as_str() != "--bench");
        while let Some(name) = iter.next() {
            let key = name
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --name, got {name:?}"))?;
            let value = iter
                .next()
                .ok_or_else(|| format!("--{key} needs a value"))?;
            map.insert(key.to_owned(), value.clone());
        }
        Ok(Self(map))
    }

    fn text(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    fn number(&self, name: &str, default: usize) -> Result<usize, String> {
        self.0.get(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("--{name}: not a number: {v:?}"))
        })
    }
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = raw.split_first() else {
        eprintln!("usage: load seed|drive|report --name value ...");
        return ExitCode::from(2);
    };
    let result = Args::parse(rest).and_then(|args| match command.as_str() {
        "seed" => seed::run(&args),
        "drive" => drive::run(&args),
        "report" => report::run(&args),
        // `cargo bench` without a filter runs every bench target: nothing to do here.
        "--bench" => Ok(()),
        other => Err(format!("unknown command {other:?} (seed, drive or report)")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}
