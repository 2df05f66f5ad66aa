#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! PowerDns against a REAL PowerDNS Authoritative (`apt install pdns-server
//! pdns-backend-sqlite3`), started on loopback ports with a temporary SQLite database. Fails,
//! not skips, when it is missing. Alone: `cargo test -p hostdesk-remote --test powerdns_real`.

use std::net::Ipv4Addr;

use hostdesk_remote::dns::{PowerDns, PowerDnsConfig, RecordSet, Resolver};
use hostdesk_remote::{RemoteError, Secret};
use hostdesk_testkit::drivers::test_http;
use hostdesk_testkit::RealPowerDns;

fn client(pdns: &RealPowerDns, key: &str) -> PowerDns {
    let mut c = PowerDnsConfig::new(&pdns.api_url(), Secret::new(key)).unwrap();
    c.http = test_http();
    PowerDns::new(c).unwrap()
}

#[tokio::test]
async fn a_real_zone_with_records() {
    let pdns = RealPowerDns::require();
    let api = client(&pdns, pdns.api_key());
    assert!(api
        .test_connection()
        .await
        .unwrap()
        .starts_with("PowerDNS Authoritative"));
    assert!(api.zone("lumiere.test").await.unwrap().is_none());

    let ns = vec!["ns1.atrium.test".to_owned(), "ns2.atrium.test".to_owned()];
    let records = vec![
        RecordSet::new("lumiere.test", "A", 300, &["203.0.113.10"]),
        RecordSet::new("www.lumiere.test", "CNAME", 300, &["lumiere.test."]),
    ];
    let out = api
        .ensure_zone("lumiere.test", &ns, &records)
        .await
        .unwrap();
    assert!(out.created);
    assert_eq!(out.zone.name, "lumiere.test.");
    assert_eq!(out.zone.records("lumiere.test", "A"), vec!["203.0.113.10"]);
    assert_eq!(
        out.zone.records("lumiere.test", "NS"),
        vec!["ns1.atrium.test.", "ns2.atrium.test."]
    );

    // The name server answers with it.
    let dns = Resolver::Server(pdns.dns_addr());
    assert_eq!(
        dns.ipv4("lumiere.test").await.unwrap(),
        vec![Ipv4Addr::new(203, 0, 113, 10)]
    );
    assert!(dns.ipv4("nothing.lumiere.test").await.unwrap().is_empty());

    // Again (a retry after a lost reply): the same zone, records set again.
    let moved = vec![RecordSet::new("lumiere.test", "A", 300, &["203.0.113.20"])];
    let again = api.ensure_zone("lumiere.test", &ns, &moved).await.unwrap();
    assert!(!again.created);
    assert_eq!(
        again.zone.records("lumiere.test", "A"),
        vec!["203.0.113.20"]
    );
    assert_eq!(
        again.zone.records("www.lumiere.test", "CNAME"),
        vec!["lumiere.test."]
    );
    assert_eq!(
        dns.ipv4("lumiere.test").await.unwrap(),
        vec![Ipv4Addr::new(203, 0, 113, 20)]
    );

    // A bad record is PowerDNS's refusal, with its reason.
    let bad = vec![RecordSet::new("lumiere.test", "A", 300, &["not-an-ip"])];
    let e = api.set_records("lumiere.test", &bad).await.unwrap_err();
    assert!(matches!(e, RemoteError::Remote { .. }), "{e}");

    assert!(api.delete_zone("lumiere.test").await.unwrap());
    assert!(!api.delete_zone("lumiere.test").await.unwrap());
    assert!(api.zone("lumiere.test").await.unwrap().is_none());

    let wrong = client(&pdns, "not-the-key");
    let e = wrong.test_connection().await.unwrap_err();
    assert!(matches!(e, RemoteError::Auth { status: 401, .. }), "{e}");
    assert!(!e.to_string().contains("not-the-key"));
}
