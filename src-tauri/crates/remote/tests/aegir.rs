#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! AegirDriver against FakeAegir.

use std::sync::Arc;
use std::time::Duration;

use hostdesk_remote::*;
use hostdesk_testkit::drivers::{aegir_config, aegir_driver};
use hostdesk_testkit::{FakeAegir, Fault, TaskOutcome};

fn install(domain: &str) -> CreateSite {
    CreateSite {
        domain: domain.into(),
        source: SiteSource::Profile {
            profile: "openatrium".into(),
            platform: None,
            db_server: None,
            language: Some("fr".into()),
        },
        client: Some("acme".into()),
        owner: Some(SiteOwner {
            email: "ada@acme.test".into(),
            name: "Ada".into(),
        }),
    }
}

fn pending(p: &Progress) -> TaskRef {
    match p {
        Progress::Pending { task } => task.clone(),
        Progress::Done => panic!("expected a pending task"),
    }
}

#[tokio::test]
async fn test_connection_lists_sites_and_profiles() {
    let fake = FakeAegir::start().await;
    fake.add_site("a.hosting.test", "standard", 1);
    fake.add_site("gone.hosting.test", "standard", -2);
    let d = aegir_driver(&fake).unwrap();
    let info = d.test_connection().await.unwrap();
    assert_eq!(info.sites, 1);
    assert_eq!(info.profiles, vec!["openatrium", "standard"]);
    let reqs = fake.requests();
    let profile = reqs.iter().find(|r| r.endpoint == "profile.index").unwrap();
    assert_eq!(profile.param("machine_names"), Some("1"));
    assert!(reqs.iter().all(|r| r.authorized));
}

#[tokio::test]
async fn install_polls_the_task_to_success_and_hands_over() {
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(3);
    let d: Arc<dyn HostingDriver> = Arc::new(aegir_driver(&fake).unwrap());
    assert_eq!(d.kind(), DriverKind::Aegir);
    let created = d.create_site(&install("shop.hosting.test")).await.unwrap();
    assert!(!created.already_existed);
    let site = fake.site("shop.hosting.test").unwrap();
    // The site's node id comes back at once (the task's rid).
    assert_eq!(created.remote_id, Some(site.nid.to_string()));
    assert_eq!(site.site_status, 0);
    assert_eq!(site.owner, Some(("ada@acme.test".into(), "Ada".into())));
    assert_eq!(site.language, "fr");
    assert_eq!(site.client, "acme");
    let task = pending(&created.progress);
    assert_eq!(task.task_type, "install");
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "task.create")
        .unwrap();
    assert_eq!(post.param("type"), Some("install"));
    assert_eq!(post.param("target"), Some("shop.hosting.test"));
    assert_eq!(post.param("options[profile]"), Some("openatrium"));
    assert_eq!(post.param("options[client_email]"), Some("ada@acme.test"));

    assert_eq!(d.task_state(&task).await.unwrap(), TaskState::Processing);
    assert_eq!(d.wait_task(&task).await.unwrap(), TaskState::Succeeded);
    assert_eq!(fake.site("shop.hosting.test").unwrap().site_status, 1);
    assert_eq!(fake.count("task.retrieve"), 3);
    assert_eq!(
        d.find_site("shop.hosting.test")
            .await
            .unwrap()
            .unwrap()
            .status,
        SiteStatus::Active
    );
}

