#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
use hostdesk_app::core::catalog::{Period, PriceDraft, ProductDraft};
use hostdesk_app::core::client::{ClientDraft, ContactDraft, ContactRole};
use hostdesk_app::demo::{self, DemoOutcome};
use hostdesk_app::store::{audit, settings};
use hostdesk_app::{catalog, clients, status, subscriptions, Clock, ErrorCode, Workspace};

fn ws() -> Workspace {
    Workspace::open_in_memory(Clock::fixed("2026-11-01T09:00:00Z").unwrap()).unwrap()
}

fn draft(name: &str) -> ClientDraft {
    ClientDraft {
        name: name.into(),
        email: "anna@example.com".into(),
        currency: "EUR".into(),
        timezone: "Europe/Paris".into(),
        ..Default::default()
    }
}

#[test]
fn the_demo_fills_an_empty_workspace_once() {
    let mut ws = ws();
    assert!(status::report(&ws).unwrap().empty);
    assert_eq!(demo::load(&mut ws).unwrap(), DemoOutcome::Loaded);
    let s = status::report(&ws).unwrap();
    assert!(s.clients >= 24, "a few dozen clients, got {}", s.clients);
    assert!(s.subscriptions > s.clients);
    assert!(s.sites > 0);
    assert!(s.demo && !s.empty);
    // seeds: Open Atrium, support tiers, Community/Business/Enterprise kits, user quotas
    let cat = catalog::overview(&ws).unwrap();
    assert!(cat.products.iter().any(|p| p.profile == "openatrium"));
    let kits: Vec<&str> = cat.kits.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(kits, ["Community", "Business", "Enterprise"]);
    assert_eq!(cat.tiers.len(), 3);
    assert!(cat.options.iter().any(|o| o.code == "users"
        && o.choices
            .iter()
            .any(|c| c.quota.as_ref().is_some_and(|q| q.limit.is_none()))));
    // the dashboard chart accounts for every subscription, and shows more than one state
    let chart = status::subscriptions_by_product(&ws).unwrap();
    assert_eq!(chart.iter().map(|c| c.count).sum::<i64>(), s.subscriptions);
    assert!(
        chart.iter().any(|c| c.state == "suspended") && chart.iter().any(|c| c.state == "active")
    );
    // again: harmless, nothing doubled
    assert_eq!(demo::load(&mut ws).unwrap(), DemoOutcome::AlreadyLoaded);
    assert_eq!(status::report(&ws).unwrap(), s);
}

#[test]
fn the_demo_is_not_poured_into_a_workspace_with_real_data() {
    let mut ws = ws();
    clients::add(&mut ws, &draft("Real Client"), &[]).unwrap();
    let err = demo::load(&mut ws).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert_eq!(status::report(&ws).unwrap().clients, 1);
}

#[test]
fn an_invalid_client_changes_nothing_and_says_which_fields() {
    let mut ws = ws();
    let mut d = draft("");
    d.email = "not-an-email".into();
    d.timezone = "Mars/Base".into();
    let err = clients::add(&mut ws, &d, &[]).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["name", "email", "timezone"]);
    assert_eq!(status::report(&ws).unwrap().clients, 0);
    assert!(audit::list(ws.conn(), None, None, 10).unwrap().is_empty());
    // a bad contact rolls back the client too
    let bad_contact = ContactDraft {
        name: "X".into(),
        email: "x@".into(),
        role: Some(ContactRole::Owner),
        ..Default::default()
    };
    let err = clients::add(&mut ws, &draft("Good"), &[bad_contact]).unwrap_err();
    assert_eq!(err.fields[0].field, "contacts[0].email");
    assert_eq!(status::report(&ws).unwrap().clients, 0);
}

