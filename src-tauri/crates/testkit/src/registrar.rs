//! [`FakeNamecheap`]: the Namecheap API (`/xml.response`), in memory, faithful to the contract
//! the driver follows (see `hostdesk_remote::registrar::namecheap`): one form `POST` (or `GET`)
//! with `ApiUser`, `ApiKey`, `UserName`, `ClientIp`, `Command`; XML replies with HTTP 200 and
//! `Status="OK"` or `Status="ERROR"` + `<Error Number="N">`.
//!
//! It keeps an account balance that registrations and renewals are charged to, a price list per
//! TLD, names registered by others ("taken"), and the account's domains. The request log's
//! endpoint is the command (`namecheap.domains.create`), so faults can target one command.
//! Errors it answers with, as Namecheap does: 1011102 (bad key), 1011150 (the ClientIp is not
//! on the allow list), 2030280 (TLD not supported), 3019166 (domain not available), 2528166
//! (insufficient funds), 2019166 (domain not found), 1010100 (unknown command).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hostdesk_remote::registrar::xml::escape;

use crate::server::{Backend, Classified, FakeServer, Incoming};

/// The fake's settings.
#[derive(Debug, Clone)]
pub struct FakeNamecheapConfig {
    pub api_user: String,
    pub api_key: String,
    /// The ClientIp values the account allows.
    pub allowed_ips: Vec<String>,
    /// The account balance in cents.
    pub balance_cents: i64,
    pub currency: String,
    /// The registration (and renewal) price per year of each TLD, in cents.
    pub prices: BTreeMap<String, i64>,
    /// "Today", `YYYY-MM-DD`: registrations start then.
    pub today: String,
}

impl Default for FakeNamecheapConfig {
    fn default() -> Self {
        FakeNamecheapConfig {
            api_user: "atrium".into(),
            api_key: "NCKEY0123456789abcdef0123456789ab".into(),
            allowed_ips: vec!["203.0.113.7".into()],
            balance_cents: 10_000,
            currency: "USD".into(),
            prices: [("com", 1088), ("fr", 999), ("net", 1298), ("org", 1198)]
                .into_iter()
                .map(|(t, p)| (t.to_owned(), p))
                .collect(),
            today: "2026-11-22".into(),
        }
    }
}

/// A domain in the fake account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeDomain {
    pub name: String,
    pub id: u64,
    pub years: u32,
    pub created: String,
    /// `YYYY-MM-DD`.
    pub expires: String,
    pub nameservers: Vec<String>,
    pub registrant_email: String,
    /// Every charge for this domain (registration, renewals), in cents.
    pub charges: Vec<i64>,
}

struct State {
    config: FakeNamecheapConfig,
    taken: BTreeSet<String>,
    /// Available when checked, refused when registered (someone else was faster).
    snatched: BTreeSet<String>,
    domains: BTreeMap<String, FakeDomain>,
    next_id: u64,
}

struct NcBackend {
    state: Mutex<State>,
}

/// The fake Namecheap. Derefs to [`FakeServer`] for the request log, faults and
/// `stop_listening`.
pub struct FakeNamecheap {
    server: FakeServer,
    backend: Arc<NcBackend>,
}

impl Deref for FakeNamecheap {
    type Target = FakeServer;
    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// `YYYY-MM-DD` → `MM/DD/YYYY`.
fn us(date: &str) -> String {
    let p: Vec<&str> = date.split('-').collect();
    match p.as_slice() {
        [y, m, d] => format!("{m}/{d}/{y}"),
        _ => date.to_owned(),
    }
}

fn plus_years(date: &str, years: u32) -> String {
    let y: u32 = date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
    format!("{:04}{}", y + years, date.get(4..).unwrap_or("-01-01"))
}

fn xml(status: &str, command: &str, errors: &str, body: &str) -> Response {
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<ApiResponse Status=\"{status}\" xmlns=\"http://api.namecheap.com/xml.response\">\r\n  <Errors>{errors}</Errors>\r\n  <Warnings />\r\n  <RequestedCommand>{}</RequestedCommand>\r\n  <CommandResponse Type=\"{}\">{body}</CommandResponse>\r\n  <Server>PHX01SBAPIEXT05</Server>\r\n  <GMTTimeDifference>--5:00</GMTTimeDifference>\r\n  <ExecutionTime>0.011</ExecutionTime>\r\n</ApiResponse>",
        escape(command),
        escape(command)
    );
    (
        StatusCode::OK,
        [("content-type", "text/xml; charset=utf-8")],
        doc,
    )
        .into_response()
}

fn ok(command: &str, body: &str) -> Response {
    xml("OK", command, "", body)
}

