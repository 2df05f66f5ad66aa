use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hostdesk",
    version,
    about = "Hostdesk: the web-hosting reseller's control room, headless"
)]
pub struct Cli {
    /// The workspace database (default: the platform data directory, e.g.
    /// ~/.local/share/hostdesk/hostdesk.db).
    #[arg(long, global = true, env = "HOSTDESK_DB")]
    pub db: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Run as of this instant (RFC 3339), e.g. 2026-12-01T09:00:00Z: the test clock.
    #[arg(long, global = true)]
    pub now: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create or migrate the workspace database.
    Init(InitArgs),
    /// Counts and the schema version.
    Status,
    /// Products: what is sold.
    #[command(subcommand)]
    Product(ProductCmd),
    /// Options (attributes) with their choices.
    #[command(subcommand)]
    Option(OptionCmd),
    /// Support tiers.
    #[command(subcommand)]
    Tier(TierCmd),
    /// Kits: a product, preselected choices and a tier at one price.
    #[command(subcommand)]
    Kit(KitCmd),
    /// Clients and their contacts.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Subscriptions.
    #[command(subcommand)]
    Subscription(SubscriptionCmd),
    /// Bill runs.
    #[command(subcommand)]
    Bill(crate::billing_cmd::BillCmd),
    /// Invoices.
    #[command(subcommand)]
    Invoice(crate::billing_cmd::InvoiceCmd),
    /// Payments.
    #[command(subcommand)]
    Payment(crate::billing_cmd::PaymentCmd),
    /// Credit notes.
    #[command(subcommand, name = "credit-note")]
    CreditNote(crate::billing_cmd::CreditNoteCmd),
    /// Usage: collect from the servers, show against quotas, history, fleet, alerts; usage
    /// records and prices.
    #[command(subcommand)]
    Usage(crate::usage_cmd::UsageCmd),
    /// Quotas: set a subscription's limit (pushed to the servers that enforce it).
    #[command(subcommand)]
    Quota(crate::usage_cmd::QuotaCmd),
    /// The job queue: provisioning and other remote work.
    #[command(subcommand)]
    Jobs(JobsCmd),
    /// Hosting servers: add, test connection, sync (tokens from stdin or the environment).
    #[command(subcommand)]
    Server(crate::server_cmd::ServerCmd),
    /// Sites on the servers: list, and queue suspend / unsuspend / delete / login link.
    #[command(subcommand)]
    Site(crate::site_cmd::SiteCmd),
    /// Orders: quote, place, show, approve.
    #[command(subcommand)]
    Order(crate::order_cmd::OrderCmd),
    /// Clients' stored payment methods (gateway references only).
    #[command(subcommand, name = "payment-method")]
    PaymentMethod(crate::order_cmd::PaymentMethodCmd),
    /// The payment gateway that charges stored payment methods.
    #[command(subcommand)]
    Gateway(crate::order_cmd::GatewayCmd),
    /// Dunning: reminders, charge retries, suspension of unpaid clients.
    #[command(subcommand)]
    Dunning(crate::order_cmd::DunningCmd),
    /// The issue tracker support tiers grant access to (Redmine): set, show, test.
    #[command(subcommand)]
    Tracker(crate::access_cmd::TrackerCmd),
    /// Access granted by support tiers: tracker accounts and roles, users on sites.
    #[command(subcommand)]
    Access(crate::access_cmd::AccessCmd),
    /// Outgoing mail: list, show, retry a failed one.
    #[command(subcommand)]
    Outbox(crate::mail_cmd::OutboxCmd),
    /// Mail: SMTP settings (password from stdin or the environment) and templates.
    #[command(subcommand)]
    Mail(crate::mail_cmd::MailCmd),
    /// The test clock of sandbox workspaces: show, advance by days, reset.
    #[command(subcommand)]
    Clock(crate::order_cmd::ClockCmd),
    /// Domains: check, register, list, verify owned ones, renewals; registrar, DNS, ACME and
    /// certificates.
    #[command(subcommand)]
    Domain(crate::domain_cmd::DomainCmd),
    /// Workspace settings (staff_name, default_billing_day, sandbox_failure_rate, sandbox_delay_ms).
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Site backups: list, run (one site, or --due for cron), restore, prune, policy.
    #[command(subcommand)]
    Backup(crate::backup_cmd::BackupCmd),
}

