//! The IPC surface: each command parses nothing, calls one use case, and returns its result or
//! `{ code, message, fields }`.

use hostdesk_app::catalog::{self, CatalogOverview};
use hostdesk_app::clients::{self, ClientDetail, ImportReport};
use hostdesk_app::core::catalog::ProductDraft;
use hostdesk_app::core::client::{ClientDraft, ContactDraft};
use hostdesk_app::demo::{self, DemoOutcome};
use hostdesk_app::status::{self, ProductStateCount, StatusReport};
use hostdesk_app::store::clients::{Client, ClientPage, ClientQuery, ClientRow};
use hostdesk_app::AppError;
use hostdesk_app::FieldErrorDto;
use tauri::State;

use hostdesk_app::jobs::{self, JobDetail, StateCount};
use hostdesk_app::store::jobs::Job;

use crate::queue::QueueStatus;
use crate::state::AppState;

type R<T> = Result<T, AppError>;

#[tauri::command]
#[specta::specta]
pub async fn get_status(state: State<'_, AppState>) -> R<StatusReport> {
    status::report(&*state.lock()?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_subscriptions_by_product(state: State<'_, AppState>) -> R<Vec<ProductStateCount>> {
    status::subscriptions_by_product(&*state.lock()?)
}

#[tauri::command]
#[specta::specta]
pub async fn load_demo(state: State<'_, AppState>) -> R<DemoOutcome> {
    demo::load(&mut *state.lock()?)
}

#[tauri::command]
#[specta::specta]
pub async fn query_clients(state: State<'_, AppState>, query: ClientQuery) -> R<ClientPage> {
    clients::query(&*state.lock()?, &query)
}

#[tauri::command]
#[specta::specta]
pub async fn search_clients(state: State<'_, AppState>, text: String) -> R<Vec<ClientRow>> {
    clients::search(&*state.lock()?, &text, 20)
}

#[tauri::command]
#[specta::specta]
pub async fn get_client(state: State<'_, AppState>, id: i64) -> R<ClientDetail> {
    clients::detail(&*state.lock()?, id)
}

#[tauri::command]
#[specta::specta]
pub async fn check_client(state: State<'_, AppState>, draft: ClientDraft) -> R<Vec<FieldErrorDto>> {
    clients::check(&*state.lock()?, &draft)
}

#[tauri::command]
#[specta::specta]
pub async fn add_client(
    state: State<'_, AppState>,
    draft: ClientDraft,
    contacts: Vec<ContactDraft>,
) -> R<i64> {
    clients::add(&mut *state.lock()?, &draft, &contacts)
}

#[tauri::command]
#[specta::specta]
pub async fn update_client(state: State<'_, AppState>, id: i64, draft: ClientDraft) -> R<Client> {
    clients::update(&mut *state.lock()?, id, &draft)
}

#[tauri::command]
#[specta::specta]
pub async fn add_contact(
    state: State<'_, AppState>,
    client_id: i64,
    draft: ContactDraft,
) -> R<i64> {
    clients::add_contact(&mut *state.lock()?, client_id, &draft)
}

#[tauri::command]
#[specta::specta]
pub async fn import_clients_csv(
    state: State<'_, AppState>,
    csv: String,
    partial: bool,
) -> R<ImportReport> {
    clients::import_csv(&mut *state.lock()?, csv.as_bytes(), partial)
}

#[tauri::command]
#[specta::specta]
pub async fn get_catalog(state: State<'_, AppState>) -> R<CatalogOverview> {
    catalog::overview(&*state.lock()?)
}

#[tauri::command]
#[specta::specta]
pub async fn check_product(draft: ProductDraft) -> R<Vec<FieldErrorDto>> {
    Ok(catalog::check_product(&draft))
}

#[tauri::command]
#[specta::specta]
pub async fn add_product(state: State<'_, AppState>, draft: ProductDraft) -> R<i64> {
    catalog::add_product(&mut *state.lock()?, &draft)
}

#[tauri::command]
#[specta::specta]
pub async fn retire_product(state: State<'_, AppState>, code: String) -> R<()> {
    catalog::retire_product(&mut *state.lock()?, &code)
}

/// The queue at a glance: jobs per state, and why the runner stopped if it did.
#[derive(serde::Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QueueOverview {
    pub counts: Vec<StateCount>,
    pub runner_error: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn get_queue(
    state: State<'_, AppState>,
    queue: State<'_, std::sync::Arc<QueueStatus>>,
) -> R<QueueOverview> {
    Ok(QueueOverview {
        counts: jobs::counts(&*state.lock()?)?,
        runner_error: queue.error.lock().ok().and_then(|e| e.clone()),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn list_jobs(
    state: State<'_, AppState>,
    job_state: Option<String>,
    server_id: Option<i64>,
) -> R<Vec<Job>> {
    jobs::list(&*state.lock()?, job_state.as_deref(), server_id, 0, 500)
}

#[tauri::command]
#[specta::specta]
pub async fn get_job(state: State<'_, AppState>, id: i64) -> R<JobDetail> {
    jobs::show(&*state.lock()?, id)
}

#[tauri::command]
#[specta::specta]
pub async fn retry_job(state: State<'_, AppState>, id: i64) -> R<Job> {
    jobs::retry(&mut *state.lock()?, id)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_job(state: State<'_, AppState>, id: i64) -> R<Vec<i64>> {
    jobs::cancel(&mut *state.lock()?, id)
}

use std::sync::atomic::{AtomicBool, Ordering};

use hostdesk_app::billing::bill_run::{self, BillRunOptions, BillRunReport};
use hostdesk_app::billing::invoices::{
    self, InvoiceDetail, InvoiceFilter, InvoiceView, PaymentOutcome,
};
use tauri::ipc::Channel;

/// Progress of a bill run: clients done of clients due.
#[derive(Clone, serde::Serialize, specta::Type)]
pub struct BillRunProgress {
    pub done: u32,
    pub total: u32,
}

/// Asks a running bill run to stop after the client it is billing.
#[derive(Default)]
pub struct BillRunCancel(pub AtomicBool);

#[tauri::command]
#[specta::specta]
pub async fn run_bill(
    state: State<'_, AppState>,
    cancel: State<'_, BillRunCancel>,
    options: BillRunOptions,
    progress: Channel<BillRunProgress>,
) -> R<BillRunReport> {
    cancel.0.store(false, Ordering::SeqCst);
    let mut ws = state.lock()?;
    bill_run::run(&mut ws, &options, &cancel.0, |done, total| {
        let _ = progress.send(BillRunProgress {
            done: done as u32,
            total: total as u32,
        });
    })
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_bill_run(cancel: State<'_, BillRunCancel>) -> R<()> {
    cancel.0.store(true, Ordering::SeqCst);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn list_invoices(
    state: State<'_, AppState>,
    filter: InvoiceFilter,
) -> R<Vec<InvoiceView>> {
    invoices::list(&*state.lock()?, &filter)
}

#[tauri::command]
#[specta::specta]
pub async fn get_invoice(state: State<'_, AppState>, invoice: String) -> R<InvoiceDetail> {
    invoices::show(&*state.lock()?, &invoice)
}

#[tauri::command]
#[specta::specta]
pub async fn void_invoice(state: State<'_, AppState>, invoice: String) -> R<InvoiceView> {
    invoices::void(&mut *state.lock()?, &invoice)
}

#[tauri::command]
#[specta::specta]
pub async fn record_payment(
    state: State<'_, AppState>,
    invoice: String,
    amount: String,
    reference: String,
) -> R<PaymentOutcome> {
    invoices::record_payment(&mut *state.lock()?, &invoice, &amount, &reference)
}

/// Issues a credit note (every remaining line when `lines` is empty) and settles it: what is
/// due first, then the client's credit balance or, with `refund`, the card(s) that paid.
#[tauri::command]
#[specta::specta]
pub async fn create_credit_note(
    state: State<'_, AppState>,
    invoice: String,
    reason: String,
    lines: Vec<invoices::CreditLineRequest>,
    refund: bool,
) -> R<invoices::IssuedCreditNote> {
    invoices::credit_note(&mut *state.lock()?, &invoice, &reason, &lines, refund)
}

/// Writes the invoice's PDF into the `invoices` folder beside the workspace database and
/// returns the file's path.
#[tauri::command]
#[specta::specta]
pub async fn save_invoice_pdf(state: State<'_, AppState>, invoice: String) -> R<String> {
    let ws = state.lock()?;
    let bytes = hostdesk_app::billing::pdf::invoice_pdf(&ws, &invoice)?;
    let number = invoices::find(&ws, &invoice)?.number.unwrap_or(invoice);
    let dir = ws
        .path()
        .and_then(|p| p.parent())
        .map(|d| d.join("invoices"))
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{number}.pdf"));
    std::fs::write(&path, bytes)?;
    Ok(path.display().to_string())
}

use hostdesk_app::remote::Secret;
use hostdesk_app::secrets::SecretStore;
use hostdesk_app::servers::{self, ConnectionReport, ServerDraft, ServerView, SyncReport};

/// The secret store the app uses (the OS keyring unless HOSTDESK_SECRETS says otherwise), or
/// why it is not available.
pub struct Secrets(pub Result<std::sync::Arc<dyn SecretStore>, AppError>);

impl Secrets {
    pub(crate) fn get(&self) -> R<std::sync::Arc<dyn SecretStore>> {
        self.0.clone()
    }
}

#[tauri::command]
#[specta::specta]
pub async fn list_servers(state: State<'_, AppState>) -> R<Vec<ServerView>> {
    servers::list(&*state.lock()?)
}

/// Adds a server; the token goes to the keyring, never to the database or a reply.
#[tauri::command]
#[specta::specta]
pub async fn add_server(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    draft: ServerDraft,
    token: Option<String>,
) -> R<i64> {
    let store = secrets.get()?;
    let token = token.filter(|t| !t.is_empty()).map(Secret::new);
    servers::add(&mut *state.lock()?, &*store, &draft, token.as_ref())
}

/// Calls the server and reports what it found or exactly what failed. The workspace is not
/// locked while the network answers.
#[tauri::command]
#[specta::specta]
pub async fn test_server(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    id: i64,
) -> R<ConnectionReport> {
    let store = secrets.get()?;
    let probe = servers::probe(&*state.lock()?, &*store, id)?;
    let outcome = probe.test().await;
    servers::record_test(&mut *state.lock()?, outcome)
}

/// Pulls the server's sites into the cache and reports drift.
#[tauri::command]
#[specta::specta]
pub async fn sync_server(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    id: i64,
) -> R<SyncReport> {
    let store = secrets.get()?;
    let probe = servers::probe(&*state.lock()?, &*store, id)?;
    let outcome = probe.fetch_sites().await;
    servers::record_sync(&mut *state.lock()?, outcome)
}

use hostdesk_app::provisioning::{self, SiteAction};

/// Queues an action on a site (suspend, unsuspend, delete, login link, ...); returns the job id.
#[tauri::command]
#[specta::specta]
pub async fn site_action(state: State<'_, AppState>, site_id: i64, action: SiteAction) -> R<i64> {
    provisioning::enqueue_site_action(&mut *state.lock()?, site_id, &action)
}

/// Edits a server; a new token (if given) replaces the one in the keyring.
#[tauri::command]
#[specta::specta]
pub async fn edit_server(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    id: i64,
    draft: ServerDraft,
    token: Option<String>,
) -> R<ServerView> {
    let store = secrets.get()?;
    let token = token.filter(|t| !t.is_empty()).map(Secret::new);
    servers::edit(&mut *state.lock()?, &*store, id, &draft, token.as_ref())
}

use hostdesk_app::mail::{self, EnqueuedMail, MailDetail, SmtpSettings, SmtpSettingsInput};
use hostdesk_app::store::outbox::OutboxMail;

/// The outbox, newest first (optionally one state).
#[tauri::command]
#[specta::specta]
pub async fn list_outbox(
    state: State<'_, AppState>,
    mail_state: Option<String>,
) -> R<Vec<OutboxMail>> {
    mail::outbox::list(&*state.lock()?, mail_state.as_deref(), None, 0, 500)
}

#[tauri::command]
#[specta::specta]
pub async fn get_outbox_mail(state: State<'_, AppState>, id: i64) -> R<MailDetail> {
    mail::outbox::show(&*state.lock()?, id)
}

/// Queues a failed mail again (and its send job).
#[tauri::command]
#[specta::specta]
pub async fn retry_outbox_mail(state: State<'_, AppState>, id: i64) -> R<OutboxMail> {
    mail::outbox::retry(&mut *state.lock()?, id)
}

/// The SMTP settings; says whether a password is set, never what it is.
#[tauri::command]
#[specta::specta]
pub async fn get_mail_settings(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
) -> R<SmtpSettings> {
    let store = secrets.get()?;
    mail::smtp::settings(&*state.lock()?, &*store)
}

/// Saves the SMTP settings; a password (if given) goes to the keyring, never to the database.
#[tauri::command]
#[specta::specta]
pub async fn save_mail_settings(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    settings: SmtpSettingsInput,
    password: Option<String>,
    clear_password: bool,
) -> R<SmtpSettings> {
    let store = secrets.get()?;
    let password = password.filter(|p| !p.is_empty()).map(Secret::new);
    mail::smtp::save_settings(
        &mut *state.lock()?,
        &*store,
        &settings,
        password.as_ref(),
        clear_password,
    )
}

/// Queues a test mail to this address.
#[tauri::command]
#[specta::specta]
pub async fn send_test_mail(state: State<'_, AppState>, to: String) -> R<EnqueuedMail> {
    mail::outbox::queue_test(&mut *state.lock()?, &to)
}
