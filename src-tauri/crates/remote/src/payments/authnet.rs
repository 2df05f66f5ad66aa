//! [`AuthorizeNetGateway`]: Authorize.net's JSON API with CIM (Customer Information Manager)
//! profiles — the gateway the project's seeds name.
//!
//! One endpoint, `POST https://api.authorize.net/xml/v1/request.api` (sandbox
//! `https://apitest.authorize.net/xml/v1/request.api`), a JSON body whose single key names the
//! call, and `merchantAuthentication {name, transactionKey}` first inside it. The API is XML
//! translated to JSON: **element order matters** (it follows the XSD), so the requests here are
//! structs serialized in declaration order, never maps. Replies are HTTP 200 even for errors,
//! with `messages.resultCode` `Ok` / `Error`, and start with a UTF-8 byte order mark that is
//! stripped before parsing.
//!
//! - `createCustomerProfileRequest`: a profile (`merchantCustomerId` = our reference, at most
//!   20 characters) with one payment profile made from an Accept.js nonce (`opaqueData`).
//! - `createTransactionRequest` `authCaptureTransaction` with `amount` as a decimal string and
//!   `profile {customerProfileId, paymentProfile {paymentProfileId}}`;
//!   `transactionResponse.responseCode` 1 approved, 2 declined, 3 error, 4 held for review.
//! - Refunds: `getTransactionDetailsRequest` first; a settled charge gets a `refundTransaction`
//!   (`refTransId` + the profile), an unsettled one is voided (`voidTransaction`) when the whole
//!   amount goes back (Authorize.net refunds only settled transactions; a partial refund of an
//!   unsettled charge is [`RefundOutcome::Rejected`] with `not_settled`).
//!
//! # Idempotency without an idempotency header
//!
//! Authorize.net has no idempotency keys. It has duplicate detection: a transaction with the
//! same amount, payment profile, type and `invoiceNumber` inside `duplicateWindow` seconds (at
//! most 28800, 8 hours) is refused with response code 3, reason 11 ("A duplicate transaction has
//! been submitted."), and when the request set `duplicateWindow` the reply carries the *first*
//! transaction's `transId`. So this driver:
//! 1. turns the idempotency key into a 20-character reference ([`short_ref`]: the key itself
//!    when it fits, else `hd` + a base-36 FNV-1a-128 digest — stable forever) and sends it as
//!    `invoiceNumber` and `refId`, with `duplicateWindow` = [`AuthorizeNetConfig::duplicate_window_secs`];
//! 2. treats a duplicate as the first transaction's outcome (looked up with
//!    `getTransactionDetailsRequest`): [`ChargeOutcome::Charged`] with `replayed: true` when it
//!    was approved;
//! 3. on a retry (`attempt > 1`), first looks for a transaction with that `invoiceNumber` in
//!    the customer's list (`getTransactionListForCustomerRequest`), which also covers retries
//!    after the window has closed.
//!
//! The remaining gap: a retry after the window *and* after the transaction fell out of the
//! customer list's first 100 entries would charge again. The job queue's backoff keeps retries
//! well inside 8 hours.

use async_trait::async_trait;
use hostdesk_core::{Currency, Money};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use super::types::*;
use super::{check_amount, check_key, PaymentGateway};
use crate::error::{excerpt, RemoteError};
use crate::http::{parse_base_url, Http, HttpConfig, Reply};
use crate::json::text;
use crate::secret::Secret;

/// The production endpoint.
pub const AUTHNET_PRODUCTION: &str = "https://api.authorize.net/xml/v1/request.api";
/// The sandbox endpoint.
pub const AUTHNET_SANDBOX: &str = "https://apitest.authorize.net/xml/v1/request.api";
/// The longest duplicate window Authorize.net accepts (8 hours).
pub const MAX_DUPLICATE_WINDOW_SECS: u32 = 28_800;

/// How to reach Authorize.net. `Debug` shows the transaction key as `<redacted>`.
#[derive(Debug, Clone)]
pub struct AuthorizeNetConfig {
    /// The full API URL ([`AUTHNET_PRODUCTION`], [`AUTHNET_SANDBOX`], or a test server's).
    pub endpoint: Url,
    /// The API Login ID (at most 25 characters).
    pub api_login_id: String,
    /// The Transaction Key (at most 16 characters).
    pub transaction_key: Secret,
    /// The one currency the merchant account settles in; other currencies are refused locally.
    pub currency: Currency,
    /// Sent as the `duplicateWindow` transaction setting (0 to 28800 seconds).
    pub duplicate_window_secs: u32,
    pub http: HttpConfig,
}

impl AuthorizeNetConfig {
    pub fn new(
        endpoint: &str,
        api_login_id: &str,
        transaction_key: Secret,
        currency: Currency,
    ) -> Result<Self, RemoteError> {
        let login = api_login_id.trim();
        if login.is_empty() || login.chars().count() > 25 || login.contains(char::is_whitespace) {
            return Err(RemoteError::InvalidRequest(
                "the Authorize.net API Login ID must be 1 to 25 characters without spaces".into(),
            ));
        }
        let key = transaction_key.expose();
        if key.is_empty() || key.chars().count() > 16 || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(RemoteError::InvalidRequest(
                "the Authorize.net Transaction Key must be 1 to 16 printable characters".into(),
            ));
        }
        Ok(AuthorizeNetConfig {
            endpoint: parse_base_url(endpoint)?,
            api_login_id: login.to_owned(),
            transaction_key,
            currency,
            duplicate_window_secs: MAX_DUPLICATE_WINDOW_SECS,
            http: HttpConfig::default(),
        })
    }

    pub fn production(
        api_login_id: &str,
        transaction_key: Secret,
        currency: Currency,
    ) -> Result<Self, RemoteError> {
        Self::new(AUTHNET_PRODUCTION, api_login_id, transaction_key, currency)
    }

    pub fn sandbox(
        api_login_id: &str,
        transaction_key: Secret,
        currency: Currency,
    ) -> Result<Self, RemoteError> {
        Self::new(AUTHNET_SANDBOX, api_login_id, transaction_key, currency)
    }
}

