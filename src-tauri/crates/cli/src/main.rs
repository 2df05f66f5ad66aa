//! `hostdesk`: the headless command line over Hostdesk's use cases. Every command prints JSON
//! with `--json`, exits non-zero with a one-line error on failure, and runs "as of" `--now`.

mod access_cmd;
mod args;
mod backup_cmd;
mod billing_cmd;
mod catalog_cmd;
mod client_cmd;
mod domain_cmd;
mod jobs_cmd;
mod mail_cmd;
mod order_cmd;
mod output;
mod server_cmd;
mod site_cmd;
mod usage_cmd;
mod workspace_cmd;

use std::process::ExitCode;

use clap::Parser;
use hostdesk_app::{paths, AppError, Clock, Workspace};

use args::{Cli, Command};
use output::Output;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(out) => {
            out.print(json);
            ExitCode::SUCCESS
        }
        Err(e) => {
            output::print_error(&e, json);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<Output, AppError> {
    let clock = match &cli.now {
        Some(t) => Clock::fixed(t).map_err(|m| AppError::invalid("now", m))?,
        None => Clock::System,
    };
    let path = cli.db.clone().unwrap_or_else(paths::default_db_path);
    let mut ws = Workspace::open(&path, clock)?;
    // A sandbox workspace's clock may run ahead (hostdesk clock advance).
    let clock = hostdesk_app::test_clock::effective(ws.conn(), clock)?;
    ws.set_clock(clock);
    match cli.command {
        Command::Init(a) => workspace_cmd::init(&mut ws, a),
        Command::Status => workspace_cmd::status(&ws),
        Command::Product(c) => catalog_cmd::product(&mut ws, c),
        Command::Option(c) => catalog_cmd::option(&mut ws, c),
        Command::Tier(c) => catalog_cmd::tier(&mut ws, c),
        Command::Kit(c) => catalog_cmd::kit(&mut ws, c),
        Command::Client(c) => client_cmd::client(&mut ws, c),
        Command::Subscription(c) => client_cmd::subscription(&mut ws, c),
        Command::Bill(c) => billing_cmd::bill(&mut ws, c),
        Command::Invoice(c) => billing_cmd::invoice(&mut ws, c),
        Command::Payment(c) => billing_cmd::payment(&mut ws, c),
        Command::CreditNote(c) => billing_cmd::credit_note(&mut ws, c),
        Command::Usage(c) => usage_cmd::usage_cmd(&mut ws, &path, clock, c),
        Command::Quota(c) => usage_cmd::quota_cmd(&mut ws, c),
        Command::Jobs(c) => jobs_cmd::jobs(&mut ws, &path, clock, c),
        Command::Server(c) => server_cmd::server(&mut ws, c),
        Command::Site(c) => site_cmd::site(&mut ws, &path, clock, c),
        Command::Order(c) => order_cmd::order(&mut ws, c),
        Command::PaymentMethod(c) => order_cmd::payment_method(&mut ws, c),
        Command::Gateway(c) => order_cmd::gateway(&mut ws, c),
        Command::Dunning(c) => order_cmd::dunning_cmd(&mut ws, c),
        Command::Tracker(c) => access_cmd::tracker(&mut ws, c),
        Command::Access(c) => access_cmd::access(&ws, c),
        Command::Outbox(c) => mail_cmd::outbox(&mut ws, c),
        Command::Mail(c) => mail_cmd::mail(&mut ws, c),
        Command::Clock(c) => order_cmd::clock(&mut ws, c),
        Command::Domain(c) => domain_cmd::domain(&mut ws, c),
        Command::Settings(c) => workspace_cmd::settings(&mut ws, c),
        Command::Backup(c) => backup_cmd::backup(&mut ws, c),
    }
}
