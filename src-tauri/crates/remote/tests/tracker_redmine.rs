#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! RedmineTracker against FakeRedmine: users, roles, memberships, and every refusal shape.

use hostdesk_remote::tracker::{self, find_role, IssueTracker, NewTrackerUser};
use hostdesk_remote::{RedmineConfig, RedmineTracker, RemoteError, Secret};
use hostdesk_testkit::{FakeRedmine, FakeRedmineConfig, Fault};

fn marc() -> NewTrackerUser {
    NewTrackerUser {
        login: "marc@lumiere.fr".into(),
        firstname: "Marc".into(),
        lastname: "Lumière".into(),
        mail: "marc@lumiere.fr".into(),
        send_information: true,
    }
}

fn with_key(fake: &FakeRedmine, key: &str) -> RedmineTracker {
    let mut c = fake.config().unwrap();
    c.api_key = Secret::new(key);
    RedmineTracker::new(c).unwrap()
}

#[tokio::test]
async fn test_connection_names_the_user_the_project_and_the_roles() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    let info = t.test_connection("support").await.unwrap();
    assert_eq!(info.login, "admin");
    assert!(info.admin);
    assert_eq!(info.project, "Customer support");
    let names: Vec<&str> = info.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Manager", "Developer", "Reporter", "Customer"]);
    // Every request carried the key in the header, never in the URL.
    for r in fake.requests() {
        assert!(r.authorized, "{r:?}");
        assert!(r.param("key").is_none());
    }
    // The key's user is not an administrator: said, not hidden.
    let info = with_key(&fake, &fake.user_key())
        .test_connection("support")
        .await
        .unwrap();
    assert_eq!((info.login.as_str(), info.admin), ("jsmith", false));
    // An unknown project is a clear, permanent error.
    let e = t.test_connection("nope").await.unwrap_err();
    assert!(e.to_string().contains("project 'nope'"), "{e}");
    assert!(!e.is_retryable());
    // A project identifier never reaches a URL unchecked.
    assert!(matches!(
        t.test_connection("../users").await,
        Err(RemoteError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn a_user_is_created_once_and_found_afterwards() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    let first = tracker::ensure_user(&t, &marc()).await.unwrap();
    assert!(!first.already_existed);
    assert_eq!(first.user.login, "marc@lumiere.fr");
    let remote = fake.user("marc@lumiere.fr").unwrap();
    assert_eq!(first.user.id, remote.id);
    assert!(remote.generated_password, "the tracker makes the password");
    assert_eq!(
        remote.mails_sent, 1,
        "send_information goes beside the user object, where Redmine reads it"
    );
    // The create reply holds the new user's API key: it is not kept.
    let kept = serde_json::to_string(&first).unwrap();
    assert!(!kept.contains(&remote.api_key));

    let again = tracker::ensure_user(&t, &marc()).await.unwrap();
    assert!(again.already_existed);
    assert_eq!(again.user.id, first.user.id);
    assert_eq!(fake.count("users.create"), 1);
    assert_eq!(fake.users().len(), 3, "admin, jsmith and Marc");
}

#[tokio::test]
async fn an_existing_user_is_found_by_login_or_by_mail_whatever_its_status() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    // A staff-made account with another login but the same e-mail address.
    let id = fake.add_user("mlumiere", "Marc", "L.", "MARC@lumiere.fr");
    fake.set_status("mlumiere", 2); // registered, not activated yet
    let got = tracker::ensure_user(&t, &marc()).await.unwrap();
    assert!(got.already_existed);
    assert_eq!((got.user.id, got.user.login.as_str()), (id, "mlumiere"));
    assert_eq!(fake.count("users.create"), 0);
    // `name` matches parts of names: only the exact login counts.
    fake.add_user("marc@lumiere.fr.old", "Old", "Marc", "old@lumiere.fr");
    assert!(t.find_user("marc@lumiere").await.unwrap().is_none());
    assert_eq!(
        t.find_user("MARC@LUMIERE.FR.OLD")
            .await
            .unwrap()
            .unwrap()
            .firstname,
        "Old"
    );
}

#[tokio::test]
async fn a_lost_create_reply_is_found_by_the_retry() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    fake.fail_next("users.create", 1, Fault::DropReply);
    let e = tracker::ensure_user(&t, &marc()).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    let again = tracker::ensure_user(&t, &marc()).await.unwrap();
    assert!(again.already_existed);
    assert_eq!(fake.count("users.create"), 1);
    assert_eq!(
        fake.users()
            .iter()
            .filter(|u| u.login == "marc@lumiere.fr")
            .count(),
        1
    );
    // A create refused because the login is taken reconciles too (a lookup that raced).
    let direct = t.create_user(&marc()).await.unwrap();
    assert!(direct.already_existed);
    assert_eq!(direct.user.id, again.user.id);
}

