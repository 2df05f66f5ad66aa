//! Client use cases: add, edit, contacts, the table query, search, detail, CSV import/export.

use std::io::{Read, Write};

use hostdesk_core::client::{ClientDraft, ContactDraft};
use hostdesk_store::audit::{self, AuditEntry};
use hostdesk_store::clients::{self, Client, ClientPage, ClientQuery, ClientRow, Contact};
use hostdesk_store::subscriptions::{self, Site, Subscription};
use hostdesk_store::{settings, Connection};
use serde::Serialize;

use crate::error::FieldErrorDto;
use crate::{AppError, ErrorCode, Result, Workspace};

/// Settings key: the billing day new clients get unless told otherwise (1 by default).
pub const DEFAULT_BILLING_DAY: &str = "default_billing_day";

pub fn default_billing_day(conn: &Connection) -> Result<u8> {
    Ok(settings::get(conn, DEFAULT_BILLING_DAY)?
        .and_then(|v| v.parse::<u8>().ok())
        .filter(|d| (1..=31).contains(d))
        .unwrap_or(1))
}

/// Checks a draft without writing: the form shows these next to the fields as staff type.
pub fn check(ws: &Workspace, draft: &ClientDraft) -> Result<Vec<FieldErrorDto>> {
    let day = default_billing_day(ws.conn())?;
    Ok(match draft.validate(day) {
        Ok(_) => Vec::new(),
        Err(e) => e.fields().iter().map(Into::into).collect(),
    })
}

pub fn add(ws: &mut Workspace, draft: &ClientDraft, contacts: &[ContactDraft]) -> Result<i64> {
    let fields = draft.validate(default_billing_day(ws.conn())?)?;
    let contacts = contacts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.validate()
                .map_err(|e| prefix(e.into(), &format!("contacts[{i}].")))
        })
        .collect::<Result<Vec<_>>>()?;
    ws.write(|tx, ctx| {
        let id = clients::insert(tx, &fields, &ctx.at)?;
        for c in &contacts {
            clients::insert_contact(tx, id, c)?;
        }
        let created = clients::get(tx, id)?;
        ctx.audit(
            tx,
            "client",
            Some(id),
            "create",
            None::<&()>,
            Some(&created),
        )?;
        Ok(id)
    })
}

pub fn update(ws: &mut Workspace, id: i64, draft: &ClientDraft) -> Result<Client> {
    let fields = draft.validate(default_billing_day(ws.conn())?)?;
    ws.write(|tx, ctx| {
        let before = clients::get(tx, id)?;
        clients::update(tx, id, &fields, &ctx.at)?;
        let after = clients::get(tx, id)?;
        ctx.audit(
            tx,
            "client",
            Some(id),
            "update",
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

pub fn add_contact(ws: &mut Workspace, client_id: i64, draft: &ContactDraft) -> Result<i64> {
    let c = draft.validate()?;
    ws.write(|tx, ctx| {
        clients::get(tx, client_id)?;
        let id = clients::insert_contact(tx, client_id, &c)?;
        ctx.audit(
            tx,
            "client",
            Some(client_id),
            "add_contact",
            None::<&()>,
            Some(&c),
        )?;
        Ok(id)
    })
}

pub fn remove_contact(ws: &mut Workspace, client_id: i64, contact_id: i64) -> Result<()> {
    ws.write(|tx, ctx| {
        let removed = clients::delete_contact(tx, client_id, contact_id)?;
        ctx.audit(
            tx,
            "client",
            Some(client_id),
            "remove_contact",
            Some(&removed),
            None::<&()>,
        )
    })
}

pub fn query(ws: &Workspace, q: &ClientQuery) -> Result<ClientPage> {
    Ok(clients::query(ws.conn(), q)?)
}

pub fn search(ws: &Workspace, text: &str, limit: i64) -> Result<Vec<ClientRow>> {
    Ok(clients::search(ws.conn(), text, limit)?)
}

/// Everything the client page shows.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ClientDetail {
    pub client: Client,
    pub contacts: Vec<Contact>,
    pub subscriptions: Vec<Subscription>,
    pub sites: Vec<Site>,
    pub audit: Vec<AuditEntryDto>,
}

/// An audit entry for the UI: the snapshots as JSON text.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryDto {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(a: AuditEntry) -> Self {
        AuditEntryDto {
            id: a.id,
            at: a.at,
            actor: a.actor,
            action: a.action,
            before: a.before.map(|v| v.to_string()),
            after: a.after.map(|v| v.to_string()),
        }
    }
}

pub fn detail(ws: &Workspace, id: i64) -> Result<ClientDetail> {
    let conn = ws.conn();
    Ok(ClientDetail {
        client: clients::get(conn, id)?,
        contacts: clients::contacts(conn, id)?,
        subscriptions: subscriptions::list(conn, Some(id), None, 0, 1000)?,
        sites: subscriptions::sites_for_client(conn, id)?,
        audit: audit::list(conn, Some("client"), Some(id), 200)?
            .into_iter()
            .map(Into::into)
            .collect(),
    })
}

fn prefix(mut e: AppError, p: &str) -> AppError {
    for f in &mut e.fields {
        f.field = format!("{p}{}", f.field);
    }
    e
}

/// The columns of a clients CSV, in export order. Import needs name, email, currency, timezone.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "name",
    "email",
    "phone",
    "address",
    "country",
    "tax_id",
    "currency",
    "timezone",
    "billing_day",
    "notes",
    "status",
];