#[test]
fn changes_are_audited_with_who_when_and_before_after() {
    let mut ws = ws();
    settings::set(ws.conn(), "staff_name", "Ada Support").unwrap();
    let id = clients::add(&mut ws, &draft("Anna"), &[]).unwrap();
    ws.set_clock(Clock::fixed("2026-11-02T10:30:00Z").unwrap());
    let mut d = draft("Anna Schmidt");
    d.country = "de".into();
    clients::update(&mut ws, id, &d).unwrap();
    let trail = audit::list(ws.conn(), Some("client"), Some(id), 10).unwrap();
    assert_eq!(trail.len(), 2);
    let update = &trail[0];
    assert_eq!(
        (
            update.action.as_str(),
            update.actor.as_str(),
            update.at.as_str()
        ),
        ("update", "Ada Support", "2026-11-02T10:30:00Z")
    );
    assert_eq!(update.before.as_ref().unwrap()["name"], "Anna");
    assert_eq!(update.after.as_ref().unwrap()["name"], "Anna Schmidt");
    assert_eq!(update.after.as_ref().unwrap()["country"], "DE");
    assert_eq!(trail[1].action, "create");
}

#[test]
fn the_default_billing_day_comes_from_settings() {
    let mut ws = ws();
    settings::set(ws.conn(), clients::DEFAULT_BILLING_DAY, "15").unwrap();
    let id = clients::add(&mut ws, &draft("A"), &[]).unwrap();
    assert_eq!(clients::detail(&ws, id).unwrap().client.billing_day, 15);
    let mut d = draft("B");
    d.billing_day = Some(31);
    let id = clients::add(&mut ws, &d, &[]).unwrap();
    assert_eq!(clients::detail(&ws, id).unwrap().client.billing_day, 31);
}

const CSV_MIXED: &str = "name,email,currency,timezone,country,billing_day,kind\n\
Good One,one@example.com,EUR,Europe/Paris,FR,1,company\n\
,missing@example.com,EUR,Europe/Paris,FR,1,person\n\
Bad Zone,zone@example.com,EUR,Paris,FR,40,robot\n\
Good Two,two@example.com,JPY,Asia/Tokyo,JP,,person\n";

#[test]
fn a_csv_import_is_all_or_nothing_and_reports_every_bad_row() {
    let mut ws = ws();
    let r = clients::import_csv(&mut ws, CSV_MIXED.as_bytes(), false).unwrap();
    assert!(r.rolled_back);
    assert_eq!((r.rows, r.imported), (4, 0));
    let lines: Vec<(u64, &str)> = r
        .errors
        .iter()
        .map(|e| (e.line, e.field.as_str()))
        .collect();
    assert_eq!(
        lines,
        [(3, "name"), (4, "kind"), (4, "timezone"), (4, "billingDay")]
    );
    assert_eq!(status::report(&ws).unwrap().clients, 0, "nothing written");

    let r = clients::import_csv(&mut ws, CSV_MIXED.as_bytes(), true).unwrap();
    assert!(!r.rolled_back);
    assert_eq!(r.imported, 2);
    assert_eq!(status::report(&ws).unwrap().clients, 2);
}

#[test]
fn a_csv_with_unknown_or_missing_columns_is_refused_up_front() {
    let mut ws = ws();
    let e = clients::import_csv(&mut ws, "name,email,colour\n".as_bytes(), false).unwrap_err();
    assert!(
        e.message.contains("unknown column 'colour'"),
        "{}",
        e.message
    );
    let e = clients::import_csv(&mut ws, "name,email,currency\n".as_bytes(), false).unwrap_err();
    assert!(e.message.contains("'timezone' is missing"), "{}", e.message);
}

#[test]
fn export_then_import_round_trips_clients() {
    let mut ws1 = ws();
    demo::load(&mut ws1).unwrap();
    let mut csv = Vec::new();
    let n = clients::export_csv(&ws1, &mut csv).unwrap();
    let mut ws2 = ws();
    let r = clients::import_csv(&mut ws2, csv.as_slice(), false).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.imported, n);
    let mut again = Vec::new();
    clients::export_csv(&ws2, &mut again).unwrap();
    assert_eq!(
        String::from_utf8(again).unwrap(),
        String::from_utf8(csv).unwrap()
    );

    let mut subs = Vec::new();
    let rows = subscriptions::export_csv(&ws1, &mut subs).unwrap();
    let text = String::from_utf8(subs).unwrap();
    assert_eq!(text.lines().count() as u64, rows + 1);
    assert!(text
        .lines()
        .next()
        .unwrap()
        .starts_with("id,client_id,client_name,product"));
}