/// The 20-character reference an idempotency key becomes (`invoiceNumber` and `refId` hold at
/// most 20): the key itself when it is 1 to 20 letters, digits, `-` or `_`; otherwise `hd`
/// followed by 18 base-36 digits of the key's FNV-1a 128-bit hash. Never change this function:
/// a retry after an upgrade must find the reference of the first attempt.
pub fn short_ref(key: &str) -> String {
    let simple = (1..=20).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if simple {
        return key.to_owned();
    }
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let mut h = OFFSET;
    for b in key.bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 18];
    for slot in out.iter_mut().rev() {
        // `h % 36` is below 36: the index is in range and the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let d = (h % 36) as usize;
        *slot = DIGITS[d];
        h /= 36;
    }
    format!("hd{}", String::from_utf8_lossy(&out))
}

// ---------------------------------------------------------------------------------------------
// Requests: structs in XSD order.

#[derive(Serialize)]
struct MerchantAuth<'a> {
    name: &'a str,
    #[serde(rename = "transactionKey")]
    transaction_key: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthOnly<'a> {
    merchant_authentication: MerchantAuth<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OpaqueData<'a> {
    data_descriptor: &'a str,
    data_value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentDef<'a> {
    opaque_data: OpaqueData<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentProfileDef<'a> {
    customer_type: &'a str,
    payment: PaymentDef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileDef<'a> {
    merchant_customer_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    payment_profiles: PaymentProfileDef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateProfile<'a> {
    merchant_authentication: MerchantAuth<'a>,
    ref_id: &'a str,
    profile: ProfileDef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatePaymentProfile<'a> {
    merchant_authentication: MerchantAuth<'a>,
    ref_id: &'a str,
    customer_profile_id: &'a str,
    payment_profile: PaymentProfileDef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetProfileByReference<'a> {
    merchant_authentication: MerchantAuth<'a>,
    merchant_customer_id: &'a str,
}

/// An Accept.js nonce to store as a payment profile.
struct NonceCard {
    descriptor: String,
    value: String,
}

impl NonceCard {
    fn def(&self) -> PaymentProfileDef<'_> {
        PaymentProfileDef {
            customer_type: "individual",
            payment: PaymentDef {
                opaque_data: OpaqueData {
                    data_descriptor: &self.descriptor,
                    data_value: &self.value,
                },
            },
        }
    }
}

/// The newest of some numeric ids.
fn latest(ids: &[String]) -> Option<String> {
    ids.iter()
        .max_by_key(|i| i.parse::<u64>().unwrap_or(0))
        .cloned()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetProfile<'a> {
    merchant_authentication: MerchantAuth<'a>,
    customer_profile_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetDetails<'a> {
    merchant_authentication: MerchantAuth<'a>,
    trans_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sorting {
    order_by: &'static str,
    order_descending: bool,
}

#[derive(Serialize)]
struct Paging {
    limit: &'static str,
    offset: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListForCustomer<'a> {
    merchant_authentication: MerchantAuth<'a>,
    customer_profile_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_payment_profile_id: Option<&'a str>,
    sorting: Sorting,
    paging: Paging,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaymentProfileRef<'a> {
    payment_profile_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileRef<'a> {
    customer_profile_id: &'a str,
    payment_profile: PaymentProfileRef<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderDef<'a> {
    invoice_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Setting {
    setting_name: &'static str,
    setting_value: String,
}

#[derive(Serialize)]
struct Settings {
    setting: Vec<Setting>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransactionDef<'a> {
    transaction_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<ProfileRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ref_trans_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order: Option<OrderDef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_settings: Option<Settings>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateTransaction<'a> {
    merchant_authentication: MerchantAuth<'a>,
    ref_id: &'a str,
    transaction_request: TransactionDef<'a>,
}

// ---------------------------------------------------------------------------------------------
// Replies: read leniently from `Value` (strings or numbers, arrays or single objects).

/// `messages`: the result code and the first message.
#[derive(Debug, Clone)]
struct ApiMessages {
    ok: bool,
    code: String,
    text: String,
}

/// `transactionResponse`.
#[derive(Debug, Clone, Default)]
struct TxResponse {
    response_code: String,
    trans_id: Option<String>,
    /// (code, text) of `errors`, else of `messages`.
    reason: Option<(String, String)>,
}

/// One row of a transaction list.
#[derive(Debug, Clone)]
struct TxSummary {
    trans_id: String,
    status: String,
    invoice: Option<String>,
}

/// `getTransactionDetailsResponse.transaction`.
#[derive(Debug, Clone)]
struct TxDetails {
    status: String,
    response_code: String,
    reason_code: String,
    reason_text: String,
    settle_amount: Option<Money>,
    auth_amount: Option<Money>,
    profile: Option<(String, String)>,
}

/// A list given as an array, a single object, or `{"<item>": ...}` around either.
fn list<'a>(v: Option<&'a Value>, item: &str) -> Vec<&'a Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(o)) => match o.get(item) {
            Some(inner) => list(Some(inner), item),
            None if o.is_empty() => Vec::new(),
            None => vec![v.unwrap_or(&Value::Null)],
        },
        _ => Vec::new(),
    }
}

/// A string or number field as text (empty counts as absent).
fn field(v: &Value, key: &str) -> Option<String> {
    text(v, key)
}

fn nonzero_id(id: Option<String>) -> Option<String> {
    id.filter(|t| !t.is_empty() && t.bytes().any(|b| b != b'0'))
}

