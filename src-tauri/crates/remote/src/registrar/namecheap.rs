//! [`NamecheapRegistrar`]: the Namecheap API (`xml.response`), from its public documentation.
//!
//! Every call is one `POST {endpoint}` form with the global parameters `ApiUser`, `ApiKey`,
//! `UserName`, `ClientIp` and `Command` (sent in the body, so the key never sits in a URL). The
//! reply is XML, HTTP 200 whatever happened: `<ApiResponse Status="OK">` with a
//! `<CommandResponse>`, or `Status="ERROR"` with `<Errors><Error Number="N">text</Error>`.
//!
//! | what | command | parameters | reply |
//! |---|---|---|---|
//! | credentials, balance | `namecheap.users.getBalances` | | `UserGetBalancesResult@Currency, @AvailableBalance` |
//! | availability | `namecheap.domains.check` | `DomainList` (comma-separated) | `DomainCheckResult@Domain, @Available, @IsPremiumName, @PremiumRegistrationPrice` |
//! | price | `namecheap.users.getPricing` | `ProductType=DOMAIN`, `ProductCategory=DOMAINS`, `ActionName=REGISTER`, `ProductName=TLD` | `Product/Price@Duration, @DurationType, @YourPrice, @Currency` (a price per year) |
//! | register | `namecheap.domains.create` | `DomainName`, `Years`, `Nameservers`, `Registrant*`, `Tech*`, `Admin*`, `AuxBilling*` (`FirstName`, `LastName`, `Address1`, `City`, `StateProvince`, `PostalCode`, `Country`, `Phone`, `EmailAddress`, `OrganizationName`) | `DomainCreateResult@Registered, @DomainID, @OrderID, @TransactionID, @ChargedAmount` |
//! | in the account? | `namecheap.domains.getInfo` | `DomainName` | `DomainGetInfoResult@ID, @Status` with `DomainDetails/CreatedDate, ExpiredDate` (`MM/DD/YYYY`) and `DnsDetails/Nameserver`; errors 2019166 / 2016166 when the domain is not the account's |
//! | renew | `namecheap.domains.renew` | `DomainName`, `Years` | `DomainRenewResult@Renew, @ChargedAmount, @OrderID` with `DomainDetails/ExpiredDate` |
//! | name servers | `namecheap.domains.dns.setCustom` | `SLD`, `TLD`, `Nameservers` | `DomainDNSSetCustomResult@Updated` |
//!
//! Errors: the API-access errors (1011102 bad key, 1011150 an IP address not on the account's
//! allow list, 1017150/1017105 access not enabled) are [`RemoteError::Auth`]; "unknown response
//! from the provider" and "unhandled exception" (3050900, 5050900: the outcome is unknown) are
//! retried as an HTTP 503 would be — the retry reconciles through `getInfo`; every other error
//! is the API saying no ([`RemoteError::Remote`], with its number and text).

use async_trait::async_trait;
use reqwest::Method;
use url::Url;

use super::xml::{self, Element};
use super::{
    split_domain, Availability, Contact, DomainInfo, RegisterDomain, Registered, Registrar,
    RegistrarPrice, Renewed,
};
use crate::error::{excerpt, RemoteError};
use crate::http::{parse_base_url, Http, HttpConfig, Reply};
use crate::secret::Secret;

/// Namecheap's production endpoint.
pub const NAMECHEAP_PRODUCTION: &str = "https://api.namecheap.com/xml.response";
/// Namecheap's sandbox endpoint (a separate account at sandbox.namecheap.com).
pub const NAMECHEAP_SANDBOX: &str = "https://api.sandbox.namecheap.com/xml.response";

/// Error numbers meaning "the API credentials or the caller's IP address are refused".
const AUTH_ERRORS: &[&str] = &["1011102", "1011150", "1017150", "1017105", "1011101"];
/// Error numbers meaning "we do not know what happened": retry (the retry reconciles).
const UNKNOWN_OUTCOME: &[&str] = &["3050900", "5050900"];
/// `getInfo`: the domain is not in this account.
const NOT_IN_ACCOUNT: &[&str] = &["2019166", "2016166"];

