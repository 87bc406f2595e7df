//! Reading one measured run: the `oha --output-format json` answers of its load generators
//! and the server-side sample the harness took around them (`proc.json`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// What the harness sampled on the server over a run (`proc.json`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ServerSample {
    /// The total rate asked of the load generators (0: closed loop).
    #[serde(default)]
    pub requested: f64,
    /// The fraction of the scenario's probed capacity this step asked for (sweeps only).
    #[serde(default)]
    pub fraction: Option<f64>,
    /// utime + stime of the TaskFlow server over the run.
    pub cpu_secs: f64,
    /// utime + stime of the database server over the run (0 without one).
    #[serde(default)]
    pub db_cpu_secs: f64,
    /// Wall-clock length of the run.
    pub wall_secs: f64,
    /// Peak resident set of the TaskFlow server during the run (VmHWM, reset before it).
    pub peak_rss_kb: u64,
}

/// One load generator's figures.
#[derive(Debug, Clone, Default)]
pub(crate) struct Load {
    /// Name of the generator within the run (`reads`, `login`…).
    pub part: String,
    /// Completed responses per second.
    pub rps: f64,
    /// Latency percentiles in milliseconds: p50, p90, p99, p99.9.
    pub p: [f64; 4],
    /// Responses plus transport errors.
    pub attempts: u64,
    /// Responses that are not 2xx/304, plus transport errors (deadline cut-offs excluded).
    pub errors: u64,
    /// `201 Created` responses: the writes the server acknowledged.
    pub created: u64,
}

impl Load {
    pub(crate) fn error_rate(&self) -> f64 {
        if self.attempts == 0 {
            return 0.0;
        }
        to_f64(self.errors) / to_f64(self.attempts)
    }
}

/// A measured run: its generators and the server sample.
#[derive(Debug, Clone, Default)]
pub(crate) struct Run {
    pub loads: Vec<Load>,
    pub server: ServerSample,
}

impl Run {
    /// The generators' combined throughput.
    pub(crate) fn rps(&self) -> f64 {
        self.loads.iter().map(|l| l.rps).sum()
    }

    pub(crate) fn errors(&self) -> (u64, u64) {
        self.loads
            .iter()
            .fold((0, 0), |(e, a), l| (e + l.errors, a + l.attempts))
    }

    /// Server CPU in cores, with the database's in brackets when there is one.
    pub(crate) fn cpu_share(&self) -> String {
        let wall = self.server.wall_secs.max(1e-9);
        let server = self.server.cpu_secs / wall;
        if self.server.db_cpu_secs > 0.0 {
            format!("{server:.2} (db {:.2})", self.server.db_cpu_secs / wall)
        } else {
            format!("{server:.2}")
        }
    }

    pub(crate) fn load(&self, part: &str) -> Option<&Load> {
        self.loads.iter().find(|l| l.part == part)
    }

    /// Reads `dir/proc.json` and every `dir/*.oha.json`.
    pub(crate) fn read(dir: &Path) -> Result<Self, String> {
        let server: ServerSample = read_json(&dir.join("proc.json")).and_then(|v| {
            serde_json::from_value(v).map_err(|e| format!("{}: {e}", dir.display()))
        })?;
        let mut loads = Vec::new();
        for path in files(dir, ".oha.json")? {
            let part = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".oha.json"))
                .unwrap_or_default()
                .to_owned();
            loads.push(parse(part, &read_json(&path)?));
        }
        Ok(Self { loads, server })
    }
}

pub(crate) fn to_f64(n: u64) -> f64 {
    // Counts here stay far below 2^52.
    #[allow(clippy::cast_precision_loss)]
    let x = n as f64;
    x
}

pub(crate) fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The entries of `dir` whose names end with `suffix`, sorted.
pub(crate) fn files(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(suffix)))
        .collect();
    out.sort();
    Ok(out)
}

fn parse(part: String, json: &Value) -> Load {
    let seconds = |v: &Value| v.as_f64().unwrap_or(f64::NAN) * 1000.0;
    let percentiles = &json["latencyPercentiles"];
    let count = |v: &Value| -> u64 {
        v.as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
    };
    let statuses = json["statusCodeDistribution"].as_object();
    let responses = count(&json["statusCodeDistribution"]);
    let bad_statuses: u64 = statuses.map_or(0, |m| {
        m.iter()
            .filter(|(code, _)| !(code.starts_with('2') || code.as_str() == "304"))
            .filter_map(|(_, n)| n.as_u64())
            .sum()
    });
    // Requests still in flight when the duration ends are cut off by oha itself.
    let transport: u64 = json["errorDistribution"].as_object().map_or(0, |m| {
        m.iter()
            .filter(|(message, _)| !message.contains("deadline"))
            .filter_map(|(_, n)| n.as_u64())
            .sum()
    });
    // Nothing answered at all: every request of the run failed, however oha labels them.
    let (attempts, errors) = if responses == 0 {
        let cut = count(&json["errorDistribution"]).max(1);
        (cut, cut)
    } else {
        (responses + transport, bad_statuses + transport)
    };
    Load {
        part,
        rps: json["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        p: [
            seconds(&percentiles["p50"]),
            seconds(&percentiles["p90"]),
            seconds(&percentiles["p99"]),
            seconds(&percentiles["p99.9"]),
        ],
        attempts,
        errors,
        created: json["statusCodeDistribution"]["201"].as_u64().unwrap_or(0),
    }
}
