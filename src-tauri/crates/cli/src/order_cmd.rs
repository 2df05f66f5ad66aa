//! `hostdesk order`, `payment-method`, `gateway`, `dunning`: orders and their payment.

use clap::{Args, Subcommand};
use hostdesk_app::billing::charge::{self, GatewaySettings};
use hostdesk_app::billing::dunning::{self, DunningPolicy};
use hostdesk_app::orders::{self, OrderRequest, OrderView, Quote};
use hostdesk_app::remote::PaymentToken;
use hostdesk_app::{secrets, AppError, Workspace};

use crate::output::{table, Output};
use crate::server_cmd::{read_token, runtime, TokenArgs};

#[derive(Args)]
pub struct OrderArgs {
    #[arg(long)]
    pub client: i64,
    #[arg(long, conflicts_with = "kit")]
    pub product: Option<String>,
    #[arg(long)]
    pub kit: Option<String>,
    /// option=choice (repeat)
    #[arg(long = "option")]
    pub options: Vec<String>,
    #[arg(long)]
    pub tier: Option<String>,
    /// month, quarter or year
    #[arg(long)]
    pub period: Option<String>,
    /// A full domain, or one label: a subdomain of the server's master domain.
    #[arg(long)]
    pub domain: String,
    #[arg(long)]
    pub server: Option<String>,
    /// stored, manual or later (default: stored if the client has a stored payment method).
    #[arg(long)]
    pub pay: Option<String>,
    /// Place it even beyond the client's quota (recorded in the audit log).
    #[arg(long)]
    pub override_quota: bool,
    /// Years a domain registered for the client is registered for (1-10, default 1).
    #[arg(long)]
    pub domain_years: Option<u32>,
}

impl OrderArgs {
    fn request(self) -> OrderRequest {
        OrderRequest {
            client_id: self.client,
            product: self.product,
            kit: self.kit,
            options: self.options,
            tier: self.tier,
            period: self.period,
            domain: self.domain,
            server: self.server,
            pay: self.pay,
            override_quota: self.override_quota,
            domain_years: self.domain_years,
        }
    }
}

#[derive(Subcommand)]
pub enum OrderCmd {
    /// The price preview: nothing is written.
    Quote(OrderArgs),
    /// Place the order: subscription, site, first invoice, payment and provisioning jobs.
    Place(OrderArgs),
    /// One order with its invoice and jobs.
    Show { id: i64 },
    /// Orders, newest first.
    List {
        #[arg(long)]
        client: Option<i64>,
    },
    /// Approve an order of a product that starts on approval.
    Approve { id: i64 },
}

#[derive(Subcommand)]
pub enum PaymentMethodCmd {
    /// Store a client's card at the gateway from a single-use token (Stripe PaymentMethod id
    /// `pm_...`, or an Accept.js nonce with --nonce); only the gateway's references are kept.
    Add {
        #[arg(long)]
        client: i64,
        /// A Stripe PaymentMethod id.
        #[arg(long, conflicts_with = "nonce")]
        token: Option<String>,
        /// An Authorize.net Accept.js nonce (dataValue).
        #[arg(long)]
        nonce: Option<String>,
        #[arg(long, default_value = "")]
        label: String,
    },
    List {
        #[arg(long)]
        client: i64,
    },
}

#[derive(Subcommand)]
pub enum GatewayCmd {
    /// Choose the gateway; its secret key comes from stdin or an environment variable and goes to
    /// the OS keyring.
    Set {
        /// stripe or authnet
        gateway: String,
        /// Stripe: another API base; Authorize.net: the endpoint URL.
        #[arg(long)]
        base_url: Option<String>,
        /// Authorize.net API Login ID.
        #[arg(long)]
        login_id: Option<String>,
        #[command(flatten)]
        key: TokenArgs,
    },
}

#[derive(Subcommand)]
pub enum DunningCmd {
    /// Take every dunning step that is due (reminders, charge retries, suspension).
    Run,
    /// Invoices in dunning.
    List {
        /// Include settled ones.
        #[arg(long)]
        all: bool,
    },
    /// Show or set the policy.
    Policy {
        /// e.g. 1,7
        #[arg(long, value_delimiter = ',')]
        reminder_days: Option<Vec<u32>>,
        /// e.g. 3,10
        #[arg(long, value_delimiter = ',')]
        retry_days: Option<Vec<u32>>,
        #[arg(long)]
        grace_days: Option<u32>,
        #[arg(long)]
        terminate_after_days: Option<u32>,
    },
}