/// How to reach Namecheap. `Debug` shows the key as `<redacted>`.
#[derive(Debug, Clone)]
pub struct NamecheapConfig {
    /// [`NAMECHEAP_PRODUCTION`], [`NAMECHEAP_SANDBOX`], or a test server's `http://127.0.0.1:PORT/xml.response`.
    pub endpoint: Url,
    /// `ApiUser` (and `UserName`: a reseller acts for itself).
    pub api_user: String,
    pub api_key: Secret,
    /// `ClientIp`: the public IPv4 address the calls come from (on the account's allow list).
    pub client_ip: String,
    pub http: HttpConfig,
}

impl NamecheapConfig {
    pub fn new(
        endpoint: &str,
        api_user: &str,
        api_key: Secret,
        client_ip: &str,
    ) -> Result<Self, RemoteError> {
        let api_user = api_user.trim();
        if api_user.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the Namecheap API user is required".into(),
            ));
        }
        if api_key.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the Namecheap API key is required".into(),
            ));
        }
        let ip = client_ip.trim();
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(RemoteError::InvalidRequest(format!(
                "'{ip}' is not an IPv4 address: Namecheap needs the public address the calls come from (ClientIp)"
            )));
        }
        Ok(NamecheapConfig {
            endpoint: parse_base_url(endpoint)?,
            api_user: api_user.to_owned(),
            api_key,
            client_ip: ip.to_owned(),
            http: HttpConfig::default(),
        })
    }
}

/// The Namecheap registrar.
#[derive(Debug)]
pub struct NamecheapRegistrar {
    config: NamecheapConfig,
    http: Http,
}