#[tokio::test]
async fn refusals_come_back_with_redmines_messages() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    let mut bad = marc();
    bad.mail = "not-an-address".into();
    bad.login = "marc2".into();
    let e = t.create_user(&bad).await.unwrap_err();
    assert!(matches!(e, RemoteError::Remote { .. }), "{e:?}");
    assert!(e.to_string().contains("Email is invalid"), "{e}");
    assert!(e.to_string().contains("'marc2'"), "{e}");
    assert!(!e.is_retryable());
    // Refused before sending: Redmine would say "Login is invalid".
    let mut plus = marc();
    plus.login = "marc+x@lumiere.fr".into();
    assert!(matches!(
        t.create_user(&plus).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    // A membership with a role that does not exist.
    let uid = fake.add_user("ann", "Ann", "Lee", "ann@acme.test");
    let e = t
        .create_membership("support", uid, &[99])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Member roles is invalid"), "{e}");
    // Someone else's 422 shape (no errors list) still reads.
    fake.fail_next("users.create", 1, Fault::Status(422));
    let e = t.create_user(&bad).await.unwrap_err();
    assert!(e.to_string().contains("injected fault"), "{e}");
}

#[tokio::test]
async fn granting_a_role_twice_makes_one_membership() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    let user = tracker::ensure_user(&t, &marc()).await.unwrap().user;
    let roles = t.roles().await.unwrap();
    let customer = find_role(&roles, "customer").unwrap().id;
    let first = tracker::grant_role(&t, "support", user.id, customer)
        .await
        .unwrap();
    assert!(!first.already);
    let second = tracker::grant_role(&t, "support", user.id, customer)
        .await
        .unwrap();
    assert!(second.already);
    assert_eq!(second.membership_id, first.membership_id);
    let members = fake.memberships("support");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].role_ids, vec![customer]);
    assert_eq!(fake.count("memberships.create"), 1);
    // Creating directly again: Redmine's 422 "User has already been taken" is "already member".
    let direct = t
        .create_membership("support", user.id, &[customer])
        .await
        .unwrap();
    assert!(direct.already_member);
    assert_eq!(direct.membership.id, first.membership_id);
    assert_eq!(fake.memberships("support").len(), 1);
}

#[tokio::test]
async fn a_member_with_other_roles_gets_the_role_added_and_keeps_the_others() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    let uid = fake.add_user("ann", "Ann", "Lee", "ann@acme.test");
    let reporter = fake.role_id("Reporter").unwrap();
    let developer = fake.role_id("Developer").unwrap();
    let customer = fake.role_id("Customer").unwrap();
    let own = fake.add_membership("support", uid, &[reporter]);
    let done = tracker::grant_role(&t, "support", uid, customer)
        .await
        .unwrap();
    assert!(done.added_to_existing && !done.already);
    assert_eq!(done.membership_id, own);
    assert_eq!(
        fake.memberships("support")[0].role_ids,
        [reporter, customer]
    );
    assert_eq!(fake.count("memberships.update"), 1);
    // A membership held through a group: the inherited role stays, ours is added beside it.
    let bob = fake.add_user("bob", "Bob", "Roe", "bob@acme.test");
    let inh = fake.add_inherited_membership("support", bob, &[developer]);
    let m = t.find_membership("support", bob).await.unwrap().unwrap();
    assert!(m.roles[0].inherited);
    tracker::grant_role(&t, "support", bob, customer)
        .await
        .unwrap();
    let after = fake
        .memberships("support")
        .into_iter()
        .find(|m| m.id == inh)
        .unwrap();
    assert_eq!(
        (after.role_ids, after.inherited_role_ids),
        (vec![customer], vec![developer])
    );
}

#[tokio::test]
async fn a_lost_membership_reply_is_found_by_the_retry() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    let uid = fake.add_user("ann", "Ann", "Lee", "ann@acme.test");
    let customer = fake.role_id("Customer").unwrap();
    fake.fail_next("memberships.create", 1, Fault::DropReply);
    let e = tracker::grant_role(&t, "support", uid, customer)
        .await
        .unwrap_err();
    assert!(matches!(e, RemoteError::Timeout { .. }), "{e:?}");
    assert!(e.is_retryable());
    let again = tracker::grant_role(&t, "support", uid, customer)
        .await
        .unwrap();
    assert!(again.already);
    assert_eq!(fake.memberships("support").len(), 1);
    assert_eq!(fake.count("memberships.create"), 1);
}

