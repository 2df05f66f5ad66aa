//! Issue trackers: the provider's support site where a support tier grants an account and a
//! role (DESIGN.md, "Support tier").
//!
//! - [`IssueTracker`]: the small async trait a grant job calls (`Arc<dyn IssueTracker>`).
//! - [`RedmineTracker`]: Redmine's REST API (users, roles, project memberships).
//! - [`ensure_user`], [`grant_role`]: the idempotent steps built on the trait, so a retry after
//!   a lost reply or a crash finds what the first attempt did instead of doing it again.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::RemoteError;

pub mod redmine;

pub use redmine::{RedmineConfig, RedmineTracker};

/// Which issue tracker a [`IssueTracker`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackerKind {
    Redmine,
}

impl fmt::Display for TrackerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrackerKind::Redmine => "redmine",
        })
    }
}

/// A user account on the tracker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerUser {
    pub id: i64,
    pub login: String,
    pub firstname: String,
    pub lastname: String,
    /// Shown to administrators only.
    pub mail: Option<String>,
    /// Redmine: 1 active, 2 registered (not activated yet), 3 locked.
    pub status: Option<i64>,
}

impl TrackerUser {
    /// Locked by the tracker's administrators: it cannot log in.
    pub fn is_locked(&self) -> bool {
        self.status == Some(3)
    }
}

/// A user to create. The tracker makes up the password and, with `send_information`, mails the
/// account's details to the user: no password ever passes through Hostdesk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTrackerUser {
    pub login: String,
    pub firstname: String,
    pub lastname: String,
    pub mail: String,
    pub send_information: bool,
}

/// The result of creating (or finding) a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserOutcome {
    pub user: TrackerUser,
    /// The user was there already (an earlier attempt whose reply was lost, or staff).
    pub already_existed: bool,
}

/// A role that can be given on a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerRole {
    pub id: i64,
    pub name: String,
}

/// A role held through a membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRole {
    pub id: i64,
    pub name: String,
    /// Given through a group: it cannot be removed from the user's membership itself.
    pub inherited: bool,
}

/// A user's (or a group's) membership of a project, with its roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub id: i64,
    /// `None` for a group's membership.
    pub user_id: Option<i64>,
    pub roles: Vec<MemberRole>,
}

impl Membership {
    pub fn has_role(&self, role_id: i64) -> bool {
        self.roles.iter().any(|r| r.id == role_id)
    }
}

/// The result of creating a membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipOutcome {
    pub membership: Membership,
    /// The user already was a member (maybe with other roles): nothing was created.
    pub already_member: bool,
}

/// What [`grant_role`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleGranted {
    pub membership_id: i64,
    /// The user already held the role: nothing was sent.
    pub already: bool,
    /// The user was a member with other roles; the role was added to them.
    pub added_to_existing: bool,
}

/// What [`IssueTracker::test_connection`] learnt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerInfo {
    /// The login of the API key's user.
    pub login: String,
    /// Whether that user is an administrator (needed to create users).
    pub admin: bool,
    /// The project's display name.
    pub project: String,
    pub roles: Vec<TrackerRole>,
}

/// An issue tracker. Object-safe (`Arc<dyn IssueTracker>`), `Send + Sync`, every future `Send`.
///
/// Each call makes its request(s) once: retrying is the job queue's business (see
/// [`RemoteError::is_retryable`]). Reads are harmless to repeat; the two writes reconcile:
/// [`IssueTracker::create_user`] answers "already existed" when the tracker refuses a user it
/// already has, and [`IssueTracker::create_membership`] answers "already member" when the user
/// is a member already. Use [`ensure_user`] and [`grant_role`], which look before they write.
#[async_trait]
pub trait IssueTracker: Send + Sync + fmt::Debug {
    fn kind(&self) -> TrackerKind;

    /// Checks the address, the key (an administrator's), the project, and lists the roles.
    async fn test_connection(&self, project: &str) -> Result<TrackerInfo, RemoteError>;

    /// The user with exactly this login (case-insensitive), whatever their status.
    async fn find_user(&self, login: &str) -> Result<Option<TrackerUser>, RemoteError>;

