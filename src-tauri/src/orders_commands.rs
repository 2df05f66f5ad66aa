//! The IPC surface of orders, plan changes, dunning and the sandbox test clock: each command
//! calls one use case.

use hostdesk_app::billing::changes::{self, CancelReport, ChangeReport, ChangeRequest};
use hostdesk_app::billing::charge;
use hostdesk_app::billing::dunning::{self, DunningPolicy, DunningReport, DunningView};
use hostdesk_app::orders::{self, OrderRequest, OrderView, PlacedOrder, Quote};
use hostdesk_app::store::orders::PaymentMethod;
use hostdesk_app::test_clock::{self, ClockView};
use hostdesk_app::AppError;
use tauri::State;

use crate::state::AppState;

type R<T> = Result<T, AppError>;

#[tauri::command]
#[specta::specta]
pub async fn quote_order(state: State<'_, AppState>, request: OrderRequest) -> R<Quote> {
    orders::quote(&*state.lock()?, &request)
}

/// Asks the order's server whether the domain is free there.
#[tauri::command]
#[specta::specta]
pub async fn check_order_domain(
    state: State<'_, AppState>,
    secrets: State<'_, crate::commands::Secrets>,
    request: OrderRequest,
) -> R<orders::DomainCheck> {
    let store = secrets.get()?;
    // The workspace is not locked while the server answers.
    let probe = orders::domain_probe(&*state.lock()?, store.as_ref(), &request)?;
    probe.check().await
}

#[tauri::command]
#[specta::specta]
pub async fn place_order(state: State<'_, AppState>, request: OrderRequest) -> R<PlacedOrder> {
    orders::place(&mut *state.lock()?, &request)
}

#[tauri::command]
#[specta::specta]
pub async fn list_orders(state: State<'_, AppState>, client_id: Option<i64>) -> R<Vec<OrderView>> {
    orders::list(&*state.lock()?, client_id)
}

#[tauri::command]
#[specta::specta]
pub async fn get_order(state: State<'_, AppState>, id: i64) -> R<OrderView> {
    orders::show(&*state.lock()?, id)
}

#[tauri::command]
#[specta::specta]
pub async fn approve_order(state: State<'_, AppState>, id: i64) -> R<OrderView> {
    orders::approve(&mut *state.lock()?, id)
}

#[tauri::command]
#[specta::specta]
pub async fn list_payment_methods(
    state: State<'_, AppState>,
    client_id: i64,
) -> R<Vec<PaymentMethod>> {
    Ok(hostdesk_app::store::orders::payment_methods(
        state.lock()?.conn(),
        client_id,
    )?)
}

#[tauri::command]
#[specta::specta]
pub async fn charge_invoice(state: State<'_, AppState>, invoice_id: i64) -> R<i64> {
    charge::request_charge(&mut *state.lock()?, invoice_id)
}

#[tauri::command]
#[specta::specta]
pub async fn change_subscription(
    state: State<'_, AppState>,
    id: i64,
    request: ChangeRequest,
) -> R<ChangeReport> {
    changes::change(&mut *state.lock()?, id, &request)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_subscription(
    state: State<'_, AppState>,
    id: i64,
    immediately: bool,
) -> R<CancelReport> {
    changes::cancel(&mut *state.lock()?, id, immediately)
}

#[tauri::command]
#[specta::specta]
pub async fn list_dunning(state: State<'_, AppState>, all: bool) -> R<Vec<DunningView>> {
    dunning::list_views(&*state.lock()?, all)
}

#[tauri::command]
#[specta::specta]
pub async fn run_dunning(state: State<'_, AppState>) -> R<DunningReport> {
    dunning::run(&mut *state.lock()?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_dunning_policy(state: State<'_, AppState>) -> R<DunningPolicy> {
    dunning::policy(state.lock()?.conn())
}

#[tauri::command]
#[specta::specta]
pub async fn set_dunning_policy(state: State<'_, AppState>, policy: DunningPolicy) -> R<()> {
    dunning::set_policy(&mut *state.lock()?, &policy)
}

#[tauri::command]
#[specta::specta]
pub async fn get_clock(state: State<'_, AppState>) -> R<ClockView> {
    test_clock::view(&*state.lock()?)
}

#[tauri::command]
#[specta::specta]
pub async fn advance_clock(state: State<'_, AppState>, days: i64) -> R<ClockView> {
    test_clock::advance(&mut *state.lock()?, days)
}

#[tauri::command]
#[specta::specta]
pub async fn reset_clock(state: State<'_, AppState>) -> R<ClockView> {
    test_clock::reset(&mut *state.lock()?)
}
