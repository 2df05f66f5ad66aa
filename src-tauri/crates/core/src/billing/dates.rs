//! Billing dates are calendar dates in the client's time zone, never the laptop's.
//!
//! A [`BillingCycle`] is an anchor day (1-31, clamped to short months without drifting), a
//! [`Period`] and, for quarters and years, the month phase of the cycle (which months periods
//! start in). A [`BillingPeriod`] is a half-open range of dates `[start, end)`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::invalid;
use crate::catalog::Period;
use crate::period::anchor_in_month;
use crate::CoreError;

/// The calendar date of `instant` in the client's time zone `tz`.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The first instant of the local calendar day `date` in `tz`. Where local midnight does not
/// exist (a DST gap at 00:00, as in America/Santiago), the day starts at its first local time
/// that does. A day skipped entirely (Pacific/Apia, 2011-12-30) is an error.
pub fn local_day_start(date: NaiveDate, tz: Tz) -> Result<DateTime<Utc>, CoreError> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    // Gaps are whole quarter hours; walk forward through the day until a local time exists.
    for quarter in 0..(24 * 4) {
        let local = midnight + Duration::minutes(15 * quarter);
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return Ok(t.with_timezone(&Utc));
        }
    }
    Err(invalid(
        "date",
        format!("{date} does not exist in the time zone {tz}"),
    ))
}

/// A half-open range of calendar dates `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl BillingPeriod {
    /// A period with `start < end`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, CoreError> {
        if start < end {
            Ok(BillingPeriod { start, end })
        } else {
            Err(invalid(
                "period",
                format!("the period must end after it starts ({start} to {end})"),
            ))
        }
    }

    /// The number of days in the period (its actual length, 28 to 366 for calendar periods).
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// Days from `date` (included) to the end of the period (excluded); `date` must lie in it.
    pub fn days_from(&self, date: NaiveDate) -> Result<i64, CoreError> {
        if !self.contains(date) {
            return Err(invalid(
                "date",
                format!(
                    "{date} is outside the period {} to {}",
                    self.start, self.end
                ),
            ));
        }
        Ok((self.end - date).num_days())
    }
}

/// When a subscription's periods start: the anchor day, the period length and the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingCycle {
    anchor_day: u32,
    period: Period,
    phase_month: u32,
}

impl BillingCycle {
    /// `anchor_day` 1-31 (31 means the last day of shorter months); `phase_month` 1-12 is one
    /// month in which a period starts (ignored for monthly cycles, where every month does).
    pub fn new(anchor_day: u32, period: Period, phase_month: u32) -> Result<Self, CoreError> {
        if !(1..=31).contains(&anchor_day) {
            return Err(invalid(
                "anchorDay",
                format!("{anchor_day} is not a day of the month (1 to 31)"),
            ));
        }
        if !(1..=12).contains(&phase_month) {
            return Err(invalid(
                "phaseMonth",
                format!("{phase_month} is not a month (1 to 12)"),
            ));
        }
        let phase_month = if period == Period::Month {
            1
        } else {
            phase_month
        };
        Ok(BillingCycle {
            anchor_day,
            period,
            phase_month,
        })
    }

    /// A monthly cycle on `anchor_day`.
    pub fn monthly(anchor_day: u32) -> Result<Self, CoreError> {
        BillingCycle::new(anchor_day, Period::Month, 1)
    }

    /// The cycle whose periods include one starting on `start`, which must be the (clamped)
    /// anchor date of its month: with anchor 31, Feb 28 2026 is a valid start.
    pub fn starting_on(
        start: NaiveDate,
        anchor_day: u32,
        period: Period,
    ) -> Result<Self, CoreError> {
        let cycle = BillingCycle::new(anchor_day, period, start.month())?;
        if cycle.anchor_at(month_index(start))? != start {
            return Err(invalid(
                "start",
                format!("{start} is not an anchor date for anchor day {anchor_day}"),
            ));
        }
        Ok(cycle)
    }

    pub fn anchor_day(&self) -> u32 {
        self.anchor_day
    }

    pub fn period(&self) -> Period {
        self.period
    }

    pub fn phase_month(&self) -> u32 {
        self.phase_month
    }

