use std::fs::File;
use std::io::{self, BufWriter};

use hostdesk_app::core::client::{ClientDraft, ContactDraft};
use hostdesk_app::store::clients::{ClientQuery, ClientRow, ClientSort};
use hostdesk_app::{clients, subscriptions, AppError, Workspace};
use serde_json::json;

use crate::args::{ClientAddArgs, ClientCmd, SubscriptionCmd};
use crate::output::{table, Output};

fn contact(spec: &str) -> Result<ContactDraft, AppError> {
    let mut p = spec.splitn(3, ':');
    match (p.next(), p.next(), p.next()) {
        (Some(role), Some(name), Some(email)) => Ok(ContactDraft {
            role: Some(role.parse().map_err(|m| AppError::invalid("contact", m))?),
            name: name.into(),
            email: email.into(),
            phone: String::new(),
        }),
        _ => Err(AppError::invalid(
            "contact",
            format!("'{spec}' should be ROLE:NAME:EMAIL"),
        )),
    }
}

fn rows_text(rows: &[ClientRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.name.clone(),
                r.email.clone(),
                r.country.clone().unwrap_or_default(),
                r.status.clone(),
                r.subscriptions.to_string(),
            ]
        })
        .collect();
    table(
        &["ID", "NAME", "EMAIL", "COUNTRY", "STATUS", "SUBS"],
        &cells,
    )
}

fn add(ws: &mut Workspace, a: ClientAddArgs) -> Result<Output, AppError> {
    let draft = ClientDraft {
        kind: a
            .kind
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|m| AppError::invalid("kind", m))?,
        name: a.name,
        email: a.email,
        phone: a.phone,
        address: a.address,
        country: a.country,
        tax_id: a.tax_id,
        currency: a.currency,
        timezone: a.tz,
        billing_day: a.billing_day,
        notes: a.notes,
        status: None,
    };
    let contacts = a
        .contacts
        .iter()
        .map(|c| contact(c))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Output::id(clients::add(ws, &draft, &contacts)?, "client"))
}

pub fn client(ws: &mut Workspace, cmd: ClientCmd) -> Result<Output, AppError> {
    match cmd {
        ClientCmd::Add(a) => add(ws, *a),
        ClientCmd::List {
            status,
            product,
            sort,
            desc,
            offset,
            limit,
        } => {
            let sort = match sort.as_str() {
                "name" => ClientSort::Name,
                "email" => ClientSort::Email,
                "created" => ClientSort::Created,
                "status" => ClientSort::Status,
                other => {
                    return Err(AppError::invalid(
                        "sort",
                        format!("'{other}' is not one of: name, email, created, status"),
                    ))
                }
            };
            let page = clients::query(
                ws,
                &ClientQuery {
                    search: String::new(),
                    status,
                    product,
                    sort,
                    descending: desc,
                    offset,
                    limit,
                },
            )?;
            let shown = page.rows.len() as i64;
            let text = match page.total {
                Some(total) => format!("{}\n{shown} of {total} clients", rows_text(&page.rows)),
                None => format!(
                    "{}\nrows {} to {}",
                    rows_text(&page.rows),
                    offset + 1,
                    offset + shown
                ),
            };
            Ok(Output::new(&page, text))
        }
        ClientCmd::Show { id } => {
            let d = clients::detail(ws, id)?;
            let c = &d.client;
            let mut text = format!(
                "{} (#{}) — {} {}\n{}  {}  {}  billing day {}\n",
                c.name, c.id, c.kind, c.status, c.email, c.currency, c.timezone, c.billing_day
            );
            for k in &d.contacts {
                text.push_str(&format!("contact {}: {} <{}>\n", k.role, k.name, k.email));
            }
            for s in &d.subscriptions {
                text.push_str(&format!(
                    "subscription #{} {} {} {}\n",
                    s.id,
                    s.product_code,
                    s.state,
                    s.kit_code.clone().unwrap_or_default()
                ));
            }
            for s in &d.sites {
                text.push_str(&format!("site {} ({})\n", s.domain, s.status));
            }
            Ok(Output::new(&d, text))
        }
        ClientCmd::Search { text, limit } => {
            let rows = clients::search(ws, &text, limit)?;
            Ok(Output::new(&rows, rows_text(&rows)))
        }
        ClientCmd::Import { file, partial } => {
            let f = File::open(&file).map_err(|e| {
                AppError::invalid("file", format!("cannot open {}: {e}", file.display()))
            })?;
            let report = clients::import_csv(ws, io::BufReader::new(f), partial)?;
            let mut text = format!("{} rows read, {} imported", report.rows, report.imported);
            if report.rolled_back {
                text.push_str(" (nothing written: fix the rows below or use --partial)");
            }
            for e in &report.errors {
                text.push_str(&format!("\nline {}: {} {}", e.line, e.field, e.message));
            }
            if report.rolled_back {
                // Still an error for scripts: nothing was imported.
                return Err(AppError {
                    code: hostdesk_app::ErrorCode::Invalid,
                    message: text.replace('\n', "; "),
                    fields: Vec::new(),
                });
            }
            Ok(Output::new(&report, text))
        }
        ClientCmd::Export { out } => export(out, |w| clients::export_csv(ws, w)),
    }
}

