//! Time as the domain sees it: millisecond-precision UTC instants and an injectable clock.
//!
//! Milliseconds because that is what BSON dates keep: every store must give back exactly the
//! instant it was handed, or cursors and ordering would differ between stores.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Smallest representable instant: 0001-01-01T00:00:00Z (RFC 3339 needs a four-digit year).
const MIN_MILLIS: i64 = -62_135_596_800_000;
/// Largest representable instant: 9999-12-31T23:59:59.999Z.
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// A UTC instant with millisecond precision, between the years 1 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
}

impl Timestamp {
    /// The RFC 3339 text of this instant, in UTC with exactly three fractional digits.
    ///
    /// Straight integer arithmetic into a fixed-width buffer (years 1..=9999): it runs four
    /// times for every task of a list, where going through `time`'s calendar types (128-bit
    /// nanoseconds) and `fmt` machinery showed in the list's profile.
    pub fn rfc3339_bytes(self) -> [u8; 24] {
        const MILLIS_PER_DAY: u64 = 86_400_000;
        // Counted from 0001-01-01, every quantity is non-negative: unsigned arithmetic, no
        // Euclidean division.
        let since_year_one = u64::try_from(self.0 - MIN_MILLIS).unwrap_or(0);
        let days = u32::try_from(since_year_one / MILLIS_PER_DAY).unwrap_or(0);
        let of_day = u32::try_from(since_year_one % MILLIS_PER_DAY).unwrap_or(0);
        let (year, month, day) = civil_from_days(days);
        let mut buf = *b"0000-00-00T00:00:00.000Z";
        put_two_digits(&mut buf, 0, year / 100);
        put_two_digits(&mut buf, 2, year % 100);
        put_two_digits(&mut buf, 5, month);
        put_two_digits(&mut buf, 8, day);
        put_two_digits(&mut buf, 11, of_day / 3_600_000);
        put_two_digits(&mut buf, 14, of_day / 60_000 % 60);
        put_two_digits(&mut buf, 17, of_day / 1_000 % 60);
        let millis = of_day % 1_000;
        buf[20] = b'0' + u8::try_from(millis / 100).unwrap_or(0);
        put_two_digits(&mut buf, 21, millis % 100);
        buf
    }
}

/// Writes `value` (below 100) as two digits at `at`, from a table of the hundred pairs.
fn put_two_digits(buf: &mut [u8; 24], at: usize, value: u32) {
    const PAIRS: [u8; 200] = {
        let mut pairs = [0u8; 200];
        let (mut at, mut pair) = (0, 0u8);
        while pair < 100 {
            pairs[at] = b'0' + pair / 10;
            pairs[at + 1] = b'0' + pair % 10;
            at += 2;
            pair += 1;
        }
        pairs
    };
    let i = 2 * (value as usize % 100);
    buf[at] = PAIRS[i];
    buf[at + 1] = PAIRS[i + 1];
}

/// The proleptic Gregorian (year, month, day) of a count of days since 0001-01-01: Howard
/// Hinnant's `civil_from_days` (eras of 400 years counted from 0000-03-01, years starting in
/// March so that the leap day comes last).
fn civil_from_days(days: u32) -> (u32, u32, u32) {
    // 0000-03-01 is 306 days before 0001-01-01.
    let z = days + 306;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u32::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with exactly three fractional digits: `2026-11-26T10:00:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.rfc3339_bytes()).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `serialize_str`, not `collect_str`: no formatter adapter between the digits and the
        // output (ASCII digits only, so the UTF-8 check cannot fail).
        let text = self.rfc3339_bytes();
        serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
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
    use time::UtcOffset;

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

    /// The reference: `time`'s own RFC 3339 formatting of the same instant.
    fn reference(t: Timestamp) -> String {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.unix_millis()) * 1_000_000)
            .unwrap()
            .to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    #[test]
    fn display_agrees_with_time_at_calendar_edges() {
        let edges = [
            MIN_MILLIS,
            MAX_MILLIS,
            0,
            -1,
            951_782_400_000,   // 2000-02-29
            951_868_799_999,   // 2000-02-29T23:59:59.999
            4_107_542_400_000, // 2100-03-01 (2100 is not a leap year)
            -2_203_891_200_001,
        ];
        for millis in edges {
            let t = Timestamp::from_unix_millis(millis).unwrap();
            assert_eq!(t.to_string(), reference(t), "{millis}");
        }
    }

    proptest::proptest! {
        #[test]
        fn display_agrees_with_time(millis in MIN_MILLIS..=MAX_MILLIS) {
            let t = Timestamp::from_unix_millis(millis).unwrap();
            proptest::prop_assert_eq!(t.to_string(), reference(t));
            proptest::prop_assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", reference(t))
            );
        }
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
