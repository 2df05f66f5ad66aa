//! Where a workspace lives by default: the platform data directory
//! (`~/.local/share/hostdesk/hostdesk.db` on Linux, `~/Library/Application Support/hostdesk`
//! on macOS, `%APPDATA%\hostdesk` on Windows).

use std::path::PathBuf;

pub fn default_db_path() -> PathBuf {
    directories::ProjectDirs::from("", "", "hostdesk")
        .map(|d| d.data_dir().join("hostdesk.db"))
        .unwrap_or_else(|| PathBuf::from("hostdesk.db"))
}
