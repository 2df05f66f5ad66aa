//! What the command-line tests share: running `hostdesk` the way a script does (its own
//! database, chosen variables, something on its standard input) and reading its answers.
#![allow(dead_code)] // each test binary uses part of it

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// `hostdesk --db DB ARGS…` with `HOSTDESK_DB` and the variables in `unset` removed, `env`
/// set, and `stdin` (if any) written to its standard input.
pub fn hostdesk_run(
    db: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    unset: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hostdesk"));
    cmd.arg("--db")
        .arg(db)
        .args(args)
        .env_remove("HOSTDESK_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in unset {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

/// [`hostdesk_run`] from a tokio test (on the blocking pool, so fake servers keep answering).
pub async fn hostdesk_async(
    db: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    unset: &[&str],
    stdin: Option<&str>,
) -> Output {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (db, args, unset) = (db.to_path_buf(), owned(args), owned(unset));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let unset: Vec<&str> = unset.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        hostdesk_run(&db, &args, &env, &unset, stdin.as_deref())
    })
    .await
    .unwrap()
}

/// `--json` before the arguments.
pub fn with_json<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    all
}

/// The JSON a command that succeeded printed.
pub fn ok_json(out: &Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The JSON error a command that failed printed (with `--json`).
pub fn err_json(out: &Output, what: &str) -> Value {
    assert!(!out.status.success(), "{what} should fail");
    serde_json::from_slice(&out.stderr).unwrap()
}

/// The one-line error a command that failed printed.
pub fn err_text(out: &Output, what: &str) -> String {
    assert!(!out.status.success(), "{what} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The database file (or its WAL or shared-memory file) that holds `needle`, if one does.
pub fn file_holds(db: &Path, needle: &str) -> Option<PathBuf> {
    ["", "-wal", "-shm"].iter().find_map(|suffix| {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        let bytes = std::fs::read(&p).ok()?;
        bytes
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
            .then_some(p)
    })
}
