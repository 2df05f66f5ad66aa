//! Charging a client's stored payment method for an invoice, as a job (`payment.charge`).
//!
//! Each attempt is recorded in two phases: a `pending` payment row keyed by the job's key is
//! committed before the gateway is called, and settled after. The same key goes to the gateway
//! as its idempotency key (Stripe `Idempotency-Key`; Authorize.net: the driver looks for the
//! earlier transaction with that reference before charging again), so a crash or a lost reply
//! between the two phases makes the retry find the first charge instead of charging twice.
//!
//! The gateway is chosen by the setting `payment_gateway` (`stripe` or `authnet`); its keys live
//! only in the OS keyring (entries `gateway:stripe`, `gateway:authnet`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use hostdesk_core::billing::{allocate_payment, PaymentStatus};
use hostdesk_core::Money;
use hostdesk_remote::{
    AuthorizeNetConfig, AuthorizeNetGateway, ChargeOutcome, ChargeRequest, CustomerOutcome,
    HttpConfig, NewCustomer, PaymentGateway, PaymentToken, RemoteError, StoredPaymentMethod,
    StripeConfig, StripeGateway,
};
use hostdesk_store::jobs::{self as store_jobs, NewJob};
use hostdesk_store::orders::{self as store_orders, PaymentMethod};
use hostdesk_store::settings as store_settings;
use hostdesk_store::{clients, invoices, Connection};
use serde::Serialize;
use serde_json::{json, Value};

use super::{currency, settle};
use crate::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner};
use crate::secrets::{Secret, SecretStore};
use crate::{AppError, Clock, Ctx, ErrorCode, Result, Workspace};

pub const PAYMENT_CHARGE: &str = "payment.charge";

/// Settings: which gateway charges stored payment methods, and where it is.
pub const GATEWAY: &str = "payment_gateway";
pub const STRIPE_API_BASE: &str = "stripe_api_base";
pub const AUTHNET_ENDPOINT: &str = "authnet_endpoint";
pub const AUTHNET_LOGIN_ID: &str = "authnet_login_id";

/// The keyring entry of a gateway's secret key.
pub fn secret_name(gateway: &str) -> String {
    format!("gateway:{gateway}")
}

/// Attempts a charge job gets (transport failures only: a decline is an answer, not a failure).
const CHARGE_ATTEMPTS: i64 = 6;

/// Builds the workspace's payment gateway.
pub fn gateway(
    conn: &Connection,
    secrets: &dyn SecretStore,
    currency_code: &str,
    http: &HttpConfig,
) -> Result<Arc<dyn PaymentGateway>> {
    let kind = store_settings::get(conn, GATEWAY)?.unwrap_or_default();
    let key = |name: &str| -> Result<Secret> {
        secrets.get(&secret_name(name))?.ok_or_else(|| {
            AppError::invalid(
                "gateway",
                format!(
                    "no {name} key in {}: set it with `hostdesk gateway set {name}`",
                    secrets.label()
                ),
            )
        })
    };
    let remote = |e: RemoteError| AppError::invalid("gateway", e.to_string());
    match kind.as_str() {
        "stripe" => {
            let base = store_settings::get(conn, STRIPE_API_BASE)?
                .unwrap_or_else(|| "https://api.stripe.com".into());
            let mut config = StripeConfig::with_base_url(&base, key("stripe")?).map_err(remote)?;
            config.http = http.clone();
            Ok(Arc::new(StripeGateway::new(config).map_err(remote)?))
        }
        "authnet" => {
            let endpoint = store_settings::get(conn, AUTHNET_ENDPOINT)?
                .unwrap_or_else(|| hostdesk_remote::payments::authnet::AUTHNET_SANDBOX.to_string());
            let login = store_settings::get(conn, AUTHNET_LOGIN_ID)?.unwrap_or_default();
            let mut config = AuthorizeNetConfig::new(
                &endpoint,
                &login,
                key("authnet")?,
                currency(currency_code)?,
            )
            .map_err(remote)?;
            config.http = http.clone();
            Ok(Arc::new(AuthorizeNetGateway::new(config).map_err(remote)?))
        }
        "" => Err(AppError::invalid(
            "gateway",
            "no payment gateway is set up: `hostdesk gateway set stripe|authnet`",
        )),
        other => Err(AppError::invalid(
            "gateway",
            format!("payment_gateway '{other}' is not stripe or authnet"),
        )),
    }
}

