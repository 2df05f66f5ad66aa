//! Billing anchors: a day of the month that clamps to shorter months without drifting
//! (anchor 31: Jan 31, Feb 28/29, Mar 31).

use chrono::{Datelike, NaiveDate};

/// The anchor day in a given month, clamped to the month's last day.
pub fn anchor_in_month(year: i32, month: u32, anchor_day: u32) -> Option<NaiveDate> {
    let last = last_day_of_month(year, month)?;
    NaiveDate::from_ymd_opt(year, month, anchor_day.clamp(1, 31).min(last))
}

pub fn last_day_of_month(year: i32, month: u32) -> Option<u32> {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    Some(NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()?.day())
}

/// The first anchor date strictly after `date`.
pub fn next_anchor_after(date: NaiveDate, anchor_day: u32) -> Option<NaiveDate> {
    let this_month = anchor_in_month(date.year(), date.month(), anchor_day)?;
    if this_month > date {
        return Some(this_month);
    }
    let (y, m) = if date.month() == 12 {
        (date.year() + 1, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    anchor_in_month(y, m, anchor_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn anchor_31_clamps_without_drifting() {
        let mut date = d(2026, 1, 31);
        let mut seen = vec![date];
        for _ in 0..3 {
            date = next_anchor_after(date, 31).unwrap();
            seen.push(date);
        }
        assert_eq!(
            seen,
            [
                d(2026, 1, 31),
                d(2026, 2, 28),
                d(2026, 3, 31),
                d(2026, 4, 30)
            ]
        );
        assert_eq!(next_anchor_after(d(2028, 1, 31), 31), Some(d(2028, 2, 29)));
        assert_eq!(next_anchor_after(d(2026, 12, 15), 1), Some(d(2027, 1, 1)));
        assert_eq!(
            next_anchor_after(d(2026, 12, 15), 20),
            Some(d(2026, 12, 20))
        );
    }
}