/// `MM/DD/YYYY[ time]` → `YYYY-MM-DD`.
fn us_date(s: &str) -> Option<String> {
    let date = s.split_whitespace().next()?;
    let mut it = date.split('/');
    let (m, d, y) = (it.next()?, it.next()?, it.next()?);
    let (m, d, y): (u32, u32, u32) = (m.parse().ok()?, d.parse().ok()?, y.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d) && y >= 1970)
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// A decimal amount times a whole number, to cents, half-up: `("8.875", 2)` → `"17.75"`.
fn times(amount: &str, n: u32) -> Option<String> {
    let a = amount.trim();
    let (int, frac) = a.split_once('.').unwrap_or((a, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    // Ten-thousandths: Namecheap sends up to four decimals.
    let mut f = frac.chars().take(4).collect::<String>();
    while f.len() < 4 {
        f.push('0');
    }
    let frac: u64 = f.parse().ok()?;
    let total = (int * 10_000 + frac).checked_mul(u64::from(n))?;
    let cents = (total + 50) / 100;
    Some(format!("{}.{:02}", cents / 100, cents % 100))
}

fn yes(v: Option<&str>) -> bool {
    v.is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

impl NamecheapRegistrar {
    pub fn new(config: NamecheapConfig) -> Result<Self, RemoteError> {
        let http = Http::new(&config.http, vec![config.api_key.clone()])?;
        Ok(NamecheapRegistrar { config, http })
    }

    pub fn config(&self) -> &NamecheapConfig {
        &self.config
    }

    /// Calls a command; returns its `CommandResponse`, or the API's refusal as an error.
    async fn call(
        &self,
        command: &str,
        params: &[(&str, String)],
    ) -> Result<(Element, String), RemoteError> {
        let mut form: Vec<(&str, String)> = vec![
            ("ApiUser", self.config.api_user.clone()),
            ("ApiKey", self.config.api_key.expose().to_owned()),
            ("UserName", self.config.api_user.clone()),
            ("ClientIp", self.config.client_ip.clone()),
            ("Command", command.to_owned()),
        ];
        form.extend(params.iter().cloned());
        let rb = self
            .http
            .request(Method::POST, self.config.endpoint.as_str())
            .form(&form);
        let reply = self.http.send_ok(rb).await?;
        let root = self.parse(&reply)?;
        let endpoint = format!("{} ({command})", reply.endpoint);
        match root.attr("Status") {
            Some(s) if s.eq_ignore_ascii_case("OK") => {}
            Some(s) if s.eq_ignore_ascii_case("ERROR") => {
                return Err(self.refusal(&root, &reply, command))
            }
            other => {
                return Err(RemoteError::Protocol {
                    endpoint,
                    detail: format!("ApiResponse Status is {other:?}"),
                })
            }
        }
        let resp = root
            .child("CommandResponse")
            .cloned()
            .ok_or_else(|| RemoteError::Protocol {
                endpoint: endpoint.clone(),
                detail: "Status OK without a CommandResponse".into(),
            })?;
        Ok((resp, endpoint))
    }

    fn parse(&self, reply: &Reply) -> Result<Element, RemoteError> {
        let text = String::from_utf8_lossy(&reply.body);
        let root = xml::parse(&text).map_err(|e| RemoteError::Protocol {
            endpoint: reply.endpoint.clone(),
            detail: format!(
                "not the XML expected ({e}); body: {}",
                self.http.scrub(&excerpt(&reply.body))
            ),
        })?;
        if root.name != "ApiResponse" {
            return Err(RemoteError::Protocol {
                endpoint: reply.endpoint.clone(),
                detail: format!("the document is <{}>, not <ApiResponse>", root.name),
            });
        }
        Ok(root)
    }

    /// The first error of a `Status="ERROR"` reply: (number, text).
    fn first_error(root: &Element) -> (String, String) {
        root.child("Errors")
            .and_then(|e| e.child("Error"))
            .map(|e| {
                (
                    e.attr("Number").unwrap_or("").to_owned(),
                    e.text.trim().to_owned(),
                )
            })
            .unwrap_or_default()
    }

    fn refusal(&self, root: &Element, reply: &Reply, command: &str) -> RemoteError {
        let (number, text) = Self::first_error(root);
        let text = self.http.scrub(&text);
        if AUTH_ERRORS.contains(&number.as_str()) {
            return RemoteError::Auth {
                endpoint: format!("{} ({command}: error {number}: {text})", reply.endpoint),
                status: reply.status,
            };
        }
        if UNKNOWN_OUTCOME.contains(&number.as_str()) {
            return RemoteError::Http {
                endpoint: format!("{} ({command})", reply.endpoint),
                status: 503,
                body: format!("Namecheap error {number}: {text} (outcome unknown: retried)"),
            };
        }
        RemoteError::remote(format!(
            "Namecheap refused {command} (error {number}): {text}"
        ))
    }

    fn missing(endpoint: &str, what: &str) -> RemoteError {
        RemoteError::Protocol {
            endpoint: endpoint.to_owned(),
            detail: format!("the reply has no {what}"),
        }
    }

    fn contact_params(c: &Contact) -> Vec<(&'static str, String)> {
        const ROLES: [&str; 4] = ["Registrant", "Tech", "Admin", "AuxBilling"];
        let fields: [(&str, &String); 10] = [
            ("FirstName", &c.first_name),
            ("LastName", &c.last_name),
            ("OrganizationName", &c.organization),
            ("Address1", &c.address1),
            ("City", &c.city),
            ("StateProvince", &c.state_province),
            ("PostalCode", &c.postal_code),
            ("Country", &c.country),
            ("Phone", &c.phone),
            ("EmailAddress", &c.email),
        ];
        let mut out = Vec::new();
        for role in ROLES {
            for (field, value) in fields {
                if !value.trim().is_empty() {
                    out.push((param_name(role, field), value.trim().to_owned()));
                }
            }
        }
        out
    }
}

/// `Registrant` + `FirstName` → `RegistrantFirstName`, as a `'static` name.
fn param_name(role: &str, field: &str) -> &'static str {
    // Spelled out: every (role, field) pair the API takes.
    const ALL: &[(&str, &str, &str)] = &[
        ("Registrant", "FirstName", "RegistrantFirstName"),
        ("Registrant", "LastName", "RegistrantLastName"),
        (
            "Registrant",
            "OrganizationName",
            "RegistrantOrganizationName",
        ),
        ("Registrant", "Address1", "RegistrantAddress1"),
        ("Registrant", "City", "RegistrantCity"),
        ("Registrant", "StateProvince", "RegistrantStateProvince"),
        ("Registrant", "PostalCode", "RegistrantPostalCode"),
        ("Registrant", "Country", "RegistrantCountry"),
        ("Registrant", "Phone", "RegistrantPhone"),
        ("Registrant", "EmailAddress", "RegistrantEmailAddress"),
        ("Tech", "FirstName", "TechFirstName"),
        ("Tech", "LastName", "TechLastName"),
        ("Tech", "OrganizationName", "TechOrganizationName"),
        ("Tech", "Address1", "TechAddress1"),
        ("Tech", "City", "TechCity"),
        ("Tech", "StateProvince", "TechStateProvince"),
        ("Tech", "PostalCode", "TechPostalCode"),
        ("Tech", "Country", "TechCountry"),
        ("Tech", "Phone", "TechPhone"),
        ("Tech", "EmailAddress", "TechEmailAddress"),
        ("Admin", "FirstName", "AdminFirstName"),
        ("Admin", "LastName", "AdminLastName"),
        ("Admin", "OrganizationName", "AdminOrganizationName"),
        ("Admin", "Address1", "AdminAddress1"),
        ("Admin", "City", "AdminCity"),
        ("Admin", "StateProvince", "AdminStateProvince"),
        ("Admin", "PostalCode", "AdminPostalCode"),
        ("Admin", "Country", "AdminCountry"),
        ("Admin", "Phone", "AdminPhone"),
        ("Admin", "EmailAddress", "AdminEmailAddress"),
        ("AuxBilling", "FirstName", "AuxBillingFirstName"),
        ("AuxBilling", "LastName", "AuxBillingLastName"),
        (
            "AuxBilling",
            "OrganizationName",
            "AuxBillingOrganizationName",
        ),
        ("AuxBilling", "Address1", "AuxBillingAddress1"),
        ("AuxBilling", "City", "AuxBillingCity"),
        ("AuxBilling", "StateProvince", "AuxBillingStateProvince"),
        ("AuxBilling", "PostalCode", "AuxBillingPostalCode"),
        ("AuxBilling", "Country", "AuxBillingCountry"),
        ("AuxBilling", "Phone", "AuxBillingPhone"),
        ("AuxBilling", "EmailAddress", "AuxBillingEmailAddress"),
    ];
    ALL.iter()
        .find(|(r, f, _)| *r == role && *f == field)
        .map_or("Unknown", |(_, _, n)| n)
}

fn check_domain(domain: &str) -> Result<String, RemoteError> {
    let d = hostdesk_core::validate::domain(domain)
        .map_err(|e| RemoteError::InvalidRequest(format!("domain {e}")))?;
    if split_domain(&d).is_none() {
        return Err(RemoteError::InvalidRequest(format!(
            "{d} is not a registrable name (one label and its TLD, e.g. lumiere.fr)"
        )));
    }
    Ok(d)
}

#[async_trait]
impl Registrar for NamecheapRegistrar {
    fn kind(&self) -> &'static str {
        "namecheap"
    }

    async fn test_connection(&self) -> Result<String, RemoteError> {
        let (resp, endpoint) = self.call("namecheap.users.getBalances", &[]).await?;
        let r = resp
            .find("UserGetBalancesResult")
            .ok_or_else(|| Self::missing(&endpoint, "UserGetBalancesResult"))?;
        Ok(format!(
            "Namecheap account {}: {} {} available",
            self.config.api_user,
            r.attr("Currency").unwrap_or("?"),
            r.attr("AvailableBalance").unwrap_or("?")
        ))
    }

    async fn check(&self, domains: &[String]) -> Result<Vec<Availability>, RemoteError> {
        let names: Vec<String> = domains
            .iter()
            .map(|d| check_domain(d))
            .collect::<Result<_, _>>()?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let (resp, endpoint) = self
            .call(
                "namecheap.domains.check",
                &[("DomainList", names.join(","))],
            )
            .await?;
        let mut out = Vec::new();
        for name in &names {
            let r = resp
                .all("DomainCheckResult")
                .find(|r| {
                    r.attr("Domain")
                        .is_some_and(|d| d.eq_ignore_ascii_case(name))
                })
                .ok_or_else(|| {
                    Self::missing(&endpoint, &format!("DomainCheckResult for {name}"))
                })?;
            let premium = yes(r.attr("IsPremiumName"));
            let note = r
                .attr("Description")
                .filter(|d| !d.trim().is_empty())
                .map(str::to_owned);
            out.push(Availability {
                domain: name.clone(),
                available: yes(r.attr("Available")),
                premium,
                premium_price: premium
                    .then(|| r.attr("PremiumRegistrationPrice").map(str::to_owned))
                    .flatten(),
                note,
            });
        }
        Ok(out)
    }

    async fn price(&self, tld: &str, years: u32) -> Result<Option<RegistrarPrice>, RemoteError> {
        let tld = tld.trim().trim_start_matches('.').to_ascii_lowercase();
        if tld.is_empty() || !(1..=10).contains(&years) {
            return Err(RemoteError::InvalidRequest(format!(
                "a price needs a TLD and 1 to 10 years (got '{tld}', {years})"
            )));
        }
        let (resp, _) = self
            .call(
                "namecheap.users.getPricing",
                &[
                    ("ProductType", "DOMAIN".into()),
                    ("ProductCategory", "DOMAINS".into()),
                    ("ActionName", "REGISTER".into()),
                    ("ProductName", tld.to_ascii_uppercase()),
                ],
            )
            .await?;
        let product = resp
            .find("UserGetPricingResult")
            .into_iter()
            .flat_map(|r| r.all("ProductType"))
            .flat_map(|t| t.all("ProductCategory"))
            .filter(|c| {
                c.attr("Name")
                    .is_some_and(|n| n.eq_ignore_ascii_case("register"))
            })
            .flat_map(|c| c.all("Product"))
            .find(|p| p.attr("Name").is_some_and(|n| n.eq_ignore_ascii_case(&tld)));
        let Some(product) = product else {
            return Ok(None);
        };
        let price = product.all("Price").find(|p| {
            p.attr("Duration").and_then(|d| d.parse::<u32>().ok()) == Some(years)
                && p.attr("DurationType")
                    .is_none_or(|t| t.eq_ignore_ascii_case("YEAR"))
        });
        let Some(price) = price else {
            return Ok(None);
        };
        let per_year = price
            .attr("YourPrice")
            .filter(|p| !p.trim().is_empty())
            .or_else(|| price.attr("Price"))
            .unwrap_or("");
        let amount = times(per_year, years).ok_or_else(|| RemoteError::Protocol {
            endpoint: "namecheap.users.getPricing".into(),
            detail: format!("'{per_year}' is not a price"),
        })?;
        Ok(Some(RegistrarPrice {
            tld,
            years,
            amount,
            currency: price.attr("Currency").unwrap_or("USD").to_owned(),
        }))
    }

    async fn register(&self, req: &RegisterDomain) -> Result<Registered, RemoteError> {
        let domain = check_domain(&req.domain)?;
        if !(1..=10).contains(&req.years) {
            return Err(RemoteError::InvalidRequest(format!(
                "a registration lasts 1 to 10 years, not {}",
                req.years
            )));
        }
        let c = &req.contact;
        for (what, v) in [
            ("first name", &c.first_name),
            ("last name", &c.last_name),
            ("address", &c.address1),
            ("city", &c.city),
            ("state or province", &c.state_province),
            ("postal code", &c.postal_code),
            ("country", &c.country),
            ("phone", &c.phone),
            ("e-mail", &c.email),
        ] {
            if v.trim().is_empty() {
                return Err(RemoteError::InvalidRequest(format!(
                    "the registrant's {what} is required"
                )));
            }
        }
        let mut params: Vec<(&str, String)> = vec![
            ("DomainName", domain.clone()),
            ("Years", req.years.to_string()),
            ("AddFreeWhoisguard", "yes".into()),
            ("WGEnabled", "yes".into()),
        ];
        if !req.nameservers.is_empty() {
            params.push(("Nameservers", req.nameservers.join(",")));
        }
        params.extend(Self::contact_params(c));
        let (resp, endpoint) = self.call("namecheap.domains.create", &params).await?;
        let r = resp
            .find("DomainCreateResult")
            .ok_or_else(|| Self::missing(&endpoint, "DomainCreateResult"))?;
        if !yes(r.attr("Registered")) {
            return Err(RemoteError::remote(format!(
                "Namecheap did not register {domain} (Registered=\"{}\")",
                r.attr("Registered").unwrap_or("")
            )));
        }
        Ok(Registered {
            domain,
            registrar_id: r
                .attr("DomainID")
                .map(str::to_owned)
                .ok_or_else(|| Self::missing(&endpoint, "DomainID"))?,
            order_id: r.attr("OrderID").map(str::to_owned),
            transaction_id: r.attr("TransactionID").map(str::to_owned),
            charged: r.attr("ChargedAmount").and_then(|a| times(a, 1)),
        })
    }

    async fn info(&self, domain: &str) -> Result<Option<DomainInfo>, RemoteError> {
        let domain = check_domain(domain)?;
        let result = self
            .call(
                "namecheap.domains.getInfo",
                &[("DomainName", domain.clone())],
            )
            .await;
        let (resp, endpoint) = match result {
            Ok(r) => r,
            Err(RemoteError::Remote { reason })
                if NOT_IN_ACCOUNT
                    .iter()
                    .any(|n| reason.contains(&format!("(error {n})"))) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let r = resp
            .find("DomainGetInfoResult")
            .ok_or_else(|| Self::missing(&endpoint, "DomainGetInfoResult"))?;
        if r.attr("IsOwner")
            .is_some_and(|o| o.eq_ignore_ascii_case("false"))
        {
            return Ok(None);
        }
        let details = r.child("DomainDetails");
        let nameservers = r
            .child("DnsDetails")
            .map(|d| {
                d.all("Nameserver")
                    .map(|n| n.text.trim().to_ascii_lowercase())
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(DomainInfo {
            domain,
            registrar_id: r.attr("ID").unwrap_or("").to_owned(),
            created_on: details
                .and_then(|d| d.text_of("CreatedDate"))
                .and_then(us_date),
            expires_on: details
                .and_then(|d| d.text_of("ExpiredDate"))
                .and_then(us_date),
            status: r.attr("Status").unwrap_or("").to_owned(),
            nameservers,
        }))
    }

    async fn renew(&self, domain: &str, years: u32) -> Result<Renewed, RemoteError> {
        let domain = check_domain(domain)?;
        if !(1..=10).contains(&years) {
            return Err(RemoteError::InvalidRequest(format!(
                "a renewal lasts 1 to 10 years, not {years}"
            )));
        }
        let (resp, endpoint) = self
            .call(
                "namecheap.domains.renew",
                &[("DomainName", domain.clone()), ("Years", years.to_string())],
            )
            .await?;
        let r = resp
            .find("DomainRenewResult")
            .ok_or_else(|| Self::missing(&endpoint, "DomainRenewResult"))?;
        if !yes(r.attr("Renew")) {
            return Err(RemoteError::remote(format!(
                "Namecheap did not renew {domain}"
            )));
        }
        Ok(Renewed {
            domain,
            expires_on: r.text_of("ExpiredDate").and_then(us_date),
            charged: r.attr("ChargedAmount").and_then(|a| times(a, 1)),
            order_id: r.attr("OrderID").map(str::to_owned),
        })
    }

    async fn set_nameservers(
        &self,
        domain: &str,
        nameservers: &[String],
    ) -> Result<(), RemoteError> {
        let domain = check_domain(domain)?;
        let (sld, tld) = split_domain(&domain)
            .ok_or_else(|| RemoteError::InvalidRequest(format!("{domain} has no TLD")))?;
        if nameservers.len() < 2 {
            return Err(RemoteError::InvalidRequest(
                "a domain needs at least two name servers".into(),
            ));
        }
        let (resp, endpoint) = self
            .call(
                "namecheap.domains.dns.setCustom",
                &[
                    ("SLD", sld),
                    ("TLD", tld),
                    ("Nameservers", nameservers.join(",")),
                ],
            )
            .await?;
        let r = resp
            .find("DomainDNSSetCustomResult")
            .ok_or_else(|| Self::missing(&endpoint, "DomainDNSSetCustomResult"))?;
        if !yes(r.attr("Updated").or_else(|| r.attr("Update"))) {
            return Err(RemoteError::remote(format!(
                "Namecheap did not change the name servers of {domain}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_amounts() {
        assert_eq!(us_date("06/21/2011").as_deref(), Some("2011-06-21"));
        assert_eq!(
            us_date("11/29/2015 11:57:46 AM").as_deref(),
            Some("2015-11-29")
        );
        assert_eq!(us_date("2015-11-29"), None);
        assert_eq!(times("8.87", 2).as_deref(), Some("17.74"));
        assert_eq!(times("20.3600", 1).as_deref(), Some("20.36"));
        assert_eq!(times("8.875", 1).as_deref(), Some("8.88"));
        assert_eq!(times("10", 3).as_deref(), Some("30.00"));
        assert_eq!(times("x", 1), None);
    }

    #[test]
    fn contact_parameters_cover_every_role() {
        let c = Contact {
            first_name: "Marc".into(),
            email: "marc@lumiere.fr".into(),
            ..Contact::default()
        };
        let p = NamecheapRegistrar::contact_params(&c);
        assert_eq!(p.len(), 8);
        assert!(p.contains(&("AuxBillingEmailAddress", "marc@lumiere.fr".into())));
        assert!(p.contains(&("RegistrantFirstName", "Marc".into())));
    }

    #[test]
    fn keys_never_show() {
        let c = NamecheapConfig::new(
            NAMECHEAP_SANDBOX,
            "reseller",
            Secret::new("k-123"),
            "203.0.113.7",
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("k-123"));
        assert!(NamecheapConfig::new(NAMECHEAP_SANDBOX, "r", Secret::new("k"), "nope").is_err());
    }
}