fn server_check(ws: &Workspace, req: &OrderRequest) -> Result<orders::DomainCheck, AppError> {
    let store = secrets::from_env()?;
    let probe = orders::domain_probe(ws, store.as_ref(), req)?;
    runtime()?.block_on(probe.check())
}

fn quote_text(q: &Quote) -> String {
    let mut out = format!(
        "{} for {} ({} per {})\n",
        q.kit_code.as_deref().unwrap_or(&q.product_name),
        q.client_name,
        q.currency,
        q.period
    );
    for p in &q.parts {
        out.push_str(&format!(
            "  {:<8} {:<40} {:>10}\n",
            p.kind, p.label, p.amount
        ));
    }
    out.push_str(&format!(
        "  recurring {} {}\n  first charge {} to {} ({}/{} days): net {} + tax {} = {} {}\n  site {} on {}; starts {}; pay {}",
        q.recurring, q.currency, q.first_from, q.first_to, q.days, q.days_in_period, q.first_net,
        q.first_tax, q.first_total, q.currency, q.domain, q.server_name, q.activation, q.pay
    ));
    if let Some(n) = &q.tax_note {
        out.push_str(&format!("\n  {n}"));
    }
    out
}

fn order_text(v: &OrderView) -> String {
    let o = &v.order;
    let mut out = format!(
        "order {} for {}: {} ({}), site {}, invoice {} ({}), jobs {}/{}\n",
        o.id,
        o.client_name,
        v.progress,
        o.pay,
        o.domain,
        o.invoice_number.as_deref().unwrap_or("-"),
        v.invoice_status.as_deref().unwrap_or("-"),
        v.jobs_done,
        v.jobs_total
    );
    if let Some(e) = &o.error {
        out.push_str(&format!("  error: {e}\n"));
    }
    let rows: Vec<Vec<String>> = v
        .jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.kind.clone(),
                j.state.clone(),
                j.attempts.to_string(),
                j.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["JOB", "KIND", "STATE", "TRIES", "LAST ERROR"],
        &rows,
    ));
    out
}

pub fn order(ws: &mut Workspace, cmd: OrderCmd) -> Result<Output, AppError> {
    match cmd {
        OrderCmd::Quote(a) => {
            let req = a.request();
            let q = orders::quote(ws, &req)?;
            let check = server_check(ws, &req)?;
            let text = format!("{}\n  {}", quote_text(&q), check.message);
            Ok(Output::new(&q, text))
        }
        OrderCmd::Place(a) => {
            let req = a.request();
            // The name must be free on the server too (not only here); offline, the site job
            // will tell.
            let check = server_check(ws, &req)?;
            if check.free.is_none() {
                eprintln!("hostdesk: {}", check.message);
            }
            let p = orders::place(ws, &req)?;
            let text = format!(
                "placed order {}: subscription {}, invoice {}, {}; {} job(s) queued",
                p.order_id,
                p.subscription_id,
                p.invoice
                    .as_ref()
                    .map(|i| format!("{} ({} {})", i.number, i.total, i.currency))
                    .unwrap_or_else(|| "none".into()),
                p.state,
                p.jobs.len()
            );
            Ok(Output::new(&p, text))
        }
        OrderCmd::Show { id } => {
            let v = orders::show(ws, id)?;
            let text = order_text(&v);
            Ok(Output::new(&v, text))
        }
        OrderCmd::List { client } => {
            let list = orders::list(ws, client)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|v| {
                    vec![
                        v.order.id.to_string(),
                        v.order.client_name.clone(),
                        v.order.domain.clone(),
                        v.progress.clone(),
                        v.order.invoice_number.clone().unwrap_or_default(),
                        format!("{}/{}", v.jobs_done, v.jobs_total),
                    ]
                })
                .collect();
            let text = table(
                &["ID", "CLIENT", "DOMAIN", "STATE", "INVOICE", "JOBS"],
                &rows,
            );
            Ok(Output::new(&list, text))
        }
        OrderCmd::Approve { id } => {
            let v = orders::approve(ws, id)?;
            let text = order_text(&v);
            Ok(Output::new(&v, text))
        }
    }
}

