//! Issue numbers from a series pattern: `INV-{YYYY}-{SEQ:6}` with year 2026 and sequence 123
//! gives `INV-2026-000123`. The sequence itself (gapless, one writer) is kept by the store.
//!
//! Placeholders: `{YYYY}` (four-digit year), `{YY}` (two last digits), `{SEQ}` (no padding),
//! `{SEQ:n}` (zero-padded to n digits, 1 to 12; a longer sequence is written in full, never
//! cut). Exactly one `{SEQ}` is required. Other text is copied; braces only open placeholders.

use super::invalid;
use crate::CoreError;

enum Token<'a> {
    Text(&'a str),
    Year4,
    Year2,
    Seq(usize),
}

fn parse(pattern: &str) -> Result<Vec<Token<'_>>, CoreError> {
    let bad = |m: String| invalid("pattern", m);
    let mut tokens = Vec::new();
    let mut rest = pattern;
    let mut seqs = 0;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                tokens.push(Token::Text(rest));
                rest = "";
            }
            Some(i) => {
                if i > 0 {
                    tokens.push(Token::Text(&rest[..i]));
                }
                if rest[i..].starts_with('}') {
                    return Err(bad(format!("'{pattern}' has a '}}' without a '{{'")));
                }
                let after = &rest[i + 1..];
                let Some(close) = after.find('}') else {
                    return Err(bad(format!("'{pattern}' has a '{{' without a '}}'")));
                };
                let name = &after[..close];
                let token = match name {
                    "YYYY" => Token::Year4,
                    "YY" => Token::Year2,
                    "SEQ" => Token::Seq(0),
                    _ => match name.strip_prefix("SEQ:").map(str::parse::<usize>) {
                        Some(Ok(w)) if (1..=12).contains(&w) => Token::Seq(w),
                        Some(_) => {
                            return Err(bad(format!(
                                "'{{{name}}}': the sequence width is 1 to 12 digits"
                            )))
                        }
                        None => {
                            return Err(bad(format!(
                                "'{{{name}}}' is not a placeholder (use {{YYYY}}, {{YY}}, {{SEQ}} or {{SEQ:6}})"
                            )))
                        }
                    },
                };
                if matches!(token, Token::Seq(_)) {
                    seqs += 1;
                }
                tokens.push(token);
                rest = &after[close + 1..];
            }
        }
    }
    if seqs != 1 {
        return Err(bad(format!(
            "'{pattern}' must hold the sequence exactly once, e.g. INV-{{YYYY}}-{{SEQ:6}}"
        )));
    }
    Ok(tokens)
}

/// Checks a series pattern.
pub fn check_series_pattern(pattern: &str) -> Result<(), CoreError> {
    parse(pattern).map(|_| ())
}

/// The issue number for `year` and `seq` (1 or more) in `pattern`.
pub fn format_issue_number(pattern: &str, year: i32, seq: u64) -> Result<String, CoreError> {
    if !(0..=9999).contains(&year) {
        return Err(invalid("year", format!("{year} is not a four-digit year")));
    }
    if seq == 0 {
        return Err(invalid("seq", "sequences start at 1"));
    }
    let mut out = String::new();
    for token in parse(pattern)? {
        match token {
            Token::Text(t) => out.push_str(t),
            Token::Year4 => out.push_str(&format!("{year:04}")),
            Token::Year2 => out.push_str(&format!("{:02}", year % 100)),
            Token::Seq(w) => out.push_str(&format!("{seq:0w$}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        let table = [
            ("INV-{YYYY}-{SEQ:6}", 2026, 123, "INV-2026-000123"),
            ("INV-{YYYY}-{SEQ:6}", 2026, 1, "INV-2026-000001"),
            ("INV-{YYYY}-{SEQ:6}", 2027, 999_999, "INV-2027-999999"),
            ("INV-{YYYY}-{SEQ:6}", 2027, 1_000_000, "INV-2027-1000000"),
            ("CN{YY}/{SEQ:4}", 2026, 42, "CN26/0042"),
            ("{SEQ}", 2026, 42, "42"),
            ("F{YY}{SEQ:3}", 2009, 5, "F09005"),
            ("{YYYY}{SEQ:1}", 2026, 7, "20267"),
        ];
        for (pattern, year, seq, want) in table {
            assert_eq!(
                format_issue_number(pattern, year, seq).unwrap(),
                want,
                "{pattern}"
            );
        }
    }

    #[test]
    fn bad_patterns_and_inputs() {
        for p in [
            "INV-{YYYY}",
            "INV-{SEQ}-{SEQ:3}",
            "INV-{YEAR}-{SEQ}",
            "INV-{SEQ:0}",
            "INV-{SEQ:13}",
            "INV-{SEQ:x}",
            "INV-{SEQ",
            "INV-}{SEQ}",
            "",
        ] {
            assert!(check_series_pattern(p).is_err(), "{p}");
            assert!(format_issue_number(p, 2026, 1).is_err(), "{p}");
        }
        assert!(check_series_pattern("INV-{YYYY}-{SEQ:6}").is_ok());
        assert!(format_issue_number("INV-{SEQ}", 2026, 0).is_err());
        assert!(format_issue_number("INV-{SEQ}", 10_000, 1).is_err());
        assert!(format_issue_number("INV-{SEQ}", -1, 1).is_err());
    }

    #[test]
    fn numbers_are_distinct_and_ordered_within_the_width() {
        let nums: Vec<String> = (1..=2000)
            .map(|s| format_issue_number("INV-{YYYY}-{SEQ:6}", 2026, s).unwrap())
            .collect();
        let mut sorted = nums.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, nums);
    }
}
