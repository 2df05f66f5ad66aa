//! The IPC surface of domains, DNS and certificates: availability and price, registration, a
//! site's domain and certificate panels, owned domains' verification, the registrar / DNS / ACME
//! settings. Keys travel only inward (UI → keyring), never back.

use hostdesk_app::domains::{
    self, AcmeSettings, BundleUpload, DnsSettings, DnsSettingsView, DomainAvailability, Queued,
    RegisterRequest, RegistrarSettings, RegistrarSettingsView, SiteTls, Verification,
};
use hostdesk_app::secrets::Secret;
use hostdesk_app::store::domains::{Domain, Expiring};
use hostdesk_app::AppError;
use serde::Serialize;
use tauri::State;

use crate::commands::Secrets;
use crate::state::AppState;

type R<T> = Result<T, AppError>;

/// Asks the registrar whether names are free, with their price. The workspace is not locked
/// while the registrar answers.
#[tauri::command]
#[specta::specta]
pub async fn check_domains(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    domains: Vec<String>,
    years: u32,
) -> R<Vec<DomainAvailability>> {
    let store = secrets.get()?;
    let probe = domains::check_probe(&*state.lock()?, store.as_ref(), &domains, years)?;
    probe.run().await
}

#[tauri::command]
#[specta::specta]
pub async fn register_domain(state: State<'_, AppState>, request: RegisterRequest) -> R<Queued> {
    domains::register_domain(&mut *state.lock()?, &request)
}

#[tauri::command]
#[specta::specta]
pub async fn list_domains(state: State<'_, AppState>, client_id: Option<i64>) -> R<Vec<Domain>> {
    domains::list(&*state.lock()?, client_id, None, None)
}

/// A site's domain (with the records an owned domain needs) and certificate.
#[tauri::command]
#[specta::specta]
pub async fn get_site_tls(state: State<'_, AppState>, site_id: i64) -> R<SiteTls> {
    domains::for_site(&*state.lock()?, site_id)
}

/// Looks an owned domain's records up now and records the outcome.
#[tauri::command]
#[specta::specta]
pub async fn verify_domain(state: State<'_, AppState>, domain: String) -> R<Verification> {
    let probe = domains::verify_probe(&*state.lock()?, &domain)?;
    let v = probe.run().await?;
    domains::record_verification(&mut *state.lock()?, &v)?;
    Ok(v)
}

/// Sets a site's certificate level (none or automatic); returns the `ssl.set` job.
#[tauri::command]
#[specta::specta]
pub async fn set_site_ssl(state: State<'_, AppState>, site_id: i64, level: String) -> R<i64> {
    domains::set_ssl_level(&mut *state.lock()?, site_id, &level)
}

/// Uploads a bundle: the chain to the database, the private key to the keyring only.
#[tauri::command]
#[specta::specta]
pub async fn upload_ssl_bundle(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    upload: BundleUpload,
    key_pem: String,
) -> R<i64> {
    let store = secrets.get()?;
    domains::upload_bundle(
        &mut *state.lock()?,
        store.as_ref(),
        &upload,
        &Secret::new(key_pem),
    )
}

/// Queues a check of the certificate a site serves.
#[tauri::command]
#[specta::specta]
pub async fn check_site_certificate(state: State<'_, AppState>, site_id: i64) -> R<i64> {
    domains::check_certificate(&mut *state.lock()?, site_id)
}

/// Registered domains and certificates that end within `within_days`.
#[tauri::command]
#[specta::specta]
pub async fn list_expiring_domains(
    state: State<'_, AppState>,
    within_days: i64,
) -> R<Vec<Expiring>> {
    domains::expiring_soon(&*state.lock()?, within_days)
}

/// The registrar, DNS and ACME settings (whether keys are stored; never the keys).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DomainSettings {
    pub registrar: RegistrarSettingsView,
    pub dns: DnsSettingsView,
    pub acme: AcmeSettings,
}

#[tauri::command]
#[specta::specta]
pub async fn get_domain_settings(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
) -> R<DomainSettings> {
    let store = secrets.get()?;
    let ws = state.lock()?;
    Ok(DomainSettings {
        registrar: domains::registrar_settings(&ws, store.as_ref())?,
        dns: domains::dns_settings(&ws, store.as_ref())?,
        acme: domains::acme_settings(ws.conn())?,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn set_registrar_settings(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    settings: RegistrarSettings,
    key: Option<String>,
) -> R<()> {
    let store = secrets.get()?;
    let key = key
        .filter(|k| !k.trim().is_empty())
        .map(|k| Secret::new(k.trim()));
    domains::set_registrar(&mut *state.lock()?, store.as_ref(), &settings, key)
}

#[tauri::command]
#[specta::specta]
pub async fn set_dns_settings(
    state: State<'_, AppState>,
    secrets: State<'_, Secrets>,
    settings: DnsSettings,
    key: Option<String>,
) -> R<()> {
    let store = secrets.get()?;
    let key = key
        .filter(|k| !k.trim().is_empty())
        .map(|k| Secret::new(k.trim()));
    domains::set_dns(&mut *state.lock()?, store.as_ref(), &settings, key)
}

#[tauri::command]
#[specta::specta]
pub async fn set_acme_settings(state: State<'_, AppState>, settings: AcmeSettings) -> R<()> {
    domains::set_acme(&mut *state.lock()?, &settings)
}