/// Stores a client's payment method at the gateway from a single-use token (Stripe.js
/// PaymentMethod id, Accept.js nonce) and keeps the references it returns.
pub async fn add_payment_method(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    client_id: i64,
    token: PaymentToken,
    label: &str,
) -> Result<PaymentMethod> {
    let client = clients::get(ws.conn(), client_id)?;
    let gw = gateway(ws.conn(), secrets, &client.currency, &HttpConfig::default())?;
    let kind = store_settings::get(ws.conn(), GATEWAY)?.unwrap_or_default();
    let req = NewCustomer {
        reference: format!("client-{client_id}"),
        name: Some(client.name.clone()),
        email: Some(client.email.clone()),
        description: None,
        token,
        idempotency_key: format!("customer:{client_id}:{}", ws.clock().stamp_millis()),
    };
    let stored = match gw.create_customer(&req).await {
        Ok(CustomerOutcome::Created { stored, .. }) => stored,
        Ok(CustomerOutcome::Declined { code, message }) => {
            return Err(AppError::invalid(
                "token",
                format!("the gateway refused the card ({code}): {message}"),
            ))
        }
        Err(e) => return Err(AppError::new(ErrorCode::Remote, e.to_string())),
    };
    let id = ws.write(|tx, ctx| {
        let id = store_orders::add_payment_method(
            tx,
            client_id,
            &kind,
            &stored.customer_ref,
            &stored.payment_method_ref,
            label,
            &ctx.at,
        )?;
        ctx.audit(
            tx,
            "client",
            Some(client_id),
            "payment_method",
            None::<&()>,
            Some(&json!({ "gateway": kind, "label": label })),
        )?;
        Ok(id)
    })?;
    Ok(store_orders::payment_methods(ws.conn(), client_id)?
        .into_iter()
        .find(|m| m.id == id)
        .expect("the method was just stored"))
}

/// Queues a charge of what is due on an invoice; `attempt` names it (`first`, `dunning-3`,
/// `staff-2`). The key `charge:INVOICE:ATTEMPT` is the payment's idempotency key at the gateway
/// too, so each named attempt charges at most once, however often its job runs.
pub(crate) fn enqueue_charge(
    tx: &Connection,
    ctx: &Ctx,
    invoice_id: i64,
    attempt: &str,
) -> Result<i64> {
    let subscription_id = store_orders::for_invoice(tx, invoice_id)?
        .first()
        .map(|o| o.subscription_id);
    let key = format!("charge:{invoice_id}:{attempt}");
    let (id, _) = store_jobs::enqueue(
        tx,
        &NewJob {
            kind: PAYMENT_CHARGE,
            key: &key,
            server_id: None,
            subscription_id,
            site_id: None,
            payload: &json!({ "invoiceId": invoice_id, "attempt": attempt }),
            max_attempts: CHARGE_ATTEMPTS,
            deps: &[],
        },
        &ctx.at_ms,
    )?;
    Ok(id)
}

