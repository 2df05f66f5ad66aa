//! The catalog: products (a site package, or a client account with quotas), options whose
//! choices carry price modifiers and quota values or feature flags, support tiers, and kits.

use serde::{Deserialize, Serialize};

use crate::client::string_enum;
use crate::error::{CoreError, Errors};
use crate::money::Money;
use crate::validate;

string_enum!(
    /// A site package builds one site from a profile; an account product sells a client account
    /// with quotas ("the client is the product").
    ProductKind { Site = "site", Account = "account" }
);
string_enum!(Period { Month = "month", Quarter = "quarter", Year = "year" });
string_enum!(
    /// Measured things a quota can limit.
    Resource {
        Sites = "sites",
        DiskMb = "disk_mb",
        BandwidthMb = "bandwidth_mb",
        Users = "users",
        Domains = "domains",
        Mailboxes = "mailboxes",
    }
);
string_enum!(SslLevel { None = "none", Automatic = "automatic", Bundled = "bundled" });
string_enum!(
    /// How a site gets its name: a subdomain of the server's master domain, a domain the client
    /// already owns, or a domain registered for the client.
    DomainMode { Subdomain = "subdomain", Owned = "owned", Registered = "registered" }
);
string_enum!(SupportHours { H8x5 = "8x5", H24x7 = "24x7" });
string_enum!(Channel { Email = "email", Phone = "phone", Forum = "forum" });

impl Period {
    pub fn months(&self) -> u32 {
        match self {
            Period::Month => 1,
            Period::Quarter => 3,
            Period::Year => 12,
        }
    }
}

/// One price as typed: `9.95` EUR per month.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct PriceDraft {
    pub currency: String,
    pub period: Option<Period>,
    pub amount: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Price {
    pub period: Period,
    pub amount: Money,
}

