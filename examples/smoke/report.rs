//! The monitor's table: one row per step (name, HTTP status, latency, ok or FAIL with a short
//! reason), printed as each step ends, so a hung step still shows what went before.

use reqwest::Url;
use serde_json::Value;

use crate::browser::Exchange;

/// The table's title and column names.
pub(crate) fn header(base: &Url, run_id: &str) {
    println!("TaskFlow API monitor: {base} (request ids {run_id}-N)");
    println!("{:<24} {:>6} {:>9}  result", "step", "status", "ms");
}

/// Prints the row of a step that expects the status `expected` and then `check` of the body;
/// the value of `check` on success, `None` (the run stops) on failure.
pub(crate) fn step<T>(
    name: &str,
    exchange: Exchange,
    expected: u16,
    check: impl FnOnce(&Value) -> Result<T, String>,
) -> Option<T> {
    let millis = exchange.elapsed.as_millis();
    let reply = exchange.reply;
    let status = reply
        .as_ref()
        .map_or_else(|_| "-".to_owned(), |r| r.status.as_u16().to_string());
    let outcome = reply.and_then(|r| {
        if r.status.as_u16() == expected {
            check(&r.body)
        } else {
            let code = r.body["code"]
                .as_str()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            Err(format!(
                "expected {expected}, got {}{code}",
                r.status.as_u16()
            ))
        }
    });
    let result = match &outcome {
        Ok(_) => "ok".to_owned(),
        Err(why) => format!("FAIL: {why}"),
    };
    println!("{name:<24} {status:>6} {millis:>9}  {result}");
    outcome.ok()
}

/// `Ok` when `condition` holds, else the reason `why`.
pub(crate) fn expect(condition: bool, why: &str) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(why.to_owned())
    }
}