    /// The user with exactly this e-mail address (case-insensitive), whatever their status.
    async fn find_user_by_mail(&self, mail: &str) -> Result<Option<TrackerUser>, RemoteError>;

    async fn create_user(&self, req: &NewTrackerUser) -> Result<UserOutcome, RemoteError>;

    /// The roles that can be given on a project.
    async fn roles(&self) -> Result<Vec<TrackerRole>, RemoteError>;

    /// The user's own membership of the project, if any (read through every page).
    async fn find_membership(
        &self,
        project: &str,
        user_id: i64,
    ) -> Result<Option<Membership>, RemoteError>;

    async fn create_membership(
        &self,
        project: &str,
        user_id: i64,
        role_ids: &[i64],
    ) -> Result<MembershipOutcome, RemoteError>;

    /// Replaces a membership's own roles (roles inherited from a group stay).
    async fn set_membership_roles(
        &self,
        membership_id: i64,
        role_ids: &[i64],
    ) -> Result<(), RemoteError>;
}

/// The role with this name, compared without regard to case or surrounding spaces.
pub fn find_role<'a>(roles: &'a [TrackerRole], name: &str) -> Option<&'a TrackerRole> {
    let want = name.trim();
    roles.iter().find(|r| r.name.trim() == want).or_else(|| {
        roles
            .iter()
            .find(|r| r.name.trim().eq_ignore_ascii_case(want))
    })
}

/// Finds the user by login, then by e-mail address, and creates it only when neither exists.
/// A locked user is an error: its administrators locked it on purpose.
pub async fn ensure_user(
    tracker: &dyn IssueTracker,
    req: &NewTrackerUser,
) -> Result<UserOutcome, RemoteError> {
    let found = match tracker.find_user(&req.login).await? {
        Some(u) => Some(u),
        None => tracker.find_user_by_mail(&req.mail).await?,
    };
    let outcome = match found {
        Some(user) => UserOutcome {
            user,
            already_existed: true,
        },
        None => tracker.create_user(req).await?,
    };
    if outcome.user.is_locked() {
        return Err(RemoteError::Remote {
            reason: format!(
                "the {} user '{}' (id {}) exists but is locked: unlock it on the tracker, then retry",
                tracker.kind(),
                outcome.user.login,
                outcome.user.id
            ),
        });
    }
    Ok(outcome)
}

/// Gives the user the role on the project: nothing when the user holds it already, the role
/// added to the user's other roles when the user is a member, a new membership otherwise.
pub async fn grant_role(
    tracker: &dyn IssueTracker,
    project: &str,
    user_id: i64,
    role_id: i64,
) -> Result<RoleGranted, RemoteError> {
    let existing = match tracker.find_membership(project, user_id).await? {
        Some(m) => m,
        None => {
            let created = tracker
                .create_membership(project, user_id, &[role_id])
                .await?;
            if !created.already_member {
                return Ok(RoleGranted {
                    membership_id: created.membership.id,
                    already: false,
                    added_to_existing: false,
                });
            }
            created.membership
        }
    };
    if existing.has_role(role_id) {
        return Ok(RoleGranted {
            membership_id: existing.id,
            already: true,
            added_to_existing: false,
        });
    }
    let mut ids: Vec<i64> = existing
        .roles
        .iter()
        .filter(|r| !r.inherited)
        .map(|r| r.id)
        .collect();
    ids.push(role_id);
    tracker.set_membership_roles(existing.id, &ids).await?;
    Ok(RoleGranted {
        membership_id: existing.id,
        already: false,
        added_to_existing: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_match_by_name_without_case() {
        let roles = vec![
            TrackerRole {
                id: 3,
                name: "Manager".into(),
            },
            TrackerRole {
                id: 5,
                name: "Customer".into(),
            },
        ];
        assert_eq!(find_role(&roles, "customer").map(|r| r.id), Some(5));
        assert_eq!(find_role(&roles, " Manager ").map(|r| r.id), Some(3));
        assert!(find_role(&roles, "reporter").is_none());
    }
}
