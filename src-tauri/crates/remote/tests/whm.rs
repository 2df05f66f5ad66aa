#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! WhmDriver against FakeWhm.

use std::sync::Arc;

use hostdesk_remote::*;
use hostdesk_testkit::drivers::{whm_config, whm_driver};
use hostdesk_testkit::{FakeWhm, Fault};

fn account(user: &str, domain: &str) -> CreateClientAccount {
    CreateClientAccount {
        username: user.into(),
        domain: domain.into(),
        plan: Some("basic".into()),
        contact_email: "owner@acme.test".into(),
        password: Some(Secret::new("S3cret-Pass-word!")),
    }
}

#[tokio::test]
async fn test_connection() {
    let fake = FakeWhm::start().await;
    fake.add_account("acme", "acme.test", "basic");
    let d = whm_driver(&fake).unwrap();
    let info = d.test_connection().await.unwrap();
    assert_eq!(info.version.as_deref(), Some("11.130.0.5"));
    assert_eq!(info.sites, 1);
    assert_eq!(info.profiles, vec!["basic", "default", "pro"]);
    // Every call carried api.version=1 and the whm auth header.
    assert!(fake
        .requests()
        .iter()
        .all(|r| r.authorized && r.param("api.version") == Some("1")));
}

#[tokio::test]
async fn create_account_then_retry_is_idempotent() {
    let fake = FakeWhm::start().await;
    let d: Arc<dyn HostingDriver> = Arc::new(whm_driver(&fake).unwrap());
    let created = d
        .create_client_account(&account("acme", "acme.test"))
        .await
        .unwrap();
    assert_eq!(created.remote_id, "acme");
    assert!(!created.already_existed);
    let acct = fake.account("acme").unwrap();
    assert_eq!(acct.plan, "basic");
    assert_eq!(acct.email, "owner@acme.test");
    assert!(acct.had_password);
    // The password went in the POST body, not the URL, and the log redacts it.
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "createacct")
        .unwrap();
    assert_eq!(post.method, "POST");
    assert_eq!(post.param("password"), Some("<redacted>"));
    let again = d
        .create_client_account(&account("acme", "acme.test"))
        .await
        .unwrap();
    assert!(again.already_existed);
    assert_eq!(fake.count("createacct"), 1);
    // Same user name, other domain: refused with a reason, nothing sent.
    let err = d
        .create_client_account(&account("acme", "other.test"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RemoteError::Remote { reason } if reason.contains("acme.test")),
        "{err}"
    );
    assert_eq!(fake.count("createacct"), 1);
}

#[tokio::test]
async fn lost_createacct_reply_then_retry_creates_once() {
    let fake = FakeWhm::start().await;
    let d = whm_driver(&fake).unwrap();
    fake.fail_next("createacct", 1, Fault::DropReply);
    let err = d
        .create_client_account(&account("lost", "lost.test"))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(fake.account("lost").is_some(), "the server did create it");
    let again = d
        .create_client_account(&account("lost", "lost.test"))
        .await
        .unwrap();
    assert!(again.already_existed);
    assert_eq!(fake.count("createacct"), 1);
}

#[tokio::test]
async fn metadata_result_zero_is_a_remote_error_with_the_reason() {
    let fake = FakeWhm::start().await;
    fake.add_account("taken", "taken.test", "default");
    let d = whm_driver(&fake).unwrap();
    // The domain belongs to another account: WHM says no with HTTP 200 and result 0.
    let err = d
        .create_client_account(&account("newuser", "taken.test"))
        .await
        .unwrap_err();
    match &err {
        RemoteError::Remote { reason } => {
            assert!(reason.contains("createacct"), "{reason}");
            assert!(reason.contains("already exists"), "{reason}");
        }
        other => panic!("expected Remote, got {other:?}"),
    }
    assert!(!err.is_retryable());
    // An unknown package.
    let err = d
        .change_package(&ChangePackage {
            site: SiteTarget::with_id("taken.test", "taken"),
            package: "platinum".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RemoteError::Remote { reason } if reason.contains("platinum")),
        "{err}"
    );
    // A raw call to a function WHM does not know.
    let err = d
        .call("nosuchfunction", reqwest::Method::GET, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RemoteError::Remote { reason } if reason.contains("Unknown app")),
        "{err}"
    );
}