/// A decimal amount (`"5.00"`, `5`, `"12.5000"`) as exact money in `currency`.
fn decimal_money(v: &Value, key: &str, currency: Currency) -> Option<Money> {
    let raw = field(v, key)?;
    let (int, frac) = raw.split_once('.').unwrap_or((raw.as_str(), ""));
    let exp = currency.exponent() as usize;
    let trimmed = frac.trim_end_matches('0');
    if trimmed.len() > exp {
        return None;
    }
    let text = if trimmed.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{trimmed}")
    };
    Money::parse(&text, currency).ok()
}

fn messages(body: &Value) -> Option<ApiMessages> {
    let m = body.get("messages")?;
    let result = field(m, "resultCode")?;
    let first = list(m.get("message"), "message").into_iter().next();
    Some(ApiMessages {
        ok: result.eq_ignore_ascii_case("ok"),
        code: first.and_then(|f| field(f, "code")).unwrap_or_default(),
        text: first.and_then(|f| field(f, "text")).unwrap_or_default(),
    })
}

fn tx_response(body: &Value) -> Option<TxResponse> {
    let t = body.get("transactionResponse").filter(|t| t.is_object())?;
    let err = list(t.get("errors"), "error").into_iter().next().map(|e| {
        (
            field(e, "errorCode").unwrap_or_default(),
            field(e, "errorText").unwrap_or_default(),
        )
    });
    let msg = list(t.get("messages"), "message")
        .into_iter()
        .next()
        .map(|e| {
            (
                field(e, "code").unwrap_or_default(),
                field(e, "description").unwrap_or_default(),
            )
        });
    Some(TxResponse {
        response_code: field(t, "responseCode").unwrap_or_default(),
        trans_id: nonzero_id(field(t, "transId")),
        reason: err.or(msg),
    })
}

/// A Stripe-like code for an Authorize.net response reason code.
fn decline_code(reason: &str) -> String {
    match reason {
        "2" | "3" | "4" | "41" => "card_declined".into(),
        "5" | "6" | "37" => "invalid_card".into(),
        "7" | "8" => "expired_card".into(),
        "27" | "127" => "avs_mismatch".into(),
        "44" | "45" | "65" => "card_code_mismatch".into(),
        "250" | "251" | "254" => "fraud_rejected".into(),
        other => format!("anet_{other}"),
    }
}

/// Reason codes with response code 3 that are about the card (the customer must fix it), not
/// about the request or the gateway.
const CARD_ERRORS: &[&str] = &["5", "6", "7", "8", "37", "78", "315", "316", "317"];

const UNSETTLED: &[&str] = &[
    "authorizedPendingCapture",
    "capturedPendingSettlement",
    "FDSPendingReview",
    "FDSAuthorizedPendingReview",
    "underReview",
    "approvedReview",
];
const SETTLED: &[&str] = &["settledSuccessfully"];
const HELD: &[&str] = &[
    "FDSPendingReview",
    "FDSAuthorizedPendingReview",
    "underReview",
];
const REFUNDS: &[&str] = &["refundSettledSuccessfully", "refundPendingSettlement"];

/// The Authorize.net driver.
#[derive(Debug)]
pub struct AuthorizeNetGateway {
    config: AuthorizeNetConfig,
    http: Http,
    url: String,
}

impl AuthorizeNetGateway {
    pub fn new(config: AuthorizeNetConfig) -> Result<Self, RemoteError> {
        let http = Http::new(&config.http, vec![config.transaction_key.clone()])?;
        let url = config.endpoint.as_str().to_owned();
        Ok(AuthorizeNetGateway { config, http, url })
    }

    pub fn config(&self) -> &AuthorizeNetConfig {
        &self.config
    }

