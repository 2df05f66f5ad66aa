#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! AegirDriver's backups against FakeAegir: list them from the site record, find one again by
//! its description, delete it (`backup-delete`, once), and a server that lists none.

use hostdesk_remote::*;
use hostdesk_testkit::drivers::aegir_driver;
use hostdesk_testkit::FakeAegir;

fn pending(p: &Progress) -> TaskRef {
    match p {
        Progress::Pending { task } => task.clone(),
        Progress::Done => panic!("expected a pending task"),
    }
}

#[tokio::test]
async fn backups_are_listed_found_by_description_and_deleted_once() {
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(1);
    fake.add_site("b.hosting.test", "standard", -1);
    let d = aegir_driver(&fake).unwrap();
    let site = SiteTarget::named("b.hosting.test");
    assert_eq!(d.list_backups(&site).await.unwrap(), Some(Vec::new()));

    // A disabled site can be backed up (the last backup of an expired trial).
    for description in ["hostdesk:1", "hostdesk:2"] {
        let b = d
            .backup(&BackupRequest {
                site: site.clone(),
                description: description.into(),
            })
            .await
            .unwrap();
        assert_eq!(b.backup_id, None, "Aegir does not return the bid");
        d.wait_task(&pending(&b.progress)).await.unwrap();
    }
    let list = d.list_backups(&site).await.unwrap().unwrap();
    assert_eq!(list.len(), 2);
    let first = list.iter().find(|b| b.description == "hostdesk:1").unwrap();
    assert_eq!(
        fake.site("b.hosting.test").unwrap().backups[0].to_string(),
        first.backup_id
    );
    assert!(first.taken_at.is_some());
    assert_eq!(first.size_bytes, Some(1_048_576));

    let req = BackupDeleteRequest {
        site: site.clone(),
        backup_id: first.backup_id.clone(),
    };
    let c = d.backup_delete(&req).await.unwrap();
    assert!(!c.already);
    d.wait_task(&pending(&c.progress)).await.unwrap();
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.param("type") == Some("backup-delete"))
        .unwrap();
    assert_eq!(post.param("options[bid]"), Some(first.backup_id.as_str()));
    // Again: the record no longer lists it, nothing is sent.
    let again = d.backup_delete(&req).await.unwrap();
    assert!(again.already);
    assert_eq!(fake.count_task_posts("backup-delete"), 1);
    let left = d.list_backups(&site).await.unwrap().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].description, "hostdesk:2");

    // An unknown site is an error, not an empty list.
    let err = d
        .list_backups(&SiteTarget::named("nope.hosting.test"))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Remote { .. }), "{err}");
}

#[tokio::test]
async fn a_server_whose_records_carry_no_backups_lists_none() {
    let fake = FakeAegir::start().await;
    fake.set_backups_in_site_record(false);
    fake.add_site("c.hosting.test", "standard", 1);
    let d = aegir_driver(&fake).unwrap();
    let site = SiteTarget::named("c.hosting.test");
    assert_eq!(d.list_backups(&site).await.unwrap(), None);
    // Without a list, a delete is sent as asked (the server refuses an unknown bid).
    let err = d
        .backup_delete(&BackupDeleteRequest {
            site,
            backup_id: "4242".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Protocol { .. }), "{err}");
}
