#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Kill `hostdesk jobs run` at random moments, many times, then let it finish: no job is lost,
//! none is doubled, every effect on the (sandbox) server happened once, and the database is
//! intact.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn hostdesk(db: &Path, args: &[&str]) -> std::process::Output {
    common::hostdesk_run(db, args, &[], &[], None)
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = hostdesk(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn killing_the_runner_at_random_points_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    ok(&db, &["init"]);
    ok(&db, &["settings", "set", "sandbox_delay_ms", "5-40"]);
    ok(&db, &["settings", "set", "sandbox_failure_rate", "10"]);
    const SITES: usize = 30;
    for i in 0..SITES {
        let site = format!("site{i}.sites.example.net");
        let out = ok(
            &db,
            &[
                "--json",
                "jobs",
                "add",
                "--kind",
                "sandbox.create_site",
                "--key",
                &format!("s{i}"),
                "--payload",
                &format!(r#"{{"name":"{site}","profile":"openatrium"}}"#),
            ],
        );
        let id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string();
        ok(
            &db,
            &[
                "jobs",
                "add",
                "--kind",
                "sandbox.create_user",
                "--key",
                &format!("u{i}"),
                "--after",
                &id,
                "--payload",
                &format!(
                    r#"{{"site":"{site}","name":"Manager {i}","email":"m{i}@client.example","role":"manager"}}"#
                ),
            ],
        );
    }
    let mut rng = fastrand::Rng::with_seed(11);
    let mut kills = 0;
    for _ in 0..12 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hostdesk"))
            .arg("--db")
            .arg(&db)
            .args(["jobs", "run", "--until-idle", "--wait-retries"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(20..250)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(kills > 3, "the runner was killed mid-queue {kills} times");
    ok(&db, &["jobs", "run", "--until-idle", "--wait-retries"]);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        q("SELECT count(*) FROM jobs"),
        2 * SITES as i64,
        "no job doubled"
    );
    assert_eq!(
        q("SELECT count(*) FROM jobs WHERE state = 'succeeded'"),
        2 * SITES as i64,
        "no job lost"
    );
    assert_eq!(q("SELECT count(*) FROM sandbox_sites"), SITES as i64);
    // every site has exactly its one manager, who is not user 1
    let mut stmt = conn.prepare("SELECT users FROM sandbox_sites").unwrap();
    let users: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for u in users {
        let u: Vec<serde_json::Value> = serde_json::from_str(&u).unwrap();
        assert_eq!(u.len(), 1, "{u:?}");
        assert_eq!(u[0]["uid"], 2);
        assert_eq!(u[0]["role"], "manager");
    }
    let interrupted = q("SELECT count(*) FROM job_attempts WHERE outcome = 'interrupted'");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    eprintln!("{kills} kills, {interrupted} interrupted attempts recovered");
}
