//! The storage metrics, read from the store at every scrape (the store counts with its own
//! atomics; nothing here runs per request): pool connections, pool wait and command latency.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use taskflow_core::ports::{LatencyHistogram, StorageHealth};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    outcome: &'static str,
}

/// Encodes the store's [`PoolStats`](taskflow_core::ports::PoolStats) and
/// [`StorageTimings`](taskflow_core::ports::StorageTimings); stores without connections
/// (in memory) export none of these metrics.
pub(super) struct StorageCollector {
    health: Arc<dyn StorageHealth>,
}

impl StorageCollector {
    pub(super) fn new(health: Arc<dyn StorageHealth>) -> Self {
        Self { health }
    }
}

impl std::fmt::Debug for StorageCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageCollector")
    }
}

/// The buckets as the encoder takes them: per-bucket counts, the last one at `+Inf`
/// (which the encoder writes for `f64::MAX`).
fn buckets(histogram: &LatencyHistogram) -> Vec<(f64, u64)> {
    histogram
        .bounds
        .iter()
        .copied()
        .chain(std::iter::once(f64::MAX))
        .zip(histogram.counts.iter().copied())
        .collect()
}

impl Collector for StorageCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        if let Some(pool) = self.health.pool_stats() {
            let mut family = encoder.encode_descriptor(
                "storage_pool_connections",
                "Storage connection pool: open and checked_out connections now, checkout_failures since start",
                None,
                MetricType::Gauge,
            )?;
            for (state, value) in [
                ("open", pool.open),
                ("checked_out", pool.checked_out),
                ("checkout_failures", pool.checkout_failures),
            ] {
                let value = i64::try_from(value).unwrap_or(i64::MAX);
                family
                    .encode_family(&StateLabels { state })?
                    .encode_gauge(&value)?;
            }
        }
        let Some(timings) = self.health.timings() else {
            return Ok(());
        };
        let wait = &timings.pool_wait;
        encoder
            .encode_descriptor(
                "storage_pool_wait_seconds",
                "Time from asking the connection pool for a connection to getting one",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(wait.sum_seconds, wait.count(), &buckets(wait), None)?;
        let mut family = encoder.encode_descriptor(
            "storage_command_duration_seconds",
            "Storage command latency (round trip included) by command name and outcome",
            None,
            MetricType::Histogram,
        )?;
        for command in &timings.commands {
            let labels = CommandLabels {
                command: command.command.clone(),
                outcome: command.outcome.as_str(),
            };
            let latency = &command.latency;
            family
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(
                    latency.sum_seconds,
                    latency.count(),
                    &buckets(latency),
                    None,
                )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use taskflow_core::StorageError;
    use taskflow_core::ports::{CommandLatency, CommandOutcome, PoolStats, StorageTimings};

    use super::*;
    use crate::metrics::Metrics;

    struct Pooled;

    fn histogram(counts: [u64; 3], sum_seconds: f64) -> LatencyHistogram {
        LatencyHistogram {
            bounds: vec![0.001, 0.01],
            counts: counts.to_vec(),
            sum_seconds,
        }
    }

    #[async_trait]
    impl StorageHealth for Pooled {
        async fn ping(&self) -> Result<(), StorageError> {
            Ok(())
        }
        fn pool_stats(&self) -> Option<PoolStats> {
            Some(PoolStats {
                open: 3,
                checked_out: 1,
                checkout_failures: 2,
            })
        }
        fn timings(&self) -> Option<StorageTimings> {
            Some(StorageTimings {
                pool_wait: histogram([4, 1, 0], 0.007),
                commands: vec![
                    CommandLatency {
                        command: "find".into(),
                        outcome: CommandOutcome::Succeeded,
                        latency: histogram([1, 2, 3], 1.5),
                    },
                    CommandLatency {
                        command: "insert".into(),
                        outcome: CommandOutcome::Failed,
                        latency: histogram([0, 0, 1], 0.25),
                    },
                ],
            })
        }
    }

    fn rendered(health: Arc<dyn StorageHealth>) -> String {
        let mut metrics = Metrics::default();
        metrics.attach_storage(health);
        metrics.render()
    }

    #[test]
    fn the_stores_pool_and_latencies_are_exposed_at_scrape_time() {
        let text = rendered(Arc::new(Pooled));
        for line in [
            "# TYPE taskflow_storage_pool_connections gauge",
            r#"taskflow_storage_pool_connections{state="open"} 3"#,
            r#"taskflow_storage_pool_connections{state="checked_out"} 1"#,
            r#"taskflow_storage_pool_connections{state="checkout_failures"} 2"#,
            "# TYPE taskflow_storage_pool_wait_seconds histogram",
            "taskflow_storage_pool_wait_seconds_count 5",
            r#"taskflow_storage_pool_wait_seconds_bucket{le="0.001"} 4"#,
            r#"taskflow_storage_pool_wait_seconds_bucket{le="+Inf"} 5"#,
            "# TYPE taskflow_storage_command_duration_seconds histogram",
            r#"taskflow_storage_command_duration_seconds_count{command="find",outcome="succeeded"} 6"#,
            r#"taskflow_storage_command_duration_seconds_bucket{le="0.01",command="find",outcome="succeeded"} 3"#,
            r#"taskflow_storage_command_duration_seconds_sum{command="find",outcome="succeeded"} 1.5"#,
            r#"taskflow_storage_command_duration_seconds_count{command="insert",outcome="failed"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
    }

    struct Memory;

    #[async_trait]
    impl StorageHealth for Memory {
        async fn ping(&self) -> Result<(), StorageError> {
            Ok(())
        }
    }

    #[test]
    fn a_store_without_connections_exports_no_storage_metrics() {
        let text = rendered(Arc::new(Memory));
        assert!(!text.contains("taskflow_storage_pool"), "{text}");
        assert!(!text.contains("storage_command"), "{text}");
    }
}
