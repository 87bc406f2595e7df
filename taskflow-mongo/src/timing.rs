//! Latencies from the driver's monitoring events (connection checkout, commands), kept in
//! lock-free histograms and read as [`taskflow_core::ports::StorageTimings`] at scrape time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use taskflow_core::ports::{CommandLatency, CommandOutcome, LatencyHistogram};

/// Bucket upper bounds: 100 µs doubling to about 6.5 s (a pool wait or a command past that
/// is an outage, whatever its exact time).
const BOUNDS: [f64; 17] = [
    0.000_1, 0.000_2, 0.000_4, 0.000_8, 0.001_6, 0.003_2, 0.006_4, 0.012_8, 0.025_6, 0.051_2,
    0.102_4, 0.204_8, 0.409_6, 0.819_2, 1.638_4, 3.276_8, 6.553_6,
];

/// A fixed-bucket histogram that event callbacks update without locking.
#[derive(Debug, Default)]
pub(crate) struct AtomicHistogram {
    counts: [AtomicU64; BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl AtomicHistogram {
    /// Counts one observation of `elapsed`.
    pub(crate) fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BOUNDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BOUNDS.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The state now (buckets and sum are read one by one: a scrape racing an observation
    /// may see it in one and not yet the other, which the next scrape corrects).
    pub(crate) fn snapshot(&self) -> LatencyHistogram {
        // Nanoseconds since start fit a f64's mantissa for over a hundred days of latency.
        #[allow(clippy::cast_precision_loss)]
        let sum_seconds = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        LatencyHistogram {
            bounds: BOUNDS.to_vec(),
            counts: self
                .counts
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect(),
            sum_seconds,
        }
    }
}

/// Command latencies by command name and outcome.
#[derive(Debug, Default)]
pub(crate) struct CommandTimings {
    by_command: RwLock<HashMap<(String, CommandOutcome), Arc<AtomicHistogram>>>,
}

impl CommandTimings {
    /// An event handler that records into `timings` and then hands every event to `next`
    /// (the application's own command monitor), if there is one.
    pub(crate) fn handler(
        timings: Arc<Self>,
        next: Option<EventHandler<CommandEvent>>,
    ) -> EventHandler<CommandEvent> {
        EventHandler::callback(move |event: CommandEvent| {
            timings.record(&event);
            if let Some(next) = &next {
                forward(next, event);
            }
        })
    }

    fn record(&self, event: &CommandEvent) {
        let (name, outcome, duration) = match event {
            CommandEvent::Succeeded(e) => (&e.command_name, CommandOutcome::Succeeded, e.duration),
            CommandEvent::Failed(e) => (&e.command_name, CommandOutcome::Failed, e.duration),
            _ => return,
        };
        let key = (name.clone(), outcome);
        let existing = self
            .by_command
            .read()
            .ok()
            .and_then(|map| map.get(&key).cloned());
        let histogram = existing.unwrap_or_else(|| {
            // A poisoned lock only means another recorder panicked mid-insert; the map is
            // still a valid map.
            let mut map = self
                .by_command
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(key).or_default().clone()
        });
        histogram.observe(duration);
    }

    /// Every command seen so far, sorted by name and outcome (a stable exposition order).
    pub(crate) fn snapshot(&self) -> Vec<CommandLatency> {
        let map = self
            .by_command
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out: Vec<CommandLatency> = map
            .iter()
            .map(|((command, outcome), histogram)| CommandLatency {
                command: command.clone(),
                outcome: *outcome,
                latency: histogram.snapshot(),
            })
            .collect();
        out.sort_by(|a, b| {
            (a.command.as_str(), a.outcome.as_str()).cmp(&(b.command.as_str(), b.outcome.as_str()))
        });
        out
    }
}

/// Delivers `event` to `handler` as the driver would (its own dispatch is private).
fn forward(handler: &EventHandler<CommandEvent>, event: CommandEvent) {
    match handler {
        EventHandler::Callback(callback) => callback(event),
        EventHandler::AsyncCallback(callback) => {
            tokio::spawn(callback(event));
        }
        EventHandler::TokioMpsc(sender) => {
            let sender = sender.clone();
            tokio::spawn(async move {
                let _ = sender.send(event).await;
            });
        }
        // A kind of handler added by a later driver version: not delivered rather than
        // guessed at.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_their_bucket_and_the_sum() {
        let histogram = AtomicHistogram::default();
        histogram.observe(Duration::from_micros(50));
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_secs(60));
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.counts.len(), snapshot.bounds.len() + 1);
        assert_eq!(snapshot.counts[0], 1, "50 µs <= 100 µs");
        assert_eq!(snapshot.counts[5], 1, "3 ms in (1.6 ms, 3.2 ms]");
        assert_eq!(
            snapshot.counts[BOUNDS.len()],
            1,
            "a minute is past every bound"
        );
        assert_eq!(snapshot.count(), 3);
        assert!(
            (snapshot.sum_seconds - 60.003_05).abs() < 1e-9,
            "{snapshot:?}"
        );
    }
}
