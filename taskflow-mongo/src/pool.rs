//! Connection-pool use and checkout wait, counted from the driver's CMAP events (the driver
//! exposes no pool snapshot), for the `/metrics` endpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use taskflow_core::ports::{LatencyHistogram, PoolStats};

use crate::timing::AtomicHistogram;

/// Counters fed by the driver's pool events.
#[derive(Debug, Default)]
pub(crate) struct PoolCounters {
    open: AtomicU64,
    checked_out: AtomicU64,
    checkout_failures: AtomicU64,
    /// From checkout started to checked out (the driver measures it).
    wait: AtomicHistogram,
}

impl PoolCounters {
    /// An event handler that keeps `counters` current.
    pub(crate) fn handler(counters: Arc<Self>) -> EventHandler<CmapEvent> {
        EventHandler::callback(move |event| counters.record(&event))
    }

    fn record(&self, event: &CmapEvent) {
        let (counter, up) = match event {
            CmapEvent::ConnectionCreated(_) => (&self.open, true),
            CmapEvent::ConnectionClosed(_) => (&self.open, false),
            CmapEvent::ConnectionCheckedOut(out) => {
                self.wait.observe(out.duration);
                (&self.checked_out, true)
            }
            CmapEvent::ConnectionCheckedIn(_) => (&self.checked_out, false),
            CmapEvent::ConnectionCheckoutFailed(_) => (&self.checkout_failures, true),
            _ => return,
        };
        if up {
            counter.fetch_add(1, Ordering::Relaxed);
        } else {
            // Saturating: a close seen without its create (handler attached late) must not wrap.
            let _ =
                counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        }
    }

    /// The current state.
    pub(crate) fn snapshot(&self) -> PoolStats {
        PoolStats {
            open: self.open.load(Ordering::Relaxed),
            checked_out: self.checked_out.load(Ordering::Relaxed),
            checkout_failures: self.checkout_failures.load(Ordering::Relaxed),
        }
    }

    /// How long checkouts waited, since start.
    pub(crate) fn wait(&self) -> LatencyHistogram {
        self.wait.snapshot()
    }
}
