//! Backups as pure rules: which backups a retention policy keeps, and when a site's scheduled
//! backup runs.
//!
//! - [`select`] / [`keep`] / [`prune`]: grandfather-father-son retention. The policy keeps the
//!   newest backup of each of the `daily` most recent days that have one, of each of the
//!   `weekly` most recent ISO weeks that have one, and of each of the `monthly` most recent
//!   months that have one (UTC calendar). A backup kept for several reasons counts for each, so
//!   at most `daily + weekly + monthly` backups are kept; everything else is pruned.
//! - [`slot_on`]: the instant of a site's scheduled backup on a day. Sites are spread over the
//!   day (or the week) by their id: any 1,440 consecutive site ids back up at 1,440 different
//!   minutes of the day, so not every site backs up at the same minute.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::Hash;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How many backups of each age to keep (keep N daily, M weekly, K monthly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RetentionPolicy {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            daily: 7,
            weekly: 4,
            monthly: 6,
        }
    }
}

impl RetentionPolicy {
    /// A policy keeps at least one backup, and at most a year of days, ten years of weeks or
    /// months.
    pub fn check(&self) -> Result<(), String> {
        if self.daily + self.weekly + self.monthly == 0 {
            return Err(
                "a retention policy keeps at least one backup (daily, weekly or monthly)".into(),
            );
        }
        if self.daily > 366 || self.weekly > 520 || self.monthly > 120 {
            return Err("keep at most 366 daily, 520 weekly and 120 monthly backups".into());
        }
        Ok(())
    }

    /// The most backups the policy can keep.
    pub fn most_kept(&self) -> u32 {
        self.daily + self.weekly + self.monthly
    }
}

/// One backup: its id and when it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    pub id: i64,
    pub at: DateTime<Utc>,
}

/// Why a backup is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeptFor {
    pub daily: bool,
    pub weekly: bool,
    pub monthly: bool,
}

/// Newest first; equal instants by the higher id first (the later request).
fn newest_first(backups: &[Taken]) -> Vec<Taken> {
    let mut sorted = backups.to_vec();
    sorted.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
    sorted
}

/// The newest backup of each of the `n` most recent buckets (`sorted` is newest first).
fn newest_per_bucket<K: Eq + Hash>(
    sorted: &[Taken],
    n: u32,
    bucket: impl Fn(&Taken) -> K,
) -> Vec<i64> {
    let mut seen = HashSet::new();
    let mut kept = Vec::new();
    for t in sorted {
        if seen.len() >= n as usize {
            break;
        }
        if seen.insert(bucket(t)) {
            kept.push(t.id);
        }
    }
    kept
}

/// Every backup the policy keeps, with why.
pub fn select(policy: &RetentionPolicy, backups: &[Taken]) -> BTreeMap<i64, KeptFor> {
    let sorted = newest_first(backups);
    let mut out: BTreeMap<i64, KeptFor> = BTreeMap::new();
    for id in newest_per_bucket(&sorted, policy.daily, |t| t.at.date_naive()) {
        out.entry(id).or_default().daily = true;
    }
    for id in newest_per_bucket(&sorted, policy.weekly, |t| {
        let w = t.at.iso_week();
        (w.year(), w.week())
    }) {
        out.entry(id).or_default().weekly = true;
    }
    for id in newest_per_bucket(&sorted, policy.monthly, |t| (t.at.year(), t.at.month())) {
        out.entry(id).or_default().monthly = true;
    }
    out
}

/// The ids of the backups the policy keeps.
pub fn keep(policy: &RetentionPolicy, backups: &[Taken]) -> BTreeSet<i64> {
    select(policy, backups).into_keys().collect()
}

/// The ids of the backups the policy does not keep, oldest first.
pub fn prune(policy: &RetentionPolicy, backups: &[Taken]) -> Vec<i64> {
    let kept = keep(policy, backups);
    let mut sorted = newest_first(backups);
    sorted.reverse();
    sorted
        .into_iter()
        .map(|t| t.id)
        .filter(|id| !kept.contains(id))
        .collect()
}

/// How often a site is backed up on schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    Off,
    Daily,
    Weekly,
}

impl Schedule {
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Off => "off",
            Schedule::Daily => "daily",
            Schedule::Weekly => "weekly",
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "off" => Ok(Schedule::Off),
            "daily" => Ok(Schedule::Daily),
            "weekly" => Ok(Schedule::Weekly),
            other => Err(format!("'{other}' is not a schedule: off, daily or weekly")),
        }
    }
}

const DAY_MINUTES: i64 = 24 * 60;
const WEEK_MINUTES: i64 = 7 * DAY_MINUTES;
/// Coprime with 10,080 (= 2^5 x 3^2 x 5 x 7) and so with 1,440: multiplying by it permutes the
/// minutes, and consecutive ids land far apart.
const SPREAD: i64 = 997;

