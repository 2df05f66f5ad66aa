use chrono::{DateTime, SecondsFormat, Utc};

/// Where "now" comes from: the system clock, or a fixed instant (`--now`, the test clock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    Fixed(DateTime<Utc>),
    /// The system clock moved forward (a sandbox workspace's "advance clock").
    Offset(chrono::TimeDelta),
}

impl Clock {
    /// Parses an RFC 3339 instant such as `2026-11-01T09:00:00Z`.
    pub fn fixed(rfc3339: &str) -> Result<Clock, String> {
        DateTime::parse_from_rfc3339(rfc3339.trim())
            .map(|t| Clock::Fixed(t.with_timezone(&Utc)))
            .map_err(|e| {
                format!(
                    "--now '{rfc3339}' is not an RFC 3339 instant ({e}); e.g. 2026-11-01T09:00:00Z"
                )
            })
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => *t,
            Clock::Offset(d) => Utc::now() + *d,
        }
    }

    /// This clock moved forward by `by`.
    pub fn advanced(self, by: chrono::TimeDelta) -> Clock {
        match self {
            Clock::System => Clock::Offset(by),
            Clock::Fixed(t) => Clock::Fixed(t + by),
            Clock::Offset(d) => Clock::Offset(d + by),
        }
    }

    /// The instant with milliseconds, for the job queue (which schedules sub-second retries).
    pub fn stamp_millis(&self) -> String {
        millis(self.now())
    }

    /// The instant as stored: RFC 3339, UTC, whole seconds.
    pub fn stamp(&self) -> String {
        self.now().to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// RFC 3339 UTC with milliseconds: the job queue's one time format.
pub fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
