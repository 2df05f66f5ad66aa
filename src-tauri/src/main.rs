//! The Hostdesk desktop shell: a window over the same use cases the CLI runs.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bindings;
mod commands;
mod state;

use clap::Parser;

/// Hostdesk desktop.
#[derive(Parser)]
#[command(name = "hostdesk-desktop", version)]
struct Args {
    /// The workspace database (default: the platform data directory).
    #[arg(long, env = "HOSTDESK_DB")]
    db: Option<std::path::PathBuf>,
    /// Run as of this instant (RFC 3339): the test clock.
    #[arg(long, env = "HOSTDESK_NOW")]
    now: Option<String>,
}

fn main() {
    let args = Args::parse();
    let state = state::AppState::open(args.db, args.now.as_deref());
    let specta = bindings::builder();
    tauri::Builder::default()
        .manage(state)
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running Hostdesk");
}