    fn auth(&self) -> MerchantAuth<'_> {
        MerchantAuth {
            name: &self.config.api_login_id,
            transaction_key: self.config.transaction_key.expose(),
        }
    }

    fn settings(&self) -> Option<Settings> {
        Some(Settings {
            setting: vec![Setting {
                setting_name: "duplicateWindow",
                setting_value: self
                    .config
                    .duplicate_window_secs
                    .min(MAX_DUPLICATE_WINDOW_SECS)
                    .to_string(),
            }],
        })
    }

    /// Sends `{"<call>": body}` and returns the parsed reply (BOM stripped) and its endpoint
    /// label. Transport failures and non-2xx statuses are errors; API errors are not (yet).
    async fn call<T: Serialize>(
        &self,
        call: &str,
        body: &T,
    ) -> Result<(Value, Reply), RemoteError> {
        let mut envelope = std::collections::BTreeMap::new();
        envelope.insert(call, body);
        let bytes = serde_json::to_vec(&envelope)
            .map_err(|e| RemoteError::InvalidRequest(format!("cannot encode {call}: {e}")))?;
        let rb = self
            .http
            .request(Method::POST, &self.url)
            .header("content-type", "application/json")
            .body(bytes);
        let mut reply = self.http.send_ok(rb).await?;
        // Authorize.net starts its JSON with a UTF-8 byte order mark.
        if let Some(rest) = reply.body.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
            reply.body = rest.to_vec();
        }
        let value: Value = self.http.json(&reply)?;
        if !value.is_object() {
            return Err(self.protocol(&reply, "the reply is not a JSON object"));
        }
        Ok((value, reply))
    }

    fn protocol(&self, reply: &Reply, what: &str) -> RemoteError {
        RemoteError::Protocol {
            endpoint: reply.endpoint.clone(),
            detail: format!("{what}: {}", self.http.scrub(&excerpt(&reply.body))),
        }
    }

    /// The `messages` block, with authentication failures turned into [`RemoteError::Auth`].
    fn messages_of(
        &self,
        call: &str,
        v: &Value,
        reply: &Reply,
    ) -> Result<ApiMessages, RemoteError> {
        let m = messages(v)
            .ok_or_else(|| self.protocol(reply, &format!("{call}: no messages.resultCode")))?;
        if !m.ok && matches!(m.code.as_str(), "E00007" | "E00008" | "E00124") {
            return Err(RemoteError::Auth {
                endpoint: format!("{} ({call}: {} {})", reply.endpoint, m.code, m.text),
                status: reply.status,
            });
        }
        Ok(m)
    }

    fn api_error(&self, call: &str, m: &ApiMessages) -> RemoteError {
        RemoteError::Remote {
            reason: self.http.scrub(&format!(
                "Authorize.net {call} failed: {} {}",
                m.code, m.text
            )),
        }
    }

    /// A call whose `resultCode` must be `Ok`.
    async fn call_ok<T: Serialize>(
        &self,
        call: &str,
        body: &T,
    ) -> Result<(Value, Reply), RemoteError> {
        let (v, reply) = self.call(call, body).await?;
        let m = self.messages_of(call, &v, &reply)?;
        if m.ok {
            Ok((v, reply))
        } else {
            Err(self.api_error(call, &m))
        }
    }

    fn check_currency(&self, amount: &Money) -> Result<(), RemoteError> {
        check_amount(amount)?;
        if amount.currency != self.config.currency {
            return Err(RemoteError::InvalidRequest(format!(
                "this Authorize.net account settles in {}, not {}",
                self.config.currency, amount.currency
            )));
        }
        Ok(())
    }

    async fn profile_payment_ids(&self, profile_id: &str) -> Result<Vec<String>, RemoteError> {
        let (v, _) = self
            .call_ok(
                "getCustomerProfileRequest",
                &GetProfile {
                    merchant_authentication: self.auth(),
                    customer_profile_id: profile_id,
                },
            )
            .await?;
        let profile = v.get("profile").cloned().unwrap_or(Value::Null);
        Ok(list(profile.get("paymentProfiles"), "paymentProfiles")
            .into_iter()
            .filter_map(|p| field(p, "customerPaymentProfileId"))
            .collect())
    }

    /// The profile whose `merchantCustomerId` is our reference, with its payment profile ids.
    async fn profile_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<(String, Vec<String>)>, RemoteError> {
        let call = "getCustomerProfileRequest";
        let (v, reply) = self
            .call(
                call,
                &GetProfileByReference {
                    merchant_authentication: self.auth(),
                    merchant_customer_id: reference,
                },
            )
            .await?;
        let m = self.messages_of(call, &v, &reply)?;
        if !m.ok {
            if m.code == "E00040" {
                return Ok(None);
            }
            return Err(self.api_error(call, &m));
        }
        let profile = v.get("profile").cloned().unwrap_or(Value::Null);
        let id = field(&profile, "customerProfileId")
            .ok_or_else(|| self.protocol(&reply, "a profile without customerProfileId"))?;
        let ids = list(profile.get("paymentProfiles"), "paymentProfiles")
            .into_iter()
            .filter_map(|p| field(p, "customerPaymentProfileId"))
            .collect();
        Ok(Some((id, ids)))
    }

    /// Adds the card to an existing profile (`createCustomerPaymentProfileRequest`); the same
    /// card twice (E00039) or a spent nonce (a retry: E00114) give the stored card.
    async fn add_card(
        &self,
        profile_id: &str,
        merchant_id: &str,
        card: &NonceCard,
        reference: &str,
    ) -> Result<CustomerOutcome, RemoteError> {
        let call = "createCustomerPaymentProfileRequest";
        let (v, reply) = self
            .call(
                call,
                &CreatePaymentProfile {
                    merchant_authentication: self.auth(),
                    ref_id: reference,
                    customer_profile_id: profile_id,
                    payment_profile: card.def(),
                },
            )
            .await?;
        let m = self.messages_of(call, &v, &reply)?;
        let created = |payment: String| CustomerOutcome::Created {
            stored: StoredPaymentMethod {
                customer_ref: profile_id.to_owned(),
                payment_method_ref: payment,
            },
            already_existed: true,
        };
        match (m.ok, m.code.as_str(), field(&v, "customerPaymentProfileId")) {
            (true, _, Some(p)) | (false, "E00039", Some(p)) => Ok(created(p)),
            (false, "E00114" | "E00117", _) => {
                let ids = self.profile_payment_ids(profile_id).await?;
                let p = latest(&ids).ok_or_else(|| {
                    RemoteError::remote(format!(
                        "Authorize.net profile {profile_id} for {merchant_id} has no payment profile"
                    ))
                })?;
                Ok(created(p))
            }
            (true, _, None) => Err(self.protocol(&reply, "no customerPaymentProfileId")),
            (false, _, _) => Err(self.api_error(call, &m)),
        }
    }

    async fn details(&self, trans_id: &str) -> Result<Option<TxDetails>, RemoteError> {
        let call = "getTransactionDetailsRequest";
        let (v, reply) = self
            .call(
                call,
                &GetDetails {
                    merchant_authentication: self.auth(),
                    trans_id,
                },
            )
            .await?;
        let m = self.messages_of(call, &v, &reply)?;
        if !m.ok {
            // E00040: the record cannot be found; E00011: access denied to it.
            if matches!(m.code.as_str(), "E00040" | "E00011") {
                return Ok(None);
            }
            return Err(self.api_error(call, &m));
        }
        let t = v
            .get("transaction")
            .or_else(|| {
                v.get("getTransactionDetailsResponse")
                    .and_then(|r| r.get("transaction"))
            })
            .ok_or_else(|| self.protocol(&reply, "no transaction in the details"))?;
        let currency = self.config.currency;
        Ok(Some(TxDetails {
            status: field(t, "transactionStatus").unwrap_or_default(),
            response_code: field(t, "responseCode").unwrap_or_default(),
            reason_code: field(t, "responseReasonCode").unwrap_or_default(),
            reason_text: field(t, "responseReasonDescription").unwrap_or_default(),
            settle_amount: decimal_money(t, "settleAmount", currency),
            auth_amount: decimal_money(t, "authAmount", currency),
            profile: t.get("profile").and_then(|p| {
                Some((
                    field(p, "customerProfileId")?,
                    field(p, "customerPaymentProfileId")?,
                ))
            }),
        }))
    }

    /// The customer's transactions (newest first, up to 100).
    async fn customer_transactions(
        &self,
        profile_id: &str,
        payment_profile_id: Option<&str>,
    ) -> Result<Vec<TxSummary>, RemoteError> {
        let call = "getTransactionListForCustomerRequest";
        let (v, reply) = self
            .call(
                call,
                &ListForCustomer {
                    merchant_authentication: self.auth(),
                    customer_profile_id: profile_id,
                    customer_payment_profile_id: payment_profile_id,
                    sorting: Sorting {
                        order_by: "submitTimeUTC",
                        order_descending: true,
                    },
                    paging: Paging {
                        limit: "100",
                        offset: "1",
                    },
                },
            )
            .await?;
        // The reference documents this reply wrapped in `getTransactionListResponse`.
        let root = v.get("getTransactionListResponse").unwrap_or(&v);
        let m = self.messages_of(call, root, &reply)?;
        if !m.ok {
            // E00040: no such profile; I00004-like "no records" come back as Ok.
            if m.code == "E00040" {
                return Ok(Vec::new());
            }
            return Err(self.api_error(call, &m));
        }
        Ok(list(root.get("transactions"), "transaction")
            .into_iter()
            .filter_map(|t| {
                Some(TxSummary {
                    trans_id: field(t, "transId")?,
                    status: field(t, "transactionStatus").unwrap_or_default(),
                    invoice: field(t, "invoiceNumber").or_else(|| field(t, "invoice")),
                })
            })
            .collect())
    }

    /// A transaction of this customer with our reference as its invoice number.
    async fn find_by_ref(
        &self,
        profile_id: &str,
        payment_profile_id: Option<&str>,
        reference: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Option<TxSummary>, RemoteError> {
        Ok(self
            .customer_transactions(profile_id, payment_profile_id)
            .await?
            .into_iter()
            .find(|t| t.invoice.as_deref() == Some(reference) && wanted(&t.status)))
    }

    fn charge_from_status(&self, trans_id: String, status: &str) -> ChargeOutcome {
        if HELD.contains(&status) {
            ChargeOutcome::Pending {
                id: trans_id,
                message: format!("Authorize.net holds the charge for review ({status})"),
            }
        } else if status == "declined" {
            ChargeOutcome::Declined {
                code: "card_declined".into(),
                message: "an earlier attempt with this key was declined".into(),
                id: Some(trans_id),
            }
        } else if status == "voided" {
            ChargeOutcome::Declined {
                code: "voided".into(),
                message: "the charge an earlier attempt with this key made was voided".into(),
                id: Some(trans_id),
            }
        } else {
            ChargeOutcome::Charged {
                id: trans_id,
                replayed: true,
            }
        }
    }

    /// The outcome of the transaction a duplicate refers to.
    async fn charge_of_original(
        &self,
        original: Option<String>,
        source: &StoredPaymentMethod,
        reference: &str,
    ) -> Result<ChargeOutcome, RemoteError> {
        let id = match original {
            Some(id) => id,
            None => {
                // No transId in the duplicate reply: find it through the customer's list.
                match self
                    .find_by_ref(
                        &source.customer_ref,
                        Some(&source.payment_method_ref),
                        reference,
                        |s| !REFUNDS.contains(&s),
                    )
                    .await?
                {
                    Some(t) => return Ok(self.charge_from_status(t.trans_id, &t.status)),
                    None => {
                        return Err(RemoteError::remote(format!(
                            "Authorize.net reports a duplicate of an earlier transaction (invoice {reference}) \
                             but does not say which: check the gateway before charging again"
                        )))
                    }
                }
            }
        };
        match self.details(&id).await? {
            Some(d) => Ok(match d.response_code.as_str() {
                "1" if !HELD.contains(&d.status.as_str()) => {
                    ChargeOutcome::Charged { id, replayed: true }
                }
                "2" | "3" => ChargeOutcome::Declined {
                    code: decline_code(&d.reason_code),
                    message: format!(
                        "an earlier attempt with this key was declined: {}",
                        d.reason_text
                    ),
                    id: Some(id),
                },
                _ => self.charge_from_status(id, &d.status),
            }),
            None => Err(RemoteError::remote(format!(
                "Authorize.net reports a duplicate of transaction {id} but cannot show it: \
                 check the gateway before charging again"
            ))),
        }
    }

    fn check_ref_id(&self, v: &Value, reply: &Reply, reference: &str) -> Result<(), RemoteError> {
        match field(v, "refId") {
            Some(echo) if echo != reference => Err(self.protocol(
                reply,
                &format!("the reply is for refId {echo}, not {reference}"),
            )),
            _ => Ok(()),
        }
    }

    async fn void(&self, trans_id: &str, reference: &str) -> Result<RefundOutcome, RemoteError> {
        let call = "createTransactionRequest";
        let (v, reply) = self
            .call(
                call,
                &CreateTransaction {
                    merchant_authentication: self.auth(),
                    ref_id: reference,
                    transaction_request: TransactionDef {
                        transaction_type: "voidTransaction",
                        amount: None,
                        profile: None,
                        ref_trans_id: Some(trans_id),
                        order: None,
                        transaction_settings: None,
                    },
                },
            )
            .await?;
        let m = self.messages_of(call, &v, &reply)?;
        self.check_ref_id(&v, &reply, reference)?;
        let Some(t) = tx_response(&v) else {
            return Err(self.api_error(call, &m));
        };
        let (code, text) = t.reason.clone().unwrap_or_default();
        Ok(match t.response_code.as_str() {
            "1" => RefundOutcome::Refunded {
                id: trans_id.to_owned(),
                kind: RefundKind::Void,
                replayed: false,
            },
            _ => RefundOutcome::Rejected {
                code: format!("anet_{code}"),
                message: self.http.scrub(&text),
            },
        })
    }
}