fn error(command: &str, number: &str, text: &str) -> Response {
    xml(
        "ERROR",
        command,
        &format!("<Error Number=\"{number}\">{}</Error>", escape(text)),
        "",
    )
}

impl FakeNamecheap {
    pub async fn start() -> FakeNamecheap {
        Self::start_with(FakeNamecheapConfig::default()).await
    }

    pub async fn start_with(config: FakeNamecheapConfig) -> FakeNamecheap {
        let backend = Arc::new(NcBackend {
            state: Mutex::new(State {
                config,
                taken: BTreeSet::new(),
                snatched: BTreeSet::new(),
                domains: BTreeMap::new(),
                next_id: 9000,
            }),
        });
        let server = FakeServer::start(backend.clone()).await;
        FakeNamecheap { server, backend }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.backend.state)
    }

    /// `http://127.0.0.1:PORT/xml.response`.
    pub fn endpoint(&self) -> String {
        format!("{}/xml.response", self.base_url())
    }

    pub fn api_user(&self) -> String {
        self.state().config.api_user.clone()
    }

    pub fn api_key(&self) -> String {
        self.state().config.api_key.clone()
    }

    /// An address on the account's allow list.
    pub fn client_ip(&self) -> String {
        self.state()
            .config
            .allowed_ips
            .first()
            .cloned()
            .unwrap_or_default()
    }

    /// The account balance in cents.
    pub fn balance_cents(&self) -> i64 {
        self.state().config.balance_cents
    }

    pub fn set_balance_cents(&self, c: i64) {
        self.state().config.balance_cents = c;
    }

    /// Someone else holds this name: checks say unavailable, registrations are refused.
    pub fn take(&self, domain: &str) {
        self.state().taken.insert(domain.to_ascii_lowercase());
    }

    /// Checks say available, but the registration is refused (someone registered it between).
    pub fn snatch_on_create(&self, domain: &str) {
        self.state().snatched.insert(domain.to_ascii_lowercase());
    }

    pub fn domain(&self, name: &str) -> Option<FakeDomain> {
        self.state()
            .domains
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    pub fn domains(&self) -> Vec<FakeDomain> {
        self.state().domains.values().cloned().collect()
    }

    /// Puts a domain in the account directly (registered earlier, expiring on `expires`).
    pub fn add_domain(&self, name: &str, expires: &str) {
        let mut s = self.state();
        s.next_id += 1;
        let id = s.next_id;
        let created = s.config.today.clone();
        s.domains.insert(
            name.to_ascii_lowercase(),
            FakeDomain {
                name: name.to_ascii_lowercase(),
                id,
                years: 1,
                created,
                expires: expires.into(),
                nameservers: vec![
                    "dns1.registrar-servers.com".into(),
                    "dns2.registrar-servers.com".into(),
                ],
                registrant_email: String::new(),
                charges: Vec::new(),
            },
        );
    }
}

fn tld(domain: &str) -> String {
    hostdesk_remote::registrar::tld_of(domain)
}