/// Checks a list of prices: at most one per (currency, period); negatives only if allowed
/// (a choice may lower the price, a product may not cost less than nothing).
pub fn check_prices(
    e: &mut Errors,
    field: &str,
    drafts: &[PriceDraft],
    allow_negative: bool,
) -> Vec<Price> {
    let mut out: Vec<Price> = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let Some(currency) = e.check(&format!("{f}.currency"), validate::currency(&d.currency))
        else {
            continue;
        };
        let period = d.period.unwrap_or(Period::Month);
        let Some(amount) = e.check(&format!("{f}.amount"), Money::parse(&d.amount, currency))
        else {
            continue;
        };
        if amount.minor < 0 && !allow_negative {
            e.push(&format!("{f}.amount"), "may not be negative");
            continue;
        }
        if out
            .iter()
            .any(|p| p.period == period && p.amount.currency == currency)
        {
            e.push(&f, format!("{currency} per {period} is given twice"));
            continue;
        }
        out.push(Price { period, amount });
    }
    out
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ProductDraft {
    pub code: String,
    pub name: String,
    pub kind: Option<ProductKind>,
    pub description: String,
    /// Install profile (site packages): e.g. `openatrium`.
    pub profile: String,
    pub platform: String,
    pub server_group: String,
    pub prices: Vec<PriceDraft>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductFields {
    pub code: String,
    pub name: String,
    pub kind: ProductKind,
    pub description: String,
    pub profile: String,
    pub platform: String,
    pub server_group: String,
    pub prices: Vec<Price>,
}

impl ProductDraft {
    pub fn validate(&self) -> Result<ProductFields, CoreError> {
        let mut e = Errors::default();
        let code = e.check("code", validate::code(&self.code));
        let name = e.check("name", validate::required_text(&self.name, 200));
        let description = e.check(
            "description",
            validate::optional_text(&self.description, 2000),
        );
        let kind = self.kind.unwrap_or(ProductKind::Site);
        let profile = e.check("profile", validate::optional_text(&self.profile, 100));
        if kind == ProductKind::Site && self.profile.trim().is_empty() {
            e.push(
                "profile",
                "is required for a site package (the install profile, e.g. openatrium)",
            );
        }
        let platform = e.check("platform", validate::optional_text(&self.platform, 100));
        let server_group = e.check(
            "serverGroup",
            validate::optional_text(&self.server_group, 100),
        );
        if self.prices.is_empty() {
            e.push("prices", "at least one price is required");
        }
        let prices = check_prices(&mut e, "prices", &self.prices, false);
        e.finish()?;
        Ok(ProductFields {
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            kind,
            description: description.unwrap_or_default(),
            profile: profile.unwrap_or_default(),
            platform: platform.unwrap_or_default(),
            server_group: server_group.unwrap_or_default(),
            prices,
        })
    }
}

/// A quota a choice sets: `users` = 50, or unlimited (`limit: None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct QuotaValue {
    pub resource: Resource,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ChoiceDraft {
    pub code: String,
    pub name: String,
    /// Price modifiers, added to the product price (may be negative).
    pub prices: Vec<PriceDraft>,
    pub quota: Option<QuotaValue>,
    pub feature: String,
    pub ssl: Option<SslLevel>,
    pub domain_mode: Option<DomainMode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceFields {
    pub code: String,
    pub name: String,
    pub prices: Vec<Price>,
    pub quota: Option<QuotaValue>,
    pub feature: String,
    pub ssl: Option<SslLevel>,
    pub domain_mode: Option<DomainMode>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct OptionDraft {
    /// The product this option belongs to; empty for an option every product offers.
    pub product_code: String,
    pub code: String,
    pub name: String,
    pub choices: Vec<ChoiceDraft>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionFields {
    pub product_code: Option<String>,
    pub code: String,
    pub name: String,
    pub choices: Vec<ChoiceFields>,
}

impl OptionDraft {
    pub fn validate(&self) -> Result<OptionFields, CoreError> {
        let mut e = Errors::default();
        let product_code = if self.product_code.trim().is_empty() {
            None
        } else {
            e.check("productCode", validate::code(&self.product_code))
        };
        let code = e.check("code", validate::code(&self.code));
        let name = e.check("name", validate::required_text(&self.name, 200));
        if self.choices.is_empty() {
            e.push("choices", "an option needs at least one choice");
        }
        let mut choices: Vec<ChoiceFields> = Vec::new();
        for (i, c) in self.choices.iter().enumerate() {
            let f = format!("choices[{i}]");
            let ccode = e.check(&format!("{f}.code"), validate::code(&c.code));
            let cname = e.check(&format!("{f}.name"), validate::required_text(&c.name, 200));
            let prices = check_prices(&mut e, &format!("{f}.prices"), &c.prices, true);
            if let Some(q) = &c.quota {
                if let Some(limit) = q.limit {
                    e.check(&format!("{f}.quota.limit"), validate::quota(limit));
                }
            }
            let feature = e.check(
                &format!("{f}.feature"),
                validate::optional_text(&c.feature, 100),
            );
            if let Some(cc) = &ccode {
                if choices.iter().any(|x| &x.code == cc) {
                    e.push(
                        &format!("{f}.code"),
                        format!("'{cc}' is used by another choice"),
                    );
                }
            }
            choices.push(ChoiceFields {
                code: ccode.unwrap_or_default(),
                name: cname.unwrap_or_default(),
                prices,
                quota: c.quota.clone(),
                feature: feature.unwrap_or_default(),
                ssl: c.ssl,
                domain_mode: c.domain_mode,
            });
        }
        e.finish()?;
        Ok(OptionFields {
            product_code: product_code.flatten_some(),
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            choices,
        })
    }
}

trait FlattenSome {
    fn flatten_some(self) -> Option<String>;
}
impl FlattenSome for Option<String> {
    fn flatten_some(self) -> Option<String> {
        self.filter(|s| !s.is_empty())
    }
}

/// Access a support tier grants outside the client's site: a role on another system.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct AccessGrant {
    /// Where: e.g. `issue-tracker`.
    pub target: String,
    /// The role given there: e.g. `customer`.
    pub role: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct TierDraft {
    pub code: String,
    pub name: String,
    pub hours: Option<SupportHours>,
    pub channels: Vec<Channel>,
    /// Response target in hours.
    pub response_hours: Option<i64>,
    pub prices: Vec<PriceDraft>,
    pub grants: Vec<AccessGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierFields {
    pub code: String,
    pub name: String,
    pub hours: SupportHours,
    pub channels: Vec<Channel>,
    pub response_hours: i64,
    pub prices: Vec<Price>,
    pub grants: Vec<AccessGrant>,
}

impl TierDraft {
    pub fn validate(&self) -> Result<TierFields, CoreError> {
        let mut e = Errors::default();
        let code = e.check("code", validate::code(&self.code));
        let name = e.check("name", validate::required_text(&self.name, 200));
        if self.channels.is_empty() {
            e.push(
                "channels",
                "choose at least one channel: email, phone or forum",
            );
        }
        let response_hours = self.response_hours.unwrap_or(24);
        if !(1..=720).contains(&response_hours) {
            e.push("responseHours", "must be between 1 and 720 hours");
        }
        let prices = check_prices(&mut e, "prices", &self.prices, false);
        for (i, g) in self.grants.iter().enumerate() {
            e.check(&format!("grants[{i}].target"), validate::code(&g.target));
            e.check(
                &format!("grants[{i}].role"),
                validate::required_text(&g.role, 60),
            );
        }
        e.finish()?;
        let mut channels = self.channels.clone();
        channels.sort_by_key(|c| c.as_str());
        channels.dedup();
        Ok(TierFields {
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            hours: self.hours.unwrap_or(SupportHours::H8x5),
            channels,
            response_hours,
            prices,
            grants: self.grants.clone(),
        })
    }
}

/// A bundle sold as one: a product with preselected choices and a tier, at a kit price.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct KitDraft {
    pub code: String,
    pub name: String,
    pub product_code: String,
    /// `option=choice` pairs, by code.
    pub choices: Vec<(String, String)>,
    pub tier_code: String,
    pub prices: Vec<PriceDraft>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KitFields {
    pub code: String,
    pub name: String,
    pub product_code: String,
    pub choices: Vec<(String, String)>,
    pub tier_code: Option<String>,
    pub prices: Vec<Price>,
}

impl KitDraft {
    pub fn validate(&self) -> Result<KitFields, CoreError> {
        let mut e = Errors::default();
        let code = e.check("code", validate::code(&self.code));
        let name = e.check("name", validate::required_text(&self.name, 200));
        let product_code = e.check("productCode", validate::code(&self.product_code));
        let tier_code = if self.tier_code.trim().is_empty() {
            None
        } else {
            e.check("tierCode", validate::code(&self.tier_code))
        };
        for (i, (o, c)) in self.choices.iter().enumerate() {
            e.check(
                &format!("choices[{i}]"),
                validate::code(o).and_then(|_| validate::code(c)),
            );
        }
        if self.prices.is_empty() {
            e.push("prices", "a kit needs its kit price");
        }
        let prices = check_prices(&mut e, "prices", &self.prices, false);
        e.finish()?;
        Ok(KitFields {
            code: code.unwrap_or_default(),
            name: name.unwrap_or_default(),
            product_code: product_code.unwrap_or_default(),
            choices: self.choices.clone(),
            tier_code,
            prices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(c: &str, p: Period, a: &str) -> PriceDraft {
        PriceDraft {
            currency: c.into(),
            period: Some(p),
            amount: a.into(),
        }
    }

    #[test]
    fn product_examples() {
        let ok = ProductDraft {
            code: "oa-site".into(),
            name: "Open Atrium site".into(),
            profile: "openatrium".into(),
            prices: vec![
                price("EUR", Period::Month, "9.95"),
                price("EUR", Period::Year, "99"),
            ],
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(ok.prices[0].amount.minor, 995);
        assert_eq!(ok.prices[1].amount.minor, 9900);

        let err = ProductDraft {
            code: "bad code".into(),
            name: "".into(),
            prices: vec![
                price("EUR", Period::Month, "-1"),
                price("JPY", Period::Month, "1.5"),
            ],
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "code",
                "name",
                "profile",
                "prices[0].amount",
                "prices[1].amount"
            ]
        );
    }

    #[test]
    fn duplicate_price_and_choice_are_refused() {
        let e = ProductDraft {
            code: "p".into(),
            name: "P".into(),
            kind: Some(ProductKind::Account),
            prices: vec![
                price("EUR", Period::Month, "1"),
                price("EUR", Period::Month, "2"),
            ],
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(
            e.to_string().contains("EUR per month is given twice"),
            "{e}"
        );

        let e = OptionDraft {
            code: "users".into(),
            name: "Users".into(),
            choices: vec![
                ChoiceDraft {
                    code: "10".into(),
                    name: "10".into(),
                    ..Default::default()
                },
                ChoiceDraft {
                    code: "10".into(),
                    name: "ten".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("used by another choice"), "{e}");
    }

    #[test]
    fn choices_may_discount_but_quotas_are_not_negative() {
        let opt = OptionDraft {
            code: "users".into(),
            name: "User quota".into(),
            choices: vec![ChoiceDraft {
                code: "5".into(),
                name: "5 users".into(),
                prices: vec![price("EUR", Period::Month, "-2.00")],
                quota: Some(QuotaValue {
                    resource: Resource::Users,
                    limit: Some(-5),
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let err = opt.validate().unwrap_err();
        assert_eq!(err.fields().len(), 1);
        assert_eq!(err.fields()[0].field, "choices[0].quota.limit");
    }

    #[test]
    fn tier_and_kit() {
        let t = TierDraft {
            code: "business".into(),
            name: "Business 24x7".into(),
            hours: Some(SupportHours::H24x7),
            channels: vec![Channel::Phone, Channel::Email, Channel::Phone],
            prices: vec![price("EUR", Period::Month, "49")],
            grants: vec![AccessGrant {
                target: "issue-tracker".into(),
                role: "customer".into(),
            }],
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(t.channels, [Channel::Email, Channel::Phone]);
        assert!(TierDraft {
            code: "x".into(),
            name: "X".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string()
        .contains("channels"));
        assert!(KitDraft {
            code: "k".into(),
            name: "K".into(),
            product_code: "p".into(),
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string()
        .contains("kit price"));
    }
}
