#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! NamecheapRegistrar against the faithful fake (testkit::FakeNamecheap): availability, price,
//! registration (taken, snatched, lost reply, no funds), info, renewal, name servers, and the
//! API's odd failure shapes (HTTP 200 with Status="ERROR", garbage, 503).

use hostdesk_remote::registrar::{Contact, RegisterDomain, Registrar};
use hostdesk_remote::{NamecheapConfig, NamecheapRegistrar, RemoteError, Secret};
use hostdesk_testkit::drivers::test_http;
use hostdesk_testkit::{FakeNamecheap, Fault};

fn driver(fake: &FakeNamecheap) -> NamecheapRegistrar {
    driver_with(fake, &fake.api_key(), &fake.client_ip())
}

fn driver_with(fake: &FakeNamecheap, key: &str, ip: &str) -> NamecheapRegistrar {
    let mut c =
        NamecheapConfig::new(&fake.endpoint(), &fake.api_user(), Secret::new(key), ip).unwrap();
    c.http = test_http();
    NamecheapRegistrar::new(c).unwrap()
}

fn contact() -> Contact {
    Contact {
        first_name: "Marc".into(),
        last_name: "Dubois".into(),
        organization: "Atelier Lumière".into(),
        address1: "12 rue des Arts".into(),
        city: "Lyon".into(),
        state_province: "Rhône".into(),
        postal_code: "69001".into(),
        country: "FR".into(),
        phone: "+33.612345678".into(),
        email: "marc@lumiere.fr".into(),
    }
}

fn reg(domain: &str, years: u32) -> RegisterDomain {
    RegisterDomain {
        domain: domain.into(),
        years,
        contact: contact(),
        nameservers: vec!["ns1.atrium.test".into(), "ns2.atrium.test".into()],
    }
}

#[tokio::test]
async fn check_price_register_info_renew() {
    let fake = FakeNamecheap::start().await;
    let d = driver(&fake);
    assert!(d.test_connection().await.unwrap().contains("USD 100.00"));
    fake.take("taken.com");
    let a = d
        .check(&["lumiere.com".into(), "Taken.com".into()])
        .await
        .unwrap();
    assert_eq!(a.len(), 2);
    assert!(a[0].available && !a[0].premium);
    assert!(!a[1].available);
    assert_eq!(a[1].domain, "taken.com");

    let p = d.price("com", 2).await.unwrap().unwrap();
    assert_eq!((p.amount.as_str(), p.currency.as_str()), ("21.76", "USD"));
    assert!(d.price("xyz", 1).await.unwrap().is_none());

    assert!(d.info("lumiere.com").await.unwrap().is_none());
    let r = d.register(&reg("lumiere.com", 2)).await.unwrap();
    assert_eq!(r.charged.as_deref(), Some("21.76"));
    assert!(!r.registrar_id.is_empty());
    assert_eq!(fake.balance_cents(), 10_000 - 2_176);
    let held = fake.domain("lumiere.com").unwrap();
    assert_eq!(held.nameservers, vec!["ns1.atrium.test", "ns2.atrium.test"]);
    assert_eq!(held.registrant_email, "marc@lumiere.fr");

    let info = d.info("lumiere.com").await.unwrap().unwrap();
    assert_eq!(info.registrar_id, r.registrar_id);
    assert_eq!(info.created_on.as_deref(), Some("2026-11-22"));
    assert_eq!(info.expires_on.as_deref(), Some("2028-11-22"));
    assert_eq!(info.nameservers, vec!["ns1.atrium.test", "ns2.atrium.test"]);

    let renewed = d.renew("lumiere.com", 1).await.unwrap();
    assert_eq!(renewed.expires_on.as_deref(), Some("2029-11-22"));
    assert_eq!(renewed.charged.as_deref(), Some("10.88"));

    d.set_nameservers("lumiere.com", &["a.ns.test".into(), "b.ns.test".into()])
        .await
        .unwrap();
    assert_eq!(
        fake.domain("lumiere.com").unwrap().nameservers,
        vec!["a.ns.test", "b.ns.test"]
    );
    // The key travels in the form body, never in the URL.
    assert!(fake
        .requests()
        .iter()
        .all(|r| r.method == "POST" && r.path == "/xml.response"));
}

