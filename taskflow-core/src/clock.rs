//! Time as the domain sees it: millisecond-precision UTC instants and an injectable clock.
//!
//! Milliseconds because that is what BSON dates keep: every store must give back exactly the
//! instant it was handed, or cursors and ordering would differ between stores.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Smallest representable instant: 0001-01-01T00:00:00Z (RFC 3339 needs a four-digit year).
const MIN_MILLIS: i64 = -62_135_596_800_000;
/// Largest representable instant: 9999-12-31T23:59:59.999Z.
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// A UTC instant with millisecond precision, between the years 1 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not RFC 3339 (`2026-11-26T10:00:00Z`, any offset).
    #[error("must be an RFC 3339 date-time such as 2026-11-26T10:00:00Z")]
    Format,
    /// Outside the years 1..=9999.
    #[error("must be between the years 1 and 9999")]
    Range,
}

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch, if it is in range.
    pub const fn from_unix_millis(millis: i64) -> Option<Self> {
        if millis < MIN_MILLIS || millis > MAX_MILLIS {
            None
        } else {
            Some(Self(millis))
        }
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 with any offset, normalised to UTC; sub-millisecond digits are dropped.
    ///
    /// # Errors
    /// [`TimestampError::Format`] for anything that is not RFC 3339,
    /// [`TimestampError::Range`] outside the years 1..=9999.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| TimestampError::Format)?;
        let millis = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
        i64::try_from(millis)
            .ok()
            .and_then(Self::from_unix_millis)
            .ok_or(TimestampError::Range)
    }

    /// This instant moved forward by `by`, saturating at the end of the representable range.
    #[must_use]
    pub fn saturating_add(self, by: Duration) -> Self {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis).min(MAX_MILLIS))
    }

    /// This instant moved back by `by`, saturating at the start of the representable range.
    #[must_use]
    pub fn saturating_sub(self, by: Duration) -> Self {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(millis).max(MIN_MILLIS))
    }

    fn to_datetime(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 1_000_000;
        // In range by construction: MIN_MILLIS..=MAX_MILLIS is inside what `time` supports.
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(UtcOffset::UTC)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with exactly three fractional digits: `2026-11-26T10:00:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.to_datetime();
        // Fixed width (years 1..=9999), digits put straight into one buffer: this runs four
        // times for every task of a response, where `write!` with padding showed in profiles.
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for digit in buf[at..at + width].iter_mut().rev() {
                *digit = b'0' + u8::try_from(value % 10).unwrap_or(0);
                value /= 10;
            }
        };
        put(0, 4, u32::try_from(dt.year()).unwrap_or(0));
        put(5, 2, u32::from(u8::from(dt.month())));
        put(8, 2, u32::from(dt.day()));
        put(11, 2, u32::from(dt.hour()));
        put(14, 2, u32::from(dt.minute()));
        put(17, 2, u32::from(dt.second()));
        put(20, 3, u32::from(dt.millisecond()));
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// A source of the current time, injected so that tests and simulations control it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        i64::try_from(millis)
            .ok()
            .and_then(Timestamp::from_unix_millis)
            .unwrap_or(Timestamp(MAX_MILLIS))
    }
}

/// A clock that only moves when told to: for tests, simulations and deterministic embedding.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.0))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// Puts the clock at `to` (backwards too, to test clock skew).
    pub fn set(&self, to: Timestamp) {
        self.0.store(to.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let millis = self.0.load(Ordering::SeqCst).clamp(MIN_MILLIS, MAX_MILLIS);
        Timestamp(millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_offset_into_utc_millis() {
        let t = Timestamp::parse_rfc3339("2026-11-26T12:00:00.123456+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-26T10:00:00.123Z");
        let z = Timestamp::parse_rfc3339("2026-11-26T10:00:00Z").unwrap();
        assert_eq!(z.to_string(), "2026-11-26T10:00:00.000Z");
        assert_eq!(z.unix_millis(), 1_795_687_200_000);
    }

    #[test]
    fn rejects_non_rfc3339() {
        for bad in ["", "2026-11-26", "tomorrow", "2026-13-01T00:00:00Z"] {
            assert_eq!(
                Timestamp::parse_rfc3339(bad),
                Err(TimestampError::Format),
                "{bad}"
            );
        }
    }

    #[test]
    fn range_is_enforced() {
        assert!(Timestamp::from_unix_millis(MAX_MILLIS).is_some());
        assert!(Timestamp::from_unix_millis(MAX_MILLIS + 1).is_none());
        assert!(Timestamp::from_unix_millis(MIN_MILLIS - 1).is_none());
        assert_eq!(
            Timestamp::from_unix_millis(MIN_MILLIS).unwrap().to_string(),
            "0001-01-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("0000-12-31T23:59:59Z"),
            Err(TimestampError::Range)
        );
    }

    #[test]
    fn display_round_trips() {
        let t = Timestamp::from_unix_millis(-1).unwrap();
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_string()).unwrap(), t);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Timestamp::from_unix_millis(1_000).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now().unix_millis(), 3_000);
    }
}