/// Staff ask for a charge of an invoice now (`hostdesk payment charge`): queues a new attempt.
pub fn request_charge(ws: &mut Workspace, invoice_id: i64) -> Result<i64> {
    let inv = invoices::get(ws.conn(), invoice_id)?;
    if !["issued", "partially_paid"].contains(&inv.status.as_str()) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("invoice is {}: nothing to charge", inv.status),
        ));
    }
    if store_orders::default_payment_method(ws.conn(), inv.client_id)?.is_none() {
        return Err(AppError::invalid(
            "invoice",
            "the client has no stored payment method",
        ));
    }
    let n: u32 = ws.conn().query_row(
        "SELECT count(*) + 1 FROM jobs WHERE kind = ?1 AND idempotency_key LIKE ?2",
        [PAYMENT_CHARGE, &format!("charge:{invoice_id}:staff-%")],
        |r| r.get(0),
    )?;
    ws.write(|tx, ctx| enqueue_charge(tx, ctx, invoice_id, &format!("staff-{n}")))
}

/// What a charge job came to (its result).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
enum Charged {
    Paid {
        payment_id: i64,
        gateway_ref: String,
        status: String,
    },
    NothingDue {
        status: String,
    },
    Declined {
        payment_id: i64,
        code: String,
        message: String,
    },
    Pending {
        payment_id: i64,
        gateway_ref: String,
    },
}

/// The `payment.charge` job handler.
pub struct Charges {
    ws: Arc<Mutex<Workspace>>,
    pub(super) secrets: Arc<dyn SecretStore>,
    pub(super) http: HttpConfig,
}

struct Plan {
    payment_id: i64,
    request: ChargeRequest,
    currency: String,
}

impl Charges {
    pub fn open(
        path: &Path,
        clock: Clock,
        secrets: Arc<dyn SecretStore>,
        http: HttpConfig,
    ) -> Result<Arc<Charges>> {
        let ws = Workspace::open(path, clock)?;
        Ok(Arc::new(Charges {
            ws: Arc::new(Mutex::new(ws)),
            secrets,
            http,
        }))
    }

    pub fn register(self: &Arc<Self>, runner: &mut Runner) {
        runner.handle(PAYMENT_CHARGE, self.clone());
        runner.handle(super::refund::PAYMENT_REFUND, self.clone());
    }