#[tokio::test]
async fn listings_are_read_through_every_page() {
    let fake = FakeRedmine::start_with(FakeRedmineConfig {
        max_limit: 2,
        ..Default::default()
    })
    .await;
    let t = fake.tracker().unwrap();
    let customer = fake.role_id("Customer").unwrap();
    let mut last = 0;
    for i in 0..7 {
        last = fake.add_user(
            &format!("client{i}"),
            "Client",
            &format!("Number {i}"),
            &format!("client{i}@acme.test"),
        );
        fake.add_membership("support", last, &[customer]);
    }
    // "client" matches 7 users: four pages of at most 2 (the server caps the 100 asked for).
    fake.clear_log();
    let u = t.find_user_by_mail("client6@acme.test").await.unwrap();
    assert_eq!(u.map(|u| u.id), Some(last));
    let u = t.find_user("client6").await.unwrap();
    assert_eq!(u.map(|u| u.id), Some(last));
    let pages: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == "users.index")
        .collect();
    assert_eq!(pages.len(), 2, "one page each: the name matches one user");
    assert_eq!(pages[0].param("status"), Some(""), "every status");
    fake.clear_log();
    assert!(t.find_user("client").await.unwrap().is_none());
    assert_eq!(fake.count("users.index"), 4);
    // Memberships: the last one is on the fourth page.
    fake.clear_log();
    let m = t.find_membership("support", last).await.unwrap().unwrap();
    assert_eq!(m.user_id, Some(last));
    assert_eq!(fake.count("memberships.index"), 4);
    let offsets: Vec<String> = fake
        .requests()
        .iter()
        .filter_map(|r| r.param("offset").map(str::to_owned))
        .collect();
    assert_eq!(offsets, ["0", "2", "4", "6"]);
    assert!(t
        .find_membership("support", 424_242)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_wrong_key_a_plain_user_and_a_broken_server_say_so() {
    let fake = FakeRedmine::start().await;
    let wrong = with_key(&fake, "0000000000000000000000000000000000000000");
    let e = wrong.roles().await.unwrap_err();
    assert!(matches!(e, RemoteError::Auth { status: 401, .. }), "{e:?}");
    assert!(!e.is_retryable());
    assert!(!e.to_string().contains("0000000000"), "{e}");
    // jsmith's key is valid, but only administrators see users: 403.
    let plain = with_key(&fake, &fake.user_key());
    let e = plain.find_user("anyone").await.unwrap_err();
    assert!(matches!(e, RemoteError::Auth { status: 403, .. }), "{e:?}");
    // 503: retry later. A web page instead of JSON: permanent, with an excerpt.
    let t = fake.tracker().unwrap();
    fake.fail_next("roles.index", 1, Fault::Status(503));
    let e = t.roles().await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    fake.fail_next("roles.index", 1, Fault::Garbage);
    let e = t.roles().await.unwrap_err();
    assert!(matches!(e, RemoteError::Protocol { .. }), "{e:?}");
    assert!(!e.is_retryable());
    // Nothing listening.
    fake.stop_listening();
    let e = t.roles().await.unwrap_err();
    assert!(matches!(e, RemoteError::Connect { .. }), "{e:?}");
    assert!(e.is_retryable());
    // Plain http to a remote host is refused before a key could leave.
    assert!(RedmineConfig::new("http://tracker.example.com", Secret::new("k")).is_err());
}

#[tokio::test]
async fn a_locked_user_is_not_granted_silently() {
    let fake = FakeRedmine::start().await;
    let t = fake.tracker().unwrap();
    let id = fake.add_user("marc@lumiere.fr", "Marc", "L", "marc@lumiere.fr");
    fake.set_status("marc@lumiere.fr", 3);
    // Redmine's list shows no status: the user's own record is read for it.
    let found = t.find_user("marc@lumiere.fr").await.unwrap().unwrap();
    assert_eq!((found.id, found.status), (id, Some(3)));
    let e = tracker::ensure_user(&t, &marc()).await.unwrap_err();
    assert!(e.to_string().contains("locked"), "{e}");
    assert!(!e.is_retryable());
    assert_eq!(fake.count("users.create"), 0);
}