#[derive(Subcommand)]
pub enum JobsCmd {
    /// Jobs, newest first.
    List {
        /// queued, running, succeeded, failed, dead or cancelled
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        server: Option<i64>,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One job with every attempt, its timing and error.
    Show { id: i64 },
    /// Queue a job by hand (support scripts); the key makes it idempotent.
    Add {
        #[arg(long)]
        kind: String,
        /// The idempotency key: the same key never makes a second job.
        #[arg(long)]
        key: String,
        /// A JSON object.
        #[arg(long, default_value = "{}")]
        payload: String,
        #[arg(long)]
        server: Option<i64>,
        /// Run only after this job succeeded (repeat).
        #[arg(long)]
        after: Vec<i64>,
        #[arg(long)]
        max_attempts: Option<i64>,
    },
    /// Run a dead, failed or cancelled job again now.
    Retry { id: i64 },
    /// Cancel a job that has not started (and the jobs waiting on it).
    Cancel { id: i64 },
    /// Run the queue (until stopped with Ctrl-C, or with --until-idle until nothing is ready).
    Run {
        #[arg(long)]
        until_idle: bool,
        /// With --until-idle: also wait for scheduled retries.
        #[arg(long)]
        wait_retries: bool,
        /// Jobs running at once against one server.
        #[arg(long, default_value_t = 4)]
        per_server: usize,
    },
}

#[derive(Subcommand)]
pub enum SettingsCmd {
    /// Every setting.
    List,
    /// Set one setting.
    Set { key: String, value: String },
}

#[derive(Args)]
pub struct InitArgs {
    /// Fill an empty workspace with the demo catalog and clients.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Args)]
pub struct PriceArgs {
    /// The amount, written with a point: 9.95
    #[arg(long, allow_hyphen_values = true)]
    pub price: String,
    /// ISO 4217 code: EUR, USD, JPY...
    #[arg(long)]
    pub currency: String,
    /// month, quarter or year
    #[arg(long, default_value = "month")]
    pub period: String,
}

#[derive(Subcommand)]
pub enum ProductCmd {
    /// Add a product with its first price.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// site (a site package) or account (a client account with quotas)
        #[arg(long, default_value = "site")]
        kind: String,
        /// The install profile (required for a site package).
        #[arg(long, default_value = "")]
        profile: String,
        #[arg(long, default_value = "")]
        platform: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        price: PriceArgs,
    },
    /// List products (retired ones with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// One product with its options and price history.
    Show { code: String },
    /// No new orders; existing subscriptions are untouched.
    Retire { code: String },
    /// How its subscriptions start: on_payment (default), immediate (trials, free) or approval.
    Activation { code: String, activation: String },
    /// Make its orders trials of DAYS days (0: no trial): they end, and their sites are
    /// disabled then deleted (see `site expire-check`).
    Trial { code: String, days: u32 },
    /// Make it a demo package: orders create a group (an account with the role demo) on this
    /// existing shared site instead of a site; without --site, undo it.
    SharedSite {
        code: String,
        #[arg(long)]
        site: Option<String>,
    },
    /// A new price from now on; existing subscriptions keep theirs.
    Reprice {
        code: String,
        #[command(flatten)]
        price: PriceArgs,
        /// Also change existing subscriptions, by the same amount, from their next renewal.
        #[arg(long)]
        apply_at_renewal: bool,
    },
}

#[derive(Subcommand)]
pub enum OptionCmd {
    /// Add an option with its choices.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// The product it belongs to (default: every product).
        #[arg(long)]
        product: Option<String>,
        /// CODE:NAME[:MODIFIER][:KEY=VALUE...], KEY one of feature, ssl, domain or a resource
        /// (users, sites, disk_mb, bandwidth_mb, domains, mailboxes; value a number or
        /// "unlimited"). E.g. --choice '50:Up to 50 users:10.00:users=50'
        #[arg(long = "choice", required = true)]
        choices: Vec<String>,
        /// The currency of the modifiers.
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long, default_value = "month")]
        period: String,
    },
}