pub fn payment_method(ws: &mut Workspace, cmd: PaymentMethodCmd) -> Result<Output, AppError> {
    match cmd {
        PaymentMethodCmd::Add {
            client,
            token,
            nonce,
            label,
        } => {
            let token = match (token, nonce) {
                (Some(t), None) => PaymentToken::stripe(t),
                (None, Some(n)) => PaymentToken::accept_nonce(n),
                _ => return Err(AppError::invalid("token", "give --token or --nonce")),
            };
            let store = secrets::from_env()?;
            let m = runtime()?.block_on(charge::add_payment_method(
                ws,
                store.as_ref(),
                client,
                token,
                &label,
            ))?;
            let text = format!(
                "stored payment method {} ({}) for client {client}",
                m.id, m.gateway
            );
            Ok(Output::new(&m, text))
        }
        PaymentMethodCmd::List { client } => {
            let list = hostdesk_app::store::orders::payment_methods(ws.conn(), client)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|m| {
                    vec![
                        m.id.to_string(),
                        m.gateway.clone(),
                        m.customer_ref.clone(),
                        m.method_ref.clone(),
                        m.label.clone(),
                    ]
                })
                .collect();
            let text = table(&["ID", "GATEWAY", "CUSTOMER", "METHOD", "LABEL"], &rows);
            Ok(Output::new(&list, text))
        }
    }
}

pub fn gateway(ws: &mut Workspace, cmd: GatewayCmd) -> Result<Output, AppError> {
    let GatewayCmd::Set {
        gateway,
        base_url,
        login_id,
        key,
    } = cmd;
    let secret = read_token(&key, &gateway)?;
    let store = secrets::from_env()?;
    charge::set_gateway(
        ws,
        store.as_ref(),
        &GatewaySettings {
            gateway: gateway.clone(),
            base_url,
            login_id,
        },
        secret,
    )?;
    Ok(Output::new(
        &serde_json::json!({ "gateway": gateway }),
        format!("payment gateway: {gateway} (key in {})", store.label()),
    ))
}

pub fn dunning_cmd(ws: &mut Workspace, cmd: DunningCmd) -> Result<Output, AppError> {
    match cmd {
        DunningCmd::Run => {
            let r = dunning::run(ws)?;
            let text = format!(
                "{} overdue invoice(s): {} reminder(s), {} charge retr(ies), {} suspended, {} terminated; {} cancellation(s) took effect; {} job(s) queued",
                r.overdue, r.reminders, r.retries, r.suspended, r.terminated, r.cancelled, r.jobs.len()
            );
            Ok(Output::new(&r, text))
        }
        DunningCmd::List { all } => {
            let list = dunning::list(ws, all)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    vec![
                        d.invoice_number.clone().unwrap_or_default(),
                        d.client_name.clone(),
                        d.stage.clone(),
                        d.started_on.clone(),
                        d.balance_minor.to_string(),
                        d.done.join(" "),
                    ]
                })
                .collect();
            let text = table(
                &[
                    "INVOICE",
                    "CLIENT",
                    "STAGE",
                    "DUE",
                    "BALANCE (minor)",
                    "STEPS",
                ],
                &rows,
            );
            Ok(Output::new(&list, text))
        }
        DunningCmd::Policy {
            reminder_days,
            retry_days,
            grace_days,
            terminate_after_days,
        } => {
            let mut p: DunningPolicy = dunning::policy(ws.conn())?;
            let changed = reminder_days.is_some()
                || retry_days.is_some()
                || grace_days.is_some()
                || terminate_after_days.is_some();
            if let Some(v) = reminder_days {
                p.reminder_days = v;
            }
            if let Some(v) = retry_days {
                p.retry_days = v;
            }
            if let Some(v) = grace_days {
                p.grace_days = v;
            }
            if let Some(v) = terminate_after_days {
                p.terminate_after_days = v;
            }
            if changed {
                dunning::set_policy(ws, &p)?;
            }
            let text = format!(
                "reminders on days {:?}, charge retries on days {:?}, suspend after {} days, terminate after {} days",
                p.reminder_days, p.retry_days, p.grace_days, p.terminate_after_days
            );
            Ok(Output::new(&p, text))
        }
    }
}

#[derive(Subcommand)]
pub enum ClockCmd {
    /// The workspace's "now" and how far ahead it runs.
    Show,
    /// Move a sandbox workspace's clock forward.
    Advance {
        #[arg(long)]
        days: i64,
    },
    /// Back to the real time.
    Reset,
}

pub fn clock(ws: &mut Workspace, cmd: ClockCmd) -> Result<Output, AppError> {
    use hostdesk_app::test_clock;
    let v = match cmd {
        ClockCmd::Show => test_clock::view(ws)?,
        ClockCmd::Advance { days } => test_clock::advance(ws, days)?,
        ClockCmd::Reset => test_clock::reset(ws)?,
    };
    let text = format!(
        "now {} ({} day(s) ahead{})",
        v.now,
        v.offset_days,
        if v.sandbox {
            ""
        } else {
            "; not a sandbox workspace: the clock cannot move"
        }
    );
    Ok(Output::new(&v, text))
}
