#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The REAL OS keyring backend (Secret Service over D-Bus on Linux). It needs a session bus
//! with an unlocked keyring, so it is its own test binary (`test = false` in Cargo.toml: a
//! plain `cargo test` does not run it) that `make keyring-test` runs like this:
//!
//! ```sh
//! dbus-run-session -- sh -c 'export XDG_DATA_HOME=$(mktemp -d); \
//!   printf hostdesk-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
//!   cargo test -p hostdesk-cli --test keyring_real'
//! ```
//!
//! Without a keyring every test here FAILS (it never skips): the first one says what to do.

mod common;

use std::path::Path;
use std::process::Output;

use hostdesk_app::secrets::{KeyringStore, Secret, SecretStore};
use hostdesk_testkit::FakeWhm;
use serde_json::Value;

fn unique(tag: &str) -> String {
    format!(
        "hostdesk-test-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn need_keyring(store: &KeyringStore) {
    if let Err(e) = store.get("probe") {
        panic!(
            "this test needs a running, unlocked Secret Service; run it with `make keyring-test` \
             (dbus-run-session + gnome-keyring-daemon --unlock --components=secrets). Error: {e}"
        );
    }
}

#[test]
fn the_keyring_store_round_trips_through_the_real_secret_service() {
    let service = unique("svc");
    let store = KeyringStore::with_service(&service);
    need_keyring(&store);
    assert!(
        store.label().contains("Secret Service"),
        "{}",
        store.label()
    );
    assert!(store.get("web1").unwrap().is_none());
    store.set("web1", &Secret::new("tok-ROUND-TRIP-1")).unwrap();
    // A second store (a new entry, as a second process would make) sees it: the mock store
    // would not, so this is the real backend.
    let other = KeyringStore::with_service(&service);
    assert_eq!(
        other.get("WEB1").unwrap().unwrap().expose(),
        "tok-ROUND-TRIP-1"
    );
    store.set("web1", &Secret::new("tok-ROUND-TRIP-2")).unwrap();
    assert_eq!(
        other.get("web1").unwrap().unwrap().expose(),
        "tok-ROUND-TRIP-2"
    );
    store.delete("web1").unwrap();
    assert!(other.get("web1").unwrap().is_none());
    store.delete("web1").unwrap();
}

fn hostdesk(db: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    common::hostdesk_run(db, args, env, &["HOSTDESK_SECRETS"], stdin)
}

fn ok(out: &Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_keeps_a_token_from_stdin_in_the_keyring_and_uses_it() {
    need_keyring(&KeyringStore::new());
    let fake = FakeWhm::start().await;
    let token = fake.token();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let name = unique("srv").replace('-', "");
    let name = name[..name.len().min(40)].to_owned();
    let url = fake.base_url();
    let mut outputs = Vec::new();

    let db2 = db.clone();
    let (n2, u2, t2) = (name.clone(), url.clone(), token.clone());
    let out = tokio::task::spawn_blocking(move || {
        hostdesk(
            &db2,
            &[
                "--json",
                "server",
                "add",
                &n2,
                "--kind",
                "whm",
                "--url",
                &u2,
                "--user",
                "root",
                "--token-stdin",
            ],
            Some(&format!("{t2}\n")),
            &[],
        )
    })
    .await
    .unwrap();
    let id = ok(&out, "server add")["id"].as_i64().unwrap();
    outputs.push(out);
    // The keyring holds it under the server's name.
    assert_eq!(
        KeyringStore::new().get(&name).unwrap().unwrap().expose(),
        token
    );

    // Another process reads it back from the keyring to talk to the server.
    let (db2, n2) = (db.clone(), name.clone());
    let out = tokio::task::spawn_blocking(move || {
        hostdesk(&db2, &["--json", "server", "test", &n2], None, &[])
    })
    .await
    .unwrap();
    let report = ok(&out, "server test");
    assert_eq!(report["ok"], true);
    assert_eq!(report["serverId"], id);
    outputs.push(out);

    // A token from an environment variable replaces it.
    let (db2, n2) = (db.clone(), name.clone());
    let out = tokio::task::spawn_blocking(move || {
        hostdesk(
            &db2,
            &["server", "edit", &n2, "--token-env", "MY_WHM_TOKEN"],
            None,
            &[("MY_WHM_TOKEN", "WRONG-BUT-STORED-42")],
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    outputs.push(out);
    assert_eq!(
        KeyringStore::new().get(&name).unwrap().unwrap().expose(),
        "WRONG-BUT-STORED-42"
    );
    let (db2, n2) = (db.clone(), name.clone());
    let out =
        tokio::task::spawn_blocking(move || hostdesk(&db2, &["server", "test", &n2], None, &[]))
            .await
            .unwrap();
    assert!(
        !out.status.success(),
        "the wrong token is refused by the server"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication"));
    outputs.push(out);

    // Renaming moves the token.
    let renamed = format!("{name}b");
    let (db2, n2, r2) = (db.clone(), name.clone(), renamed.clone());
    let out = tokio::task::spawn_blocking(move || {
        hostdesk(&db2, &["server", "edit", &n2, "--rename", &r2], None, &[])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    outputs.push(out);
    assert!(KeyringStore::new().get(&name).unwrap().is_none());
    assert_eq!(
        KeyringStore::new().get(&renamed).unwrap().unwrap().expose(),
        "WRONG-BUT-STORED-42"
    );
    KeyringStore::new().delete(&renamed).unwrap();

    for o in &outputs {
        for text in [&o.stdout, &o.stderr] {
            let text = String::from_utf8_lossy(text);
            assert!(
                !text.contains(&token) && !text.contains("WRONG-BUT-STORED-42"),
                "{text}"
            );
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", db.display())) {
            for needle in [token.as_bytes(), b"WRONG-BUT-STORED-42".as_slice()] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "the database holds a token"
                );
            }
        }
    }
}