#[derive(Subcommand)]
pub enum TierCmd {
    /// Add a support tier.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// 8x5 or 24x7
        #[arg(long, default_value = "8x5")]
        hours: String,
        /// email, phone or forum (repeat)
        #[arg(long = "channel", required = true)]
        channels: Vec<String>,
        #[arg(long, default_value_t = 24)]
        response_hours: i64,
        /// TARGET:ROLE, e.g. issue-tracker:customer (repeat)
        #[arg(long = "grant")]
        grants: Vec<String>,
        #[command(flatten)]
        price: PriceArgs,
    },
    /// List tiers.
    List,
}

#[derive(Subcommand)]
pub enum KitCmd {
    /// Add a kit.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        product: String,
        /// OPTION=CHOICE (repeat)
        #[arg(long = "option")]
        options: Vec<String>,
        #[arg(long, default_value = "")]
        tier: String,
        #[command(flatten)]
        price: PriceArgs,
    },
    /// List kits.
    List,
}

#[derive(Subcommand)]
pub enum ClientCmd {
    /// Add a client.
    Add(Box<ClientAddArgs>),
    /// A sorted, filtered page of clients.
    List {
        /// active, suspended or closed
        #[arg(long)]
        status: Option<String>,
        /// Only clients subscribed to this product code.
        #[arg(long)]
        product: Option<String>,
        /// name, email, created or status
        #[arg(long, default_value = "name")]
        sort: String,
        #[arg(long)]
        desc: bool,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// A client with contacts, subscriptions, sites and audit trail.
    Show { id: i64 },
    /// Full-text search over names, e-mails, contacts and domains.
    Search {
        text: String,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Import clients from CSV (all-or-nothing unless --partial).
    Import {
        file: PathBuf,
        /// Import the good rows even if some are bad.
        #[arg(long)]
        partial: bool,
    },
    /// Export every client as CSV (to stdout or --out).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct ClientAddArgs {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub currency: String,
    /// IANA time zone, e.g. Europe/Paris
    #[arg(long)]
    pub tz: String,
    /// ISO 3166 country code, e.g. FR
    #[arg(long, default_value = "")]
    pub country: String,
    /// person or company
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long, default_value = "")]
    pub phone: String,
    #[arg(long, default_value = "")]
    pub address: String,
    #[arg(long, default_value = "")]
    pub tax_id: String,
    /// 1-31 (default from the workspace settings, the 1st unless changed)
    #[arg(long)]
    pub billing_day: Option<i64>,
    #[arg(long, default_value = "")]
    pub notes: String,
    /// ROLE:NAME:EMAIL, role owner, billing or technical (repeat)
    #[arg(long = "contact")]
    pub contacts: Vec<String>,
}

#[derive(Subcommand)]
pub enum SubscriptionCmd {
    /// List subscriptions, newest first.
    List {
        #[arg(long)]
        client: Option<i64>,
        /// pending, active, suspended, cancelled or expired
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// One subscription with its choices and quotas.
    Show { id: i64 },
    /// Change the plan: a dearer one at once (credit + charge), a cheaper one at the period end.
    Change {
        id: i64,
        #[arg(long)]
        product: Option<String>,
        /// option=choice (repeat)
        #[arg(long = "option")]
        set_options: Vec<String>,
        /// option code (repeat)
        #[arg(long = "remove-option")]
        remove_options: Vec<String>,
        #[arg(long)]
        tier: Option<String>,
    },
    /// Cancel at the period end, or --immediately with a prorated credit note.
    Cancel {
        id: i64,
        #[arg(long)]
        immediately: bool,
    },
    /// Export every subscription as CSV (to stdout or --out).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Turn a trial or fixed term into an ongoing subscription; its site stays (enabled again
    /// if the end disabled it). --product: move it to a paid product.
    Convert {
        id: i64,
        #[arg(long)]
        product: Option<String>,
    },
    /// Give it a fixed term: its last day (YYYY-MM-DD); then it ends like a trial.
    Term {
        id: i64,
        #[arg(long)]
        until: String,
    },
}
