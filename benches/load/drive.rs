//! `drive`: what `oha` cannot do, written in the shape of `oha --output-format json` (the
//! fields [`crate::oha::Run::read`] uses):
//!
//! - `--urls FILE`: sends each URL of the file exactly once, in order, with `--concurrency`
//!   requests in flight. `oha` picks the URLs of `--urls-from-file` at random, so a run of
//!   deletions through it would delete some tasks twice and measure 404s; this one deletes
//!   every task once.
//! - `--url URL --bodies FILE --secs S`: one client per line of the file, each posting its own
//!   body again and again for S seconds. The login flood needs it: its clients are different
//!   accounts (concurrent logins to one account are refused with 429 by the failed-login
//!   backoff, which counts an attempt before checking the password), and `oha -Z` draws one
//!   body per request at random.
//!
//! `load drive --method DELETE --urls FILE --token TOKEN --concurrency 16 --out X.oha.json`
//! `load drive --method POST --url URL --bodies FILE --secs 10 --out X.oha.json`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Args;
use crate::oha::to_f64;

/// One request's outcome: its status (or the transport error) and how long it took.
type Outcome = (Result<u16, String>, Duration);

/// What the clients send.
enum Plan {
    /// Each URL once, shared by `concurrency` clients.
    Once {
        urls: Vec<String>,
        concurrency: usize,
    },
    /// One client per body, posting it to `url` until the deadline.
    Repeat {
        url: String,
        bodies: Vec<String>,
        secs: u64,
    },
}

fn lines(path: &str) -> Result<Vec<String>, String> {
    let lines: Vec<String> = std::fs::read_to_string(path)
        .map_err(|e| format!("{path}: {e}"))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if lines.is_empty() {
        return Err(format!("{path}: empty"));
    }
    Ok(lines)
}

pub(crate) fn run(args: &Args) -> Result<(), String> {
    let method = reqwest::Method::from_bytes(args.text("method")?.as_bytes())
        .map_err(|e| format!("--method: {e}"))?;
    let plan = if let Ok(path) = args.text("urls") {
        Plan::Once {
            urls: lines(path)?,
            concurrency: args.number("concurrency", 16)?.max(1),
        }
    } else {
        Plan::Repeat {
            url: args.text("url")?.to_owned(),
            bodies: lines(args.text("bodies")?)?,
            secs: u64::try_from(args.number("secs", 10)?).map_err(|e| e.to_string())?,
        }
    };
    let token = args.0.get("token").cloned();
    let out = args.text("out")?.to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let outcomes = runtime.block_on(send_all(method, plan, token))?;
    let json = summary(&outcomes, started.elapsed());
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    std::fs::write(&out, text).map_err(|e| format!("{out}: {e}"))
}

/// One request; the body is read so that the connection is reused.
async fn send(
    client: &reqwest::Client,
    method: &reqwest::Method,
    url: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Outcome {
    let sent = Instant::now();
    let mut request = client.request(method.clone(), url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let status = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            response
                .bytes()
                .await
                .map(|_| status)
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    (status, sent.elapsed())
}

async fn send_all(
    method: reqwest::Method,
    plan: Plan,
    token: Option<String>,
) -> Result<Vec<Outcome>, String> {
    let clients = match &plan {
        Plan::Once { concurrency, .. } => *concurrency,
        Plan::Repeat { bodies, .. } => bodies.len(),
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .map_err(|e| e.to_string())?;
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (client, plan, next, token, method) = (
                client.clone(),
                Arc::clone(&plan),
                Arc::clone(&next),
                token.clone(),
                method.clone(),
            );
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let token = token.as_deref();
                match &*plan {
                    Plan::Once { urls, .. } => {
                        while let Some(url) = urls.get(next.fetch_add(1, Ordering::Relaxed)) {
                            seen.push(send(&client, &method, url, None, token).await);
                        }
                    }
                    Plan::Repeat { url, bodies, secs } => {
                        let deadline = Instant::now() + Duration::from_secs(*secs);
                        let body = bodies[worker].as_str();
                        // A request still in flight at the deadline is cut off, as oha's -z
                        // does, and not counted.
                        while let Ok(outcome) = tokio::time::timeout_at(
                            deadline.into(),
                            send(&client, &method, url, Some(body), token),
                        )
                        .await
                        {
                            seen.push(outcome);
                        }
                    }
                }
                seen
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.extend(worker.await.map_err(|e| e.to_string())?);
    }
    Ok(outcomes)
}

/// The fields of oha's JSON that the report reads.
fn summary(outcomes: &[Outcome], elapsed: Duration) -> Value {
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut latencies: Vec<f64> = Vec::with_capacity(outcomes.len());
    for (status, took) in outcomes {
        match status {
            Ok(code) => {
                *statuses.entry(code.to_string()).or_default() += 1;
                latencies.push(took.as_secs_f64());
            }
            Err(e) => *errors.entry(e.clone()).or_default() += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| -> Value {
        if latencies.is_empty() {
            return Value::Null;
        }
        // Nearest rank: the smallest latency with at least q of the sample at or below it.
        let rank = (q * to_f64(latencies.len() as u64)).ceil();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let index = (rank as usize).clamp(1, latencies.len()) - 1;
        json!(latencies[index])
    };
    let secs = elapsed.as_secs_f64().max(1e-9);
    json!({
        "summary": {
            "total": secs,
            "requestsPerSec": to_f64(latencies.len() as u64) / secs,
        },
        "latencyPercentiles": {
            "p50": pick(0.5),
            "p90": pick(0.9),
            "p99": pick(0.99),
            "p99.9": pick(0.999),
        },
        "statusCodeDistribution": statuses,
        "errorDistribution": errors,
    })
}
