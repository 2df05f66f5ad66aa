#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! End-to-end tests of the real desktop app: tauri-driver + WebKitWebDriver drive the window
//! under Xvfb. Run them with `make e2e` (they are ignored by a plain `cargo test`, which has no
//! display). Each test starts the app on its own temporary database.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hostdesk_app::{demo, status, Clock, Workspace};

/// A running tauri-driver for one app session; stopped with SIGTERM (a SIGKILL would leave
/// WebKitWebDriver behind, holding the test's stdout).
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver(db: &Path) -> Driver {
    start_driver_at(db, None)
}

/// Starts the app on `db`, as of `now` (the test clock) when given.
fn start_driver_at(db: &Path, now: Option<&str>) -> Driver {
    start_driver_env(db, now, &[])
}

/// Starts the app on `db` with extra environment variables.
fn start_driver_env(db: &Path, now: Option<&str>, env: &[(&str, &str)]) -> Driver {
    let port = free_port();
    let native = free_port();
    let mut cmd = Command::new("tauri-driver");
    if let Some(now) = now {
        cmd.env("HOSTDESK_NOW", now);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("HOSTDESK_DB", db)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tauri-driver is installed (make deps)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "tauri-driver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver { child, port }
}

async fn open_app(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": env!("CARGO_BIN_EXE_hostdesk-desktop") }),
    );
    // tauri-driver accepts connections before WebKitWebDriver is ready: a session request can
    // be cut short, so try a few times before failing.
    let mut last = None;
    for _ in 0..5 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
        {
            Ok(c) => return c,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("a WebDriver session on the app: {last:?}");
}

async fn text_of(c: &Client, css: &str) -> String {
    let el = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap();
    el.text().await.unwrap()
}

/// Waits until the element's text satisfies `ok` (the UI loads and re-renders
/// asynchronously, so a found element may be replaced before it is read: look again).
async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            // textContent, not WebDriver's rendered text: WebKitWebDriver reports only part of
            // the absolutely positioned rows of a virtualized table.
            if let Ok(Some(t)) = el.prop("textContent").await {
                if ok(&t) {
                    return t;
                }
                last = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Saves what the window shows, for the README and for people looking at a failure.
async fn screenshot(c: &Client, name: &str) {
    // two animation frames so the last DOM change is painted
    let _ = c
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            vec![],
        )
        .await;
    let png = c.screenshot().await.unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Clicks a section in the navigation frame, as a person would.
async fn nav(c: &Client, section: &str) {
    let link = c
        .wait()
        .for_element(Locator::Css(&format!("nav a[href='#/{section}']")))
        .await
        .unwrap();
    link.click().await.unwrap();
}

fn demo_db(dir: &Path) -> (PathBuf, status::StatusReport) {
    let path = dir.join("demo.db");
    let mut ws = Workspace::open(&path, Clock::System).unwrap();
    demo::load(&mut ws).unwrap();
    let report = status::report(&ws).unwrap();
    (path, report)
}

/// The demo workspace with quick simulated replies, and its first client's first active site
/// (the demo's sandbox server already has it): (database, client id, domain).
fn demo_site(dir: &Path) -> (PathBuf, i64, String) {
    let (db, _) = demo_db(dir);
    let mut ws = Workspace::open(&db, Clock::System).unwrap();
    hostdesk_app::settings::set(&mut ws, "sandbox_delay_ms", "20-60").unwrap();
    let (client_id, domain): (i64, String) = ws
        .conn()
        .query_row(
            "SELECT s.client_id, st.domain FROM sites st JOIN subscriptions s ON s.id = st.subscription_id
              WHERE st.status = 'active' ORDER BY s.client_id, st.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (db, client_id, domain)
}

/// Opens a client's page by its address.
async fn open_client(c: &Client, client_id: i64) {
    let url = c.current_url().await.unwrap();
    let base = url.as_str().split('#').next().unwrap();
    c.goto(&format!("{base}#/clients/{client_id}"))
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn the_dashboard_shows_the_databases_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (db, expected) = demo_db(dir.path());
    let driver = start_driver(&db);
    let c = open_app(&driver).await;

    let clients = wait_text(&c, "[data-testid=count-clients]", |t| {
        t == expected.clients.to_string()
    })
    .await;
    assert_eq!(clients, expected.clients.to_string());
    assert_eq!(
        text_of(&c, "[data-testid=count-subscriptions]").await,
        expected.subscriptions.to_string()
    );
    assert_eq!(
        text_of(&c, "[data-testid=count-sites]").await,
        expected.sites.to_string()
    );
    assert_eq!(
        text_of(&c, "[data-testid=count-open-invoices]").await,
        expected.open_invoices.to_string()
    );
    // The app's sweeps may queue work as it opens (due backups, usage collection): at least the
    // jobs that were queued before.
    let queued: i64 = text_of(&c, "[data-testid=count-queued-jobs]")
        .await
        .parse()
        .unwrap();
    assert!(queued >= expected.queued_jobs, "{queued}");
    assert_eq!(
        text_of(&c, "[data-testid=database-path]").await,
        db.display().to_string()
    );
    // the chart accounts for every subscription
    let chart = wait_text(&c, ".chart", |t| t.contains("Subscriptions by product")).await;
    assert!(chart.contains("Open Atrium site"), "{chart}");
    screenshot(&c, "dashboard").await;

    // the catalog lists the database's products
    nav(&c, "catalog").await;
    let products = wait_text(&c, ".panel table", |t| t.contains("oa-site")).await;
    let ws = Workspace::open(&db, Clock::System).unwrap();
    for p in hostdesk_app::catalog::list_products(&ws, true).unwrap() {
        assert!(
            products.contains(&p.name),
            "{} missing from {products}",
            p.name
        );
    }
    screenshot(&c, "catalog").await;
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn an_empty_workspace_offers_the_demo_and_loads_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let driver = start_driver(&db);
    let c = open_app(&driver).await;
    assert_eq!(
        wait_text(&c, "[data-testid=count-clients]", |t| t == "0").await,
        "0"
    );
    c.wait()
        .for_element(Locator::Css("[data-testid=welcome] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let n = wait_text(&c, "[data-testid=count-clients]", |t| t != "0").await;
    let ws = Workspace::open(&db, Clock::System).unwrap();
    assert_eq!(n, status::report(&ws).unwrap().clients.to_string());
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn add_a_client_then_find_it_by_search_in_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo_db(dir.path());
    let driver = start_driver(&db);
    let c = open_app(&driver).await;
    nav(&c, "clients").await;
    // the table shows the demo's clients
    wait_text(&c, "[data-testid=client-total]", |t| {
        t.ends_with("clients") && !t.starts_with('0')
    })
    .await;
    screenshot(&c, "clients").await;

    click_at(
        &c,
        Locator::XPath("//button[normalize-space()='Add client']"),
    )
    .await;
    let form = c
        .wait()
        .for_element(Locator::Css("form[aria-label='Add client']"))
        .await
        .unwrap();
    let input = |name: &'static str| {
        let form = form.clone();
        async move {
            form.find(Locator::Css(&format!("input[name={name}]")))
                .await
                .unwrap()
        }
    };
    // a bad e-mail is flagged beside the field as it is typed
    input("email").await.send_keys("zoe@").await.unwrap();
    input("name").await.click().await.unwrap();
    let err = wait_text(&c, "#email-error", |t| t.contains("not an e-mail")).await;
    assert!(err.contains("not an e-mail address"), "{err}");
    input("email")
        .await
        .send_keys("quokka-labs.example")
        .await
        .unwrap();
    input("name").await.send_keys("Quokka Labs").await.unwrap();
    // replace the suggested zone as a person would: select all, type over it
    let select_all = format!("{}a{}", char::from(Key::Control), char::from(Key::Null));
    let tz = input("timezone").await;
    tz.send_keys(&select_all).await.unwrap();
    tz.send_keys("Australia/Perth").await.unwrap();
    // the stale message goes once the address is complete
    wait_text(&c, "form[aria-label='Add client']", |t| {
        !t.contains("not an e-mail address")
    })
    .await;
    screenshot(&c, "client-form").await;
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // the new client's page opens
    let title = wait_text(&c, ".client-page h1", |t| t.contains("Quokka Labs")).await;
    assert!(title.contains("Quokka Labs"), "{title}");

    nav(&c, "clients").await;
    let search = c
        .wait()
        .for_element(Locator::Css("[data-search]"))
        .await
        .unwrap();
    search.send_keys("quok").await.unwrap();
    let total = wait_text(&c, "[data-testid=client-total]", |t| t == "1 clients").await;
    screenshot(&c, "client-search").await;
    assert_eq!(total, "1 clients");
    let row = wait_text(&c, "[data-testid=client-rows] [role=row]", |t| {
        t.contains("Quokka Labs")
    })
    .await;
    assert!(row.contains("zoe@quokka-labs.example"), "{row}");
    screenshot(&c, "client-search").await;
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn the_app_runs_the_queue_live_and_staff_retry_a_dead_job() {
    use hostdesk_app::jobs::{self, JobSpec};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.db");
    let mut ws = Workspace::open(&db, Clock::System).unwrap();
    hostdesk_app::settings::set(&mut ws, "sandbox_delay_ms", "50-150").unwrap();
    for i in 0..6 {
        let payload = serde_json::json!({ "name": format!("s{i}.sites.example.net"), "profile": "openatrium" });
        jobs::enqueue(
            &mut ws,
            &JobSpec {
                kind: "sandbox.create_site".into(),
                key: format!("s{i}"),
                payload,
                ..Default::default()
            },
        )
        .unwrap();
    }
    // suspending a site the server does not have cannot succeed: dead after one attempt
    let doomed = jobs::enqueue(
        &mut ws,
        &JobSpec {
            kind: "sandbox.suspend_site".into(),
            key: "doomed".into(),
            payload: serde_json::json!({ "site": "nowhere.sites.example.net" }),
            ..Default::default()
        },
    )
    .unwrap();
    drop(ws);

    let driver = start_driver(&db);
    let c = open_app(&driver).await;
    nav(&c, "jobs").await;
    let done = wait_text(&c, "[data-testid=jobs-succeeded]", |t| t == "6").await;
    assert_eq!(done, "6", "the window's runner ran the queue");
    assert_eq!(
        wait_text(&c, "[data-testid=jobs-dead]", |t| t == "1").await,
        "1"
    );
    // open the dead job, see why, retry it
    c.find(Locator::XPath(&format!(
        "//table[@aria-label='Jobs']//tr[td[1][normalize-space()='{doomed}']]/td[2]"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let detail = wait_text(&c, &format!("[aria-label='Job {doomed}']"), |t| {
        t.contains("does not exist")
    })
    .await;
    assert!(detail.contains("does not exist"), "{detail}");
    screenshot(&c, "jobs").await;
    click_at(
        &c,
        Locator::XPath("//button[normalize-space()='Retry now']"),
    )
    .await;
    // it runs again (and, the site still missing, dies again): two attempts in its history
    let detail = wait_text(&c, &format!("[aria-label='Job {doomed}']"), |t| {
        t.matches("does not exist").count() >= 2
    })
    .await;
    assert!(detail.matches("does not exist").count() >= 2, "{detail}");
    let ws = Workspace::open(&db, Clock::System).unwrap();
    assert_eq!(jobs::show(&ws, doomed).unwrap().job.attempts, 2);
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn a_bill_run_previews_then_issues_with_progress() {
    use hostdesk_app::billing::bill_run::{self, BillRunOptions};
    const LATER: &str = "2026-12-02T09:00:00Z";
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bill.db");
    let mut ws = Workspace::open(&db, Clock::fixed("2026-11-10T09:00:00Z").unwrap()).unwrap();
    demo::load(&mut ws).unwrap();
    ws.set_clock(Clock::fixed(LATER).unwrap());
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let dry = bill_run::run(
        &mut ws,
        &BillRunOptions {
            through: None,
            dry_run: true,
        },
        &cancel,
        |_, _| {},
    )
    .unwrap();
    assert!(!dry.invoices.is_empty());
    drop(ws);

    let driver = start_driver_at(&db, Some(LATER));
    let c = open_app(&driver).await;
    nav(&c, "invoices").await;
    c.wait()
        .for_element(Locator::XPath("//button[normalize-space()='Bill run…']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::XPath("//button[normalize-space()='Preview']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let want = format!("Would issue {} invoices", dry.invoices.len());
    let summary = wait_text(&c, "[data-testid=bill-run-summary]", |t| t.contains(&want)).await;
    assert!(summary.contains(&want), "{summary}");
    screenshot(&c, "bill-run-preview").await;
    c.find(Locator::XPath(&format!(
        "//button[normalize-space()='Issue {} invoices']",
        dry.invoices.len()
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let want = format!("Issued {} invoices", dry.invoices.len());
    let summary = wait_text(&c, "[data-testid=bill-run-summary]", |t| t.contains(&want)).await;
    assert!(summary.contains(&want), "{summary}");
    click_at(&c, Locator::XPath("//button[normalize-space()='Close']")).await;
    let shown = wait_text(&c, "[data-testid=invoice-count]", |t| {
        t == format!("{} invoices", dry.invoices.len())
    })
    .await;
    assert_eq!(shown, format!("{} invoices", dry.invoices.len()));
    screenshot(&c, "invoices").await;
    let ws = Workspace::open(&db, Clock::System).unwrap();
    let issued: i64 = ws
        .conn()
        .query_row(
            "SELECT count(*) FROM invoices WHERE status = 'issued'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(issued as usize, dry.invoices.len());
    drop(ws);

    // A credit note from the invoice's panel: everything that remains, for a reason.
    let first = &dry.invoices[0].number;
    click_at(
        &c,
        Locator::XPath(&format!("//tr[.//code[normalize-space()='{first}']]/td[1]")),
    )
    .await;
    click_xpath(&c, "//button[normalize-space()='Credit note…']").await;
    let reason = c
        .wait()
        .for_element(Locator::Css("form[aria-label='Issue a credit note'] input"))
        .await
        .unwrap();
    reason.send_keys("order cancelled").await.unwrap();
    click_button(&c, "Issue credit note").await;
    let done = wait_text(&c, "[aria-label='Credit note issued']", |t| {
        t.contains("issued")
    })
    .await;
    assert!(done.contains("settled what was due"), "{done}");
    screenshot(&c, "credit-note").await;
    let ws = Workspace::open(&db, Clock::System).unwrap();
    let (notes, status): (i64, String) = ws
        .conn()
        .query_row(
            "SELECT (SELECT count(*) FROM credit_notes WHERE invoice_id = i.id), i.status
               FROM invoices i WHERE i.number = ?1",
            [first],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (notes, status.as_str()),
        (1, "paid"),
        "the whole invoice credited: nothing is due"
    );
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn staff_add_a_server_and_test_its_connection() {
    let whm = hostdesk_testkit::FakeWhm::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("servers.db");
    drop(Workspace::open(&db, Clock::System).unwrap());
    // no keyring under Xvfb: the documented opt-in store reads tokens from the environment
    let driver = start_driver_env(
        &db,
        None,
        &[
            ("HOSTDESK_SECRETS", "env"),
            ("HOSTDESK_TOKEN_WEB1", "WHMTESTTOKEN0123456789ABCDEF"),
            ("HOSTDESK_TOKEN_WEB2", "wrong-token"),
        ],
    );
    let c = open_app(&driver).await;
    nav(&c, "servers").await;
    for name in ["web1", "web2"] {
        c.wait()
            .for_element(Locator::XPath("//button[normalize-space()='Add server']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let form = c
            .wait()
            .for_element(Locator::Css("form[aria-label='Add server']"))
            .await
            .unwrap();
        form.find(Locator::Css("input[name=name]"))
            .await
            .unwrap()
            .send_keys(name)
            .await
            .unwrap();
        form.find(Locator::Css("input[name=baseUrl]"))
            .await
            .unwrap()
            .send_keys(&whm.base_url())
            .await
            .unwrap();
        form.find(Locator::Css("input[name=user]"))
            .await
            .unwrap()
            .send_keys("root")
            .await
            .unwrap();
        form.find(Locator::Css("button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_text(&c, &format!("[aria-label='Server {name}']"), |t| {
            t.contains(name)
        })
        .await;
    }
    let test = |name: &'static str| {
        let c = c.clone();
        async move {
            c.find(Locator::XPath(&format!(
                "//div[@aria-label='Server {name}']//button[normalize-space()='Test connection']"
            )))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        }
    };
    test("web1").await;
    let ok = wait_text(
        &c,
        "[aria-label='Server web1'] [data-testid=test-ok]",
        |t| t.contains("Connected"),
    )
    .await;
    assert!(ok.contains("Connected"), "{ok}");
    test("web2").await;
    let bad = wait_text(
        &c,
        "[aria-label='Server web2'] [data-testid=test-problem]",
        |t| t.contains("403"),
    )
    .await;
    assert!(bad.contains("403"), "{bad}");
    // edit: web2 runs 2 jobs at once from now on
    click_at(
        &c,
        Locator::XPath("//div[@aria-label='Server web2']//button[normalize-space()='Edit']"),
    )
    .await;
    let form = c
        .wait()
        .for_element(Locator::Css("form[aria-label='Edit server']"))
        .await
        .unwrap();
    let select_all = format!("{}a{}", char::from(Key::Control), char::from(Key::Null));
    let limit = form
        .find(Locator::Css("input[name=concurrency]"))
        .await
        .unwrap();
    limit.send_keys(&select_all).await.unwrap();
    limit.send_keys("2").await.unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let card = wait_text(&c, "[aria-label='Server web2']", |t| {
        t.contains("2 jobs at once")
    })
    .await;
    assert!(card.contains("2 jobs at once"), "{card}");
    screenshot(&c, "servers").await;
    // the token never reached the database
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.windows(10).any(|w| w == b"WHMTESTTOK"));
    c.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn a_site_is_suspended_from_the_client_page_through_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (db, client_id, domain) = demo_site(dir.path());

    let driver = start_driver(&db);
    let c = open_app(&driver).await;
    open_client(&c, client_id).await;
    let page = wait_text(&c, ".client-page", |t| t.contains("Suspend")).await;
    assert!(page.contains(&domain), "{page}");
    click_at(&c, Locator::XPath("//button[normalize-space()='Suspend']")).await;
    let page = wait_text(&c, ".client-page", |t| {
        t.contains("disabled") && t.contains("Unsuspend")
    })
    .await;
    assert!(
        page.contains("Unsuspend"),
        "the site shows as disabled, with Unsuspend offered: {page}"
    );
    screenshot(&c, "client-site-actions").await;
    let ws = Workspace::open(&db, Clock::System).unwrap();
    let remote: String = ws
        .conn()
        .query_row(
            "SELECT status FROM sandbox_sites WHERE name = ?1",
            [&domain],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        remote, "disabled",
        "the (simulated) server really suspended it"
    );
    c.close().await.unwrap();
}

/// Clicks the button whose text is `label` (waiting for it).
async fn click_button(c: &Client, label: &str) {
    let at = format!("//button[normalize-space()='{label}' and not(@disabled)]");
    click_at(c, Locator::XPath(&at)).await;
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn an_order_placed_in_the_wizard_is_provisioned_on_the_client_page() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo_db(dir.path());
    let mut ws = Workspace::open(&db, Clock::System).unwrap();
    hostdesk_app::settings::set(&mut ws, "sandbox_delay_ms", "50-100").unwrap();
    // the demo's products start on payment; this one starts at once, so "pay later" applies
    hostdesk_app::orders::set_activation(&mut ws, "drupal-site", "immediate").unwrap();
    // the chain ends with a welcome mail: a real SMTP server on loopback receives it
    let smtp = hostdesk_testkit::RealSmtp::start();
    hostdesk_app::mail::smtp::save_settings(
        &mut ws,
        &hostdesk_app::secrets::MemoryStore::default(),
        &hostdesk_app::mail::SmtpSettingsInput {
            host: "127.0.0.1".into(),
            port: Some(i64::from(smtp.port())),
            from_addr: "billing@atrium.test".into(),
            from_name: "Atrium Hosting".into(),
            security: hostdesk_app::mail::Security::None,
            ..Default::default()
        },
        None,
        false,
    )
    .unwrap();
    let (client_id, client): (i64, String) = ws
        .conn()
        .query_row(
            "SELECT id, name FROM clients WHERE status = 'active' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(ws);

    let driver = start_driver_env(&db, None, &[("HOSTDESK_SECRETS", "env")]);
    let c = open_app(&driver).await;
    // the sandbox workspace shows its date and the test clock in the shell
    let date = wait_text(&c, "[data-testid=clock-date]", |t| t.len() >= 10).await;
    assert!(date.starts_with("20"), "{date}");
    open_client(&c, client_id).await;
    wait_text(&c, ".client-page h1", |t| t.contains(&client)).await;
    click_button(&c, "New order").await;
    // the client is preselected: the wizard opens on the product step
    let step = |name: &'static str| {
        let c = c.clone();
        async move {
            c.wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css(&format!(
                    "[role=dialog] form[data-step={name}]"
                )))
                .await
                .unwrap();
        }
    };
    step("product").await;
    click_at(
        &c,
        Locator::Css("input[name=plan][value='product:drupal-site']"),
    )
    .await;
    wait_text(&c, "[data-testid=running-total]", |t| t.contains("EUR")).await;
    screenshot(&c, "order-wizard").await;
    click_button(&c, "Next").await;
    step("options").await;
    click_button(&c, "Next").await;
    step("tier").await;
    click_button(&c, "Next").await;
    step("domain").await;
    c.find(Locator::Css("input[name=domain]"))
        .await
        .unwrap()
        .send_keys("e2e-shop")
        .await
        .unwrap();
    click_at(&c, Locator::Css("input[name=pay][value=later]")).await;
    let domain = wait_text(&c, "[data-testid=order-domain]", |t| {
        t.contains("e2e-shop.sites.example.net")
    })
    .await;
    assert!(
        domain.contains("e2e-shop.sites.example.net on sandbox"),
        "{domain}"
    );
    // Enter moves on, as Next does
    c.find(Locator::Css("input[name=domain]"))
        .await
        .unwrap()
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    step("review").await;
    let preview = wait_text(&c, "[data-testid=order-preview]", |t| {
        t.contains("days)") && t.contains("e2e-shop.sites.example.net")
    })
    .await;
    assert!(preview.contains("Drupal site"), "{preview}");
    assert!(preview.contains("provisioned at once"), "{preview}");
    screenshot(&c, "order-preview").await;
    click_button(&c, "Place order").await;
    let placed = wait_text(&c, "[data-testid=order-placed]", |t| t.contains("placed")).await;
    assert!(placed.contains("jobs queued"), "{placed}");
    click_button(&c, "Done").await;

    // the client page follows the order's jobs until they are all done
    let ws = Workspace::open(&db, Clock::System).unwrap();
    let order_id: i64 = ws
        .conn()
        .query_row(
            "SELECT id FROM orders WHERE domain = 'e2e-shop.sites.example.net'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let progress = format!("[data-testid=order-progress-{order_id}]");
    let shown = wait_text(&c, &progress, |t| t.starts_with("completed")).await;
    assert!(shown.starts_with("completed"), "{shown}");
    let card = wait_text(&c, &format!("[data-testid=order-{order_id}]"), |t| {
        t.contains("e2e-shop.sites.example.net")
    })
    .await;
    assert!(card.contains("Drupal site"), "{card}");
    // its jobs, one by one
    c.find(Locator::XPath(&format!(
        "//div[@data-testid='order-{order_id}']//button[normalize-space()='Jobs']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let jobs = wait_text(
        &c,
        &format!("[aria-label='Jobs of order {order_id}']"),
        |t| t.contains("site.create"),
    )
    .await;
    assert!(
        jobs.contains("mail.send") && jobs.contains("succeeded"),
        "{jobs}"
    );
    let _ = c
        .execute(
            "document.querySelector('[aria-label=Orders]').scrollIntoView({block: 'end'});",
            vec![],
        )
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await; // the progress bar's transition
    screenshot(&c, "client-orders").await;
    let remote: String = ws
        .conn()
        .query_row(
            "SELECT status FROM sandbox_sites WHERE name = 'e2e-shop.sites.example.net'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(remote, "enabled", "the (simulated) server created the site");
    assert_eq!(
        smtp.wait_for(1, Duration::from_secs(5)).len(),
        1,
        "the welcome mail"
    );

    // the test clock moves the sandbox workspace a month ahead
    click_button(&c, "+1 month").await;
    let moved = wait_text(&c, "[data-testid=clock-date]", |t| t.contains("+30 days")).await;
    assert!(moved.contains("(+30 days)"), "{moved}");
    c.close().await.unwrap();
}

/// The site's domain and backup panels on the client page, through the app's own queue on the
/// demo's (simulated) server: "Automatic" HTTPS shows the certificate once `ssl.set` ran; "Back
/// up now" lists the backup once taken; "Restore…" on it, confirmed, queues the restore, which
/// the server runs.
#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run with `make e2e`"]
async fn the_site_panels_set_https_back_up_and_restore_through_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (db, client_id, domain) = demo_site(dir.path());

    let driver = start_driver(&db);
    let c = open_app(&driver).await;
    open_client(&c, client_id).await;
    wait_text(&c, ".client-page", |t| t.contains(&domain)).await;
    // The buttons of this site's row, and of its domain panel.
    let row_button =
        |label: &str| format!("//li[contains(., '{domain}')]//button[normalize-space()='{label}']");
    let toggle = row_button("Domain & HTTPS");
    click_xpath(&c, &toggle).await;
    let panel = format!("[aria-label='Domain and HTTPS of {domain}']");
    let shown = wait_text(&c, &panel, |t| {
        t.contains("Automatic certificate, valid until")
    })
    .await;
    assert!(
        shown.contains("Subdomain of the server"),
        "the demo's site shows its domain: {shown}"
    );
    let panel_button = |label: &str| {
        format!(
            "//*[@aria-label='Domain and HTTPS of {domain}']//button[normalize-space()='{label}']"
        )
    };
    // Off, then automatic again: each time the panel follows the ssl.set job to its end.
    let off = panel_button("No HTTPS");
    click_xpath(&c, &off).await;
    let none = wait_text(&c, &panel, |t| t.contains("LevelNo HTTPS")).await;
    assert!(none.contains("LevelNo HTTPS"), "{none}");
    let automatic = panel_button("Automatic");
    click_xpath(&c, &automatic).await;
    let tls = wait_text(&c, &panel, |t| {
        t.contains("Automatic certificate, valid until")
    })
    .await;
    assert!(
        tls.contains("Automatic certificate, valid until"),
        "the panel follows the ssl.set job to its end: {tls}"
    );

    let toggle = row_button("Backups");
    click_xpath(&c, &toggle).await;
    let backups = format!("[aria-label='Backups of {domain}']");
    wait_text(&c, &backups, |t| t.contains("Back up now")).await;
    click_button(&c, "Back up now").await;
    let list = wait_text(&c, &backups, |t| t.contains("done")).await;
    assert!(
        list.contains("manual") && list.contains("done"),
        "the backup is listed once taken: {list}"
    );
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(
            "//button[starts-with(@aria-label, 'Restore backup')]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let dialog = wait_text(&c, "[role='dialog']", |t| t.contains("Restore this backup")).await;
    assert!(
        dialog.contains("Everything changed on it since then is lost"),
        "{dialog}"
    );
    screenshot(&c, "site-backup-restore").await;
    click_button(&c, "Restore this backup").await;
    let queued = wait_text(&c, "[role='dialog']", |t| t.contains("queued as")).await;
    assert!(queued.contains("The restore is queued as"), "{queued}");

    // The (simulated) server ran the restore.
    let deadline = Instant::now() + Duration::from_secs(20);
    let state = loop {
        let ws = Workspace::open(&db, Clock::System).unwrap();
        let state: Option<String> = ws
            .conn()
            .query_row(
                "SELECT j.state FROM jobs j JOIN sites s ON s.id = j.site_id
                  WHERE j.kind = 'site.restore' AND s.domain = ?1 ORDER BY j.id DESC LIMIT 1",
                [&domain],
                |r| r.get(0),
            )
            .ok();
        if state.as_deref() == Some("succeeded") || Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(state.as_deref(), Some("succeeded"));
    click_xpath(&c, "//button[normalize-space()='Close']").await;
    screenshot(&c, "site-domain-panel").await;
    c.close().await.unwrap();
}

/// Clicks the element at `xpath` once it is there.
async fn click_xpath(c: &Client, xpath: &str) {
    click_at(c, Locator::XPath(xpath)).await;
}

/// Clicks the element once it is there (the page renders asynchronously: an element found
/// before a re-render is looked up again).
async fn click_at(c: &Client, at: Locator<'_>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tried = match c.find(at).await {
            Ok(el) => {
                // WebKitWebDriver does not scroll the app's inner scrolling areas by itself
                let arg = serde_json::to_value(&el).unwrap();
                let _ = c
                    .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
                    .await;
                el.click().await.map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        match tried {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("clicking {at:?}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
