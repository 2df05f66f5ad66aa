//! [`FakeAuthnet`]: Authorize.net's JSON API with CIM profiles, in memory.
//!
//! Built from the public API reference and XSD (`AnetApiSchema.xsd`):
//! - one endpoint, `POST /xml/v1/request.api`, a JSON body with one key naming the call;
//!   `merchantAuthentication {name, transactionKey}` first in it;
//! - **element order is checked** for the calls below, as the real API does (its JSON is
//!   translated to XML and validated against the XSD): an element out of order or unknown is
//!   `E00003` with the XSD's message;
//! - every reply is HTTP 200, `application/json; charset=utf-8`, and **starts with a UTF-8
//!   byte order mark**; failures are `messages.resultCode: "Error"` with a code (`E00007` wrong
//!   credentials, `E00039` duplicate record, `E00040` not found, `E00114` invalid Accept nonce,
//!   `E00027` transaction unsuccessful...).
//!
//! Calls: `authenticateTestRequest`, `createCustomerProfileRequest`,
//! `createCustomerPaymentProfileRequest`, `getCustomerProfileRequest` (by id or
//! `merchantCustomerId`), `createTransactionRequest` (`authCaptureTransaction` with a `profile`,
//! `refundTransaction` with `refTransId`, `voidTransaction`), `getTransactionDetailsRequest`,
//! `getTransactionListForCustomerRequest`.
//!
//! Test data (the sandbox's, as far as the fake goes):
//! - cards come in as Accept.js nonces: [`FakeAuthnet::accept_nonce`] plays Accept.js and
//!   returns a single-use nonce valid 15 minutes (fake clock);
//! - a payment profile whose billing zip is [`DECLINE_ZIP`] (46282) is declined (response
//!   code 2, reason 2);
//! - with the card [`TRIGGER_CARD`] (4222222222222) the whole-dollar part of the amount is the
//!   response reason code: 2, 3, 4, 27, 44, 45, 65 decline (code 2); 6, 8, 19 are errors
//!   (code 3); 252, 253 are held for review (code 4); anything else approves;
//! - duplicate detection: the same type, amount, profile, `invoiceNumber` and `refTransId` inside
//!   the `duplicateWindow` setting (default 120 s, at most 28800) is response code 3, reason 11,
//!   "A duplicate transaction has been submitted."; when the request set `duplicateWindow`, the
//!   reply carries the first transaction's `transId` and `authCode`, otherwise `transId` "0";
//! - transactions are `capturedPendingSettlement` until [`FakeAuthnet::settle_all`]; refunds need
//!   a settled transaction (reason 54 otherwise) and may not exceed it (reason 55); voids need an
//!   unsettled one.
//!
//! Like the other fakes it logs every request ([`FakeAuthnet::requests`], the call name as the
//! endpoint, JSON leaves as `a.b.c` parameters with the transaction key redacted) and injects
//! [`Fault`]s. It does not run on [`crate::FakeServer`] because that machinery hands its backends
//! query and form parameters only, and this API is a JSON body.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::{AbortHandle, JoinHandle};

use crate::server::{Fault, LoggedRequest};

/// The API path.
pub const AUTHNET_PATH: &str = "/xml/v1/request.api";
/// A billing zip that makes every charge on the payment profile decline (reason 2).
pub const DECLINE_ZIP: &str = "46282";
/// The card whose amount picks the response reason code.
pub const TRIGGER_CARD: &str = "4222222222222";
/// A Visa test card that approves.
pub const VISA: &str = "4111111111111111";
/// Accept.js' descriptor for card nonces.
pub const ACCEPT_DESCRIPTOR: &str = "COMMON.ACCEPT.INAPP.PAYMENT";

const NS: &str = "AnetApi/xml/v1/schema/AnetApiSchema.xsd";
const BOM: &[u8] = b"\xEF\xBB\xBF";
const DEFAULT_WINDOW: u64 = 120;
const MAX_WINDOW: u64 = 28_800;
const NONCE_LIFETIME: u64 = 15 * 60;

/// The fake's settings.
#[derive(Debug, Clone)]
pub struct FakeAuthnetConfig {
    pub login: String,
    pub transaction_key: String,
}

impl Default for FakeAuthnetConfig {
    fn default() -> Self {
        FakeAuthnetConfig {
            login: "HDTestLogin42".into(),
            transaction_key: "HDtk0123456789AB".into(),
        }
    }
}

/// A customer profile as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeProfile {
    pub customer_profile_id: String,
    pub merchant_customer_id: String,
    pub email: String,
    pub description: String,
    pub payment_profiles: Vec<FakePaymentProfile>,
}

/// A stored card (the fake keeps the test card number; the real gateway does too, and shows
/// only `XXXX1111`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakePaymentProfile {
    pub customer_payment_profile_id: String,
    pub card_number: String,
    pub expiration: String,
    pub zip: String,
}

impl FakePaymentProfile {
    fn masked(&self) -> String {
        let n = &self.card_number;
        format!("XXXX{}", &n[n.len().saturating_sub(4)..])
    }
}

/// A transaction as the fake keeps it. Amounts in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeTransaction {
    pub trans_id: String,
    /// `authCaptureTransaction`, `refundTransaction`, `voidTransaction`.
    pub transaction_type: String,
    pub amount_cents: i64,
    /// `capturedPendingSettlement`, `settledSuccessfully`, `declined`, `voided`,
    /// `FDSPendingReview`, `refundPendingSettlement`, `refundSettledSuccessfully`.
    pub status: String,
    pub response_code: u8,
    pub reason_code: u16,
    pub reason_text: String,
    pub auth_code: String,
    pub invoice_number: Option<String>,
    pub ref_id: Option<String>,
    pub customer_profile_id: Option<String>,
    pub customer_payment_profile_id: Option<String>,
    pub ref_trans_id: Option<String>,
    /// Fake-clock seconds since the epoch.
    pub submitted_at: u64,
    #[serde(skip)]
    dup_key: String,
}

#[derive(Debug, Clone)]
struct Nonce {
    card_number: String,
    zip: String,
    issued_at: u64,
    used: bool,
}

struct State {
    config: FakeAuthnetConfig,
    profiles: Vec<FakeProfile>,
    transactions: Vec<FakeTransaction>,
    nonces: BTreeMap<String, Nonce>,
    next_id: u64,
    started: Instant,
    epoch: u64,
    offset: u64,
}

impl State {
    fn now(&self) -> u64 {
        self.epoch + self.started.elapsed().as_secs() + self.offset
    }

    fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

#[derive(Debug, Clone)]
struct Rule {
    endpoint: Option<String>,
    fault: Fault,
    remaining: Option<u32>,
}

#[derive(Default)]
struct Shared {
    log: Vec<LoggedRequest>,
    bodies: Vec<Value>,
    rules: VecDeque<Rule>,
}

struct Running {
    accept: JoinHandle<()>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
}

struct Inner {
    state: Mutex<State>,
    shared: Mutex<Shared>,
}

/// The fake Authorize.net. Dropping it stops it.
pub struct FakeAuthnet {
    addr: SocketAddr,
    inner: Arc<Inner>,
    router: Router,
    running: Mutex<Option<Running>>,
}

impl fmt::Debug for FakeAuthnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeAuthnet")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl FakeAuthnet {
    pub async fn start() -> FakeAuthnet {
        Self::start_with(FakeAuthnetConfig::default()).await
    }

    pub async fn start_with(config: FakeAuthnetConfig) -> FakeAuthnet {
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(1_800_000_000);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                config,
                profiles: Vec::new(),
                transactions: Vec::new(),
                nonces: BTreeMap::new(),
                next_id: 0,
                started: Instant::now(),
                epoch,
                offset: 0,
            }),
            shared: Mutex::new(Shared::default()),
        });
        let i2 = inner.clone();
        let router = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let inner = i2.clone();
                async move { dispatch(inner, method, uri, headers, body).await }
            },
        );
        #[allow(clippy::expect_used)]
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("cannot listen on 127.0.0.1 for the fake Authorize.net");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("the fake's address");
        let fake = FakeAuthnet {
            addr,
            inner,
            router,
            running: Mutex::new(None),
        };
        fake.serve(listener);
        fake
    }

    fn serve(&self, listener: TcpListener) {
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let c2 = conns.clone();
        let router = self.router.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = TowerToHyperService::new(router.clone());
                let task = tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                let mut list = lock(&c2);
                list.retain(|h| !h.is_finished());
                list.push(task.abort_handle());
            }
        });
        *lock(&self.running) = Some(Running { accept, conns });
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The API URL: `http://127.0.0.1:PORT/xml/v1/request.api`.
    pub fn endpoint(&self) -> String {
        format!("{}{AUTHNET_PATH}", self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn login(&self) -> String {
        self.state().config.login.clone()
    }

    pub fn transaction_key(&self) -> String {
        self.state().config.transaction_key.clone()
    }

    /// Plays Accept.js: turns a test card (and its billing zip) into a single-use nonce.
    pub fn accept_nonce(&self, card_number: &str, zip: &str) -> String {
        let mut st = self.state();
        let n = st.next();
        let now = st.now();
        let nonce = format!("eyJjb2RlIjoiNTBfMl8w{n:012}ODBBQjVFRkNBMEI1MDAwNDE5MTIxNjA2NTUifQ==");
        st.nonces.insert(
            nonce.clone(),
            Nonce {
                card_number: card_number.to_owned(),
                zip: zip.to_owned(),
                issued_at: now,
                used: false,
            },
        );
        nonce
    }

    /// Puts a profile with one card in place directly; returns (profile id, payment profile id).
    pub fn add_profile(
        &self,
        merchant_customer_id: &str,
        card: &str,
        zip: &str,
    ) -> (String, String) {
        let mut st = self.state();
        let pid = (500_000 + st.next()).to_string();
        let ppid = (900_000 + st.next()).to_string();
        st.profiles.push(FakeProfile {
            customer_profile_id: pid.clone(),
            merchant_customer_id: merchant_customer_id.to_owned(),
            email: String::new(),
            description: String::new(),
            payment_profiles: vec![FakePaymentProfile {
                customer_payment_profile_id: ppid.clone(),
                card_number: card.to_owned(),
                expiration: "2030-12".into(),
                zip: zip.to_owned(),
            }],
        });
        (pid, ppid)
    }

    pub fn profiles(&self) -> Vec<FakeProfile> {
        self.state().profiles.clone()
    }

    pub fn transactions(&self) -> Vec<FakeTransaction> {
        self.state().transactions.clone()
    }

    pub fn transaction(&self, trans_id: &str) -> Option<FakeTransaction> {
        self.state()
            .transactions
            .iter()
            .find(|t| t.trans_id == trans_id)
            .cloned()
    }

    /// How many transactions of this type were recorded (duplicates and errors are not).
    pub fn count_transactions(&self, transaction_type: &str) -> usize {
        self.state()
            .transactions
            .iter()
            .filter(|t| t.transaction_type == transaction_type)
            .count()
    }

    /// Runs the nightly batch: pending captures and refunds become settled.
    pub fn settle_all(&self) {
        for t in &mut self.state().transactions {
            match t.status.as_str() {
                "capturedPendingSettlement" => t.status = "settledSuccessfully".into(),
                "refundPendingSettlement" => t.status = "refundSettledSuccessfully".into(),
                _ => {}
            }
        }
    }

    /// Moves the fake's clock forward (duplicate windows, nonce expiry).
    pub fn advance_clock(&self, by: Duration) {
        self.state().offset += by.as_secs();
    }

    /// Closes the listening socket and every open connection: new connections are refused.
    pub fn stop_listening(&self) {
        if let Some(r) = lock(&self.running).take() {
            r.accept.abort();
            for c in lock(&r.conns).drain(..) {
                c.abort();
            }
        }
    }

    /// Listens again on the same port after [`FakeAuthnet::stop_listening`].
    pub fn resume_listening(&self) {
        if lock(&self.running).is_some() {
            return;
        }
        #[allow(clippy::expect_used)]
        let listener = bind(self.addr).expect("cannot listen again on the fake's port");
        self.serve(listener);
    }

    /// Every request received so far, in order (endpoint = the call's name).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.inner.shared).log.clone()
    }

    /// The JSON bodies received so far, the transaction key replaced by `<redacted>`.
    pub fn bodies(&self) -> Vec<Value> {
        lock(&self.inner.shared).bodies.clone()
    }

    /// How many requests named this call (faulted ones included).
    pub fn count(&self, call: &str) -> usize {
        lock(&self.inner.shared)
            .log
            .iter()
            .filter(|r| r.endpoint == call)
            .count()
    }

    pub fn clear_log(&self) {
        let mut sh = lock(&self.inner.shared);
        sh.log.clear();
        sh.bodies.clear();
    }

    /// Every request naming `call` gets `fault` until [`FakeAuthnet::clear_faults`].
    pub fn fail(&self, call: &str, fault: Fault) {
        self.add_rule(Some(call), fault, None);
    }

    /// The next `n` requests naming `call` get `fault`.
    pub fn fail_next(&self, call: &str, n: u32, fault: Fault) {
        self.add_rule(Some(call), fault, Some(n));
    }

    pub fn fail_all(&self, fault: Fault) {
        self.add_rule(None, fault, None);
    }

    pub fn fail_all_next(&self, n: u32, fault: Fault) {
        self.add_rule(None, fault, Some(n));
    }

    pub fn clear_faults(&self) {
        lock(&self.inner.shared).rules.clear();
    }

    fn add_rule(&self, endpoint: Option<&str>, fault: Fault, remaining: Option<u32>) {
        lock(&self.inner.shared).rules.push_back(Rule {
            endpoint: endpoint.map(str::to_owned),
            fault,
            remaining,
        });
    }
}