#[tokio::test]
async fn a_failed_task_is_a_remote_error() {
    let fake = FakeAegir::start().await;
    fake.set_task_outcome("install", TaskOutcome::Error);
    let d = aegir_driver(&fake).unwrap();
    let created = d.create_site(&install("bad.hosting.test")).await.unwrap();
    let err = d.wait_task(&pending(&created.progress)).await.unwrap_err();
    assert!(
        matches!(&err, RemoteError::Remote { reason } if reason.contains("ended in error")),
        "{err}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_warning_counts_as_done() {
    let fake = FakeAegir::start().await;
    fake.set_task_outcome("install", TaskOutcome::Warning);
    let d = aegir_driver(&fake).unwrap();
    let created = d.create_site(&install("warn.hosting.test")).await.unwrap();
    let state = d.wait_task(&pending(&created.progress)).await.unwrap();
    assert!(matches!(state, TaskState::Warning { .. }));
}

#[tokio::test]
async fn a_task_still_running_at_the_deadline_is_a_retryable_timeout() {
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(1000);
    let mut cfg = aegir_config(&fake).unwrap();
    cfg.poll = PollConfig {
        interval: Duration::from_millis(5),
        timeout: Duration::from_millis(100),
    };
    let d = AegirDriver::new(cfg).unwrap();
    let created = d.create_site(&install("slow.hosting.test")).await.unwrap();
    let err = d.wait_task(&pending(&created.progress)).await.unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn without_the_task_resource_the_site_record_is_polled() {
    let fake = FakeAegir::start().await;
    fake.set_task_resource(false);
    let d = aegir_driver(&fake).unwrap();
    let created = d.create_site(&install("poll.hosting.test")).await.unwrap();
    let task = pending(&created.progress);
    assert_eq!(d.wait_task(&task).await.unwrap(), TaskState::Succeeded);
    assert!(fake.count("site.retrieve") >= 2);
}

#[tokio::test]
async fn create_site_retry_after_a_lost_reply_creates_once() {
    let fake = FakeAegir::start().await;
    let d = aegir_driver(&fake).unwrap();
    // The server creates the task, and the reply never arrives.
    fake.fail_next("task.create", 1, Fault::DropReply);
    let err = d
        .create_site(&install("once.hosting.test"))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
    // The queue retries: the driver finds the site instead of installing it again.
    let again = d.create_site(&install("once.hosting.test")).await.unwrap();
    assert!(again.already_existed);
    assert_eq!(
        again.remote_id,
        Some(fake.site("once.hosting.test").unwrap().nid.to_string())
    );
    assert_eq!(fake.count("task.create"), 1);
    assert_eq!(fake.count_tasks("install"), 1);
    // Still queued: the retry follows the site record to the end.
    let task = pending(&again.progress);
    assert_eq!(task.task_id, None);
    assert_eq!(d.wait_task(&task).await.unwrap(), TaskState::Succeeded);
    // A third call after success: done, nothing sent.
    let third = d.create_site(&install("once.hosting.test")).await.unwrap();
    assert!(third.already_existed);
    assert_eq!(third.progress, Progress::Done);
    assert_eq!(fake.count("task.create"), 1);
}

#[tokio::test]
async fn clone_sends_the_template_even_when_empty() {
    let fake = FakeAegir::start().await;
    fake.add_site("template.hosting.test", "openatrium", 1);
    let d = aegir_driver(&fake).unwrap();
    let req = CreateSite {
        domain: "copy.hosting.test".into(),
        source: SiteSource::Clone {
            template: "template.hosting.test".into(),
            platform: None,
            db_server: None,
        },
        client: None,
        owner: None,
    };
    let created = d.create_site(&req).await.unwrap();
    d.wait_task(&pending(&created.progress)).await.unwrap();
    assert_eq!(
        fake.site("copy.hosting.test").unwrap().profile,
        "openatrium"
    );
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "task.create")
        .unwrap();
    assert_eq!(post.param("type"), Some("clone"));
    assert_eq!(post.param("options[new_uri]"), Some("copy.hosting.test"));

    // An empty template is sent as an empty target (the server's default template).
    fake.clear_log();
    fake.set_default_template(Some("template.hosting.test"));
    let req2 = CreateSite {
        domain: "copy2.hosting.test".into(),
        source: SiteSource::Clone {
            template: String::new(),
            platform: None,
            db_server: None,
        },
        ..req
    };
    d.create_site(&req2).await.unwrap();
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "task.create")
        .unwrap();
    assert_eq!(post.param("target"), Some(""));
    assert_eq!(fake.count_tasks("clone"), 2);
}

