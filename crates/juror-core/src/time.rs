//! Timestamps: UTC instants with microsecond precision, ordered and cheap to store.

use chrono::{DateTime, NaiveDateTime, Utc};

/// A UTC instant, stored as microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Self(Utc::now().timestamp_micros())
    }

    /// The instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// Microseconds since the epoch.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// ISO-8601 without an offset and with microseconds, e.g. `2024-06-01T10:20:30.123456`.
    pub fn to_naive_iso(self) -> String {
        let datetime = DateTime::<Utc>::from_timestamp_micros(self.0).unwrap_or_default();
        datetime.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    }

    /// Reads an ISO-8601 date or date-time, with or without an offset (naive means UTC).
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(datetime) = DateTime::parse_from_rfc3339(text) {
            return Some(Self(datetime.timestamp_micros()));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
                return Some(Self(naive.and_utc().timestamp_micros()));
            }
        }
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|naive| Self(naive.and_utc().timestamp_micros()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_naive_iso_with_microseconds() {
        let ts = Timestamp::from_micros(1_717_237_230_123_456);
        assert_eq!(ts.to_naive_iso(), "2024-06-01T10:20:30.123456");
    }

    #[test]
    fn parses_naive_offset_and_date_forms() {
        let ts = Timestamp::from_micros(1_717_237_230_123_456);
        assert_eq!(Timestamp::parse("2024-06-01T10:20:30.123456"), Some(ts));
        assert_eq!(Timestamp::parse("2024-06-01T12:20:30.123456+02:00"), Some(ts));
        assert_eq!(Timestamp::parse("2024-06-01"), Some(Timestamp::from_micros(1_717_200_000_000_000)));
        assert_eq!(Timestamp::parse("yesterday"), None);
    }
}