fn export(
    out: Option<std::path::PathBuf>,
    write: impl FnOnce(Box<dyn io::Write + '_>) -> Result<u64, AppError>,
) -> Result<Output, AppError> {
    match out {
        Some(path) => {
            let n = write(Box::new(BufWriter::new(File::create(&path)?)))?;
            Ok(Output::new(
                &json!({ "rows": n, "file": path }),
                format!("{n} rows written to {}", path.display()),
            ))
        }
        None => {
            write(Box::new(io::stdout().lock()))?;
            Ok(Output {
                json: serde_json::Value::Null,
                text: String::new(),
            })
        }
    }
}

pub fn subscription(ws: &mut Workspace, cmd: SubscriptionCmd) -> Result<Output, AppError> {
    match cmd {
        SubscriptionCmd::Change {
            id,
            product,
            set_options,
            remove_options,
            tier,
        } => {
            let r = hostdesk_app::billing::changes::change(
                ws,
                id,
                &hostdesk_app::billing::changes::ChangeRequest {
                    product,
                    set_options,
                    remove_options,
                    tier,
                },
            )?;
            let text = format!(
                "subscription {id}: {} -> {} {}, effective {}{}",
                r.old_price,
                r.new_price,
                if r.when == "immediate" {
                    "now"
                } else {
                    "at the period end"
                },
                r.effective,
                r.invoice
                    .as_ref()
                    .map(|i| format!("; invoice {} ({})", i.number, i.total))
                    .unwrap_or_default()
            );
            Ok(Output::new(&r, text))
        }
        SubscriptionCmd::Cancel { id, immediately } => {
            let r = hostdesk_app::billing::changes::cancel(ws, id, immediately)?;
            let text = format!(
                "subscription {id}: service ends on {}{}",
                r.ends_on,
                r.credit_note
                    .as_ref()
                    .map(|n| format!(
                        "; credit note {n} ({})",
                        r.credit.clone().unwrap_or_default()
                    ))
                    .unwrap_or_default()
            );
            Ok(Output::new(&r, text))
        }
        SubscriptionCmd::List {
            client,
            state,
            offset,
            limit,
        } => {
            let list = subscriptions::list(ws, client, state.as_deref(), offset, limit)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.client_name.clone(),
                        s.product_code.clone(),
                        s.kit_code.clone().unwrap_or_default(),
                        s.state.clone(),
                        s.next_due_on.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            Ok(Output::new(
                &list,
                table(
                    &["ID", "CLIENT", "PRODUCT", "KIT", "STATE", "NEXT DUE"],
                    &rows,
                ),
            ))
        }
        SubscriptionCmd::Show { id } => {
            let s = subscriptions::show(ws, id)?;
            let text = format!(
                "subscription #{} of {} — {} {}\nchoices {}\nstate {}  anchor day {}  next due {}",
                s.id,
                s.client_name,
                s.product_code,
                s.kit_code.clone().unwrap_or_default(),
                s.choices.join(", "),
                s.state,
                s.anchor_day,
                s.next_due_on.clone().unwrap_or_default()
            );
            Ok(Output::new(&s, text))
        }
        SubscriptionCmd::Export { out } => export(out, |w| subscriptions::export_csv(ws, w)),
        SubscriptionCmd::Convert { id, product } => {
            crate::backup_cmd::convert(ws, id, product.as_deref())
        }
        SubscriptionCmd::Term { id, until } => crate::backup_cmd::term(ws, id, &until),
    }
}