#[tokio::test]
async fn the_new_uri_must_end_in_the_master_domain() {
    let fake = FakeAegir::start().await;
    let d = aegir_driver(&fake).unwrap();
    let err = d
        .create_site(&install("shop.example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RemoteError::InvalidRequest(m) if m.contains("hosting.test")),
        "{err}"
    );
    let err = d.create_site(&install("hosting.test")).await.unwrap_err();
    assert!(matches!(err, RemoteError::InvalidRequest(_)));
    assert_eq!(fake.requests().len(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_refused_task_false_with_http_200_is_a_protocol_error() {
    let fake = FakeAegir::start().await;
    // The fake refuses (HTTP 200 `false`) when the platform's site cap is reached.
    fake.set_max_sites_per_platform(Some(0));
    let d = aegir_driver(&fake).unwrap();
    let err = d
        .create_site(&install("cap.hosting.test"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RemoteError::Protocol { detail, .. } if detail.contains("`false`")),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(fake.count_task_posts("install"), 1);
    assert_eq!(fake.count_tasks("install"), 0);
}

#[tokio::test]
async fn suspend_unsuspend_delete_are_tasks_and_idempotent() {
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(1);
    fake.add_site("s.hosting.test", "standard", 1);
    let d = aegir_driver(&fake).unwrap();
    let site = SiteTarget::named("s.hosting.test");

    let r = d
        .suspend_site(&SuspendSite {
            site: site.clone(),
            reason: "overdue".into(),
        })
        .await
        .unwrap();
    assert!(!r.already);
    let task = pending(&r.progress);
    assert_eq!(task.expect, Some(SiteStatus::Suspended));
    d.wait_task(&task).await.unwrap();
    assert_eq!(fake.site("s.hosting.test").unwrap().site_status, -1);
    // Again: already suspended, nothing sent.
    let r = d
        .suspend_site(&SuspendSite {
            site: site.clone(),
            reason: "overdue".into(),
        })
        .await
        .unwrap();
    assert!(r.already);
    assert_eq!(fake.count_task_posts("disable"), 1);

    let r = d.unsuspend_site(&site).await.unwrap();
    d.wait_task(&pending(&r.progress)).await.unwrap();
    assert_eq!(fake.site("s.hosting.test").unwrap().site_status, 1);
    assert!(d.unsuspend_site(&site).await.unwrap().already);
    assert_eq!(fake.count_task_posts("enable"), 1);

    let r = d.delete_site(&site).await.unwrap();
    d.wait_task(&pending(&r.progress)).await.unwrap();
    assert_eq!(fake.site("s.hosting.test").unwrap().site_status, -2);
    assert!(d.delete_site(&site).await.unwrap().already);
    assert!(
        d.delete_site(&SiteTarget::named("never.hosting.test"))
            .await
            .unwrap()
            .already
    );
    assert_eq!(fake.count_task_posts("delete"), 1);

    let err = d.unsuspend_site(&site).await.unwrap_err();
    assert!(matches!(err, RemoteError::Remote { .. }), "{err}");
}

#[tokio::test]
async fn backup_restore_login_reset() {
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(1);
    fake.add_site("b.hosting.test", "standard", 1);
    let d = aegir_driver(&fake).unwrap();
    let site = SiteTarget::named("b.hosting.test");
    let b = d
        .backup(&BackupRequest {
            site: site.clone(),
            description: "before upgrade".into(),
        })
        .await
        .unwrap();
    d.wait_task(&pending(&b.progress)).await.unwrap();
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.param("type") == Some("backup"))
        .unwrap();
    assert_eq!(post.param("options[description]"), Some("before upgrade"));
    let bid = fake.site("b.hosting.test").unwrap().backups[0];

    let r = d
        .restore(&RestoreRequest {
            site: site.clone(),
            backup_id: bid.to_string(),
        })
        .await
        .unwrap();
    d.wait_task(&pending(&r.progress)).await.unwrap();
    assert_eq!(fake.count_tasks("restore"), 1);

    // A backup id the server does not have: refused with `false`.
    let err = d
        .restore(&RestoreRequest {
            site: site.clone(),
            backup_id: "999999".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Protocol { .. }), "{err}");

    let link = d
        .login_link(&LoginLinkRequest {
            site: site.clone(),
            service: None,
        })
        .await
        .unwrap();
    assert!(link.url.is_none());
    d.wait_task(&pending(&link.progress)).await.unwrap();
    assert_eq!(fake.count_tasks("login-reset"), 1);

    // verify, migrate and backup-delete through the driver's own methods.
    let t = d.verify_site(&site).await.unwrap();
    d.wait_task(&t).await.unwrap();
    let t = d.delete_backup(&site, &bid.to_string()).await.unwrap();
    d.wait_task(&t).await.unwrap();
    assert!(fake.site("b.hosting.test").unwrap().backups.is_empty());
}

#[tokio::test]
async fn list_sites_and_unsupported_operations() {
    let fake = FakeAegir::start().await;
    fake.add_site("l1.hosting.test", "standard", 1);
    fake.add_site("l2.hosting.test", "standard", -1);
    let d = aegir_driver(&fake).unwrap();
    let sites = d.list_sites().await.unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[1].status, SiteStatus::Suspended);
    assert_eq!(sites[0].plan.as_deref(), Some("standard"));
    let caps = d.capabilities();
    assert!(caps.supports(Operation::InstallSite));
    assert!(!caps.supports(Operation::Usage));
    let err = d
        .usage(&UsageRequest {
            site: SiteTarget::named("l1.hosting.test"),
            year: 2026,
            month: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(err, RemoteError::NotSupported(Operation::Usage));
    let err = d
        .create_site(&CreateSite {
            domain: "f.hosting.test".into(),
            source: SiteSource::Folder {
                root: "/srv/x".into(),
            },
            client: None,
            owner: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err, RemoteError::NotSupported(Operation::FolderSite));
}

#[tokio::test]
async fn failure_shapes_map_to_the_right_errors() {
    let fake = FakeAegir::start().await;
    let d = aegir_driver(&fake).unwrap();

    fake.fail_next("site.index", 1, Fault::Status(500));
    let err = d.list_sites().await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 500, .. }),
        "{err}"
    );
    assert!(err.is_retryable());

    fake.fail_next("site.index", 1, Fault::Status(404));
    let err = d.list_sites().await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 404, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());

    fake.fail_next("site.index", 1, Fault::Garbage);
    let err = d.list_sites().await.unwrap_err();
    assert!(
        matches!(&err, RemoteError::Protocol { detail, .. } if detail.contains("Log in")),
        "{err}"
    );
    assert!(!err.is_retryable());

    fake.fail_next("site.index", 1, Fault::Empty);
    let err = d.list_sites().await.unwrap_err();
    assert!(
        matches!(&err, RemoteError::Protocol { detail, .. } if detail.contains("empty")),
        "{err}"
    );

    fake.fail_next("site.retrieve", 1, Fault::False);
    let err = d.find_site("x.hosting.test").await.unwrap_err();
    assert!(matches!(err, RemoteError::Protocol { .. }), "{err}");

    fake.fail_next("task.create", 1, Fault::Empty);
    let err = d.create_site(&install("e.hosting.test")).await.unwrap_err();
    assert!(matches!(err, RemoteError::Protocol { .. }), "{err}");
    assert_eq!(fake.count_tasks("install"), 0);

    fake.fail_next("site.index", 1, Fault::Hang);
    let err = d.list_sites().await.unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());

    // A slow reply within the timeout is fine.
    fake.fail_next("site.index", 1, Fault::Delay(Duration::from_millis(300)));
    assert!(d.list_sites().await.is_ok());

    // Fail the next 2 calls, then succeed: what the queue's backoff sees.
    fake.fail_all_next(2, Fault::Status(503));
    assert!(d.list_sites().await.unwrap_err().is_retryable());
    assert!(d.list_sites().await.unwrap_err().is_retryable());
    assert!(d.list_sites().await.is_ok());

    // A wrong key.
    let mut cfg = aegir_config(&fake).unwrap();
    cfg.api_key = Secret::new("wrong-key-123");
    let bad = AegirDriver::new(cfg).unwrap();
    let err = bad.list_sites().await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Auth { status: 401, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert!(!fake.requests().last().unwrap().authorized);

    // Connection refused, then back.
    fake.stop_listening();
    let err = d.list_sites().await.unwrap_err();
    assert!(matches!(err, RemoteError::Connect { .. }), "{err}");
    assert!(err.is_retryable());
    fake.resume_listening();
    assert!(d.list_sites().await.is_ok());
}

/// hosting_https through Aegir Services' site update: Automatic saves `https_enabled` 2
/// (required) and verifies the site (one verify: the one Aegir queued on saving is the one
/// Hostdesk waits for); asking again sends nothing; Off saves 0. A server without HTTPS
/// refuses with its form error (HTTP 406, not retryable); a bundle is refused with why.
#[tokio::test]
async fn certificate_levels_through_hosting_https() {
    let fake = FakeAegir::start().await;
    fake.add_site("shop.hosting.test", "standard", 1);
    let d = aegir_driver(&fake).unwrap();
    assert!(d.capabilities().supports(Operation::Certificate));
    let set = |setting| SetCertificate {
        site: SiteTarget::named("shop.hosting.test"),
        setting,
    };

    let changed = d
        .set_certificate(&set(CertificateSetting::Automatic))
        .await
        .unwrap();
    assert!(!changed.already);
    let task = pending(&changed.progress);
    assert_eq!(task.task_type, "verify");
    assert_eq!(d.wait_task(&task).await.unwrap(), TaskState::Succeeded);
    let site = fake.site("shop.hosting.test").unwrap();
    assert_eq!(site.https_enabled, 2);
    assert_eq!(fake.count_tasks("verify"), 1, "{:?}", fake.tasks());
    let put = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "site.update")
        .unwrap();
    assert_eq!(put.method, "PUT");

    let again = d
        .set_certificate(&set(CertificateSetting::Automatic))
        .await
        .unwrap();
    assert!(again.already);
    assert_eq!(again.progress, Progress::Done);
    assert_eq!(fake.count("site.update"), 1);

    let off = d
        .set_certificate(&set(CertificateSetting::Off))
        .await
        .unwrap();
    d.wait_task(&pending(&off.progress)).await.unwrap();
    assert_eq!(fake.site("shop.hosting.test").unwrap().https_enabled, 0);

    fake.set_https_available(false);
    let err = d
        .set_certificate(&set(CertificateSetting::Automatic))
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("406"), "{err}");
    assert_eq!(fake.site("shop.hosting.test").unwrap().https_enabled, 0);

    let err = d
        .set_certificate(&set(CertificateSetting::Bundled {
            certificate_pem: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".into(),
            key_pem: Secret::new("k"),
        }))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no API to upload a bundle"),
        "{err}"
    );

    // A site the server does not have.
    let err = d
        .set_certificate(&SetCertificate {
            site: SiteTarget::named("ghost.hosting.test"),
            setting: CertificateSetting::Automatic,
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no site named"), "{err}");
}
