use hostdesk_app::demo::{self, DemoOutcome};
use hostdesk_app::status::{self, StatusReport};
use hostdesk_app::{AppError, Workspace};
use serde_json::json;

use crate::args::InitArgs;
use crate::output::Output;

pub fn init(ws: &mut Workspace, a: InitArgs) -> Result<Output, AppError> {
    let demo = if a.demo { Some(demo::load(ws)?) } else { None };
    let s = status::report(ws)?;
    let note = match demo {
        Some(DemoOutcome::Loaded) => "; demo workspace loaded",
        Some(DemoOutcome::AlreadyLoaded) => "; the demo workspace was already loaded",
        None => "",
    };
    Ok(Output {
        json: json!({ "database": s.database, "schemaVersion": s.schema_version, "demo": demo }),
        text: format!(
            "workspace ready at {} (schema version {}){note}",
            s.database.as_deref().unwrap_or("memory"),
            s.schema_version
        ),
    })
}

pub fn status(ws: &Workspace) -> Result<Output, AppError> {
    let s: StatusReport = status::report(ws)?;
    let text = format!(
        "database       {}\nschema version {} (latest {})\nclients        {}\nsubscriptions  {}\nsites          {}\nopen invoices  {}\nqueued jobs    {}\nproducts       {}",
        s.database.as_deref().unwrap_or("memory"),
        s.schema_version,
        s.latest_schema_version,
        s.clients,
        s.subscriptions,
        s.sites,
        s.open_invoices,
        s.queued_jobs,
        s.products
    );
    Ok(Output::new(&s, text))
}

pub fn settings(ws: &mut Workspace, cmd: crate::args::SettingsCmd) -> Result<Output, AppError> {
    use hostdesk_app::settings;
    match cmd {
        crate::args::SettingsCmd::List => {
            let all = settings::list(ws)?;
            let text = all
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join("\n");
            let map: serde_json::Map<String, serde_json::Value> = all
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            Ok(Output::new(&map, text))
        }
        crate::args::SettingsCmd::Set { key, value } => {
            settings::set(ws, &key, &value)?;
            Ok(Output::new(
                &json!({ key.clone(): value }),
                format!("{key} set"),
            ))
        }
    }
}