impl NcBackend {
    fn handle_command(&self, req: &Incoming, command: &str) -> Response {
        let mut s = lock(&self.state);
        let ip = req.param("ClientIp").unwrap_or("");
        if !s.config.allowed_ips.iter().any(|a| a == ip) {
            return error(
                command,
                "1011150",
                &format!("Parameter RequestIP is invalid: {ip} is not whitelisted"),
            );
        }
        let p = |k: &str| req.param(k).unwrap_or("").trim().to_owned();
        match command {
            "namecheap.users.getBalances" => ok(
                command,
                &format!(
                    "<UserGetBalancesResult Currency=\"{}\" AvailableBalance=\"{}\" AccountBalance=\"{}\" EarnedAmount=\"0.00\" WithdrawableAmount=\"0.00\" FundsRequiredForAutoRenew=\"0.00\" />",
                    s.config.currency,
                    cents(s.config.balance_cents),
                    cents(s.config.balance_cents)
                ),
            ),
            "namecheap.domains.check" => {
                let list = p("DomainList");
                if list.is_empty() {
                    return error(command, "2010324", "DomainList is Missing");
                }
                let mut body = String::new();
                for d in list.split(',').map(|d| d.trim().to_ascii_lowercase()) {
                    if !s.config.prices.contains_key(&tld(&d)) {
                        body.push_str(&format!(
                            "<DomainCheckResult Domain=\"{}\" Available=\"error\" ErrorNo=\"750\" Description=\"No response from the registry\" IsPremiumName=\"false\" PremiumRegistrationPrice=\"0\" PremiumRenewalPrice=\"0\" PremiumRestorePrice=\"0\" PremiumTransferPrice=\"0\" IcannFee=\"0\" EapFee=\"0\" />",
                            escape(&d)
                        ));
                        continue;
                    }
                    let available = !s.taken.contains(&d) && !s.domains.contains_key(&d);
                    body.push_str(&format!(
                        "<DomainCheckResult Domain=\"{}\" Available=\"{available}\" ErrorNo=\"0\" Description=\"\" IsPremiumName=\"false\" PremiumRegistrationPrice=\"0\" PremiumRenewalPrice=\"0\" PremiumRestorePrice=\"0\" PremiumTransferPrice=\"0\" IcannFee=\"0\" EapFee=\"0.0\" />",
                        escape(&d)
                    ));
                }
                ok(command, &body)
            }
            "namecheap.users.getPricing" => {
                if !p("ProductType").eq_ignore_ascii_case("DOMAIN") {
                    return error(command, "2011170", "ProductType is invalid");
                }
                let wanted = p("ProductName").to_ascii_lowercase();
                let mut products = String::new();
                for (t, price) in &s.config.prices {
                    if !wanted.is_empty() && *t != wanted {
                        continue;
                    }
                    let mut prices = String::new();
                    for years in 1..=10 {
                        prices.push_str(&format!(
                            "<Price Duration=\"{years}\" DurationType=\"YEAR\" Price=\"{p}\" PricingType=\"MULTIPLE\" AdditionalCost=\"0.18\" RegularPrice=\"{p}\" RegularPriceType=\"MULTIPLE\" YourPrice=\"{p}\" YourPriceType=\"MULTIPLE\" PromotionPrice=\"0.0\" Currency=\"{c}\" />",
                            p = cents(*price),
                            c = s.config.currency
                        ));
                    }
                    products.push_str(&format!("<Product Name=\"{t}\">{prices}</Product>"));
                }
                ok(
                    command,
                    &format!(
                        "<UserGetPricingResult><ProductType Name=\"DOMAIN\"><ProductCategory Name=\"REGISTER\">{products}</ProductCategory></ProductType></UserGetPricingResult>"
                    ),
                )
            }
            "namecheap.domains.create" => {
                let d = p("DomainName").to_ascii_lowercase();
                let years: u32 = p("Years").parse().unwrap_or(0);
                if d.is_empty() {
                    return error(command, "2010323", "DomainName is Missing");
                }
                if !(1..=10).contains(&years) {
                    return error(command, "2015182", "Years is invalid");
                }
                for f in [
                    "FirstName", "LastName", "Address1", "City", "StateProvince", "PostalCode",
                    "Country", "Phone", "EmailAddress",
                ] {
                    for role in ["Registrant", "Tech", "Admin", "AuxBilling"] {
                        if p(&format!("{role}{f}")).is_empty() {
                            return error(command, "2011280", &format!("{role}{f} is Missing"));
                        }
                    }
                }
                let Some(price) = s.config.prices.get(&tld(&d)).copied() else {
                    return error(command, "2030280", "TLD is not supported in API");
                };
                if s.taken.contains(&d) || s.domains.contains_key(&d) || s.snatched.contains(&d) {
                    s.taken.insert(d.clone());
                    return error(command, "3019166", &format!("Domain not available: {d}"));
                }
                let total = price * i64::from(years);
                if s.config.balance_cents < total {
                    return error(
                        command,
                        "2528166",
                        "Order creation failed: insufficient funds in the account",
                    );
                }
                s.config.balance_cents -= total;
                s.next_id += 1;
                let id = s.next_id;
                let today = s.config.today.clone();
                let ns: Vec<String> = p("Nameservers")
                    .split(',')
                    .map(|n| n.trim().to_ascii_lowercase())
                    .filter(|n| !n.is_empty())
                    .collect();
                s.domains.insert(
                    d.clone(),
                    FakeDomain {
                        name: d.clone(),
                        id,
                        years,
                        created: today.clone(),
                        expires: plus_years(&today, years),
                        nameservers: if ns.is_empty() {
                            vec!["dns1.registrar-servers.com".into(), "dns2.registrar-servers.com".into()]
                        } else {
                            ns
                        },
                        registrant_email: p("RegistrantEmailAddress"),
                        charges: vec![total],
                    },
                );
                ok(
                    command,
                    &format!(
                        "<DomainCreateResult Domain=\"{}\" Registered=\"true\" ChargedAmount=\"{}00\" DomainID=\"{id}\" OrderID=\"{}\" TransactionID=\"{}\" WhoisguardEnable=\"true\" FreePositiveSSL=\"false\" NonRealTimeDomain=\"false\" />",
                        escape(&d),
                        cents(total),
                        id + 100_000,
                        id + 200_000
                    ),
                )
            }
            "namecheap.domains.getInfo" => {
                let d = p("DomainName").to_ascii_lowercase();
                let Some(dom) = s.domains.get(&d) else {
                    return error(command, "2019166", "Domain not found");
                };
                let ns: String = dom
                    .nameservers
                    .iter()
                    .map(|n| format!("<Nameserver>{}</Nameserver>", escape(n)))
                    .collect();
                ok(
                    command,
                    &format!(
                        "<DomainGetInfoResult Status=\"Ok\" ID=\"{}\" DomainName=\"{}\" OwnerName=\"{}\" IsOwner=\"true\" IsPremium=\"false\"><DomainDetails><CreatedDate>{}</CreatedDate><ExpiredDate>{}</ExpiredDate><NumYears>0</NumYears></DomainDetails><Whoisguard Enabled=\"True\" /><DnsDetails ProviderType=\"CUSTOM\" IsUsingOurDNS=\"false\">{ns}</DnsDetails></DomainGetInfoResult>",
                        dom.id,
                        escape(&dom.name),
                        escape(&s.config.api_user),
                        us(&dom.created),
                        us(&dom.expires)
                    ),
                )
            }
            "namecheap.domains.renew" => {
                let d = p("DomainName").to_ascii_lowercase();
                let years: u32 = p("Years").parse().unwrap_or(0);
                if !(1..=10).contains(&years) {
                    return error(command, "2015182", "Years is invalid");
                }
                let Some(price) = s.config.prices.get(&tld(&d)).copied() else {
                    return error(command, "2030280", "TLD is not supported in API");
                };
                let total = price * i64::from(years);
                if !s.domains.contains_key(&d) {
                    return error(command, "2019166", "Domain not found");
                }
                if s.config.balance_cents < total {
                    return error(command, "2528166", "Insufficient funds");
                }
                s.config.balance_cents -= total;
                let dom = s.domains.get_mut(&d).map(|dom| {
                    dom.expires = plus_years(&dom.expires, years);
                    dom.charges.push(total);
                    dom.clone()
                });
                let Some(dom) = dom else {
                    return error(command, "2019166", "Domain not found");
                };
                ok(
                    command,
                    &format!(
                        "<DomainRenewResult DomainName=\"{}\" DomainID=\"{}\" Renew=\"true\" OrderID=\"{}\" TransactionID=\"{}\" ChargedAmount=\"{}\"><DomainDetails><ExpiredDate>{} 11:57:46 AM</ExpiredDate><NumYears>0</NumYears></DomainDetails></DomainRenewResult>",
                        escape(&d),
                        dom.id,
                        dom.id + 300_000,
                        dom.id + 400_000,
                        cents(total),
                        us(&dom.expires)
                    ),
                )
            }
            "namecheap.domains.dns.setCustom" => {
                let d = format!("{}.{}", p("SLD"), p("TLD")).to_ascii_lowercase();
                let ns: Vec<String> = p("Nameservers")
                    .split(',')
                    .map(|n| n.trim().to_ascii_lowercase())
                    .filter(|n| !n.is_empty())
                    .collect();
                if ns.len() < 2 {
                    return error(command, "2016166", "Nameservers: at least two are required");
                }
                let Some(dom) = s.domains.get_mut(&d) else {
                    return error(command, "2019166", "Domain not found");
                };
                dom.nameservers = ns;
                ok(
                    command,
                    &format!(
                        "<DomainDNSSetCustomResult Domain=\"{}\" Updated=\"true\" />",
                        escape(&d)
                    ),
                )
            }
            other => error(other, "1010100", "Parameter Command is invalid"),
        }
    }
}

impl Backend for NcBackend {
    fn classify(&self, req: &Incoming) -> Classified {
        let s = lock(&self.state);
        let authorized = req.param("ApiUser") == Some(s.config.api_user.as_str())
            && req.param("UserName").is_some_and(|u| !u.is_empty())
            && req.param("ApiKey") == Some(s.config.api_key.as_str());
        Classified {
            endpoint: req.param("Command").unwrap_or("").to_owned(),
            authorized,
        }
    }

    fn unauthorized(&self) -> Response {
        error("", "1011102", "Parameter APIKey is invalid")
    }

    fn handle(&self, req: &Incoming) -> Response {
        if req.path != "/xml.response" {
            return (StatusCode::NOT_FOUND, "<html><body>Not found</body></html>").into_response();
        }
        let command = req.param("Command").unwrap_or("").to_owned();
        self.handle_command(req, &command)
    }
}
