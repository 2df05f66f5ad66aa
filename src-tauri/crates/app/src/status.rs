//! The workspace at a glance: the dashboard's numbers and `hostdesk status`.

use hostdesk_store::{migrations, settings, status};
use serde::Serialize;

use crate::{Result, Workspace};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub clients: i64,
    pub subscriptions: i64,
    pub sites: i64,
    pub open_invoices: i64,
    pub queued_jobs: i64,
    pub products: i64,
    pub schema_version: i64,
    pub latest_schema_version: i64,
    /// The database file, or None for an in-memory workspace.
    pub database: Option<String>,
    /// Nothing in it yet: the app offers the demo workspace.
    pub empty: bool,
    pub demo: bool,
    pub now: String,
}

pub fn report(ws: &Workspace) -> Result<StatusReport> {
    let c = status::counts(ws.conn())?;
    let products: i64 = ws
        .conn()
        .query_row("SELECT count(*) FROM products", [], |r| r.get(0))?;
    Ok(StatusReport {
        clients: c.clients,
        subscriptions: c.subscriptions,
        sites: c.sites,
        open_invoices: c.open_invoices,
        queued_jobs: c.queued_jobs,
        products,
        schema_version: ws.store().schema_version()?,
        latest_schema_version: migrations::LATEST,
        database: ws.path().map(|p| p.display().to_string()),
        empty: c.clients == 0 && products == 0,
        demo: settings::get(ws.conn(), crate::demo::DEMO_KEY)?.is_some(),
        now: ws.clock().stamp(),
    })
}

pub use hostdesk_store::status::ProductStateCount;

/// Subscriptions per product and state, for the dashboard chart.
pub fn subscriptions_by_product(ws: &Workspace) -> Result<Vec<ProductStateCount>> {
    Ok(status::subscriptions_by_product(ws.conn())?)
}
