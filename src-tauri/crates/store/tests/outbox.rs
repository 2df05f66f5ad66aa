#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The outbox and mail template tables: dedupe, the state rules the schema enforces, and one
//! template per (product, kind).

use hostdesk_store::outbox::{self, NewMail};
use hostdesk_store::{Store, StoreError};

const AT: &str = "2026-11-01T09:00:00Z";

fn mail<'a>(key: &'a str, message_id: &'a str) -> NewMail<'a> {
    NewMail {
        client_id: None,
        to_addr: "owner@acme.test",
        to_name: "Acme",
        subject: "Welcome",
        body_text: "Hello\n",
        kind: "welcome",
        dedupe_key: key,
        message_id,
    }
}

#[test]
fn the_same_dedupe_key_returns_the_first_row() {
    let s = Store::open_in_memory().unwrap();
    let c = s.conn();
    let (a, created) = outbox::insert(c, &mail("k1", "<a@x.test>"), AT).unwrap();
    assert!(created);
    assert_eq!((a.state.as_str(), a.attempts), ("queued", 0));
    let (b, created) = outbox::insert(c, &mail("k1", "<b@x.test>"), AT).unwrap();
    assert!(!created);
    assert_eq!(b, a);
    assert_eq!(b.message_id, "<a@x.test>");
    assert_eq!(outbox::list(c, None, None, 0, 10).unwrap().len(), 1);
    // A Message-ID is never reused.
    let err = outbox::insert(c, &mail("k2", "<a@x.test>"), AT).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}

#[test]
fn a_row_goes_queued_sending_sent_and_a_sent_row_is_never_sending_again() {
    let s = Store::open_in_memory().unwrap();
    let c = s.conn();
    let (m, _) = outbox::insert(c, &mail("k", "<m@x.test>"), AT).unwrap();
    assert!(outbox::mark_sending(c, m.id, AT).unwrap());
    outbox::mark_waiting(c, m.id, "connection refused", AT).unwrap();
    let w = outbox::get(c, m.id).unwrap();
    assert_eq!((w.state.as_str(), w.attempts), ("queued", 1));
    assert_eq!(w.last_error.as_deref(), Some("connection refused"));
    assert!(outbox::mark_sending(c, m.id, AT).unwrap());
    outbox::mark_sent(c, m.id, "2026-11-01T09:01:00Z").unwrap();
    let sent = outbox::get(c, m.id).unwrap();
    assert_eq!(sent.state, "sent");
    assert_eq!(sent.attempts, 2);
    assert_eq!(sent.sent_at.as_deref(), Some("2026-11-01T09:01:00Z"));
    assert!(sent.last_error.is_none());
    // Sent is final: no attempt starts, no failure overwrites it.
    assert!(!outbox::mark_sending(c, m.id, AT).unwrap());
    outbox::mark_failed(c, m.id, "late", AT).unwrap();
    assert_eq!(outbox::get(c, m.id).unwrap().state, "sent");
    assert!(matches!(
        outbox::mark_sending(c, 999, AT),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn only_a_failed_mail_is_requeued() {
    let s = Store::open_in_memory().unwrap();
    let c = s.conn();
    let (m, _) = outbox::insert(c, &mail("k", "<m@x.test>"), AT).unwrap();
    assert!(matches!(
        outbox::requeue(c, m.id, AT),
        Err(StoreError::Conflict(_))
    ));
    outbox::mark_sending(c, m.id, AT).unwrap();
    outbox::mark_failed(c, m.id, "550 no such user", AT).unwrap();
    assert_eq!(
        outbox::list(c, Some("failed"), None, 0, 10).unwrap().len(),
        1
    );
    let q = outbox::requeue(c, m.id, AT).unwrap();
    assert_eq!(q.state, "queued");
    assert_eq!(q.last_error.as_deref(), Some("550 no such user"));
    assert_eq!(outbox::counts(c).unwrap(), vec![("queued".to_owned(), 1)]);
}

#[test]
fn the_schema_refuses_rows_that_break_its_rules() {
    let s = Store::open_in_memory().unwrap();
    let c = s.conn();
    let insert = |sql: &str| c.execute(sql, []);
    // No @ in the address; a sent row without sent_at; an unknown state; an unknown client.
    for bad in [
        "INSERT INTO outbox (to_addr, subject, body_text, kind, dedupe_key, message_id, created_at, updated_at)
         VALUES ('nobody', 's', 'b', 'welcome', 'a', '<a@x>', 't', 't')",
        "INSERT INTO outbox (to_addr, subject, body_text, kind, dedupe_key, message_id, state, created_at, updated_at)
         VALUES ('a@b.c', 's', 'b', 'welcome', 'b', '<b@x>', 'sent', 't', 't')",
        "INSERT INTO outbox (to_addr, subject, body_text, kind, dedupe_key, message_id, state, created_at, updated_at)
         VALUES ('a@b.c', 's', 'b', 'welcome', 'c', '<c@x>', 'lost', 't', 't')",
        "INSERT INTO outbox (client_id, to_addr, subject, body_text, kind, dedupe_key, message_id, created_at, updated_at)
         VALUES (42, 'a@b.c', 's', 'b', 'welcome', 'd', '<d@x>', 't', 't')",
        "INSERT INTO outbox (to_addr, subject, body_text, kind, dedupe_key, message_id, created_at, updated_at)
         VALUES ('a@b.c', 's', 'b', 'Welcome!', 'e', '<e@x>', 't', 't')",
    ] {
        assert!(insert(bad).is_err(), "accepted: {bad}");
    }
}

#[test]
fn one_template_per_product_and_kind_and_one_workspace_default() {
    let s = Store::open_in_memory().unwrap();
    let c = s.conn();
    c.execute(
        "INSERT INTO products (id, code, name, kind, created_at) VALUES (1, 'oa', 'OA', 'site', ?1)",
        [AT],
    )
    .unwrap();
    let d = outbox::set_template(c, None, "welcome", "Hi", "Default\n", AT).unwrap();
    let d2 = outbox::set_template(c, None, "welcome", "Hi!", "Default 2\n", AT).unwrap();
    assert_eq!(
        d.id, d2.id,
        "the workspace default is replaced, not duplicated"
    );
    let p = outbox::set_template(c, Some(1), "welcome", "OA", "Product\n", AT).unwrap();
    assert_ne!(p.id, d.id);
    assert_eq!(outbox::templates(c).unwrap().len(), 2);
    assert_eq!(
        outbox::template(c, None, "welcome").unwrap().unwrap().body,
        "Default 2\n"
    );
    assert_eq!(
        outbox::template(c, Some(1), "welcome")
            .unwrap()
            .unwrap()
            .subject,
        "OA"
    );
    // The unique indexes hold even against a plain INSERT.
    assert!(c
        .execute(
            "INSERT INTO mail_templates (product_id, kind, subject, body, created_at, updated_at)
             VALUES (NULL, 'welcome', 's', 'b', ?1, ?1)",
            [AT],
        )
        .is_err());
    assert!(matches!(
        outbox::set_template(c, Some(9), "welcome", "s", "b", AT),
        Err(StoreError::NotFound { .. })
    ));
    assert!(outbox::delete_template(c, Some(1), "welcome").unwrap());
    assert!(outbox::template(c, Some(1), "welcome").unwrap().is_none());
}
