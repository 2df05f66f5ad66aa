//! Clients and their contacts: drafts as typed by staff, checked into normalised values.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Errors};
use crate::validate;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "'{}' is not one of: {}", other, [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(ClientKind { Person = "person", Company = "company" });
string_enum!(
    /// Active clients are billed; suspended ones have their sites disabled; closed ones are history.
    ClientStatus { Active = "active", Suspended = "suspended", Closed = "closed" }
);
string_enum!(ContactRole { Owner = "owner", Billing = "billing", Technical = "technical" });

/// A client as typed in a form, the CLI or an import row; every field is text until checked.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ClientDraft {
    pub kind: Option<ClientKind>,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub country: String,
    pub tax_id: String,
    pub currency: String,
    pub timezone: String,
    pub billing_day: Option<i64>,
    pub notes: String,
    pub status: Option<ClientStatus>,
}

/// A checked client: every field normalised (punycode domain in the e-mail, upper-case country).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientFields {
    pub kind: ClientKind,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub country: Option<String>,
    pub tax_id: String,
    pub currency: String,
    pub timezone: String,
    pub billing_day: u8,
    pub notes: String,
    pub status: ClientStatus,
}

impl ClientDraft {
    /// Checks every field at once and reports all problems together.
    pub fn validate(&self, default_billing_day: u8) -> Result<ClientFields, CoreError> {
        let mut e = Errors::default();
        let name = e.check("name", validate::required_text(&self.name, 200));
        let email = e.check("email", validate::email(&self.email));
        let phone = e.check("phone", validate::optional_text(&self.phone, 40));
        let address = e.check("address", validate::optional_text(&self.address, 500));
        let country = if self.country.trim().is_empty() {
            Some(None)
        } else {
            e.check("country", validate::country(&self.country).map(Some))
        };
        let tax_id = e.check("taxId", validate::optional_text(&self.tax_id, 40));
        let currency = e.check("currency", validate::currency(&self.currency));
        let timezone = e.check("timezone", validate::time_zone(&self.timezone));
        let billing_day = match self.billing_day {
            None => Some(default_billing_day),
            Some(d) => e.check("billingDay", validate::billing_day(d)),
        };
        let notes = e.check("notes", validate::optional_text(&self.notes, 10_000));
        e.finish()?;
        let missing = || CoreError::field("client", "internal: a checked field is missing");
        Ok(ClientFields {
            kind: self.kind.unwrap_or(ClientKind::Person),
            name: name.ok_or_else(missing)?,
            email: email.ok_or_else(missing)?,
            phone: phone.ok_or_else(missing)?,
            address: address.ok_or_else(missing)?,
            country: country.ok_or_else(missing)?,
            tax_id: tax_id.ok_or_else(missing)?,
            currency: currency.ok_or_else(missing)?.code().to_string(),
            timezone: timezone.ok_or_else(missing)?.name().to_string(),
            billing_day: billing_day.ok_or_else(missing)?,
            notes: notes.ok_or_else(missing)?,
            status: self.status.unwrap_or(ClientStatus::Active),
        })
    }
}

/// A person to talk to at a client, with the role they play.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ContactDraft {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: Option<ContactRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactFields {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: ContactRole,
}

impl ContactDraft {
    pub fn validate(&self) -> Result<ContactFields, CoreError> {
        let mut e = Errors::default();
        let name = e.check("name", validate::required_text(&self.name, 200));
        let email = e.check("email", validate::email(&self.email));
        let phone = e.check("phone", validate::optional_text(&self.phone, 40));
        if self.role.is_none() {
            e.push("role", "is required: owner, billing or technical");
        }
        e.finish()?;
        Ok(ContactFields {
            name: name.unwrap_or_default(),
            email: email.unwrap_or_default(),
            phone: phone.unwrap_or_default(),
            role: self.role.unwrap_or(ContactRole::Owner),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ClientDraft {
        ClientDraft {
            name: "Atelier Lumière".into(),
            email: "compta@atelier-lumiere.fr".into(),
            currency: "EUR".into(),
            timezone: "Europe/Paris".into(),
            country: "fr".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_client_is_normalised() {
        let c = good().validate(1).unwrap();
        assert_eq!(c.country.as_deref(), Some("FR"));
        assert_eq!(c.billing_day, 1);
        assert_eq!(c.kind, ClientKind::Person);
        assert_eq!(c.status, ClientStatus::Active);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let d = ClientDraft {
            name: " ".into(),
            email: "nope".into(),
            currency: "EURO".into(),
            timezone: "Paris".into(),
            country: "ZZ".into(),
            billing_day: Some(32),
            ..Default::default()
        };
        let err = d.validate(1).unwrap_err();
        let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "email",
                "country",
                "currency",
                "timezone",
                "billingDay"
            ]
        );
    }

    #[test]
    fn enums_serialize_as_they_parse() {
        use crate::catalog::{Resource, SupportHours};
        for r in Resource::ALL {
            let json = serde_json::to_string(r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(&serde_json::from_str::<Resource>(&json).unwrap(), r);
        }
        assert_eq!(
            serde_json::to_string(&SupportHours::H8x5).unwrap(),
            "\"8x5\""
        );
    }

    #[test]
    fn enums_parse_and_refuse() {
        assert_eq!(
            "Company".parse::<ClientKind>().unwrap(),
            ClientKind::Company
        );
        assert!("robot"
            .parse::<ClientKind>()
            .unwrap_err()
            .contains("person, company"));
        assert_eq!(ClientStatus::ALL.len(), 3);
    }

    #[test]
    fn contact_needs_role_and_email() {
        let err = ContactDraft {
            name: "Bo".into(),
            email: "bo@".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["email", "role"]);
    }
}
