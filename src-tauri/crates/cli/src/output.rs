use hostdesk_app::AppError;
use serde::Serialize;
use serde_json::Value;

/// What a command produced: JSON for `--json`, text for people.
pub struct Output {
    pub json: Value,
    pub text: String,
}

impl Output {
    pub fn new(value: &impl Serialize, text: impl Into<String>) -> Output {
        Output {
            json: serde_json::to_value(value).unwrap_or(Value::Null),
            text: text.into(),
        }
    }

    /// `add` commands print `{"id": N}`.
    pub fn id(id: i64, what: &str) -> Output {
        Output {
            json: serde_json::json!({ "id": id }),
            text: format!("added {what} {id}"),
        }
    }

    pub fn print(&self, json: bool) {
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&self.json).unwrap_or_default()
            );
        } else if !self.text.is_empty() {
            println!("{}", self.text.trim_end());
        }
    }
}

/// One line on stderr: JSON `{code, message, fields}` with `--json`, else `hostdesk: message`.
pub fn print_error(e: &AppError, json: bool) {
    if json {
        eprintln!(
            "{}",
            serde_json::to_string(e).unwrap_or_else(|_| e.message.clone())
        );
    } else {
        eprintln!("hostdesk: {}", e.message.replace('\n', " "));
    }
}

/// Left-aligned columns for list output.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_string()).collect())];
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}
