#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Transport failures (DNS, refused, TLS, timeout) and secrets never printed.

use std::net::TcpListener;

use hostdesk_remote::*;
use hostdesk_testkit::drivers::{aegir_config, test_http, whm_config};
use hostdesk_testkit::{FakeAegir, FakeWhm, Fault, PlainTextServer};

const TOKEN: &str = "WHMTESTTOKEN0123456789ABCDEF";

fn whm_at(url: &str) -> WhmDriver {
    let mut cfg = WhmConfig::new(url, "root", Secret::new(TOKEN)).unwrap();
    cfg.http = test_http();
    WhmDriver::new(cfg).unwrap()
}

#[tokio::test]
async fn dns_failure() {
    let d = whm_at("https://no-such-host.invalid:2087");
    let err = d.list_sites().await.unwrap_err();
    assert!(matches!(err, RemoteError::Dns { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(err.code(), "dns");
}

#[tokio::test]
async fn connection_refused() {
    // A port nobody listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = whm_at(&format!("http://127.0.0.1:{port}"));
    let err = d.list_sites().await.unwrap_err();
    match &err {
        RemoteError::Connect { detail, .. } => assert!(detail.contains("refused"), "{detail}"),
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(err.is_retryable());
}

#[tokio::test]
async fn tls_failure_is_not_retryable() {
    let server = PlainTextServer::start().await;
    let d = whm_at(&server.https_url());
    let err = d.list_sites().await.unwrap_err();
    assert!(matches!(err, RemoteError::Tls { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn request_timeout() {
    let fake = FakeWhm::start().await;
    fake.fail_all(Fault::Hang);
    let mut cfg = whm_config(&fake).unwrap();
    cfg.http.request_timeout = std::time::Duration::from_millis(200);
    let err = WhmDriver::new(cfg).unwrap().list_sites().await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Timeout { after_ms: 200, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err =
        WhmConfig::new("http://whm.example.com:2086", "root", Secret::new(TOKEN)).unwrap_err();
    assert!(matches!(err, RemoteError::InvalidRequest(_)));
    assert!(AegirConfig::new(
        "https://aegir.example.com",
        Secret::new("k"),
        "hosting.example.com"
    )
    .is_ok());
}

#[tokio::test]
async fn configs_and_errors_never_show_the_token() {
    let fake = FakeWhm::start().await;
    let cfg = whm_config(&fake).unwrap();
    let token = fake.token();
    for text in [format!("{cfg:?}"), format!("{cfg:#?}")] {
        assert!(!text.contains(&token), "{text}");
        assert!(text.contains("<redacted>"));
    }
    let driver = WhmDriver::new(cfg).unwrap();
    let text = format!("{driver:?}");
    assert!(!text.contains(&token), "{text}");

    let afake = FakeAegir::start().await;
    let acfg = aegir_config(&afake).unwrap();
    let key = afake.api_key();
    assert!(!format!("{acfg:?}").contains(&key));
    let adriver = AegirDriver::new(acfg).unwrap();
    assert!(!format!("{adriver:?}").contains(&key));

    // A server that echoes the token in an error body: the excerpt is scrubbed.
    let mut bad = whm_config(&fake).unwrap();
    bad.token = Secret::new("ECHOED-TOKEN-42");
    let err = WhmDriver::new(bad).unwrap().list_sites().await.unwrap_err();
    for text in [
        err.to_string(),
        format!("{err:?}"),
        serde_json::to_string(&err).unwrap(),
    ] {
        assert!(!text.contains("ECHOED-TOKEN-42"), "{text}");
    }

    // Every error kind's message, for every failure shape, stays clean.
    for fault in [
        Fault::Status(500),
        Fault::Garbage,
        Fault::Empty,
        Fault::Status(401),
    ] {
        fake.fail_next("listaccts", 1, fault);
        let err = driver.list_sites().await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains(&token), "{text}");
    }

    // A login link carries a session: it prints redacted.
    fake.add_account("acme", "acme.test", "default");
    let link = driver
        .login_link(&LoginLinkRequest {
            site: SiteTarget::with_id("acme.test", "acme"),
            service: None,
        })
        .await
        .unwrap();
    let shown = format!("{link:?}");
    assert!(!shown.contains("cpsess"), "{shown}");
}

#[test]
fn requests_holding_a_password_do_not_serialize_it() {
    let req = CreateClientAccount {
        username: "acme".into(),
        domain: "acme.test".into(),
        plan: None,
        contact_email: "a@acme.test".into(),
        password: Some(Secret::new("hunter2-hunter2")),
    };
    let json = serde_json::to_string(&req).unwrap();
    assert!(!json.contains("hunter2"), "{json}");
    assert!(!format!("{req:?}").contains("hunter2"));
    let back: CreateClientAccount = serde_json::from_str(&json).unwrap();
    assert_eq!(back.password, None);
}

#[test]
fn results_and_task_refs_round_trip_through_json() {
    let created = SiteCreated {
        site: "a.hosting.test".into(),
        remote_id: Some("42".into()),
        already_existed: false,
        progress: Progress::Pending {
            task: TaskRef {
                task_id: Some("43".into()),
                task_type: "install".into(),
                site: "a.hosting.test".into(),
                expect: Some(SiteStatus::Active),
            },
        },
    };
    let json = serde_json::to_string(&created).unwrap();
    assert_eq!(serde_json::from_str::<SiteCreated>(&json).unwrap(), created);
    let err = RemoteError::NotSupported(Operation::Usage);
    let json = serde_json::to_string(&err).unwrap();
    assert_eq!(serde_json::from_str::<RemoteError>(&json).unwrap(), err);
}

#[test]
fn drivers_are_usable_as_trait_objects() {
    fn assert_send_sync<T: Send + Sync + ?Sized>() {}
    assert_send_sync::<dyn HostingDriver>();
    let _: Option<std::sync::Arc<dyn HostingDriver>> = None;
}