/// The minute of the UTC day (0..1440) of a site's daily backup.
pub fn minute_of_day(site_id: i64) -> u32 {
    (site_id.rem_euclid(DAY_MINUTES) * SPREAD % DAY_MINUTES) as u32
}

/// The minute of the week (0..10080, from Monday 00:00 UTC) of a site's weekly backup.
pub fn minute_of_week(site_id: i64) -> u32 {
    (site_id.rem_euclid(WEEK_MINUTES) * SPREAD % WEEK_MINUTES) as u32
}

/// The instant of the site's scheduled backup on `day` (UTC), if it has one that day.
pub fn slot_on(schedule: Schedule, site_id: i64, day: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = day.and_time(chrono::NaiveTime::MIN).and_utc();
    match schedule {
        Schedule::Off => None,
        Schedule::Daily => Some(midnight + Duration::minutes(i64::from(minute_of_day(site_id)))),
        Schedule::Weekly => {
            let m = i64::from(minute_of_week(site_id));
            let weekday = i64::from(day.weekday().num_days_from_monday());
            (m / DAY_MINUTES == weekday).then(|| midnight + Duration::minutes(m % DAY_MINUTES))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn taken(list: &[(i64, &str)]) -> Vec<Taken> {
        list.iter()
            .map(|(id, s)| Taken { id: *id, at: at(s) })
            .collect()
    }

    #[test]
    fn keeps_exactly_the_backups_the_policy_names() {
        // One backup a day at 02:00 from 2026-01-01 to 2026-03-31 (90 days), and a second one
        // on 2026-03-31 at 14:00 (a manual one).
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut all: Vec<Taken> = (0..90)
            .map(|i| Taken {
                id: i + 1,
                at: (start + Duration::days(i))
                    .and_hms_opt(2, 0, 0)
                    .unwrap()
                    .and_utc(),
            })
            .collect();
        all.push(Taken {
            id: 91,
            at: at("2026-03-31T14:00:00Z"),
        });
        let policy = RetentionPolicy {
            daily: 2,
            weekly: 2,
            monthly: 3,
        };
        let kept = select(&policy, &all);
        let by_date: Vec<(String, KeptFor)> = kept
            .iter()
            .map(|(id, why)| {
                let t = all.iter().find(|t| t.id == *id).unwrap();
                (t.at.format("%Y-%m-%d %H:%M").to_string(), *why)
            })
            .collect();
        let k = |daily, weekly, monthly| KeptFor {
            daily,
            weekly,
            monthly,
        };
        assert_eq!(
            by_date,
            vec![
                // January's newest, February's newest.
                ("2026-01-31 02:00".into(), k(false, false, true)),
                ("2026-02-28 02:00".into(), k(false, false, true)),
                // Sunday 29 March: the newest of ISO week 13.
                ("2026-03-29 02:00".into(), k(false, true, false)),
                // Mon 30 and the two of Tue 31: the later one of the 31st counts for the day,
                // for week 14 and for March.
                ("2026-03-30 02:00".into(), k(true, false, false)),
                ("2026-03-31 14:00".into(), k(true, true, true)),
            ]
        );
        // The morning backup of the 31st is pruned with the 85 older ones.
        let pruned = prune(&policy, &all);
        assert_eq!(pruned.len(), 91 - 5);
        assert_eq!(pruned.first(), Some(&1));
        assert!(pruned.contains(&90));
        assert!(!pruned.contains(&91));
    }

    #[test]
    fn an_empty_bucket_is_not_counted() {
        // Backups only every other week: weekly=2 reaches back four weeks.
        let all = taken(&[
            (1, "2026-03-02T02:00:00Z"),
            (2, "2026-03-16T02:00:00Z"),
            (3, "2026-03-30T02:00:00Z"),
        ]);
        let p = RetentionPolicy {
            daily: 0,
            weekly: 2,
            monthly: 0,
        };
        assert_eq!(keep(&p, &all), BTreeSet::from([2, 3]));
        assert_eq!(prune(&p, &all), vec![1]);
        assert!(keep(&p, &[]).is_empty());
    }

    #[test]
    fn policies_are_checked() {
        assert!(RetentionPolicy::default().check().is_ok());
        assert!(RetentionPolicy {
            daily: 0,
            weekly: 0,
            monthly: 0
        }
        .check()
        .is_err());
        assert!(RetentionPolicy {
            daily: 400,
            weekly: 0,
            monthly: 0
        }
        .check()
        .is_err());
        assert_eq!("weekly".parse::<Schedule>(), Ok(Schedule::Weekly));
        assert!("hourly".parse::<Schedule>().is_err());
    }

    #[test]
    fn sites_spread_over_the_day_and_the_week() {
        // Any 1,440 consecutive ids use every minute of the day once.
        for start in [0_i64, 1, 977, 100_000] {
            let minutes: BTreeSet<u32> = (start..start + 1440).map(minute_of_day).collect();
            assert_eq!(minutes.len(), 1440);
        }
        let week: BTreeSet<u32> = (1..=10_080).map(minute_of_week).collect();
        assert_eq!(week.len(), 10_080);
        // Neighbours are far apart.
        assert!(minute_of_day(1).abs_diff(minute_of_day(2)) > 60);
        // A weekly site has its slot on exactly one day of any week.
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        for id in [1_i64, 2, 3, 5000] {
            let days = (0..7)
                .filter(|d| slot_on(Schedule::Weekly, id, monday + Duration::days(*d)).is_some())
                .count();
            assert_eq!(days, 1, "site {id}");
        }
        assert_eq!(slot_on(Schedule::Off, 1, monday), None);
        let slot = slot_on(Schedule::Daily, 1, monday).unwrap();
        assert_eq!(slot.date_naive(), monday);
        assert_eq!(
            (slot - monday.and_time(chrono::NaiveTime::MIN).and_utc()).num_minutes(),
            i64::from(minute_of_day(1))
        );
    }

    fn backups() -> impl Strategy<Value = Vec<Taken>> {
        // Up to 120 backups over about two years, with duplicates of the same instant.
        prop::collection::vec(0_i64..(730 * 24 * 4), 0..120).prop_map(|quarters| {
            let base = at("2025-01-01T00:00:00Z");
            quarters
                .into_iter()
                .enumerate()
                .map(|(i, q)| Taken {
                    id: i as i64 + 1,
                    at: base + Duration::minutes(q * 15),
                })
                .collect()
        })
    }

    fn policies() -> impl Strategy<Value = RetentionPolicy> {
        (0_u32..10, 0_u32..8, 0_u32..14).prop_map(|(daily, weekly, monthly)| RetentionPolicy {
            daily,
            weekly,
            monthly,
        })
    }

    proptest! {
        #[test]
        fn keep_and_prune_split_the_backups(p in policies(), all in backups()) {
            let kept = keep(&p, &all);
            let pruned = prune(&p, &all);
            prop_assert_eq!(kept.len() + pruned.len(), all.len());
            prop_assert!(pruned.iter().all(|id| !kept.contains(id)));
            prop_assert!(kept.len() as u32 <= p.most_kept());
        }

        #[test]
        fn the_newest_backup_is_kept_by_any_policy_that_keeps_something(
            p in policies(), all in backups()
        ) {
            prop_assume!(p.most_kept() > 0 && !all.is_empty());
            let newest = newest_first(&all)[0].id;
            prop_assert!(keep(&p, &all).contains(&newest));
        }

        #[test]
        fn daily_keeps_one_per_day_for_the_newest_days(p in policies(), all in backups()) {
            let sel = select(&p, &all);
            let days: BTreeSet<NaiveDate> = all.iter().map(|t| t.at.date_naive()).collect();
            let daily: Vec<&Taken> = all.iter().filter(|t| sel.get(&t.id).is_some_and(|w| w.daily)).collect();
            prop_assert_eq!(daily.len(), days.len().min(p.daily as usize));
            // One per day, each the newest of its day, and the days are the newest ones.
            let kept_days: BTreeSet<NaiveDate> = daily.iter().map(|t| t.at.date_naive()).collect();
            prop_assert_eq!(kept_days.len(), daily.len());
            let newest_days: BTreeSet<NaiveDate> = days.iter().rev().take(p.daily as usize).copied().collect();
            prop_assert_eq!(&kept_days, &newest_days);
            for t in daily {
                prop_assert!(all.iter().all(|o| o.at.date_naive() != t.at.date_naive() || o.at <= t.at));
            }
        }

        #[test]
        fn pruning_again_prunes_nothing(p in policies(), all in backups()) {
            let kept: Vec<Taken> = {
                let k = keep(&p, &all);
                all.iter().filter(|t| k.contains(&t.id)).copied().collect()
            };
            prop_assert!(prune(&p, &kept).is_empty());
        }

        #[test]
        fn a_larger_policy_keeps_a_superset(p in policies(), all in backups(), more in 0_u32..5) {
            let bigger = RetentionPolicy { daily: p.daily + more, weekly: p.weekly + more, monthly: p.monthly + more };
            prop_assert!(keep(&p, &all).is_subset(&keep(&bigger, &all)));
        }

        #[test]
        fn the_order_of_the_input_does_not_matter(p in policies(), all in backups()) {
            let mut reversed = all.clone();
            reversed.reverse();
            prop_assert_eq!(keep(&p, &all), keep(&p, &reversed));
        }

        #[test]
        fn a_slot_is_on_its_day(id in 1_i64..10_000_000, offset in 0_i64..3650) {
            let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(offset);
            let slot = slot_on(Schedule::Daily, id, day).unwrap();
            prop_assert_eq!(slot.date_naive(), day);
            prop_assert!(minute_of_day(id) < 1440 && minute_of_week(id) < 10_080);
        }
    }
}