fn numeric(what: &str, v: &str) -> Result<(), RemoteError> {
    if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(RemoteError::InvalidRequest(format!(
            "the Authorize.net {what} '{v}' is not a numeric id"
        )))
    }
}

fn limit(what: &str, v: Option<&str>, max: usize) -> Result<Option<String>, RemoteError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() <= max => Ok(Some(v.to_owned())),
        Some(_) => Err(RemoteError::InvalidRequest(format!(
            "the {what} is longer than Authorize.net's {max} characters"
        ))),
    }
}

#[async_trait]
impl PaymentGateway for AuthorizeNetGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::AuthorizeNet
    }

    async fn test_connection(&self) -> Result<(), RemoteError> {
        self.call_ok(
            "authenticateTestRequest",
            &AuthOnly {
                merchant_authentication: self.auth(),
            },
        )
        .await
        .map(|_| ())
    }

    async fn create_customer(&self, req: &NewCustomer) -> Result<CustomerOutcome, RemoteError> {
        check_key(&req.idempotency_key)?;
        let PaymentToken::AcceptNonce { descriptor, value } = &req.token else {
            return Err(RemoteError::InvalidRequest(
                "Authorize.net stores an Accept.js nonce (opaqueData), not another gateway's token"
                    .into(),
            ));
        };
        if descriptor.trim().is_empty() || value.trim().is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the Accept.js nonce is empty".into(),
            ));
        }
        let merchant_id = limit("client reference", Some(&req.reference), 20)?
            .ok_or_else(|| RemoteError::InvalidRequest("the client reference is empty".into()))?;
        let description = limit("description", req.description.as_deref(), 255)?;
        let email = limit("e-mail", req.email.as_deref(), 255)?;
        let reference = short_ref(&req.idempotency_key);
        let payment_profile = NonceCard {
            descriptor: descriptor.trim().to_owned(),
            value: value.trim().to_owned(),
        };
        let call = "createCustomerProfileRequest";
        let (v, reply) = self
            .call(
                call,
                &CreateProfile {
                    merchant_authentication: self.auth(),
                    ref_id: &reference,
                    profile: ProfileDef {
                        merchant_customer_id: &merchant_id,
                        description: description.as_deref(),
                        email: email.as_deref(),
                        payment_profiles: payment_profile.def(),
                    },
                },
            )
            .await?;
        let m = self.messages_of(call, &v, &reply)?;
        if m.ok {
            self.check_ref_id(&v, &reply, &reference)?;
            let profile = field(&v, "customerProfileId")
                .ok_or_else(|| self.protocol(&reply, "no customerProfileId"))?;
            let payment = list(v.get("customerPaymentProfileIdList"), "numericString")
                .into_iter()
                .find_map(|p| match p {
                    Value::String(s) if !s.is_empty() => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .ok_or_else(|| self.protocol(&reply, "no customerPaymentProfileIdList"))?;
            return Ok(CustomerOutcome::Created {
                stored: StoredPaymentMethod {
                    customer_ref: profile,
                    payment_method_ref: payment,
                },
                already_existed: false,
            });
        }
        match m.code.as_str() {
            // "A duplicate record with ID 1234 already exists.": this client has a profile
            // (an earlier attempt whose reply was lost, or an earlier card).
            "E00039" => {
                let id: String = m
                    .text
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|s| !s.is_empty())
                    .unwrap_or_default()
                    .to_owned();
                numeric("duplicate profile id", &id).map_err(|_| self.api_error(call, &m))?;
                self.add_card(&id, &merchant_id, &payment_profile, &reference)
                    .await
            }
            // An invalid or spent Accept.js nonce. A retry of a creation that succeeded sends
            // a spent nonce: the profile is found by our reference.
            "E00114" | "E00117" => match self.profile_by_reference(&merchant_id).await? {
                Some((id, ids)) => Ok(CustomerOutcome::Created {
                    stored: StoredPaymentMethod {
                        customer_ref: id,
                        payment_method_ref: latest(&ids).ok_or_else(|| {
                            RemoteError::remote(format!(
                                "Authorize.net profile for {merchant_id} has no payment profile"
                            ))
                        })?,
                    },
                    already_existed: true,
                }),
                None => Ok(CustomerOutcome::Declined {
                    code: "invalid_token".into(),
                    message: format!("{} {}", m.code, m.text),
                }),
            },
            // A declined validation transaction.
            "E00027" => Ok(CustomerOutcome::Declined {
                code: "card_declined".into(),
                message: format!("{} {}", m.code, m.text),
            }),
            _ => Err(self.api_error(call, &m)),
        }
    }

    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, RemoteError> {
        check_key(&req.idempotency_key)?;
        self.check_currency(&req.amount)?;
        numeric("customer profile id", &req.source.customer_ref)?;
        numeric("payment profile id", &req.source.payment_method_ref)?;
        let description = limit("charge reference", req.reference.as_deref(), 255)?;
        let reference = short_ref(&req.idempotency_key);
        if req.attempt > 1 {
            if let Some(t) = self
                .find_by_ref(
                    &req.source.customer_ref,
                    Some(&req.source.payment_method_ref),
                    &reference,
                    |s| !REFUNDS.contains(&s),
                )
                .await?
            {
                return Ok(self.charge_from_status(t.trans_id, &t.status));
            }
        }
        let call = "createTransactionRequest";
        let (v, reply) = self
            .call(
                call,
                &CreateTransaction {
                    merchant_authentication: self.auth(),
                    ref_id: &reference,
                    transaction_request: TransactionDef {
                        transaction_type: "authCaptureTransaction",
                        amount: Some(req.amount.amount_string()),
                        profile: Some(ProfileRef {
                            customer_profile_id: &req.source.customer_ref,
                            payment_profile: PaymentProfileRef {
                                payment_profile_id: &req.source.payment_method_ref,
                            },
                        }),
                        ref_trans_id: None,
                        order: Some(OrderDef {
                            invoice_number: &reference,
                            description: description.as_deref(),
                        }),
                        transaction_settings: self.settings(),
                    },
                },
            )
            .await?;
        let m = self.messages_of(call, &v, &reply)?;
        self.check_ref_id(&v, &reply, &reference)?;
        let Some(t) = tx_response(&v) else {
            // No transaction was attempted (bad profile id E00040, validation errors...).
            return Err(self.api_error(call, &m));
        };
        let (reason, text) = t.reason.clone().unwrap_or_default();
        let text = self.http.scrub(&text);
        match t.response_code.as_str() {
            "1" => match t.trans_id {
                Some(id) => Ok(ChargeOutcome::Charged {
                    id,
                    replayed: false,
                }),
                None => Err(self.protocol(&reply, "an approved charge without a transId")),
            },
            "2" => Ok(ChargeOutcome::Declined {
                code: decline_code(&reason),
                message: format!("{text} (Authorize.net reason {reason})"),
                id: t.trans_id,
            }),
            "4" => match t.trans_id {
                Some(id) => Ok(ChargeOutcome::Pending {
                    id,
                    message: format!("{text} (Authorize.net reason {reason})"),
                }),
                None => Err(self.protocol(&reply, "a held charge without a transId")),
            },
            "3" if reason == "11" => {
                self.charge_of_original(t.trans_id, &req.source, &reference)
                    .await
            }
            "3" if CARD_ERRORS.contains(&reason.as_str()) => Ok(ChargeOutcome::Declined {
                code: decline_code(&reason),
                message: format!("{text} (Authorize.net reason {reason})"),
                id: t.trans_id,
            }),
            "3" => Err(RemoteError::remote(format!(
                "Authorize.net could not process the charge: {text} (reason {reason})"
            ))),
            other => Err(self.protocol(
                &reply,
                &format!("unknown transactionResponse.responseCode '{other}'"),
            )),
        }
    }

    async fn refund(&self, req: &RefundRequest) -> Result<RefundOutcome, RemoteError> {
        check_key(&req.idempotency_key)?;
        numeric("transaction id", &req.charge_id)?;
        if let Some(a) = &req.amount {
            self.check_currency(a)?;
        }
        let reference = short_ref(&req.idempotency_key);
        let Some(d) = self.details(&req.charge_id).await? else {
            return Ok(RefundOutcome::Rejected {
                code: "not_found".into(),
                message: format!("Authorize.net has no transaction {}", req.charge_id),
            });
        };
        let full = if SETTLED.contains(&d.status.as_str()) {
            d.settle_amount.or(d.auth_amount)
        } else {
            d.auth_amount.or(d.settle_amount)
        };
        let amount = match (req.amount, full) {
            (Some(a), _) => a,
            (None, Some(f)) => f,
            (None, None) => {
                return Err(RemoteError::remote(format!(
                    "Authorize.net did not give the amount of transaction {}",
                    req.charge_id
                )))
            }
        };
        let whole = full.is_none_or(|f| f == amount);
        if req.attempt > 1 {
            if let Some((profile, payment)) = &d.profile {
                if let Some(t) = self
                    .find_by_ref(profile, Some(payment), &reference, |s| REFUNDS.contains(&s))
                    .await?
                {
                    return Ok(RefundOutcome::Refunded {
                        id: t.trans_id,
                        kind: RefundKind::Refund,
                        replayed: true,
                    });
                }
            }
        }
        let status = d.status.as_str();
        if status == "voided" {
            return Ok(if whole {
                RefundOutcome::Refunded {
                    id: req.charge_id.clone(),
                    kind: RefundKind::Void,
                    replayed: true,
                }
            } else {
                RefundOutcome::Rejected {
                    code: "voided".into(),
                    message: format!("transaction {} is voided already", req.charge_id),
                }
            });
        }
        if UNSETTLED.contains(&status) {
            if whole {
                return self.void(&req.charge_id, &reference).await;
            }
            return Ok(RefundOutcome::Rejected {
                code: "not_settled".into(),
                message: format!(
                    "Authorize.net refunds only settled transactions: transaction {} is {status}; \
                     refund part of it after settlement (usually the next day), or all of it now",
                    req.charge_id
                ),
            });
        }
        if !SETTLED.contains(&status) {
            return Ok(RefundOutcome::Rejected {
                code: status.to_owned(),
                message: format!(
                    "transaction {} is {status}: nothing to refund",
                    req.charge_id
                ),
            });
        }
        let Some((profile, payment)) = d.profile.clone() else {
            return Err(RemoteError::remote(format!(
                "transaction {} was not made with a customer profile",
                req.charge_id
            )));
        };
        let call = "createTransactionRequest";
        let (v, reply) = self
            .call(
                call,
                &CreateTransaction {
                    merchant_authentication: self.auth(),
                    ref_id: &reference,
                    transaction_request: TransactionDef {
                        transaction_type: "refundTransaction",
                        amount: Some(amount.amount_string()),
                        profile: Some(ProfileRef {
                            customer_profile_id: &profile,
                            payment_profile: PaymentProfileRef {
                                payment_profile_id: &payment,
                            },
                        }),
                        ref_trans_id: Some(&req.charge_id),
                        order: Some(OrderDef {
                            invoice_number: &reference,
                            description: None,
                        }),
                        transaction_settings: self.settings(),
                    },
                },
            )
            .await?;
        let m = self.messages_of(call, &v, &reply)?;
        self.check_ref_id(&v, &reply, &reference)?;
        let Some(t) = tx_response(&v) else {
            return Err(self.api_error(call, &m));
        };
        let (reason, text) = t.reason.clone().unwrap_or_default();
        let text = self.http.scrub(&text);
        Ok(match (t.response_code.as_str(), reason.as_str()) {
            ("1", _) => RefundOutcome::Refunded {
                id: t
                    .trans_id
                    .ok_or_else(|| self.protocol(&reply, "an approved refund without a transId"))?,
                kind: RefundKind::Refund,
                replayed: false,
            },
            ("4", _) => RefundOutcome::Refunded {
                id: t
                    .trans_id
                    .ok_or_else(|| self.protocol(&reply, "a held refund without a transId"))?,
                kind: RefundKind::PendingRefund,
                replayed: false,
            },
            ("3", "11") => match t.trans_id {
                Some(id) => RefundOutcome::Refunded {
                    id,
                    kind: RefundKind::Refund,
                    replayed: true,
                },
                None => {
                    return Err(RemoteError::remote(format!(
                    "Authorize.net reports a duplicate of an earlier refund (invoice {reference}) \
                         but does not say which: check the gateway"
                )))
                }
            },
            (_, "54") => RefundOutcome::Rejected {
                code: "not_settled".into(),
                message: format!("{text} (Authorize.net reason 54)"),
            },
            (_, "55") => RefundOutcome::Rejected {
                code: "amount_too_large".into(),
                message: format!("{text} (Authorize.net reason 55)"),
            },
            ("2" | "3", _) => RefundOutcome::Rejected {
                code: format!("anet_{reason}"),
                message: format!("{text} (Authorize.net reason {reason})"),
            },
            (other, _) => {
                return Err(self.protocol(
                    &reply,
                    &format!("unknown transactionResponse.responseCode '{other}'"),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn usd() -> Currency {
        Currency::from_code("USD").unwrap()
    }

    #[test]
    fn short_refs() {
        assert_eq!(short_ref("pay-42-1"), "pay-42-1");
        assert_eq!(short_ref("a_b"), "a_b");
        let long = short_ref("charge:invoice:INV-2026-000123:attempt:1");
        assert_eq!(long.len(), 20);
        assert!(long.starts_with("hd"));
        assert!(long.bytes().all(|b| b.is_ascii_alphanumeric()));
        // Stable: this value must never change (retries after an upgrade rely on it).
        assert_eq!(long, short_ref("charge:invoice:INV-2026-000123:attempt:1"));
        assert_ne!(long, short_ref("charge:invoice:INV-2026-000123:attempt:2"));
        assert_eq!(short_ref(&"x".repeat(21)).len(), 20);
        assert_eq!(short_ref("has space").len(), 20);
    }

    #[test]
    fn requests_keep_xsd_order() {
        let key = Secret::new("KEY");
        let auth = MerchantAuth {
            name: "login",
            transaction_key: key.expose(),
        };
        let body = CreateTransaction {
            merchant_authentication: auth,
            ref_id: "r1",
            transaction_request: TransactionDef {
                transaction_type: "authCaptureTransaction",
                amount: Some("9.95".into()),
                profile: Some(ProfileRef {
                    customer_profile_id: "1",
                    payment_profile: PaymentProfileRef {
                        payment_profile_id: "2",
                    },
                }),
                ref_trans_id: None,
                order: Some(OrderDef {
                    invoice_number: "r1",
                    description: None,
                }),
                transaction_settings: Some(Settings {
                    setting: vec![Setting {
                        setting_name: "duplicateWindow",
                        setting_value: "28800".into(),
                    }],
                }),
            },
        };
        let s = serde_json::to_string(&body).unwrap();
        let pos = |k: &str| s.find(k).unwrap();
        assert!(pos("merchantAuthentication") < pos("refId"));
        assert!(pos("refId") < pos("transactionRequest"));
        assert!(pos("transactionType") < pos("\"amount\""));
        assert!(pos("\"amount\"") < pos("\"profile\""));
        assert!(pos("\"profile\"") < pos("\"order\""));
        assert!(pos("\"order\"") < pos("transactionSettings"));
        assert!(!s.contains("refTransId"));
    }

    #[test]
    fn lenient_lists_and_amounts() {
        let v = json!({"a": ["1", "2"], "b": {"numericString": ["3"]}, "c": {"x": 1}, "d": {}});
        assert_eq!(list(v.get("a"), "numericString").len(), 2);
        assert_eq!(list(v.get("b"), "numericString").len(), 1);
        assert_eq!(list(v.get("c"), "numericString").len(), 1);
        assert_eq!(list(v.get("d"), "numericString").len(), 0);
        assert_eq!(list(v.get("zz"), "numericString").len(), 0);
        let t = json!({"s": "12.5000", "n": 5, "bad": "1.005", "z": "0"});
        assert_eq!(decimal_money(&t, "s", usd()).unwrap().minor, 1250);
        assert_eq!(decimal_money(&t, "n", usd()).unwrap().minor, 500);
        assert!(decimal_money(&t, "bad", usd()).is_none());
        assert!(nonzero_id(Some("0".into())).is_none());
        assert_eq!(nonzero_id(Some("60".into())).as_deref(), Some("60"));
    }

    #[test]
    fn messages_single_or_list() {
        let a = json!({"messages": {"resultCode": "Error", "message": [{"code": "E00039", "text": "A duplicate record with ID 7 already exists."}]}});
        let b = json!({"messages": {"resultCode": "Ok", "message": {"code": "I00001", "text": "Successful."}}});
        let ma = messages(&a).unwrap();
        assert!(!ma.ok);
        assert_eq!(ma.code, "E00039");
        assert!(messages(&b).unwrap().ok);
    }

    #[test]
    fn config_checks() {
        assert!(
            AuthorizeNetConfig::sandbox("login", Secret::new("0123456789abcdefX"), usd()).is_err()
        );
        assert!(AuthorizeNetConfig::sandbox("", Secret::new("k"), usd()).is_err());
        let c = AuthorizeNetConfig::sandbox("login", Secret::new("SECRETKEY123"), usd()).unwrap();
        assert_eq!(c.endpoint.as_str(), AUTHNET_SANDBOX);
        assert!(!format!("{c:?}").contains("SECRETKEY123"));
        assert!(
            AuthorizeNetConfig::new("http://anet.example.com/x", "l", Secret::new("k"), usd())
                .is_err()
        );
    }
}