    pub(super) async fn with_ws<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Workspace) -> Result<T> + Send + 'static,
    ) -> std::result::Result<T, JobError> {
        crate::blocking::on_workspace(&self.ws, f).await
    }

    /// Phase one: what to charge, recorded as a pending payment before the gateway is called.
    /// None: nothing is due (paid meanwhile, or void).
    fn prepare(
        ws: &mut Workspace,
        job_key: &str,
        invoice_id: i64,
        attempt: u32,
    ) -> Result<Option<Plan>> {
        let inv = invoices::get(ws.conn(), invoice_id)?;
        let existing: Option<(i64, String, i64)> = ws
            .conn()
            .query_row(
                "SELECT id, state, amount_minor FROM payments WHERE idempotency_key = ?1",
                [job_key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ok();
        let due = inv.total_minor - inv.paid_minor;
        let amount = match &existing {
            // A retry charges exactly what the first attempt asked for, whatever happened since.
            Some((_, state, amount)) if state == "pending" => *amount,
            Some(_) => return Ok(None),
            None if !["issued", "partially_paid"].contains(&inv.status.as_str()) || due <= 0 => {
                return Ok(None)
            }
            None => due,
        };
        let method =
            store_orders::default_payment_method(ws.conn(), inv.client_id)?.ok_or_else(|| {
                AppError::invalid("paymentMethod", "the client has no stored payment method")
            })?;
        let payment_id = match existing {
            Some((id, _, _)) => id,
            None => ws.write(|tx, ctx| {
                let (id, _) = invoices::record_payment(
                    tx,
                    &invoices::NewPayment {
                        client_id: inv.client_id,
                        invoice_id: Some(inv.id),
                        method: &method.gateway,
                        reference: inv.number.as_deref().unwrap_or(""),
                        amount_minor: amount,
                        currency: &inv.currency,
                        state: "pending",
                        key: job_key,
                    },
                    &ctx.at,
                )?;
                Ok(id)
            })?,
        };
        Ok(Some(Plan {
            payment_id,
            currency: inv.currency.clone(),
            request: ChargeRequest {
                source: StoredPaymentMethod {
                    customer_ref: method.customer_ref,
                    payment_method_ref: method.method_ref,
                },
                amount: Money::new(amount, currency(&inv.currency)?),
                idempotency_key: job_key.to_string(),
                reference: inv.number.clone(),
                attempt,
            },
        }))
    }

    /// Phase two: the gateway's answer, written with its consequences in one transaction.
    fn settle(
        ws: &mut Workspace,
        invoice_id: i64,
        plan: &Plan,
        outcome: &ChargeOutcome,
    ) -> Result<Charged> {
        ws.write(|tx, ctx| {
            let inv = invoices::get(tx, invoice_id)?;
            match outcome {
                ChargeOutcome::Charged { id, .. } => {
                    invoices::settle_payment(
                        tx,
                        plan.payment_id,
                        "succeeded",
                        Some(id),
                        None,
                        &ctx.at,
                    )?;
                    let c = currency(&inv.currency)?;
                    let a = allocate_payment(
                        Money::new(inv.total_minor, c),
                        Money::new(inv.paid_minor, c),
                        plan.request.amount,
                    )?;
                    let status = match a.status {
                        PaymentStatus::Paid => "paid",
                        PaymentStatus::PartiallyPaid => "partially_paid",
                        PaymentStatus::Unpaid => "issued",
                    };
                    if inv.status != "void" {
                        invoices::set_status(tx, inv.id, status, a.paid_after.minor, &ctx.at)?;
                    }
                    if a.overpayment.minor > 0 {
                        invoices::add_credit(
                            tx,
                            inv.client_id,
                            &inv.currency,
                            a.overpayment.minor,
                        )?;
                    }
                    ctx.audit(
                        tx,
                        "invoice",
                        Some(inv.id),
                        "charge",
                        None::<&()>,
                        Some(&json!({ "amount": plan.request.amount.to_string(), "ref": id })),
                    )?;
                    settle::after_payment(tx, ctx, inv.id)?;
                    Ok(Charged::Paid {
                        payment_id: plan.payment_id,
                        gateway_ref: id.clone(),
                        status: status.into(),
                    })
                }
                ChargeOutcome::Pending { id, message } => {
                    invoices::settle_payment(
                        tx,
                        plan.payment_id,
                        "pending",
                        Some(id),
                        Some(message),
                        &ctx.at,
                    )?;
                    Ok(Charged::Pending {
                        payment_id: plan.payment_id,
                        gateway_ref: id.clone(),
                    })
                }
                ChargeOutcome::Declined { code, message, id }
                | ChargeOutcome::AuthenticationRequired { code, message, id } => {
                    let text = format!("{code}: {message}");
                    invoices::settle_payment(
                        tx,
                        plan.payment_id,
                        "failed",
                        id.as_deref(),
                        Some(&text),
                        &ctx.at,
                    )?;
                    ctx.audit(
                        tx,
                        "invoice",
                        Some(inv.id),
                        "charge_declined",
                        None::<&()>,
                        Some(&text),
                    )?;
                    settle::after_decline(tx, ctx, inv.id, &plan.request.idempotency_key, &text)?;
                    Ok(Charged::Declined {
                        payment_id: plan.payment_id,
                        code: code.clone(),
                        message: message.clone(),
                    })
                }
            }
        })
    }

    async fn charge(&self, job: &JobCtx) -> std::result::Result<Value, JobError> {
        let invoice_id = job
            .payload
            .get("invoiceId")
            .and_then(Value::as_i64)
            .ok_or_else(|| JobError::fatal("the job's payload has no invoiceId"))?;
        let key = job.key.clone();
        let attempt = u32::try_from(job.attempt).unwrap_or(1).max(1);
        let plan = self
            .with_ws(move |ws| Self::prepare(ws, &key, invoice_id, attempt))
            .await?;
        let Some(plan) = plan else {
            let status = self
                .with_ws(move |ws| Ok(invoices::get(ws.conn(), invoice_id)?.status))
                .await?;
            return Ok(json!(Charged::NothingDue { status }));
        };
        let secrets = self.secrets.clone();
        let code = plan.currency.clone();
        let http = self.http.clone();
        let gw = self
            .with_ws(move |ws| gateway(ws.conn(), secrets.as_ref(), &code, &http))
            .await?;
        job.save(json!({ "paymentId": plan.payment_id })).await?;
        let outcome = match gw.charge(&plan.request).await {
            Ok(o) => o,
            Err(e) if e.is_retryable() => return Err(JobError::retry(e.to_string())),
            Err(e) => {
                let text = e.to_string();
                let pid = plan.payment_id;
                let _ = self
                    .with_ws(move |ws| {
                        ws.write(|tx, ctx| {
                            invoices::settle_payment(
                                tx,
                                pid,
                                "failed",
                                None,
                                Some(&text),
                                &ctx.at,
                            )?;
                            Ok(())
                        })
                    })
                    .await;
                return Err(JobError::fatal(e.to_string()));
            }
        };
        let charged = self
            .with_ws(move |ws| Self::settle(ws, invoice_id, &plan, &outcome))
            .await?;
        Ok(json!(charged))
    }
}

impl JobHandler for Charges {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>> {
        if job.kind == super::refund::PAYMENT_REFUND {
            Box::pin(super::refund::run(self, job))
        } else {
            Box::pin(self.charge(job))
        }
    }
}

/// The gateway settings as staff set them (the key goes to the keyring, never to SQLite).
#[derive(Debug, Clone, Default, serde::Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewaySettings {
    /// `stripe` or `authnet`.
    pub gateway: String,
    /// Stripe: another API base (a local test server); Authorize.net: the endpoint URL.
    pub base_url: Option<String>,
    /// Authorize.net: the API Login ID.
    pub login_id: Option<String>,
}