/// A driver configuration pointed at the fake (USD, the tests' short timeouts).
pub fn authnet_config(
    fake: &FakeAuthnet,
) -> Result<hostdesk_remote::AuthorizeNetConfig, hostdesk_remote::RemoteError> {
    let usd = hostdesk_core::Currency::from_code("USD")
        .map_err(hostdesk_remote::RemoteError::InvalidRequest)?;
    let mut c = hostdesk_remote::AuthorizeNetConfig::new(
        &fake.endpoint(),
        &fake.login(),
        hostdesk_remote::Secret::new(fake.transaction_key()),
        usd,
    )?;
    c.http = crate::drivers::test_http();
    Ok(c)
}

/// The Authorize.net driver pointed at the fake.
pub fn authnet_gateway(
    fake: &FakeAuthnet,
) -> Result<hostdesk_remote::AuthorizeNetGateway, hostdesk_remote::RemoteError> {
    hostdesk_remote::AuthorizeNetGateway::new(authnet_config(fake)?)
}

impl Drop for FakeAuthnet {
    fn drop(&mut self) {
        self.stop_listening();
    }
}

fn fault_label(f: &Fault) -> String {
    match f {
        Fault::Status(s) => format!("status {s}"),
        Fault::Delay(d) => format!("delay {} ms", d.as_millis()),
        Fault::Hang => "hang".into(),
        Fault::Garbage => "garbage".into(),
        Fault::Empty => "empty".into(),
        Fault::False => "false".into(),
        Fault::DropReply => "drop reply".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON that keeps the order of object keys (serde_json's `Value` sorts them).

#[derive(Debug, Clone, PartialEq)]
enum OJson {
    Null,
    Scalar(String),
    Arr(Vec<OJson>),
    Obj(Vec<(String, OJson)>),
}

impl<'de> Deserialize<'de> for OJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E: de::Error>(self) -> Result<OJson, E> {
                Ok(OJson::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<OJson, E> {
                Ok(OJson::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OJson, E> {
                Ok(OJson::Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OJson, E> {
                Ok(OJson::Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OJson, E> {
                Ok(OJson::Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OJson, E> {
                Ok(OJson::Scalar(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OJson, E> {
                Ok(OJson::Scalar(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<OJson, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = a.next_element()? {
                    out.push(x);
                }
                Ok(OJson::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<OJson, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, OJson>()? {
                    out.push((k, v));
                }
                Ok(OJson::Obj(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl OJson {
    fn get(&self, key: &str) -> Option<&OJson> {
        match self {
            OJson::Obj(o) => o.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            OJson::Scalar(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// Flattens scalar leaves into `a.b.0.c` = value pairs, redacting the transaction key.
    fn leaves(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match self {
            OJson::Null => out.push((prefix.to_owned(), String::new())),
            OJson::Scalar(s) => {
                let v = if prefix.ends_with("transactionKey") {
                    "<redacted>".to_owned()
                } else {
                    s.clone()
                };
                out.push((prefix.to_owned(), v));
            }
            OJson::Arr(a) => {
                for (i, x) in a.iter().enumerate() {
                    x.leaves(&join(&i.to_string()), out);
                }
            }
            OJson::Obj(o) => {
                for (k, v) in o {
                    v.leaves(&join(k), out);
                }
            }
        }
    }
}

/// The XSD sequences of the elements this fake reads.
fn sequence(element: &str) -> Option<&'static [&'static str]> {
    Some(match element {
        "authenticateTestRequest" => &["merchantAuthentication", "clientId", "refId"],
        "createCustomerProfileRequest" => &[
            "merchantAuthentication",
            "clientId",
            "refId",
            "profile",
            "validationMode",
        ],
        "createCustomerPaymentProfileRequest" => &[
            "merchantAuthentication",
            "clientId",
            "refId",
            "customerProfileId",
            "paymentProfile",
            "validationMode",
        ],
        "getCustomerProfileRequest" => &[
            "merchantAuthentication",
            "clientId",
            "refId",
            "customerProfileId",
            "merchantCustomerId",
            "email",
            "unmaskExpirationDate",
            "includeIssuerInfo",
        ],
        "getTransactionDetailsRequest" => {
            &["merchantAuthentication", "clientId", "refId", "transId"]
        }
        "getTransactionListForCustomerRequest" => &[
            "merchantAuthentication",
            "clientId",
            "refId",
            "customerProfileId",
            "customerPaymentProfileId",
            "sorting",
            "paging",
        ],
        "createTransactionRequest" => &[
            "merchantAuthentication",
            "clientId",
            "refId",
            "transactionRequest",
        ],
        "merchantAuthentication" => &[
            "name",
            "transactionKey",
            "sessionToken",
            "password",
            "impersonationAuthentication",
            "fingerPrint",
            "clientKey",
            "accessToken",
            "activationCode",
            "mobileDeviceId",
            "encPassword",
            "encMobileDeviceId",
        ],
        // customerProfileType
        "createCustomerProfileRequest.profile" => &[
            "merchantCustomerId",
            "description",
            "email",
            "paymentProfiles",
            "shipToList",
            "profileType",
        ],
        // customerPaymentProfileType
        "paymentProfiles" | "createCustomerPaymentProfileRequest.paymentProfile" => &[
            "customerType",
            "billTo",
            "payment",
            "driversLicense",
            "taxId",
            "defaultPaymentProfile",
            "subsequentAuthInformation",
            "excludeFromAccountUpdater",
        ],
        "billTo" => &[
            "firstName",
            "lastName",
            "company",
            "address",
            "city",
            "state",
            "zip",
            "country",
            "phoneNumber",
            "faxNumber",
            "email",
        ],
        "payment" => &[
            "creditCard",
            "bankAccount",
            "trackData",
            "encryptedTrackData",
            "payPal",
            "opaqueData",
            "emv",
            "dataSource",
        ],
        "opaqueData" => &[
            "dataDescriptor",
            "dataValue",
            "dataKey",
            "expirationTimeStamp",
        ],
        "creditCard" => &[
            "cardNumber",
            "expirationDate",
            "cardCode",
            "isPaymentToken",
            "cryptogram",
            "tokenRequestorName",
            "tokenRequestorId",
            "tokenRequestorEci",
        ],
        "transactionRequest" => &[
            "transactionType",
            "amount",
            "currencyCode",
            "payment",
            "profile",
            "solution",
            "callId",
            "terminalNumber",
            "authCode",
            "refTransId",
            "splitTenderId",
            "order",
            "lineItems",
            "tax",
            "duty",
            "shipping",
            "taxExempt",
            "poNumber",
            "customer",
            "billTo",
            "shipTo",
            "customerIP",
            "cardholderAuthentication",
            "retail",
            "employeeId",
            "transactionSettings",
            "userFields",
            "surcharge",
            "merchantDescriptor",
            "subMerchant",
            "tip",
            "processingOptions",
            "subsequentAuthInformation",
            "otherTax",
            "shipFrom",
            "authorizationIndicatorType",
            "tapToPhone",
            "debtRepaymentIndicator",
            "purchaseLevel",
            "aftInformation",
            "discount",
        ],
        // customerProfilePaymentType
        "transactionRequest.profile" => &[
            "createProfile",
            "customerProfileId",
            "paymentProfile",
            "shippingProfileId",
        ],
        "transactionRequest.profile.paymentProfile" => &["paymentProfileId", "cardCode"],
        "order" => &[
            "invoiceNumber",
            "description",
            "discountAmount",
            "taxIsAfterDiscount",
            "totalTaxTypeCode",
            "purchaserVATRegistrationNumber",
            "merchantVATRegistrationNumber",
            "vatInvoiceReferenceNumber",
            "purchaserCode",
            "summaryCommodityCode",
            "purchaseOrderDateUTC",
            "supplierOrderReference",
            "authorizedContactName",
            "cardAcceptorRefNumber",
            "amexDataTAA1",
            "amexDataTAA2",
            "amexDataTAA3",
            "amexDataTAA4",
        ],
        "transactionSettings" => &["setting"],
        "setting" => &["settingName", "settingValue"],
        "sorting" => &["orderBy", "orderDescending"],
        "paging" => &["limit", "offset"],
        _ => return None,
    })
}

/// The schema name of a child element, given its parent's.
fn child_schema(parent: &str, child: &str) -> String {
    match (parent, child) {
        ("createCustomerProfileRequest", "profile") => {
            "createCustomerProfileRequest.profile".into()
        }
        ("createCustomerPaymentProfileRequest", "paymentProfile") => {
            "createCustomerPaymentProfileRequest.paymentProfile".into()
        }
        ("transactionRequest", "profile") => "transactionRequest.profile".into(),
        ("transactionRequest.profile", "paymentProfile") => {
            "transactionRequest.profile.paymentProfile".into()
        }
        _ => child.to_owned(),
    }
}

/// Checks element order and names against the XSD sequences, recursively; the error is the
/// real API's `E00003` text.
fn check_order(schema: &str, element: &str, v: &OJson) -> Result<(), String> {
    let items: Vec<&OJson> = match v {
        OJson::Arr(a) => a.iter().collect(),
        other => vec![other],
    };
    let Some(seq) = sequence(schema) else {
        return Ok(());
    };
    for item in items {
        let OJson::Obj(fields) = item else {
            continue;
        };
        let mut last = 0usize;
        for (i, (k, child)) in fields.iter().enumerate() {
            let pos = seq.iter().position(|s| s == k);
            match pos {
                Some(p) if i == 0 || p >= last => {
                    last = p;
                    check_order(&child_schema(schema, k), k, child)?;
                }
                _ => {
                    let expected: Vec<&str> = seq[last..]
                        .iter()
                        .copied()
                        .filter(|s| !fields.iter().take(i).any(|(done, _)| done == s))
                        .collect();
                    return Err(format!(
                        "The element '{element}' in namespace '{NS}' has invalid child element '{k}' in namespace '{NS}'. List of possible elements expected: '{}' in namespace '{NS}'.",
                        expected.join(", ")
                    ));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Replies.

fn reply(body: &Value) -> Response {
    let mut bytes = BOM.to_vec();
    bytes.extend_from_slice(body.to_string().as_bytes());
    (
        StatusCode::OK,
        [("content-type", "application/json; charset=utf-8")],
        bytes,
    )
        .into_response()
}

fn msgs(ok: bool, code: &str, text: &str) -> Value {
    json!({"resultCode": if ok { "Ok" } else { "Error" }, "message": [{"code": code, "text": text}]})
}

fn error(ref_id: Option<&str>, code: &str, text: &str) -> Value {
    let mut v = json!({"messages": msgs(false, code, text)});
    if let Some(r) = ref_id {
        v["refId"] = json!(r);
    }
    v
}

fn ok(ref_id: Option<&str>, mut v: Value) -> Value {
    v["messages"] = msgs(true, "I00001", "Successful.");
    if let Some(r) = ref_id {
        v["refId"] = json!(r);
    }
    v
}

fn cents_str(c: i64) -> String {
    format!("{}.{:02}", c / 100, (c % 100).abs())
}

/// `9.95`, `5`, `12.5000` to cents; `None` for anything else (or sub-cent amounts).
fn parse_cents(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 4
        || (s.contains('.') && frac.is_empty())
    {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    int.checked_mul(100)?.checked_add(frac)
}

/// `2026-05-04T03:02:01Z` from seconds since the epoch (UTC).
fn iso(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// What a card, zip and amount come to: (response code, reason code, reason text).
fn decide(card: &str, zip: &str, cents: i64) -> (u8, u16, &'static str) {
    const APPROVED: &str = "This transaction has been approved.";
    const DECLINED: &str = "This transaction has been declined.";
    if zip == DECLINE_ZIP {
        return (2, 2, DECLINED);
    }
    if card == TRIGGER_CARD {
        return match cents / 100 {
            2 | 3 | 4 | 44 | 45 | 65 => (2, u16::try_from(cents / 100).unwrap_or(2), DECLINED),
            27 => (
                2,
                27,
                "The transaction has been declined because of an AVS mismatch. The address provided does not match billing address of cardholder.",
            ),
            6 => (3, 6, "The credit card number is invalid."),
            8 => (3, 8, "The credit card has expired."),
            19 => (
                3,
                19,
                "An error occurred during processing. Please try again in 5 minutes.",
            ),
            252 | 253 => (
                4,
                u16::try_from(cents / 100).unwrap_or(252),
                "Your order has been received. Thank you for your business!",
            ),
            _ => (1, 1, APPROVED),
        };
    }
    (1, 1, APPROVED)
}

// ---------------------------------------------------------------------------------------------
// Dispatch.

async fn dispatch(
    inner: Arc<Inner>,
    method: Method,
    uri: Uri,
    _headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body);
    let text = text.trim_start_matches('\u{feff}');
    let parsed: Option<OJson> = serde_json::from_str(text).ok();
    let call = match &parsed {
        Some(OJson::Obj(o)) if o.len() == 1 => o[0].0.clone(),
        _ => "unknown".to_owned(),
    };
    let authorized = {
        let st = lock(&inner.state);
        parsed
            .as_ref()
            .and_then(|p| p.get(&call))
            .and_then(|r| r.get("merchantAuthentication"))
            .is_some_and(|a| {
                a.str("name").as_deref() == Some(st.config.login.as_str())
                    && a.str("transactionKey").as_deref()
                        == Some(st.config.transaction_key.as_str())
            })
    };
    let fault = {
        let mut sh = lock(&inner.shared);
        let idx = sh.rules.iter().position(|r| {
            r.endpoint.as_deref().is_none_or(|e| e == call) && r.remaining != Some(0)
        });
        let fault = idx.and_then(|i| {
            let rule = sh.rules.get_mut(i)?;
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            Some(rule.fault.clone())
        });
        sh.rules.retain(|r| r.remaining != Some(0));
        let mut params = Vec::new();
        if let Some(p) = parsed.as_ref().and_then(|p| p.get(&call)) {
            p.leaves("", &mut params);
        }
        sh.log.push(LoggedRequest {
            method: method.to_string(),
            path: uri.path().to_owned(),
            endpoint: call.clone(),
            params,
            authorized,
            fault: fault.as_ref().map(fault_label),
        });
        let mut raw: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        if let Some(a) = raw
            .get_mut(&call)
            .and_then(|r| r.get_mut("merchantAuthentication"))
            .and_then(|a| a.get_mut("transactionKey"))
        {
            *a = json!("<redacted>");
        }
        sh.bodies.push(raw);
        fault
    };
    let normal = || handle(&inner, &method, &uri, parsed.as_ref(), &call, authorized);
    match fault {
        None => normal(),
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [("content-type", "text/html")],
                format!("<html><body><h1>{status}</h1><p>injected fault</p></body></html>"),
            )
                .into_response()
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            normal()
        }
        Some(Fault::Hang) => std::future::pending().await,
        Some(Fault::Garbage) => (
            StatusCode::OK,
            [("content-type", "text/html")],
            "<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Down for maintenance</body></html>",
        )
            .into_response(),
        Some(Fault::Empty) => {
            (StatusCode::OK, [("content-type", "application/json")], "").into_response()
        }
        Some(Fault::False) => {
            (StatusCode::OK, [("content-type", "application/json")], "false").into_response()
        }
        Some(Fault::DropReply) => {
            let _ = normal();
            std::future::pending().await
        }
    }
}

fn handle(
    inner: &Inner,
    method: &Method,
    uri: &Uri,
    parsed: Option<&OJson>,
    call: &str,
    authorized: bool,
) -> Response {
    if uri.path() != AUTHNET_PATH {
        return (
            StatusCode::NOT_FOUND,
            [("content-type", "text/html")],
            "<html><body><h1>404 - File or directory not found.</h1></body></html>",
        )
            .into_response();
    }
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [("content-type", "text/html")],
            "<html><body>The requested resource does not support http method 'GET'.</body></html>",
        )
            .into_response();
    }
    let Some(root) = parsed else {
        return reply(&error(
            None,
            "E00002",
            "The content-type specified is not supported.",
        ));
    };
    let Some(req) = root.get(call).filter(|_| call != "unknown") else {
        return reply(&error(None, "E00003", "Root element is missing."));
    };
    if sequence(call).is_none() {
        return reply(&error(
            None,
            "E00003",
            &format!("The element '{call}' in namespace '{NS}' is not declared."),
        ));
    }
    let ref_id = req.str("refId");
    if let Some(r) = &ref_id {
        if r.chars().count() > 50 {
            return reply(&error(None, "E00003", &format!("The 'refId' element is invalid - The value '{r}' is invalid according to its datatype 'String' - The actual length is greater than the MaxLength value.")));
        }
    }
    if let Err(e) = check_order(call, call, req) {
        return reply(&error(ref_id.as_deref(), "E00003", &e));
    }
    if !authorized {
        return reply(&error(
            ref_id.as_deref(),
            "E00007",
            "User authentication failed due to invalid authentication values.",
        ));
    }
    let mut st = lock(&inner.state);
    let r = ref_id.as_deref();
    let body = match call {
        "authenticateTestRequest" => ok(r, json!({})),
        "createCustomerProfileRequest" => create_profile(&mut st, r, req),
        "createCustomerPaymentProfileRequest" => create_payment_profile(&mut st, r, req),
        "getCustomerProfileRequest" => get_profile(&st, r, req),
        "getTransactionDetailsRequest" => details(&st, r, req),
        "getTransactionListForCustomerRequest" => list_for_customer(&st, r, req),
        "createTransactionRequest" => transaction(&mut st, r, req),
        other => error(
            r,
            "E00003",
            &format!("The element '{other}' in namespace '{NS}' is not declared."),
        ),
    };
    reply(&body)
}

/// Reads the card behind a `payment` element (an Accept nonce, or a card number).
fn card_of(
    st: &mut State,
    payment: Option<&OJson>,
) -> Result<(String, String, String), (String, String)> {
    let payment = payment.ok_or_else(|| {
        (
            "E00029".to_owned(),
            "Payment information is required.".to_owned(),
        )
    })?;
    if let Some(o) = payment.get("opaqueData") {
        let descriptor = o.str("dataDescriptor").unwrap_or_default();
        let value = o.str("dataValue").unwrap_or_default();
        let now = st.now();
        let invalid = || ("E00114".to_owned(), "Invalid OTS Token.".to_owned());
        if descriptor != ACCEPT_DESCRIPTOR {
            return Err(invalid());
        }
        let n = st.nonces.get_mut(&value).ok_or_else(invalid)?;
        if n.used || now.saturating_sub(n.issued_at) > NONCE_LIFETIME {
            return Err(invalid());
        }
        n.used = true;
        return Ok((n.card_number.clone(), "2030-12".into(), n.zip.clone()));
    }
    if let Some(c) = payment.get("creditCard") {
        let number = c.str("cardNumber").unwrap_or_default();
        if number.len() < 13 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(("E00013".into(), "Card Number is invalid.".into()));
        }
        return Ok((
            number,
            c.str("expirationDate").unwrap_or_default(),
            String::new(),
        ));
    }
    Err(("E00029".into(), "Payment information is required.".into()))
}

fn new_payment_profile(
    st: &mut State,
    card: (String, String, String),
    bill_zip: Option<String>,
) -> FakePaymentProfile {
    let id = (900_000 + st.next()).to_string();
    let (card_number, expiration, nonce_zip) = card;
    FakePaymentProfile {
        customer_payment_profile_id: id,
        card_number,
        expiration,
        zip: bill_zip.filter(|z| !z.is_empty()).unwrap_or(nonce_zip),
    }
}

fn create_profile(st: &mut State, r: Option<&str>, req: &OJson) -> Value {
    let Some(p) = req.get("profile") else {
        return error(r, "E00003", "The element 'createCustomerProfileRequest' has incomplete content. List of possible elements expected: 'profile'.");
    };
    let mcid = p.str("merchantCustomerId").unwrap_or_default();
    let email = p.str("email").unwrap_or_default();
    let description = p.str("description").unwrap_or_default();
    if mcid.is_empty() && email.is_empty() && description.is_empty() {
        return error(
            r,
            "E00041",
            "One or more fields in the profile must contain a value.",
        );
    }
    if mcid.chars().count() > 20 {
        return error(r, "E00003", "The 'AnetApi/xml/v1/schema/AnetApiSchema.xsd:merchantCustomerId' element is invalid - The actual length is greater than the MaxLength value.");
    }
    if let Some(dup) = st.profiles.iter().find(|x| {
        x.merchant_customer_id == mcid && x.email == email && x.description == description
    }) {
        return error(
            r,
            "E00039",
            &format!(
                "A duplicate record with ID {} already exists.",
                dup.customer_profile_id
            ),
        );
    }
    let pp = p.get("paymentProfiles");
    let pp_first = match pp {
        Some(OJson::Arr(a)) => a.first(),
        other => other,
    };
    let mut payment_profiles = Vec::new();
    if let Some(pp) = pp_first {
        let card = match card_of(st, pp.get("payment")) {
            Ok(c) => c,
            Err((code, text)) => return error(r, &code, &text),
        };
        let zip = pp.get("billTo").and_then(|b| b.str("zip"));
        payment_profiles.push(new_payment_profile(st, card, zip));
    }
    let id = (500_000 + st.next()).to_string();
    let ids: Vec<String> = payment_profiles
        .iter()
        .map(|p| p.customer_payment_profile_id.clone())
        .collect();
    st.profiles.push(FakeProfile {
        customer_profile_id: id.clone(),
        merchant_customer_id: mcid,
        email,
        description,
        payment_profiles,
    });
    ok(
        r,
        json!({"customerProfileId": id, "customerPaymentProfileIdList": ids,
               "customerShippingAddressIdList": [], "validationDirectResponseList": []}),
    )
}

fn create_payment_profile(st: &mut State, r: Option<&str>, req: &OJson) -> Value {
    let pid = req.str("customerProfileId").unwrap_or_default();
    let Some(idx) = st
        .profiles
        .iter()
        .position(|p| p.customer_profile_id == pid)
    else {
        return error(r, "E00040", "The record cannot be found.");
    };
    let Some(pp) = req.get("paymentProfile") else {
        return error(
            r,
            "E00003",
            "The element 'createCustomerPaymentProfileRequest' has incomplete content.",
        );
    };
    let card = match card_of(st, pp.get("payment")) {
        Ok(c) => c,
        Err((code, text)) => return error(r, &code, &text),
    };
    if let Some(existing) = st.profiles[idx]
        .payment_profiles
        .iter()
        .find(|p| p.card_number == card.0 && p.expiration == card.1)
    {
        let mut v = error(
            r,
            "E00039",
            "A duplicate customer payment profile already exists.",
        );
        v["customerProfileId"] = json!(pid);
        v["customerPaymentProfileId"] = json!(existing.customer_payment_profile_id);
        return v;
    }
    let zip = pp.get("billTo").and_then(|b| b.str("zip"));
    let new = new_payment_profile(st, card, zip);
    let ppid = new.customer_payment_profile_id.clone();
    st.profiles[idx].payment_profiles.push(new);
    ok(
        r,
        json!({"customerProfileId": pid, "customerPaymentProfileId": ppid}),
    )
}

fn get_profile(st: &State, r: Option<&str>, req: &OJson) -> Value {
    let by_id = req.str("customerProfileId");
    let by_mcid = req.str("merchantCustomerId");
    let found = st.profiles.iter().find(|p| {
        by_id.as_deref().is_some_and(|i| i == p.customer_profile_id)
            || (by_id.is_none()
                && by_mcid
                    .as_deref()
                    .is_some_and(|m| m == p.merchant_customer_id))
    });
    let Some(p) = found else {
        return error(r, "E00040", "The record cannot be found.");
    };
    let pps: Vec<Value> = p
        .payment_profiles
        .iter()
        .map(|pp| {
            json!({"customerPaymentProfileId": pp.customer_payment_profile_id,
                   "payment": {"creditCard": {"cardNumber": pp.masked(), "expirationDate": "XXXX", "cardType": "Visa"}},
                   "billTo": {"zip": pp.zip}})
        })
        .collect();
    ok(
        r,
        json!({"profile": {"paymentProfiles": pps, "profileType": "regular",
               "customerProfileId": p.customer_profile_id, "merchantCustomerId": p.merchant_customer_id,
               "description": p.description, "email": p.email}}),
    )
}

fn summary(t: &FakeTransaction) -> Value {
    let amount = if t.response_code == 1 || t.response_code == 4 {
        t.amount_cents
    } else {
        0
    };
    let settle: Value = if amount % 100 == 0 {
        json!(amount / 100)
    } else {
        // The reference shows numbers here; cents as a float, as the real reply does.
        #[allow(clippy::cast_precision_loss)]
        let f = amount as f64 / 100.0;
        json!(f)
    };
    let mut v = json!({"transId": t.trans_id, "submitTimeUTC": iso(t.submitted_at),
        "submitTimeLocal": iso(t.submitted_at).trim_end_matches('Z'),
        "transactionStatus": t.status, "accountType": "Visa", "accountNumber": "XXXX1111",
        "settleAmount": settle, "marketType": "eCommerce", "product": "Card Not Present"});
    if let Some(i) = &t.invoice_number {
        v["invoiceNumber"] = json!(i);
    }
    if let (Some(p), Some(pp)) = (&t.customer_profile_id, &t.customer_payment_profile_id) {
        v["profile"] = json!({"customerProfileId": p, "customerPaymentProfileId": pp});
    }
    v
}

fn details(st: &State, r: Option<&str>, req: &OJson) -> Value {
    let id = req.str("transId").unwrap_or_default();
    let Some(t) = st.transactions.iter().find(|t| t.trans_id == id) else {
        return error(r, "E00040", "The record cannot be found.");
    };
    let approved = t.response_code == 1 || t.response_code == 4;
    let settle = if approved && t.status != "voided" {
        t.amount_cents
    } else {
        0
    };
    let mut tx = json!({
        "transId": t.trans_id, "submitTimeUTC": iso(t.submitted_at),
        "submitTimeLocal": iso(t.submitted_at).trim_end_matches('Z'),
        "transactionType": t.transaction_type, "transactionStatus": t.status,
        "responseCode": t.response_code, "responseReasonCode": t.reason_code,
        "responseReasonDescription": if approved { "Approval".to_owned() } else { t.reason_text.clone() },
        "authCode": t.auth_code, "AVSResponse": "Y",
        "requestedAmount": cents_str(t.amount_cents),
        "authAmount": cents_str(if approved { t.amount_cents } else { 0 }),
        "settleAmount": cents_str(settle),
        "taxExempt": false,
        "payment": {"creditCard": {"cardNumber": "XXXX1111", "expirationDate": "XXXX", "cardType": "Visa"}},
        "recurringBilling": false, "product": "Card Not Present", "marketType": "eCommerce",
        "tapToPhone": false, "debtRepaymentIndicator": false,
    });
    if let Some(rt) = &t.ref_trans_id {
        tx["refTransId"] = json!(rt);
    }
    if let Some(i) = &t.invoice_number {
        tx["order"] = json!({"invoiceNumber": i});
    }
    if let (Some(p), Some(pp)) = (&t.customer_profile_id, &t.customer_payment_profile_id) {
        tx["profile"] = json!({"customerProfileId": p, "customerPaymentProfileId": pp});
    }
    ok(r, json!({"transaction": tx}))
}

fn list_for_customer(st: &State, r: Option<&str>, req: &OJson) -> Value {
    let pid = req.str("customerProfileId").unwrap_or_default();
    if !st.profiles.iter().any(|p| p.customer_profile_id == pid) {
        return error(r, "E00040", "The record cannot be found.");
    }
    let ppid = req.str("customerPaymentProfileId");
    let descending = req
        .get("sorting")
        .and_then(|s| s.str("orderDescending"))
        .is_some_and(|d| d == "true");
    let limit: usize = req
        .get("paging")
        .and_then(|p| p.str("limit"))
        .and_then(|l| l.parse().ok())
        .unwrap_or(1000);
    let offset: usize = req
        .get("paging")
        .and_then(|p| p.str("offset"))
        .and_then(|o| o.parse().ok())
        .unwrap_or(1);
    let mut rows: Vec<&FakeTransaction> = st
        .transactions
        .iter()
        .filter(|t| t.customer_profile_id.as_deref() == Some(pid.as_str()))
        .filter(|t| ppid.is_none() || t.customer_payment_profile_id == ppid)
        .collect();
    if descending {
        rows.reverse();
    }
    let total = rows.len();
    let page: Vec<Value> = rows
        .into_iter()
        .skip(offset.saturating_sub(1) * limit)
        .take(limit)
        .map(summary)
        .collect();
    ok(
        r,
        json!({"transactions": page, "totalNumInResultSet": total}),
    )
}

#[allow(clippy::too_many_arguments)]
fn tx_reply(
    r: Option<&str>,
    code: u8,
    reason: u16,
    text: &str,
    trans_id: &str,
    auth_code: &str,
    ref_trans: Option<&str>,
    profile: Option<(&str, &str)>,
) -> Value {
    let mut t = json!({"responseCode": code.to_string(), "authCode": auth_code,
        "avsResultCode": if code == 1 { "Y" } else { "P" }, "cvvResultCode": "", "cavvResultCode": "",
        "transId": trans_id, "refTransID": ref_trans.unwrap_or(""), "transHash": "",
        "testRequest": "0", "accountNumber": "XXXX1111", "accountType": "Visa", "transHashSha2": ""});
    if code == 1 || code == 4 {
        t["messages"] = json!([{"code": reason.to_string(), "description": text}]);
    } else {
        t["errors"] = json!([{"errorCode": reason.to_string(), "errorText": text}]);
    }
    if let Some((p, pp)) = profile {
        t["profile"] = json!({"customerProfileId": p, "customerPaymentProfileId": pp});
    }
    let mut v = json!({"transactionResponse": t});
    v["messages"] = if code == 1 || code == 4 {
        msgs(true, "I00001", "Successful.")
    } else {
        msgs(false, "E00027", "The transaction was unsuccessful.")
    };
    if let Some(rid) = r {
        v["refId"] = json!(rid);
    }
    v
}

fn transaction(st: &mut State, r: Option<&str>, req: &OJson) -> Value {
    let Some(tr) = req.get("transactionRequest") else {
        return error(
            r,
            "E00003",
            "The element 'createTransactionRequest' has incomplete content.",
        );
    };
    let ttype = tr.str("transactionType").unwrap_or_default();
    let amount_text = tr.str("amount");
    let invoice = tr.get("order").and_then(|o| o.str("invoiceNumber"));
    if invoice.as_ref().is_some_and(|i| i.chars().count() > 20) {
        return error(r, "E00003", "The 'AnetApi/xml/v1/schema/AnetApiSchema.xsd:invoiceNumber' element is invalid - The actual length is greater than the MaxLength value.");
    }
    let ref_trans = tr.str("refTransId");
    let profile = tr.get("profile").map(|p| {
        (
            p.str("customerProfileId").unwrap_or_default(),
            p.get("paymentProfile")
                .and_then(|pp| pp.str("paymentProfileId"))
                .unwrap_or_default(),
        )
    });
    let window_setting: Option<u64> =
        match tr.get("transactionSettings").and_then(|s| s.get("setting")) {
            Some(OJson::Arr(a)) => a
                .iter()
                .find(|s| s.str("settingName").as_deref() == Some("duplicateWindow"))
                .and_then(|s| s.str("settingValue")),
            Some(s) if s.str("settingName").as_deref() == Some("duplicateWindow") => {
                s.str("settingValue")
            }
            _ => None,
        }
        .and_then(|v| v.parse().ok());
    let window = window_setting.unwrap_or(DEFAULT_WINDOW).min(MAX_WINDOW);
    let cents = match (&amount_text, ttype.as_str()) {
        (_, "voidTransaction") => 0,
        (Some(a), _) => match parse_cents(a) {
            Some(c) if c > 0 => c,
            _ => return tx_reply(r, 3, 5, "A valid amount is required.", "0", "", None, None),
        },
        (None, _) => return tx_reply(r, 3, 5, "A valid amount is required.", "0", "", None, None),
    };
    let dup_key = format!(
        "{ttype}|{cents}|{:?}|{}|{}",
        profile,
        invoice.clone().unwrap_or_default(),
        ref_trans.clone().unwrap_or_default()
    );
    let now = st.now();
    // Voids carry no amount and are not checked for duplicates.
    if window > 0 && ttype != "voidTransaction" {
        if let Some(orig) = st
            .transactions
            .iter()
            .rev()
            .find(|t| t.dup_key == dup_key && now.saturating_sub(t.submitted_at) <= window)
        {
            let (id, auth) = if window_setting.is_some() {
                (
                    orig.trans_id.clone(),
                    if orig.response_code == 1 {
                        orig.auth_code.clone()
                    } else {
                        String::new()
                    },
                )
            } else {
                ("0".to_owned(), String::new())
            };
            return tx_reply(
                r,
                3,
                11,
                "A duplicate transaction has been submitted.",
                &id,
                &auth,
                ref_trans.as_deref(),
                None,
            );
        }
    }
    match ttype.as_str() {
        "authCaptureTransaction" => {
            let Some((pid, ppid)) = profile.clone() else {
                return tx_reply(r, 3, 33, "Credit card number is required.", "0", "", None, None);
            };
            let Some(pp) = st
                .profiles
                .iter()
                .find(|p| p.customer_profile_id == pid)
                .and_then(|p| p.payment_profiles.iter().find(|pp| pp.customer_payment_profile_id == ppid))
                .cloned()
            else {
                return error(r, "E00040", "Customer Profile ID or Customer Payment Profile ID not found.");
            };
            let (code, reason, text) = decide(&pp.card_number, &pp.zip, cents);
            if code == 3 {
                return tx_reply(r, 3, reason, text, "0", "", None, Some((&pid, &ppid)));
            }
            let n = st.next();
            let id = (60_000_000_000u64 + n).to_string();
            let auth = if code == 2 { String::new() } else { format!("A{:05}", n % 100_000) };
            let status = match code {
                1 => "capturedPendingSettlement",
                4 => "FDSPendingReview",
                _ => "declined",
            };
            st.transactions.push(FakeTransaction {
                trans_id: id.clone(),
                transaction_type: ttype.clone(),
                amount_cents: cents,
                status: status.into(),
                response_code: code,
                reason_code: reason,
                reason_text: text.into(),
                auth_code: auth.clone(),
                invoice_number: invoice,
                ref_id: r.map(str::to_owned),
                customer_profile_id: Some(pid.clone()),
                customer_payment_profile_id: Some(ppid.clone()),
                ref_trans_id: None,
                submitted_at: now,
                dup_key,
            });
            tx_reply(r, code, reason, text, &id, &auth, None, Some((&pid, &ppid)))
        }
        "refundTransaction" => {
            let rt = ref_trans.clone().unwrap_or_default();
            let Some(orig) = st.transactions.iter().find(|t| t.trans_id == rt).cloned() else {
                return tx_reply(r, 3, 16, "The transaction cannot be found.", "0", "", Some(&rt), None);
            };
            if orig.transaction_type != "authCaptureTransaction" || orig.status != "settledSuccessfully" {
                return tx_reply(r, 3, 54, "The referenced transaction does not meet the criteria for issuing a credit.", "0", "", Some(&rt), None);
            }
            if let Some((pid, ppid)) = &profile {
                if orig.customer_profile_id.as_deref() != Some(pid.as_str())
                    || orig.customer_payment_profile_id.as_deref() != Some(ppid.as_str())
                {
                    return tx_reply(r, 3, 54, "The referenced transaction does not meet the criteria for issuing a credit.", "0", "", Some(&rt), None);
                }
            }
            let refunded: i64 = st
                .transactions
                .iter()
                .filter(|t| t.transaction_type == "refundTransaction" && t.ref_trans_id.as_deref() == Some(rt.as_str()) && t.response_code == 1)
                .map(|t| t.amount_cents)
                .sum();
            if refunded + cents > orig.amount_cents {
                return tx_reply(r, 3, 55, "The sum of credits against the referenced transaction would exceed original debit amount.", "0", "", Some(&rt), None);
            }
            let n = st.next();
            let id = (60_000_000_000u64 + n).to_string();
            st.transactions.push(FakeTransaction {
                trans_id: id.clone(),
                transaction_type: ttype.clone(),
                amount_cents: cents,
                status: "refundPendingSettlement".into(),
                response_code: 1,
                reason_code: 1,
                reason_text: "This transaction has been approved.".into(),
                auth_code: String::new(),
                invoice_number: invoice,
                ref_id: r.map(str::to_owned),
                customer_profile_id: orig.customer_profile_id.clone(),
                customer_payment_profile_id: orig.customer_payment_profile_id.clone(),
                ref_trans_id: Some(rt.clone()),
                submitted_at: now,
                dup_key,
            });
            tx_reply(r, 1, 1, "This transaction has been approved.", &id, "", Some(&rt), None)
        }
        "voidTransaction" => {
            let rt = ref_trans.clone().unwrap_or_default();
            let Some(orig) = st.transactions.iter_mut().find(|t| t.trans_id == rt) else {
                return tx_reply(r, 3, 16, "The transaction cannot be found.", "0", "", Some(&rt), None);
            };
            match orig.status.as_str() {
                "voided" => tx_reply(r, 1, 310, "This transaction has already been voided.", &rt, "", Some(&rt), None),
                "capturedPendingSettlement" | "FDSPendingReview" | "refundPendingSettlement" => {
                    orig.status = "voided".into();
                    let auth = orig.auth_code.clone();
                    tx_reply(r, 1, 1, "This transaction has been approved.", &rt, &auth, Some(&rt), None)
                }
                _ => tx_reply(r, 3, 16, "The transaction cannot be found.", "0", "", Some(&rt), None),
            }
        }
        other => error(
            r,
            "E00003",
            &format!("The 'AnetApi/xml/v1/schema/AnetApiSchema.xsd:transactionType' element is invalid - The value '{other}' is invalid according to its datatype."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents() {
        assert_eq!(parse_cents("9.95"), Some(995));
        assert_eq!(parse_cents("5"), Some(500));
        assert_eq!(parse_cents("12.5000"), Some(1250));
        assert_eq!(parse_cents("1.005"), None);
        assert_eq!(parse_cents("1."), None);
        assert_eq!(parse_cents("-1"), None);
        assert_eq!(cents_str(995), "9.95");
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_709_164_800), "2024-02-29T00:00:00Z");
        assert_eq!(iso(1_767_225_599), "2025-12-31T23:59:59Z");
    }

    #[test]
    fn order_is_checked() {
        let good: OJson = serde_json::from_str(
            r#"{"merchantAuthentication":{"name":"a","transactionKey":"b"},"refId":"1","transactionRequest":{"transactionType":"authCaptureTransaction","amount":"5","profile":{"customerProfileId":"1","paymentProfile":{"paymentProfileId":"2"}},"order":{"invoiceNumber":"x"},"transactionSettings":{"setting":[{"settingName":"duplicateWindow","settingValue":"1"}]}}}"#,
        )
        .unwrap();
        assert!(check_order(
            "createTransactionRequest",
            "createTransactionRequest",
            &good
        )
        .is_ok());
        let bad: OJson = serde_json::from_str(
            r#"{"merchantAuthentication":{"name":"a","transactionKey":"b"},"transactionRequest":{"amount":"5","transactionType":"authCaptureTransaction"}}"#,
        )
        .unwrap();
        let e =
            check_order("createTransactionRequest", "createTransactionRequest", &bad).unwrap_err();
        assert!(e.contains("invalid child element 'transactionType'"), "{e}");
        let unknown: OJson = serde_json::from_str(
            r#"{"merchantAuthentication":{"name":"a","transactionKey":"b"},"bogus":1}"#,
        )
        .unwrap();
        assert!(check_order(
            "authenticateTestRequest",
            "authenticateTestRequest",
            &unknown
        )
        .is_err());
    }
}