#[tokio::test]
async fn suspend_unsuspend_remove() {
    let fake = FakeWhm::start().await;
    fake.add_account("shop", "shop.test", "default");
    let d = whm_driver(&fake).unwrap();
    // By domain only: the driver finds the user.
    let site = SiteTarget::named("shop.test");
    let r = d
        .suspend_site(&SuspendSite {
            site: site.clone(),
            reason: "Invoice 2026-0042 overdue".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        r,
        Changed {
            already: false,
            progress: Progress::Done
        }
    );
    let a = fake.account("shop").unwrap();
    assert!(a.suspended);
    assert_eq!(a.suspend_reason, "Invoice 2026-0042 overdue");
    let r = d
        .suspend_site(&SuspendSite {
            site: site.clone(),
            reason: "again".into(),
        })
        .await
        .unwrap();
    assert!(r.already);
    assert_eq!(fake.count("suspendacct"), 1);
    assert_eq!(
        d.find_site("shop.test").await.unwrap().unwrap().status,
        SiteStatus::Suspended
    );

    let with_id = SiteTarget::with_id("shop.test", "shop");
    assert!(!d.unsuspend_site(&with_id).await.unwrap().already);
    assert!(d.unsuspend_site(&with_id).await.unwrap().already);
    assert_eq!(fake.count("unsuspendacct"), 1);
    assert!(!fake.account("shop").unwrap().suspended);

    assert!(!d.delete_site(&with_id).await.unwrap().already);
    assert!(fake.account("shop").is_none());
    assert!(d.delete_site(&with_id).await.unwrap().already);
    assert_eq!(fake.count("removeacct"), 1);

    let err = d.unsuspend_site(&with_id).await.unwrap_err();
    assert!(matches!(err, RemoteError::Remote { .. }), "{err}");
}

#[tokio::test]
async fn package_quota_usage_login_link_list() {
    let fake = FakeWhm::start().await;
    fake.add_account("acme", "acme.test", "default");
    fake.add_account("beta", "beta.test", "pro");
    fake.set_disk_used("acme", 120);
    fake.set_bandwidth("acme", 2026, 3, 5_000_000);
    let d = whm_driver(&fake).unwrap();
    let site = SiteTarget::with_id("acme.test", "acme");

    let r = d
        .change_package(&ChangePackage {
            site: site.clone(),
            package: "pro".into(),
        })
        .await
        .unwrap();
    assert!(!r.already);
    assert_eq!(fake.account("acme").unwrap().plan, "pro");
    let r = d
        .change_package(&ChangePackage {
            site: site.clone(),
            package: "pro".into(),
        })
        .await
        .unwrap();
    assert!(r.already);
    assert_eq!(fake.count("changepackage"), 1);

    d.set_quota(&SetQuota {
        site: site.clone(),
        disk_mb: Some(500),
        bandwidth_mb: Some(10_000),
    })
    .await
    .unwrap();
    let a = fake.account("acme").unwrap();
    assert_eq!((a.quota_mb, a.bwlimit_mb), (500, 10_000));
    let quota = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "editquota")
        .unwrap();
    assert_eq!(quota.param("quota"), Some("500"));
    let limit = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "limitbw")
        .unwrap();
    assert_eq!(limit.param("bwlimit"), Some("10000"));
    assert!(matches!(
        d.set_quota(&SetQuota {
            site: site.clone(),
            disk_mb: None,
            bandwidth_mb: None
        })
        .await
        .unwrap_err(),
        RemoteError::InvalidRequest(_)
    ));

    let u = d
        .usage(&UsageRequest {
            site: site.clone(),
            year: 2026,
            month: 3,
        })
        .await
        .unwrap();
    assert_eq!(u.disk_used_mb, Some(120));
    assert_eq!(u.disk_limit_mb, Some(500));
    assert_eq!(u.bandwidth_bytes, Some(5_000_000));
    assert_eq!(u.bandwidth_limit_bytes, Some(10_000 * 1024 * 1024));
    let bw = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "showbw")
        .unwrap();
    assert_eq!(bw.param("month"), Some("3"));
    assert_eq!(bw.param("year"), Some("2026"));
    assert_eq!(bw.param("searchtype"), Some("user"));

    let link = d
        .login_link(&LoginLinkRequest {
            site: site.clone(),
            service: None,
        })
        .await
        .unwrap();
    let url = link.url.unwrap();
    assert!(url.expose().contains("/cpsess"));
    assert_eq!(format!("{url:?}"), "<redacted>");
    let session = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "create_user_session")
        .unwrap();
    assert_eq!(session.param("service"), Some("cpaneld"));

    let sites = d.list_sites().await.unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0].remote_id.as_deref(), Some("acme"));
    assert_eq!(sites[0].name, "acme.test");
    assert_eq!(sites[1].plan.as_deref(), Some("pro"));
}