    /// The period `[start, end)` that contains `date`.
    pub fn period_containing(&self, date: NaiveDate) -> Result<BillingPeriod, CoreError> {
        let months = i64::from(self.period.months());
        let idx = month_index(date);
        let mut base = idx - (idx - i64::from(self.phase_month - 1)).rem_euclid(months);
        if self.anchor_at(base)? > date {
            base -= months;
        }
        let start = self.anchor_at(base)?;
        let end = self.anchor_at(base + months)?;
        BillingPeriod::new(start, end)
    }

    /// The period that follows `period` (which starts where `period` ends).
    pub fn next_period(&self, period: &BillingPeriod) -> Result<BillingPeriod, CoreError> {
        self.period_containing(period.end)
    }

    /// The first period start strictly after `date`: the next billing date.
    pub fn next_billing_date(&self, date: NaiveDate) -> Result<NaiveDate, CoreError> {
        Ok(self.period_containing(date)?.end)
    }

    /// The anchor date in the month with index `idx` (year x 12 + month - 1).
    fn anchor_at(&self, idx: i64) -> Result<NaiveDate, CoreError> {
        let out_of_range = || invalid("date", "the date is out of the supported range");
        let year = i32::try_from(idx.div_euclid(12)).map_err(|_| out_of_range())?;
        let month = u32::try_from(idx.rem_euclid(12) + 1).map_err(|_| out_of_range())?;
        anchor_in_month(year, month, self.anchor_day).ok_or_else(out_of_range)
    }
}

fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn p(a: NaiveDate, b: NaiveDate) -> BillingPeriod {
        BillingPeriod::new(a, b).unwrap()
    }

    #[test]
    fn monthly_periods_examples() {
        let table = [
            // (anchor, date, start, end)
            (1, d(2026, 3, 15), d(2026, 3, 1), d(2026, 4, 1)),
            (1, d(2026, 3, 1), d(2026, 3, 1), d(2026, 4, 1)),
            (1, d(2026, 2, 28), d(2026, 2, 1), d(2026, 3, 1)),
            (15, d(2026, 3, 14), d(2026, 2, 15), d(2026, 3, 15)),
            (15, d(2026, 3, 15), d(2026, 3, 15), d(2026, 4, 15)),
            (15, d(2026, 12, 20), d(2026, 12, 15), d(2027, 1, 15)),
            (15, d(2027, 1, 3), d(2026, 12, 15), d(2027, 1, 15)),
            // anchor 31 clamps without drifting
            (31, d(2026, 1, 31), d(2026, 1, 31), d(2026, 2, 28)),
            (31, d(2026, 2, 27), d(2026, 1, 31), d(2026, 2, 28)),
            (31, d(2026, 2, 28), d(2026, 2, 28), d(2026, 3, 31)),
            (31, d(2026, 3, 30), d(2026, 2, 28), d(2026, 3, 31)),
            (31, d(2026, 3, 31), d(2026, 3, 31), d(2026, 4, 30)),
            (31, d(2026, 4, 30), d(2026, 4, 30), d(2026, 5, 31)),
            (31, d(2028, 2, 29), d(2028, 2, 29), d(2028, 3, 31)),
            (30, d(2026, 2, 28), d(2026, 2, 28), d(2026, 3, 30)),
            (29, d(2026, 2, 28), d(2026, 2, 28), d(2026, 3, 29)),
            (29, d(2028, 2, 28), d(2028, 1, 29), d(2028, 2, 29)),
        ];
        for (anchor, date, start, end) in table {
            let got = BillingCycle::monthly(anchor)
                .unwrap()
                .period_containing(date)
                .unwrap();
            assert_eq!(got, p(start, end), "anchor {anchor}, date {date}");
            assert!(got.contains(date));
        }
    }

    #[test]
    fn anchor_31_walks_a_year_without_drifting() {
        let cycle = BillingCycle::monthly(31).unwrap();
        let mut period = cycle.period_containing(d(2027, 12, 31)).unwrap();
        let mut starts = vec![period.start];
        for _ in 0..13 {
            period = cycle.next_period(&period).unwrap();
            starts.push(period.start);
        }
        let want: Vec<NaiveDate> = [
            (2027, 12, 31),
            (2028, 1, 31),
            (2028, 2, 29),
            (2028, 3, 31),
            (2028, 4, 30),
            (2028, 5, 31),
            (2028, 6, 30),
            (2028, 7, 31),
            (2028, 8, 31),
            (2028, 9, 30),
            (2028, 10, 31),
            (2028, 11, 30),
            (2028, 12, 31),
            (2029, 1, 31),
        ]
        .into_iter()
        .map(|(y, m, dd)| d(y, m, dd))
        .collect();
        assert_eq!(starts, want);
    }

    #[test]
    fn yearly_anchor_on_feb_29_clamps_and_comes_back() {
        // A yearly subscription started on Feb 29 2028 (anchor 29, phase February).
        let cycle = BillingCycle::starting_on(d(2028, 2, 29), 29, Period::Year).unwrap();
        let mut period = cycle.period_containing(d(2028, 2, 29)).unwrap();
        assert_eq!(period, p(d(2028, 2, 29), d(2029, 2, 28)));
        assert_eq!(period.days(), 365);
        let mut starts = vec![period.start];
        for _ in 0..4 {
            period = cycle.next_period(&period).unwrap();
            starts.push(period.start);
        }
        assert_eq!(
            starts,
            [
                d(2028, 2, 29),
                d(2029, 2, 28),
                d(2030, 2, 28),
                d(2031, 2, 28),
                d(2032, 2, 29)
            ]
        );
        // The leap-year period is 366 days.
        assert_eq!(cycle.period_containing(d(2031, 6, 1)).unwrap().days(), 366);
        // A date before the anchor in the anchor month belongs to the previous year.
        assert_eq!(
            cycle.period_containing(d(2029, 2, 27)).unwrap(),
            p(d(2028, 2, 29), d(2029, 2, 28))
        );
    }

    #[test]
    fn monthly_anchor_on_feb_29() {
        let cycle = BillingCycle::monthly(29).unwrap();
        assert_eq!(
            cycle.period_containing(d(2028, 2, 29)).unwrap(),
            p(d(2028, 2, 29), d(2028, 3, 29))
        );
        assert_eq!(
            cycle.period_containing(d(2029, 2, 28)).unwrap(),
            p(d(2029, 2, 28), d(2029, 3, 29))
        );
        assert_eq!(
            cycle.period_containing(d(2029, 2, 27)).unwrap(),
            p(d(2029, 1, 29), d(2029, 2, 28))
        );
    }

    #[test]
    fn quarterly_periods_follow_the_phase() {
        let cycle = BillingCycle::new(31, Period::Quarter, 1).unwrap();
        let table = [
            (d(2026, 1, 31), d(2026, 1, 31), d(2026, 4, 30)),
            (d(2026, 4, 29), d(2026, 1, 31), d(2026, 4, 30)),
            (d(2026, 4, 30), d(2026, 4, 30), d(2026, 7, 31)),
            (d(2026, 1, 30), d(2025, 10, 31), d(2026, 1, 31)),
            (d(2026, 12, 1), d(2026, 10, 31), d(2027, 1, 31)),
        ];
        for (date, start, end) in table {
            assert_eq!(
                cycle.period_containing(date).unwrap(),
                p(start, end),
                "{date}"
            );
        }
        let q = BillingCycle::new(15, Period::Quarter, 2).unwrap();
        assert_eq!(
            q.period_containing(d(2026, 1, 20)).unwrap(),
            p(d(2025, 11, 15), d(2026, 2, 15))
        );
        assert_eq!(q.next_billing_date(d(2026, 2, 15)).unwrap(), d(2026, 5, 15));
    }

    #[test]
    fn invalid_cycles_are_refused() {
        assert!(BillingCycle::monthly(0).is_err());
        assert!(BillingCycle::monthly(32).is_err());
        assert!(BillingCycle::new(1, Period::Year, 13).is_err());
        assert!(BillingCycle::starting_on(d(2026, 2, 27), 31, Period::Year).is_err());
        assert!(BillingCycle::starting_on(d(2026, 2, 28), 31, Period::Year).is_ok());
        assert!(BillingPeriod::new(d(2026, 1, 1), d(2026, 1, 1)).is_err());
        assert!(p(d(2026, 1, 1), d(2026, 2, 1))
            .days_from(d(2026, 2, 1))
            .is_err());
    }

    #[test]
    fn local_date_is_the_clients_not_utc() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // Paris springs forward on 2026-03-29 at 01:00 UTC.
        // 23:30 UTC the evening before is already 00:30 on the 29th in Paris (CET, +1).
        let t = utc("2026-03-28T23:30:00Z");
        assert_eq!(t.date_naive(), d(2026, 3, 28));
        assert_eq!(local_date(t, paris), d(2026, 3, 29));
        // After the change Paris is +2: 22:30 UTC on the 29th is 00:30 on the 30th.
        assert_eq!(
            local_date(utc("2026-03-29T22:30:00Z"), paris),
            d(2026, 3, 30)
        );
        assert_eq!(
            local_date(utc("2026-03-29T21:59:59Z"), paris),
            d(2026, 3, 29)
        );
        // New York springs forward on 2026-03-08 at 07:00 UTC (02:00 EST).
        // 03:30 UTC on the 8th is still 22:30 on the 7th in New York (EST, -5).
        let t = utc("2026-03-08T03:30:00Z");
        assert_eq!(t.date_naive(), d(2026, 3, 8));
        assert_eq!(local_date(t, ny), d(2026, 3, 7));
        // New York falls back on 2026-11-01 at 06:00 UTC; 04:30 UTC is 00:30 EDT on Nov 1.
        assert_eq!(local_date(utc("2026-11-01T03:59:59Z"), ny), d(2026, 10, 31));
        assert_eq!(local_date(utc("2026-11-01T04:00:00Z"), ny), d(2026, 11, 1));
    }

    #[test]
    fn period_boundary_on_a_dst_change_day() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // Anchor 29 in Paris: the period starting on the DST day begins at local midnight,
        // which is 23:00 UTC on the 28th.
        let cycle = BillingCycle::monthly(29).unwrap();
        let t = utc("2026-03-28T23:30:00Z");
        let period = cycle.period_containing(local_date(t, paris)).unwrap();
        assert_eq!(period, p(d(2026, 3, 29), d(2026, 4, 29)));
        // With the laptop's (UTC) date it would wrongly fall in the previous period.
        let wrong = cycle.period_containing(t.date_naive()).unwrap();
        assert_eq!(wrong, p(d(2026, 2, 28), d(2026, 3, 29)));
        assert_eq!(
            local_day_start(d(2026, 3, 29), paris).unwrap(),
            utc("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            local_day_start(d(2026, 3, 30), paris).unwrap(),
            utc("2026-03-29T22:00:00Z")
        );
        // The DST day itself is 23 hours long in Paris.
        let len = local_day_start(d(2026, 3, 30), paris).unwrap()
            - local_day_start(d(2026, 3, 29), paris).unwrap();
        assert_eq!(len, Duration::hours(23));

        // Anchor 8 in New York: 03:30 UTC on the 8th is still the 7th there.
        let cycle = BillingCycle::monthly(8).unwrap();
        let t = utc("2026-03-08T03:30:00Z");
        assert_eq!(
            cycle.period_containing(local_date(t, ny)).unwrap(),
            p(d(2026, 2, 8), d(2026, 3, 8))
        );
        assert_eq!(
            cycle.period_containing(t.date_naive()).unwrap(),
            p(d(2026, 3, 8), d(2026, 4, 8))
        );
        assert_eq!(
            local_day_start(d(2026, 3, 8), ny).unwrap(),
            utc("2026-03-08T05:00:00Z")
        );
        assert_eq!(
            local_day_start(d(2026, 3, 9), ny).unwrap(),
            utc("2026-03-09T04:00:00Z")
        );
    }

    #[test]
    fn local_day_start_skips_a_midnight_gap() {
        // Chile springs forward at local midnight: 2024-09-08 00:00 does not exist.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let start = local_day_start(d(2024, 9, 8), santiago).unwrap();
        let local = start.with_timezone(&santiago);
        assert_eq!(local.date_naive(), d(2024, 9, 8));
        assert_eq!(local.time(), NaiveTime::from_hms_opt(1, 0, 0).unwrap());
        // Samoa skipped 2011-12-30 entirely.
        let apia: Tz = "Pacific/Apia".parse().unwrap();
        assert!(local_day_start(d(2011, 12, 30), apia).is_err());
    }
}