/// One rejected row of an import: its line in the file and what is wrong.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImportRowError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub rows: u64,
    pub imported: u64,
    pub errors: Vec<ImportRowError>,
    /// True when nothing was written because of errors (all-or-nothing).
    pub rolled_back: bool,
}

/// Imports clients from CSV. All-or-nothing unless `partial`: one bad row and nothing is
/// written, and the report lists every bad row; with `partial` the good rows are written.
pub fn import_csv(ws: &mut Workspace, input: impl Read, partial: bool) -> Result<ImportReport> {
    let day = default_billing_day(ws.conn())?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::invalid("file", format!("cannot read the CSV header: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for h in &headers {
        if !CSV_COLUMNS.contains(&h.as_str()) {
            return Err(AppError::invalid(
                "file",
                format!(
                    "unknown column '{h}'; the columns are: {}",
                    CSV_COLUMNS.join(", ")
                ),
            ));
        }
    }
    for required in ["name", "email", "currency", "timezone"] {
        if !headers.iter().any(|h| h == required) {
            return Err(AppError::invalid(
                "file",
                format!("the column '{required}' is missing"),
            ));
        }
    }
    let col = |rec: &csv::StringRecord, name: &str| -> String {
        headers
            .iter()
            .position(|h| h == name)
            .and_then(|i| rec.get(i))
            .unwrap_or("")
            .to_string()
    };

    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut rows = 0;
    for rec in reader.records() {
        rows += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(rows + 1);
                errors.push(ImportRowError {
                    line,
                    field: String::new(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(rows + 1);
        let mut row_errors = Vec::new();
        let kind = parse_enum(&col(&rec, "kind"), "kind", line, &mut row_errors);
        let status = parse_enum(&col(&rec, "status"), "status", line, &mut row_errors);
        let billing_day = match col(&rec, "billing_day") {
            v if v.is_empty() => None,
            v => match v.parse::<i64>() {
                Ok(d) => Some(d),
                Err(_) => {
                    row_errors.push(ImportRowError {
                        line,
                        field: "billing_day".into(),
                        message: format!("'{v}' is not a day of the month (1 to 31)"),
                    });
                    None
                }
            },
        };
        let draft = ClientDraft {
            kind,
            name: col(&rec, "name"),
            email: col(&rec, "email"),
            phone: col(&rec, "phone"),
            address: col(&rec, "address"),
            country: col(&rec, "country"),
            tax_id: col(&rec, "tax_id"),
            currency: col(&rec, "currency"),
            timezone: col(&rec, "timezone"),
            billing_day,
            notes: col(&rec, "notes"),
            status,
        };
        match draft.validate(day) {
            Ok(f) if row_errors.is_empty() => good.push(f),
            Ok(_) => {}
            Err(e) => row_errors.extend(e.fields().iter().map(|f| ImportRowError {
                line,
                field: f.field.clone(),
                message: f.message.clone(),
            })),
        }
        errors.extend(row_errors);
    }

    if !errors.is_empty() && !partial {
        return Ok(ImportReport {
            rows,
            imported: 0,
            errors,
            rolled_back: true,
        });
    }
    let imported = good.len() as u64;
    ws.write(|tx, ctx| {
        for f in &good {
            let id = clients::insert(tx, f, &ctx.at)?;
            ctx.audit(tx, "client", Some(id), "import", None::<&()>, Some(f))?;
        }
        Ok(())
    })?;
    Ok(ImportReport {
        rows,
        imported,
        errors,
        rolled_back: false,
    })
}

fn parse_enum<T: std::str::FromStr<Err = String>>(
    value: &str,
    field: &str,
    line: u64,
    errors: &mut Vec<ImportRowError>,
) -> Option<T> {
    if value.is_empty() {
        return None;
    }
    value
        .parse()
        .map_err(|message| {
            errors.push(ImportRowError {
                line,
                field: field.into(),
                message,
            })
        })
        .ok()
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::new(ErrorCode::Io, format!("cannot write CSV: {e}"))
}

/// Writes every client as CSV (the columns of [`CSV_COLUMNS`]); returns the number of rows.
pub fn export_csv(ws: &Workspace, out: impl Write) -> Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_COLUMNS).map_err(csv_error)?;
    let mut n = 0;
    let mut failure = None;
    clients::for_each(ws.conn(), |c| {
        let rec = [
            c.id.to_string(),
            c.kind,
            c.name,
            c.email,
            c.phone,
            c.address,
            c.country.unwrap_or_default(),
            c.tax_id,
            c.currency,
            c.timezone,
            c.billing_day.to_string(),
            c.notes,
            c.status,
        ];
        if let Err(e) = w.write_record(&rec) {
            failure.get_or_insert(e);
        }
        n += 1;
        Ok(())
    })?;
    if let Some(e) = failure {
        return Err(csv_error(e));
    }
    w.flush()?;
    Ok(n)
}
