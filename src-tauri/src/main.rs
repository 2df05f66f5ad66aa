//! The Hostdesk desktop shell: a window over the same use cases the CLI runs.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bindings;
mod commands;
mod domain_commands;
mod lifecycle_commands;
mod orders_commands;
mod queue;
mod state;
mod usage_commands;

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
    let queue_status = std::sync::Arc::new(queue::QueueStatus::default());
    let runner_target = state.runner_target();
    let specta = bindings::builder();
    let status_for_setup = queue_status.clone();
    let app = tauri::Builder::default()
        .manage(state)
        .manage(queue_status)
        .manage(commands::BillRunCancel::default())
        .manage(commands::Secrets(hostdesk_app::secrets::from_env()))
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            if let Some((db, clock)) = runner_target {
                let stop = queue::start(app.handle().clone(), db.clone(), clock, status_for_setup);
                lifecycle_commands::spawn_backup_schedule(db.clone(), clock, stop.subscribe());
                usage_commands::start_schedule(db, clock, stop.subscribe());
                tauri::Manager::manage(app, stop);
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("error while building Hostdesk");
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            // Let running jobs finish; anything interrupted is requeued by the next runner.
            if let Some(stop) =
                tauri::Manager::try_state::<tokio::sync::watch::Sender<bool>>(handle)
            {
                let _ = stop.send(true);
            }
        }
    });
}
