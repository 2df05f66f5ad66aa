//! The end of a trial or a fixed term, as pure rules: which steps are due a number of days
//! before or after the expiry date (in the client's calendar).
//!
//! | step | when |
//! |---|---|
//! | `remind:D` | D days before the expiry date (only while it has not expired) |
//! | `expire` | on the expiry date: the site is disabled and the client mailed |
//! | `backup`, then `delete` | `grace_days` after it: a last backup, then the site is deleted |

use serde::{Deserialize, Serialize};

/// When reminders go out and how long an expired site is kept (disabled) before it is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct TermPolicy {
    /// Days before the expiry date a reminder is mailed.
    pub reminder_days: Vec<u32>,
    /// Days an expired site stays disabled before its last backup and deletion.
    pub grace_days: u32,
}

impl Default for TermPolicy {
    fn default() -> Self {
        TermPolicy {
            reminder_days: vec![7, 1],
            grace_days: 14,
        }
    }
}

impl TermPolicy {
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.reminder_days.iter().any(|d| *d == 0 || *d > 365) {
            return Err((
                "reminderDays",
                "reminders go out 1 to 365 days before the expiry date".into(),
            ));
        }
        if !(1..=365).contains(&self.grace_days) {
            return Err((
                "graceDays",
                "an expired site is kept 1 to 365 days before it is deleted".into(),
            ));
        }
        Ok(())
    }
}

/// One step of the end of a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TermStep {
    /// A reminder this many days before the expiry date.
    Remind(u32),
    Expire,
    Backup,
    Delete,
}

impl TermStep {
    /// The name recorded once the step is taken.
    pub fn key(self) -> String {
        match self {
            TermStep::Remind(d) => format!("remind:{d}"),
            TermStep::Expire => "expire".into(),
            TermStep::Backup => "backup".into(),
            TermStep::Delete => "delete".into(),
        }
    }
}

/// The steps due `days` days after the expiry date (negative: before it), in the order they
/// are taken. A reminder whose day has passed once the term expired is not due any more.
pub fn due_steps(policy: &TermPolicy, days: i64) -> Vec<TermStep> {
    let mut steps = Vec::new();
    if days < 0 {
        let mut reminders: Vec<u32> = policy
            .reminder_days
            .iter()
            .copied()
            .filter(|d| -days <= i64::from(*d))
            .collect();
        reminders.sort_unstable_by(|a, b| b.cmp(a));
        reminders.dedup();
        steps.extend(reminders.into_iter().map(TermStep::Remind));
        return steps;
    }
    steps.push(TermStep::Expire);
    if days >= i64::from(policy.grace_days) {
        steps.push(TermStep::Backup);
        steps.push(TermStep::Delete);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn steps_by_day() {
        let p = TermPolicy::default();
        let table: &[(i64, &[TermStep])] = &[
            (-30, &[]),
            (-7, &[TermStep::Remind(7)]),
            (-3, &[TermStep::Remind(7)]),
            (-1, &[TermStep::Remind(7), TermStep::Remind(1)]),
            (0, &[TermStep::Expire]),
            (13, &[TermStep::Expire]),
            (14, &[TermStep::Expire, TermStep::Backup, TermStep::Delete]),
            (400, &[TermStep::Expire, TermStep::Backup, TermStep::Delete]),
        ];
        for (days, want) in table {
            assert_eq!(due_steps(&p, *days), want.to_vec(), "day {days}");
        }
        assert_eq!(TermStep::Remind(7).key(), "remind:7");
        assert_eq!(TermStep::Delete.key(), "delete");
    }

    #[test]
    fn policies_are_checked() {
        assert!(TermPolicy::default().check().is_ok());
        let no_grace = TermPolicy {
            grace_days: 0,
            ..Default::default()
        };
        assert_eq!(no_grace.check().unwrap_err().0, "graceDays");
        let bad = TermPolicy {
            reminder_days: vec![0],
            ..Default::default()
        };
        assert_eq!(bad.check().unwrap_err().0, "reminderDays");
    }

    proptest! {
        #[test]
        fn never_deleted_before_the_grace_days_nor_reminded_after_expiry(
            grace in 1_u32..60, reminders in prop::collection::vec(1_u32..60, 0..4), days in -90_i64..120
        ) {
            let p = TermPolicy { reminder_days: reminders, grace_days: grace };
            let steps = due_steps(&p, days);
            let deletes = steps.contains(&TermStep::Delete);
            prop_assert_eq!(deletes, days >= i64::from(grace));
            prop_assert_eq!(steps.contains(&TermStep::Expire), days >= 0);
            if days >= 0 {
                prop_assert!(steps.iter().all(|s| !matches!(s, TermStep::Remind(_))));
            }
            // A backup always comes before the deletion.
            if let Some(d) = steps.iter().position(|s| *s == TermStep::Delete) {
                prop_assert!(steps[..d].contains(&TermStep::Backup));
            }
            // What is due on a day stays due on the next (the sweep may miss a day).
            if days >= 0 {
                let next = due_steps(&p, days + 1);
                prop_assert!(steps.iter().all(|s| next.contains(s)));
            }
        }
    }
}
