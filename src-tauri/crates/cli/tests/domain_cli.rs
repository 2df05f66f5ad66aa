#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! `hostdesk domain check|register|list|show|expiring|registrar|dns` as a script sees them,
//! against the faithful Namecheap fake; keys from the environment (`HOSTDESK_SECRETS=env`).

mod common;

use std::path::Path;
use std::process::Output;

use hostdesk_testkit::FakeNamecheap;
use serde_json::Value;

fn hostdesk(db: &Path, key: &str, args: &[&str]) -> Output {
    let env = [
        ("HOSTDESK_SECRETS", "env"),
        ("HOSTDESK_TOKEN_REGISTRAR_NAMECHEAP", key),
    ];
    common::hostdesk_run(db, args, &env, &[], None)
}

fn json(db: &Path, key: &str, args: &[&str]) -> Value {
    common::ok_json(
        &hostdesk(db, key, &common::with_json(args)),
        &format!("{args:?}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_register_list_from_the_command_line() {
    let fake = FakeNamecheap::start().await;
    fake.take("taken.com");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let key = fake.api_key();
    json(&db, &key, &["init"]);

    // No registrar yet: a one-line error that says what to do.
    let out = hostdesk(&db, &key, &["domain", "check", "lumiere.com"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("hostdesk domain registrar"));

    let endpoint = fake.endpoint();
    let contact = dir.path().join("contact.json");
    std::fs::write(
        &contact,
        r#"{"firstName": "Camille", "lastName": "Martin", "organization": "Atrium Hosting",
            "address1": "3 quai Saint-Antoine", "city": "Lyon", "stateProvince": "Rhone",
            "postalCode": "69002", "country": "FR", "phone": "+33.478000000",
            "email": "domains@atrium.test"}"#,
    )
    .unwrap();
    let set = json(
        &db,
        &key,
        &[
            "domain",
            "registrar",
            "set",
            "--user",
            &fake.api_user(),
            "--client-ip",
            &fake.client_ip(),
            "--endpoint",
            &endpoint,
            "--contact",
            contact.to_str().unwrap(),
        ],
    );
    assert_eq!(set["keyStored"], true);
    assert!(!set.to_string().contains(&key), "the key never shows");

    let checks = json(
        &db,
        &key,
        &[
            "domain",
            "check",
            "lumiere.com",
            "taken.com",
            "--years",
            "2",
        ],
    );
    assert_eq!(checks[0]["domain"], "lumiere.com");
    assert_eq!(checks[0]["available"], true);
    assert_eq!(checks[0]["price"], "21.76");
    assert_eq!(checks[0]["currency"], "USD");
    assert_eq!(checks[1]["available"], false);
    let text = hostdesk(&db, &key, &["domain", "check", "lumiere.com"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("available"));

    let client = json(
        &db,
        &key,
        &[
            "client",
            "add",
            "--name",
            "Atelier Lumière",
            "--email",
            "marc@lumiere.test",
            "--currency",
            "EUR",
            "--tz",
            "Europe/Paris",
            "--country",
            "FR",
        ],
    )["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let q = json(
        &db,
        &key,
        &[
            "domain",
            "register",
            "lumiere.com",
            "--client",
            &client,
            "--years",
            "2",
        ],
    );
    assert_eq!(q["domain"]["state"], "pending");
    assert_eq!(q["jobs"].as_array().unwrap().len(), 1);
    json(&db, &key, &["jobs", "run", "--until-idle"]);
    let jobs = json(&db, &key, &["jobs", "list"]);
    assert_eq!(jobs[0]["state"], "succeeded", "{jobs}");

    let list = json(&db, &key, &["domain", "list", "--mode", "registered"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "lumiere.com");
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["expiresOn"], "2028-11-22");
    assert_eq!(fake.domain("lumiere.com").unwrap().years, 2);
    let shown = json(&db, &key, &["domain", "show", "lumiere.com"]);
    assert_eq!(shown["domain"]["registrar"], "namecheap");

    let soon = json(
        &db,
        &key,
        &[
            "--now",
            "2028-11-01T00:00:00Z",
            "domain",
            "expiring",
            "--days",
            "30",
        ],
    );
    assert_eq!(soon[0]["name"], "lumiere.com");
    assert_eq!(soon[0]["kind"], "domain");
    let text = hostdesk(&db, &key, &["domain", "list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("lumiere.com"));

    // Refusals: a name that cannot be registered, a bad mode.
    let out = hostdesk(
        &db,
        &key,
        &[
            "--json",
            "domain",
            "register",
            "www.lumiere.com",
            "--client",
            &client,
        ],
    );
    assert!(!out.status.success());
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["code"], "invalid");
    assert!(!hostdesk(&db, &key, &["domain", "list", "--mode", "nope"])
        .status
        .success());
}
