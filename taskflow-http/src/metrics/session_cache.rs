//! The session-check cache's counters, read from the auth service at every scrape (the cache
//! counts with its own atomics; nothing here runs per request): checks answered from memory
//! (`hit`) or from storage (`miss`), and fresh entries evicted because the cache was full.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use taskflow_core::service::AuthService;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// Encodes [`AuthService::session_cache_stats`].
pub(super) struct SessionCacheCollector {
    auth: AuthService,
}

impl SessionCacheCollector {
    pub(super) fn new(auth: AuthService) -> Self {
        Self { auth }
    }
}

impl std::fmt::Debug for SessionCacheCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionCacheCollector")
    }
}

impl Collector for SessionCacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let stats = self.auth.session_cache_stats();
        let mut lookups = encoder.encode_descriptor(
            "session_cache_lookups",
            "Session checks of authenticated requests, answered from this instance's cache (hit) or from storage (miss)",
            None,
            MetricType::Counter,
        )?;
        for (result, value) in [("hit", stats.hits), ("miss", stats.misses)] {
            lookups
                .encode_family(&ResultLabels { result })?
                .encode_counter::<NoLabelSet, _, u64>(&value, None)?;
        }
        encoder
            .encode_descriptor(
                "session_cache_evictions",
                "Cached session checks dropped before their TTL because the cache was full",
                None,
                MetricType::Counter,
            )?
            .encode_counter::<NoLabelSet, _, u64>(&stats.evictions, None)?;
        Ok(())
    }
}