/// Chooses the payment gateway and stores its secret key (when given) in the keyring. The
/// settings are checked by building the gateway before anything is written.
pub fn set_gateway(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    s: &GatewaySettings,
    key: Option<Secret>,
) -> Result<()> {
    let kind = s.gateway.trim();
    if !["stripe", "authnet"].contains(&kind) {
        return Err(AppError::invalid(
            "gateway",
            format!("'{kind}' is not stripe or authnet"),
        ));
    }
    let key = match key {
        Some(k) => k,
        None => secrets.get(&secret_name(kind))?.ok_or_else(|| {
            AppError::invalid(
                "key",
                format!("give the {kind} secret key (none is stored yet)"),
            )
        })?,
    };
    let base = s
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty());
    let remote = |e: RemoteError| AppError::invalid("gateway", e.to_string());
    match kind {
        "stripe" => {
            StripeConfig::with_base_url(base.unwrap_or("https://api.stripe.com"), key.clone())
                .map_err(remote)?;
        }
        _ => {
            AuthorizeNetConfig::new(
                base.unwrap_or(hostdesk_remote::payments::authnet::AUTHNET_SANDBOX),
                s.login_id.as_deref().unwrap_or(""),
                key.clone(),
                currency("USD")?,
            )
            .map_err(remote)?;
        }
    }
    secrets.set(&secret_name(kind), &key)?;
    ws.write(|tx, ctx| {
        let before = store_settings::get(tx, GATEWAY)?;
        store_settings::set(tx, GATEWAY, kind)?;
        if let Some(b) = base {
            let k = if kind == "stripe" {
                STRIPE_API_BASE
            } else {
                AUTHNET_ENDPOINT
            };
            store_settings::set(tx, k, b)?;
        }
        if let Some(l) = s.login_id.as_deref().filter(|l| !l.trim().is_empty()) {
            store_settings::set(tx, AUTHNET_LOGIN_ID, l.trim())?;
        }
        ctx.audit(tx, "setting", None, GATEWAY, before.as_ref(), Some(&kind))
    })
}
