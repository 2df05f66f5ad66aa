//! Lenient readers for the JSON the servers send (Drupal 7 gives numbers as strings).

use serde_json::Value;

/// An integer field given as a number or a numeric string.
pub(crate) fn int(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// A text field given as a string or a number; empty strings are `None`.
pub(crate) fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A size given as a number or as text like `"120M"`, `"2G"`, `"unlimited"` (None), in MB.
pub(crate) fn megabytes(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            let idx = s
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(s.len());
            let (num, unit) = s.split_at(idx);
            let n: f64 = num.parse().ok()?;
            let mb = match unit.trim().to_ascii_uppercase().as_str() {
                "" | "M" | "MB" => n,
                "K" | "KB" => n / 1024.0,
                "G" | "GB" => n * 1024.0,
                "T" | "TB" => n * 1024.0 * 1024.0,
                _ => return None,
            };
            if mb.is_finite() && mb >= 0.0 {
                // Sizes are small positive numbers: the cast cannot truncate meaningfully.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Some(mb.round() as u64)
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_numbers() {
        let v = json!({"a": "12", "b": 3, "c": "x", "d": "", "e": "120M", "f": "2G", "g": "unlimited", "h": "5"});
        assert_eq!(int(&v, "a"), Some(12));
        assert_eq!(int(&v, "b"), Some(3));
        assert_eq!(int(&v, "c"), None);
        assert_eq!(text(&v, "b").as_deref(), Some("3"));
        assert_eq!(text(&v, "d"), None);
        assert_eq!(megabytes(&v, "e"), Some(120));
        assert_eq!(megabytes(&v, "f"), Some(2048));
        assert_eq!(megabytes(&v, "g"), None);
        assert_eq!(megabytes(&v, "b"), Some(3));
        assert_eq!(megabytes(&v, "h"), Some(5));
    }
}