#[test]
fn a_price_change_applies_to_new_orders_only() {
    let mut ws = ws();
    demo::load(&mut ws).unwrap();
    let before: Vec<i64> = subscriptions::list(&ws, None, None, 0, 1000)
        .unwrap()
        .iter()
        .map(|s| s.price_minor)
        .collect();
    ws.set_clock(Clock::fixed("2026-12-01T00:00:00Z").unwrap());
    catalog::reprice_product(
        &mut ws,
        "drupal-site",
        &PriceDraft {
            currency: "EUR".into(),
            period: Some(Period::Month),
            amount: "12.50".into(),
        },
        false,
    )
    .unwrap();
    let after: Vec<i64> = subscriptions::list(&ws, None, None, 0, 1000)
        .unwrap()
        .iter()
        .map(|s| s.price_minor)
        .collect();
    assert_eq!(
        before, after,
        "existing subscriptions keep the price they were sold at"
    );
    let d = catalog::show_product(&ws, "drupal-site").unwrap();
    let eur: Vec<i64> = d
        .price_history
        .iter()
        .filter(|p| p.currency == "EUR")
        .map(|p| p.amount_minor)
        .collect();
    assert_eq!(eur, [995, 1250]);
    assert_eq!(
        d.product
            .prices
            .iter()
            .find(|p| p.currency == "EUR")
            .unwrap()
            .amount_minor,
        1250
    );
}

#[test]
fn retired_products_leave_subscriptions_alone() {
    let mut ws = ws();
    demo::load(&mut ws).unwrap();
    let subs_before = status::report(&ws).unwrap().subscriptions;
    catalog::retire_product(&mut ws, "drupal-site").unwrap();
    assert!(catalog::list_products(&ws, false)
        .unwrap()
        .iter()
        .all(|p| p.code != "drupal-site"));
    assert!(catalog::list_products(&ws, true)
        .unwrap()
        .iter()
        .any(|p| p.code == "drupal-site" && p.retired_at.is_some()));
    assert_eq!(status::report(&ws).unwrap().subscriptions, subs_before);
    assert_eq!(
        catalog::retire_product(&mut ws, "drupal-site")
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert_eq!(
        catalog::retire_product(&mut ws, "nope").unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[test]
fn a_product_needs_its_fields_and_a_unique_code() {
    let mut ws = ws();
    let p = ProductDraft {
        code: "oa".into(),
        name: "OA".into(),
        profile: "openatrium".into(),
        prices: vec![PriceDraft {
            currency: "KWD".into(),
            period: Some(Period::Year),
            amount: "1.250".into(),
        }],
        ..Default::default()
    };
    catalog::add_product(&mut ws, &p).unwrap();
    assert_eq!(
        catalog::add_product(&mut ws, &p).unwrap_err().code,
        ErrorCode::Conflict
    );
    let shown = catalog::show_product(&ws, "oa").unwrap();
    assert_eq!(shown.product.prices[0].amount, "1.250");
    assert_eq!(shown.product.prices[0].amount_minor, 1250);
}

#[test]
fn the_product_form_check_reports_the_cores_messages_without_writing() {
    let ws = ws();
    let bad = ProductDraft {
        code: "oa site".into(),
        name: "OA".into(),
        profile: "openatrium".into(),
        prices: vec![PriceDraft {
            currency: "EUR".into(),
            period: Some(Period::Month),
            amount: "9.999".into(),
        }],
        ..Default::default()
    };
    let fields: Vec<String> = catalog::check_product(&bad)
        .into_iter()
        .map(|f| f.field)
        .collect();
    assert_eq!(fields, ["code", "prices[0].amount"]);
    assert!(catalog::list_products(&ws, true).unwrap().is_empty());
}