#[tokio::test]
async fn taken_snatched_and_no_funds_are_refusals() {
    let fake = FakeNamecheap::start().await;
    let d = driver(&fake);
    fake.take("taken.fr");
    let e = d.register(&reg("taken.fr", 1)).await.unwrap_err();
    assert!(
        matches!(&e, RemoteError::Remote { reason } if reason.contains("3019166")),
        "{e}"
    );
    assert!(!e.is_retryable());

    fake.snatch_on_create("race.fr");
    assert!(d.check(&["race.fr".into()]).await.unwrap()[0].available);
    let e = d.register(&reg("race.fr", 1)).await.unwrap_err();
    assert!(e.to_string().contains("not available"), "{e}");

    fake.set_balance_cents(500);
    let e = d.register(&reg("cheap.fr", 1)).await.unwrap_err();
    assert!(e.to_string().contains("insufficient funds"), "{e}");
    assert_eq!(fake.balance_cents(), 500);
    assert!(fake.domains().is_empty());

    let mut missing = reg("nocontact.fr", 1);
    missing.contact.phone.clear();
    assert!(matches!(
        d.register(&missing).await.unwrap_err(),
        RemoteError::InvalidRequest(_)
    ));
    assert!(matches!(
        d.register(&reg("www.sub.fr", 1)).await.unwrap_err(),
        RemoteError::InvalidRequest(_)
    ));
}

#[tokio::test]
async fn a_lost_reply_is_found_by_info_not_paid_twice() {
    let fake = FakeNamecheap::start().await;
    let d = driver(&fake);
    fake.fail_next("namecheap.domains.create", 1, Fault::DropReply);
    let e = d.register(&reg("lost.com", 1)).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    // What a retry does first: the registration is in the account.
    let info = d.info("lost.com").await.unwrap().unwrap();
    assert_eq!(info.expires_on.as_deref(), Some("2027-11-22"));
    assert_eq!(fake.domain("lost.com").unwrap().charges, vec![1088]);
    assert_eq!(fake.count("namecheap.domains.create"), 1);
}

#[tokio::test]
async fn failure_shapes() {
    let fake = FakeNamecheap::start().await;
    let bad_key = driver_with(&fake, "wrong-key-value", &fake.client_ip());
    let e = bad_key.test_connection().await.unwrap_err();
    assert!(matches!(e, RemoteError::Auth { .. }), "{e}");
    assert!(!e.to_string().contains("wrong-key-value"));

    let bad_ip = driver_with(&fake, &fake.api_key(), "198.51.100.1");
    let e = bad_ip.check(&["x.com".into()]).await.unwrap_err();
    assert!(
        matches!(&e, RemoteError::Auth { endpoint, .. } if endpoint.contains("1011150")),
        "{e}"
    );

    let d = driver(&fake);
    fake.fail_next("namecheap.domains.check", 1, Fault::Garbage);
    assert!(matches!(
        d.check(&["x.com".into()]).await.unwrap_err(),
        RemoteError::Protocol { .. }
    ));
    fake.fail_next("namecheap.domains.check", 1, Fault::Status(503));
    assert!(d.check(&["x.com".into()]).await.unwrap_err().is_retryable());
    fake.fail_next("namecheap.domains.check", 1, Fault::Empty);
    assert!(matches!(
        d.check(&["x.com".into()]).await.unwrap_err(),
        RemoteError::Protocol { .. }
    ));
    // An unsupported TLD: the check says why, it is not "available".
    let a = d.check(&["x.zz".into()]).await.unwrap();
    assert!(!a[0].available && a[0].note.is_some());
    fake.stop_listening();
    assert!(matches!(
        d.check(&["x.com".into()]).await.unwrap_err(),
        RemoteError::Connect { .. }
    ));
}