#[tokio::test]
async fn unsupported_operations() {
    let fake = FakeWhm::start().await;
    let d = whm_driver(&fake).unwrap();
    let caps = d.capabilities();
    assert!(caps.supports(Operation::CreateClientAccount));
    assert!(!caps.supports(Operation::Backup));
    let err = d
        .backup(&BackupRequest {
            site: SiteTarget::named("a.test"),
            description: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err, RemoteError::NotSupported(Operation::Backup));
    assert!(!err.is_retryable());
    assert_eq!(err.to_string(), "this server type cannot back up a site");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn failure_shapes() {
    let fake = FakeWhm::start().await;
    let d = whm_driver(&fake).unwrap();

    fake.fail_next("listaccts", 1, Fault::Status(500));
    let err = d.list_sites().await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 500, .. }),
        "{err}"
    );
    assert!(err.is_retryable());

    fake.fail_next("listaccts", 1, Fault::Status(429));
    assert!(d.list_sites().await.unwrap_err().is_retryable());

    fake.fail_next("listaccts", 1, Fault::Garbage);
    let err = d.list_sites().await.unwrap_err();
    assert!(matches!(err, RemoteError::Protocol { .. }), "{err}");
    assert!(!err.is_retryable());

    fake.fail_next("listaccts", 1, Fault::Empty);
    assert!(matches!(
        d.list_sites().await.unwrap_err(),
        RemoteError::Protocol { .. }
    ));

    fake.fail_next("listaccts", 1, Fault::Hang);
    let err = d.list_sites().await.unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err}");
    assert!(err.is_retryable());

    // createacct answers 500 twice, then works: the retries create one account.
    fake.fail_next("createacct", 2, Fault::Status(500));
    for _ in 0..2 {
        let err = d
            .create_client_account(&account("flaky", "flaky.test"))
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
    }
    assert!(
        !d.create_client_account(&account("flaky", "flaky.test"))
            .await
            .unwrap()
            .already_existed
    );
    assert_eq!(fake.accounts().len(), 1);
    assert_eq!(fake.count("createacct"), 3);

    // A wrong token.
    let mut cfg = whm_config(&fake).unwrap();
    cfg.token = Secret::new("NOT-THE-TOKEN-999");
    let err = WhmDriver::new(cfg).unwrap().list_sites().await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Auth { status: 403, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());

    fake.stop_listening();
    let err = d.list_sites().await.unwrap_err();
    assert!(matches!(err, RemoteError::Connect { .. }), "{err}");
    assert!(err.is_retryable());
    fake.resume_listening();
    assert!(d.list_sites().await.is_ok());
}

/// The three certificate levels through WHM's own SSL functions: AutoSSL off, AutoSSL on with
/// a check started, and a bought bundle installed with `installssl` (leaf, CA bundle, key in a
/// POST body, never in a URL or the log); a bundle for another name is refused with WHM's reason.
#[tokio::test]
async fn certificates_through_autossl_and_installssl() {
    let fake = FakeWhm::start().await;
    fake.add_account("acme", "acme.test", "basic");
    let d: Arc<dyn HostingDriver> = Arc::new(whm_driver(&fake).unwrap());
    assert!(d.capabilities().supports(Operation::Certificate));
    let site = SiteTarget {
        name: "acme.test".into(),
        remote_id: Some("acme".into()),
    };
    let set = |setting: CertificateSetting| SetCertificate {
        site: site.clone(),
        setting,
    };

    d.set_certificate(&set(CertificateSetting::Automatic))
        .await
        .unwrap();
    let a = fake.account("acme").unwrap();
    assert_eq!((a.autossl, a.autossl_checks), (Some(true), 1));

    d.set_certificate(&set(CertificateSetting::Off))
        .await
        .unwrap();
    let a = fake.account("acme").unwrap();
    assert_eq!((a.autossl, a.autossl_checks), (Some(false), 1));

    let dir = tempfile::tempdir().unwrap();
    hostdesk_testkit::pebble::make_test_ca(dir.path(), &["acme.test", "www.acme.test"]).unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let (leaf, ca, key) = (read("cert.pem"), read("ca.pem"), read("key.pem"));
    let chain = format!("{leaf}{ca}");
    d.set_certificate(&set(CertificateSetting::Bundled {
        certificate_pem: chain.clone(),
        key_pem: Secret::new(key.clone()),
    }))
    .await
    .unwrap();
    let installed = fake.installed_ssl("acme.test").unwrap();
    assert_eq!(installed.user, "acme");
    assert_eq!(installed.crt.trim(), leaf.trim(), "the leaf alone as crt");
    assert_eq!(installed.cab.trim(), ca.trim(), "the intermediates as cab");
    assert_eq!(
        fake.account("acme").unwrap().autossl,
        Some(false),
        "AutoSSL off so that it never replaces the bought certificate"
    );
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.endpoint == "installssl")
        .unwrap();
    assert_eq!(post.method, "POST");
    assert!(!post.path.contains("PRIVATE"));
    assert_eq!(post.param("key"), Some("<redacted>"));

    // A certificate for another name: WHM's reason, not retryable.
    let other = tempfile::tempdir().unwrap();
    hostdesk_testkit::pebble::make_test_ca(other.path(), &["other.test"]).unwrap();
    let err = d
        .set_certificate(&set(CertificateSetting::Bundled {
            certificate_pem: std::fs::read_to_string(other.path().join("cert.pem")).unwrap(),
            key_pem: Secret::new(key),
        }))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not support the domain"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        fake.installed_ssl("acme.test").unwrap().serial,
        installed.serial
    );

    // An account the server does not have.
    let err = d
        .set_certificate(&SetCertificate {
            site: SiteTarget::named("ghost.test"),
            setting: CertificateSetting::Automatic,
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no account for ghost.test"),
        "{err}"
    );
}
