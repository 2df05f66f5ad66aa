//! Field rules, each returning the normalised value or a message for the person who typed it.
//! They live here once; the CLI, the app services and (through IPC) the UI forms all use them.

use crate::money::Currency;

/// A required text field, trimmed, at most `max` characters.
pub fn required_text(value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    optional_text(v, max)
}

/// An optional text field, trimmed, at most `max` characters.
pub fn optional_text(value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err("contains control characters".into());
    }
    Ok(v.to_string())
}

/// A machine code for catalog entries: `oa-basic`, `tier_24x7`.
pub fn code(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    if v.len() > 40 {
        return Err("is longer than 40 characters".into());
    }
    let ok = v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && v.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(format!(
            "'{v}' may hold only letters, digits, '-' and '_', starting with a letter or digit"
        ));
    }
    Ok(v.to_string())
}

/// An e-mail address (RFC 5322 addr-spec as `email_address` checks it), lower-cased domain.
pub fn email(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is required".into());
    }
    if !email_address::EmailAddress::is_valid(v) {
        return Err(format!("'{v}' is not an e-mail address"));
    }
    let (local, domain_part) = v
        .rsplit_once('@')
        .ok_or_else(|| format!("'{v}' has no '@'"))?;
    let domain_part = domain(domain_part).map_err(|e| format!("the domain of '{v}' {e}"))?;
    Ok(format!("{local}@{domain_part}"))
}

/// A fully qualified domain name; internationalised names (IDN) are accepted and stored in
/// their ASCII (punycode) form: `café.fr` -> `xn--caf-dma.fr`.
pub fn domain(value: &str) -> Result<String, String> {
    let v = value.trim().trim_end_matches('.');
    if v.is_empty() {
        return Err("is required".into());
    }
    let ascii =
        idna::domain_to_ascii(v).map_err(|_| format!("'{v}' is not a valid domain name"))?;
    if ascii.len() > 253 {
        return Err("is longer than 253 characters".into());
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(format!(
            "'{v}' needs a dot and a top-level domain, like example.com"
        ));
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "'{v}' has an empty label or one longer than 63 characters"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("'{v}': a label may not start or end with '-'"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "'{v}' may hold only letters, digits and '-' between dots"
            ));
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{v}' looks like an IP address, not a domain name"));
    }
    Ok(ascii)
}

pub fn currency(value: &str) -> Result<Currency, String> {
    Currency::from_code(value.trim())
}

/// An IANA time zone such as `Europe/Paris`.
pub fn time_zone(value: &str) -> Result<chrono_tz::Tz, String> {
    let v = value.trim();
    v.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("'{v}' is not an IANA time zone (e.g. Europe/Paris, America/New_York)")
    })
}

/// An ISO 3166-1 alpha-2 country code, upper-cased: `fr` -> `FR`.
pub fn country(value: &str) -> Result<String, String> {
    let v = value.trim().to_ascii_uppercase();
    isocountry::CountryCode::for_alpha2(&v)
        .map(|_| v.clone())
        .map_err(|_| {
            format!(
                "'{}' is not an ISO 3166 country code (e.g. FR, DE, US)",
                value.trim()
            )
        })
}

/// The billing day of the month, 1 to 31 (31 means the last day of shorter months).
pub fn billing_day(value: i64) -> Result<u8, String> {
    if (1..=31).contains(&value) {
        Ok(value as u8)
    } else {
        Err(format!("{value} is not a day of the month (1 to 31)"))
    }
}

/// A quota limit: a non-negative whole number (None means unlimited).
pub fn quota(value: i64) -> Result<i64, String> {
    if value < 0 {
        Err(format!(
            "{value} is negative; a quota is 0 or more (leave it empty for unlimited)"
        ))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_examples() {
        let table = [
            ("anna@example.com", Ok("anna@example.com")),
            ("  Anna.B+hd@Example.COM ", Ok("Anna.B+hd@example.com")),
            ("jörg@bücher.de", Ok("jörg@xn--bcher-kva.de")), // RFC 6531 local part
            ("anna@bücher.de", Ok("anna@xn--bcher-kva.de")),
            ("anna", Err("not an e-mail address")),
            ("anna@", Err("not an e-mail address")),
            ("@example.com", Err("not an e-mail address")),
            ("anna@localhost", Err("needs a dot")),
            ("", Err("is required")),
        ];
        for (input, want) in table {
            match (want, email(input)) {
                (Ok(w), Ok(g)) => assert_eq!(g, w),
                (Err(frag), Err(e)) => assert!(e.contains(frag), "{input}: {e}"),
                (w, g) => panic!("{input}: wanted {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn domain_examples() {
        let table = [
            ("example.com", Ok("example.com")),
            ("Shop.Example.COM.", Ok("shop.example.com")),
            ("café.fr", Ok("xn--caf-dma.fr")),
            ("münchen.de", Ok("xn--mnchen-3ya.de")),
            ("xn--mnchen-3ya.de", Ok("xn--mnchen-3ya.de")),
            ("a-b.example.org", Ok("a-b.example.org")),
            ("localhost", Err("needs a dot")),
            ("-bad.com", Err("may not start or end")),
            ("bad-.com", Err("may not start or end")),
            ("under_score.com", Err("")),
            ("exa mple.com", Err("")),
            ("a..com", Err("empty label")),
            ("10.0.0.1", Err("IP address")),
            ("", Err("is required")),
        ];
        for (input, want) in table {
            match (want, domain(input)) {
                (Ok(w), Ok(g)) => assert_eq!(g, w),
                (Err(frag), Err(e)) => assert!(e.contains(frag), "{input}: {e}"),
                (w, g) => panic!("{input}: wanted {w:?}, got {g:?}"),
            }
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(domain(&long).unwrap_err().contains("63"));
    }

    #[test]
    fn zone_country_currency_day_quota() {
        assert_eq!(time_zone("Europe/Paris").unwrap().name(), "Europe/Paris");
        assert!(time_zone("Mars/Olympus").unwrap_err().contains("IANA"));
        assert_eq!(country("fr").unwrap(), "FR");
        assert!(country("XX").unwrap_err().contains("ISO 3166"));
        assert_eq!(currency("KWD").unwrap().exponent(), 3);
        assert!(currency("ABC").is_err());
        assert_eq!(billing_day(31), Ok(31));
        assert!(billing_day(0).is_err());
        assert!(billing_day(32).is_err());
        assert_eq!(quota(0), Ok(0));
        assert!(quota(-1).unwrap_err().contains("negative"));
    }

    #[test]
    fn codes_and_text() {
        assert_eq!(code(" oa-basic ").unwrap(), "oa-basic");
        assert!(code("-x").is_err());
        assert!(code("a b").is_err());
        assert!(code("").is_err());
        assert!(required_text("   ", 10).unwrap_err().contains("required"));
        assert!(required_text("abcdefghijk", 10)
            .unwrap_err()
            .contains("longer"));
        assert!(optional_text("a\u{7}b", 10)
            .unwrap_err()
            .contains("control"));
    }
}
