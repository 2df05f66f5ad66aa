//! [`StripeGateway`]: Stripe's REST API, form-encoded, `Authorization: Bearer sk_...`.
//!
//! - `POST /v1/customers` (`payment_method`, `invoice_settings[default_payment_method]`,
//!   `name`, `email`, `metadata[...]`): attaches the PaymentMethod made by Stripe.js.
//! - `POST /v1/payment_intents` with `customer`, `payment_method`, `amount` (minor units),
//!   `currency` (lower case), `off_session=true`, `confirm=true`: `status: succeeded` is a
//!   charge; HTTP 402 with `error.code` (`card_declined` + `decline_code`,
//!   `authentication_required`, `expired_card`, ...) is a decline or a request for the
//!   customer's authentication.
//! - `POST /v1/refunds` with `payment_intent` (or `charge`) and an optional `amount`.
//!
//! Every POST carries an `Idempotency-Key` header (the request's key): Stripe answers a repeat
//! with the first answer, so a retry after a lost reply never charges twice. The charge id
//! this driver returns is the PaymentIntent id (`pi_...`). A replay is not flagged
//! (`replayed` / `already_existed` stay `false`; Stripe's `Idempotent-Replayed` header is not
//! read): the first call's ids come back, which is what the caller needs.
//!
//! Tested against the real `localstripe` server (PyPI), which differs from Stripe in ways the
//! parsing here tolerates: its 402 errors have `type: invalid_request_error` (Stripe says
//! `card_error`), an off-session charge that needs 3-D Secure comes back as HTTP 200 with
//! `status: requires_action` (Stripe answers 402 `authentication_required`), and it ignores
//! `Idempotency-Key`.

use async_trait::async_trait;
use hostdesk_core::Money;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::types::*;
use super::{check_amount, check_key, PaymentGateway};
use crate::error::{excerpt, RemoteError};
use crate::http::{parse_base_url, root_of, Http, HttpConfig, Reply};
use crate::json::text;
use crate::secret::Secret;

/// Stripe's API host.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com";

/// How to reach Stripe. `Debug` shows the key as `<redacted>`.
#[derive(Debug, Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com`, or a local Stripe-compatible server in tests.
    pub base_url: Url,
    /// A secret (`sk_...`) or restricted (`rk_...`) key.
    pub secret_key: Secret,
    /// Sent as `Stripe-Version` when set (otherwise the account's default version applies).
    pub api_version: Option<String>,
    pub http: HttpConfig,
}

impl StripeConfig {
    /// Stripe itself.
    pub fn new(secret_key: Secret) -> Result<Self, RemoteError> {
        Self::with_base_url(STRIPE_API_BASE, secret_key)
    }

    /// Another base URL (https, or http to the local machine only).
    pub fn with_base_url(base_url: &str, secret_key: Secret) -> Result<Self, RemoteError> {
        let k = secret_key.expose();
        if !(k.starts_with("sk_") || k.starts_with("rk_")) || k.len() < 8 {
            return Err(RemoteError::InvalidRequest(
                "the Stripe key must be a secret key (sk_...) or a restricted key (rk_...)".into(),
            ));
        }
        if k.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(RemoteError::InvalidRequest(
                "the Stripe key holds invalid characters".into(),
            ));
        }
        Ok(StripeConfig {
            base_url: parse_base_url(base_url)?,
            secret_key,
            api_version: None,
            http: HttpConfig::default(),
        })
    }
}

/// The Stripe driver.
#[derive(Debug)]
pub struct StripeGateway {
    config: StripeConfig,
    http: Http,
    root: String,
}

/// The parts of a Stripe error object this driver reads.
#[derive(Debug, Default)]
struct StripeError {
    code: Option<String>,
    decline_code: Option<String>,
    message: Option<String>,
    payment_intent: Option<String>,
    charge: Option<String>,
}

impl StripeError {
    fn from_body(body: &Value) -> Option<StripeError> {
        let e = body.get("error").filter(|e| e.is_object())?;
        Some(StripeError {
            code: text(e, "code"),
            decline_code: text(e, "decline_code"),
            message: text(e, "message"),
            payment_intent: e.get("payment_intent").and_then(|pi| text(pi, "id")),
            charge: text(e, "charge"),
        })
    }

    /// The most precise code: `decline_code` (`insufficient_funds`) before `code`
    /// (`card_declined`).
    fn best_code(&self, fallback: &str) -> String {
        self.decline_code
            .clone()
            .or_else(|| self.code.clone())
            .unwrap_or_else(|| fallback.to_owned())
    }

    fn is_authentication(&self) -> bool {
        [&self.code, &self.decline_code]
            .iter()
            .any(|c| c.as_deref() == Some("authentication_required"))
    }
}

/// Refund errors that are Stripe's answer about the charge (not a mistake in the request).
const REFUND_REFUSALS: &[&str] = &[
    "charge_already_refunded",
    "amount_too_large",
    "charge_disputed",
    "charge_expired_for_capture",
    "refund_disputed_payment",
    "insufficient_funds",
];

impl StripeGateway {
    pub fn new(config: StripeConfig) -> Result<Self, RemoteError> {
        let http = Http::new(&config.http, vec![config.secret_key.clone()])?;
        let root = root_of(&config.base_url);
        Ok(StripeGateway { config, http, root })
    }

    pub fn config(&self) -> &StripeConfig {
        &self.config
    }

    fn request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, RemoteError> {
        let (name, value) = Http::secret_header(
            "authorization",
            &format!("Bearer {}", self.config.secret_key.expose()),
        )?;
        let mut rb = self
            .http
            .request(method, &format!("{}{path}", self.root))
            .header(name, value);
        if let Some(v) = self.config.api_version.as_deref().filter(|v| !v.is_empty()) {
            rb = rb.header("stripe-version", v);
        }
        Ok(rb)
    }

    /// A form POST with the idempotency key: every POST goes through here.
    async fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        params: &[(String, String)],
    ) -> Result<Reply, RemoteError> {
        check_key(idempotency_key)?;
        let rb = self
            .request(Method::POST, path)?
            .header("idempotency-key", idempotency_key)
            .form(params);
        self.http.send(rb).await
    }

    fn body(&self, reply: &Reply) -> Result<Value, RemoteError> {
        self.http.json(reply)
    }

    /// A non-2xx reply that is not a payment outcome: 401/403 `Auth`, others `Http` with the
    /// scrubbed body.
    fn failure(&self, reply: Reply) -> RemoteError {
        match self.http.check_status(reply) {
            Err(e) => e,
            Ok(r) => RemoteError::Protocol {
                detail: format!("unexpected reply: {}", self.http.scrub(&excerpt(&r.body))),
                endpoint: r.endpoint,
            },
        }
    }

    fn id_of(&self, reply: &Reply, v: &Value, prefix: &str) -> Result<String, RemoteError> {
        text(v, "id")
            .filter(|id| id.starts_with(prefix))
            .ok_or_else(|| RemoteError::Protocol {
                endpoint: reply.endpoint.clone(),
                detail: format!(
                    "the reply has no {prefix}... id: {}",
                    self.http.scrub(&excerpt(&reply.body))
                ),
            })
    }

    fn message(&self, e: &StripeError, fallback: &str) -> String {
        self.http
            .scrub(e.message.as_deref().unwrap_or(fallback))
            .to_string()
    }

    fn payment_intent_outcome(
        &self,
        reply: &Reply,
        pi: &Value,
    ) -> Result<ChargeOutcome, RemoteError> {
        let id = self.id_of(reply, pi, "pi_")?;
        let status = text(pi, "status").unwrap_or_default();
        let last_error = pi
            .get("last_payment_error")
            .filter(|e| e.is_object())
            .map(|e| StripeError {
                code: text(e, "code"),
                decline_code: text(e, "decline_code"),
                message: text(e, "message"),
                ..StripeError::default()
            })
            .unwrap_or_default();
        Ok(match status.as_str() {
            "succeeded" => ChargeOutcome::Charged {
                id,
                replayed: false,
            },
            "processing" | "requires_capture" => ChargeOutcome::Pending {
                message: format!("Stripe has not finished the payment yet ({status})"),
                id,
            },
            "requires_action" | "requires_source_action" => ChargeOutcome::AuthenticationRequired {
                code: "authentication_required".into(),
                message: "the customer must confirm this payment (3-D Secure)".into(),
                id: Some(id),
            },
            "requires_payment_method" | "requires_source" => ChargeOutcome::Declined {
                code: last_error.best_code("card_declined"),
                message: self.message(&last_error, "the payment method was declined"),
                id: Some(id),
            },
            "canceled" => ChargeOutcome::Declined {
                code: "canceled".into(),
                message: "the PaymentIntent was canceled".into(),
                id: Some(id),
            },
            other => {
                return Err(RemoteError::Protocol {
                    endpoint: reply.endpoint.clone(),
                    detail: format!("unknown PaymentIntent status '{other}'"),
                })
            }
        })
    }
}

/// Stripe's amount: minor units; three-decimal currencies must end in 0 (Stripe's rule).
fn stripe_amount(amount: &Money) -> Result<String, RemoteError> {
    check_amount(amount)?;
    if amount.currency.exponent() == 3 && amount.minor % 10 != 0 {
        return Err(RemoteError::InvalidRequest(format!(
            "Stripe charges {} in multiples of 0.010, not {}",
            amount.currency,
            amount.amount_string()
        )));
    }
    Ok(amount.minor.to_string())
}

fn nonempty(what: &str, value: &str) -> Result<String, RemoteError> {
    let v = value.trim();
    if v.is_empty() || v.contains(char::is_whitespace) {
        Err(RemoteError::InvalidRequest(format!(
            "the {what} '{value}' is not a Stripe id"
        )))
    } else {
        Ok(v.to_owned())
    }
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Stripe
    }

    async fn test_connection(&self) -> Result<(), RemoteError> {
        let rb = self
            .request(Method::GET, "/v1/customers")?
            .query(&[("limit", "1")]);
        let reply = self.http.send_ok(rb).await?;
        let v = self.body(&reply)?;
        if text(&v, "object").as_deref() == Some("list") {
            Ok(())
        } else {
            Err(RemoteError::Protocol {
                endpoint: reply.endpoint,
                detail: "GET /v1/customers did not answer a list: is this Stripe?".into(),
            })
        }
    }

    async fn create_customer(&self, req: &NewCustomer) -> Result<CustomerOutcome, RemoteError> {
        let PaymentToken::StripePaymentMethod { id } = &req.token else {
            return Err(RemoteError::InvalidRequest(
                "Stripe stores a Stripe PaymentMethod (pm_...), not another gateway's token".into(),
            ));
        };
        let pm = nonempty("payment method", id)?;
        let mut params: Vec<(String, String)> = vec![
            ("payment_method".into(), pm.clone()),
            (
                "invoice_settings[default_payment_method]".into(),
                pm.clone(),
            ),
        ];
        for (k, v) in [
            ("name", &req.name),
            ("email", &req.email),
            ("description", &req.description),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.trim().is_empty()) {
                params.push((k.into(), v.trim().to_owned()));
            }
        }
        if !req.reference.trim().is_empty() {
            params.push((
                "metadata[hostdesk_reference]".into(),
                req.reference.trim().to_owned(),
            ));
        }
        let reply = self
            .post("/v1/customers", &req.idempotency_key, &params)
            .await?;
        match reply.status {
            200..=299 => {
                let v = self.body(&reply)?;
                let customer = self.id_of(&reply, &v, "cus_")?;
                Ok(CustomerOutcome::Created {
                    stored: StoredPaymentMethod {
                        customer_ref: customer,
                        payment_method_ref: pm,
                    },
                    already_existed: false,
                })
            }
            402 => {
                let v = self.body(&reply)?;
                let e = StripeError::from_body(&v).unwrap_or_default();
                Ok(CustomerOutcome::Declined {
                    code: e.best_code("card_declined"),
                    message: self.message(&e, "the card was declined"),
                })
            }
            _ => Err(self.failure(reply)),
        }
    }

    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, RemoteError> {
        let amount = stripe_amount(&req.amount)?;
        let customer = nonempty("customer", &req.source.customer_ref)?;
        let pm = nonempty("payment method", &req.source.payment_method_ref)?;
        let mut params: Vec<(String, String)> = vec![
            ("amount".into(), amount),
            (
                "currency".into(),
                req.amount.currency.code().to_ascii_lowercase(),
            ),
            ("customer".into(), customer),
            ("payment_method".into(), pm),
            ("off_session".into(), "true".into()),
            ("confirm".into(), "true".into()),
        ];
        if let Some(r) = req.reference.as_ref().filter(|r| !r.trim().is_empty()) {
            params.push(("metadata[hostdesk_reference]".into(), r.trim().to_owned()));
        }
        let reply = self
            .post("/v1/payment_intents", &req.idempotency_key, &params)
            .await?;
        match reply.status {
            200..=299 => {
                let v = self.body(&reply)?;
                self.payment_intent_outcome(&reply, &v)
            }
            402 => {
                let v = self.body(&reply)?;
                let e = StripeError::from_body(&v).ok_or_else(|| RemoteError::Protocol {
                    endpoint: reply.endpoint.clone(),
                    detail: "HTTP 402 without an error object".into(),
                })?;
                let id = e.payment_intent.clone().or_else(|| e.charge.clone());
                if e.is_authentication() {
                    Ok(ChargeOutcome::AuthenticationRequired {
                        code: "authentication_required".into(),
                        message: self.message(&e, "the customer must authenticate this payment"),
                        id,
                    })
                } else {
                    // Any 402 is a refused payment: Stripe says `type: card_error`,
                    // localstripe `invalid_request_error`.
                    Ok(ChargeOutcome::Declined {
                        code: e.best_code("card_declined"),
                        message: self.message(&e, "the card was declined"),
                        id,
                    })
                }
            }
            _ => Err(self.failure(reply)),
        }
    }

    async fn refund(&self, req: &RefundRequest) -> Result<RefundOutcome, RemoteError> {
        let charge = nonempty("charge", &req.charge_id)?;
        let mut params: Vec<(String, String)> = Vec::new();
        if charge.starts_with("ch_") || charge.starts_with("py_") {
            params.push(("charge".into(), charge));
        } else {
            params.push(("payment_intent".into(), charge));
        }
        if let Some(amount) = &req.amount {
            params.push(("amount".into(), stripe_amount(amount)?));
        }
        let reply = self
            .post("/v1/refunds", &req.idempotency_key, &params)
            .await?;
        match reply.status {
            200..=299 => {
                let v = self.body(&reply)?;
                let id = self.id_of(&reply, &v, "re_")?;
                let status = text(&v, "status").unwrap_or_else(|| "succeeded".into());
                Ok(match status.as_str() {
                    "succeeded" => RefundOutcome::Refunded {
                        id,
                        kind: RefundKind::Refund,
                        replayed: false,
                    },
                    "pending" | "requires_action" => RefundOutcome::Refunded {
                        id,
                        kind: RefundKind::PendingRefund,
                        replayed: false,
                    },
                    other => RefundOutcome::Rejected {
                        code: text(&v, "failure_reason").unwrap_or_else(|| other.to_owned()),
                        message: format!("Stripe refund {id} is {other}"),
                    },
                })
            }
            400 | 402 => {
                let v = self.body(&reply)?;
                match StripeError::from_body(&v) {
                    Some(e)
                        if e.code
                            .as_deref()
                            .is_some_and(|c| REFUND_REFUSALS.contains(&c)) =>
                    {
                        Ok(RefundOutcome::Rejected {
                            code: e.best_code("refund_refused"),
                            message: self.message(&e, "Stripe refused the refund"),
                        })
                    }
                    _ => Err(self.failure(reply)),
                }
            }
            _ => Err(self.failure(reply)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostdesk_core::Currency;

    #[test]
    fn amounts() {
        let eur = Currency::from_code("EUR").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(stripe_amount(&Money::new(995, eur)).unwrap(), "995");
        assert_eq!(stripe_amount(&Money::new(1000, jpy)).unwrap(), "1000");
        assert_eq!(stripe_amount(&Money::new(1250, kwd)).unwrap(), "1250");
        assert!(stripe_amount(&Money::new(1255, kwd)).is_err());
        assert!(stripe_amount(&Money::new(0, eur)).is_err());
        assert!(stripe_amount(&Money::new(-5, eur)).is_err());
    }

    #[test]
    fn keys_are_checked_and_hidden() {
        assert!(StripeConfig::new(Secret::new("pk_test_123456")).is_err());
        assert!(StripeConfig::new(Secret::new("sk_test_123456")).is_ok());
        assert!(StripeConfig::with_base_url(
            "http://stripe.example.com",
            Secret::new("sk_test_123456")
        )
        .is_err());
        let c = StripeConfig::new(Secret::new("sk_test_SECRETVALUE")).unwrap();
        assert!(!format!("{c:?}").contains("SECRETVALUE"));
    }

    #[test]
    fn error_codes() {
        let v: Value = serde_json::json!({"error": {"type": "card_error", "code": "card_declined",
            "decline_code": "insufficient_funds", "message": "Your card has insufficient funds.",
            "payment_intent": {"id": "pi_1", "status": "requires_payment_method"}}});
        let e = StripeError::from_body(&v).unwrap();
        assert_eq!(e.best_code("x"), "insufficient_funds");
        assert_eq!(e.payment_intent.as_deref(), Some("pi_1"));
        assert!(!e.is_authentication());
        let v: Value = serde_json::json!({"error": {"code": "authentication_required"}});
        assert!(StripeError::from_body(&v).unwrap().is_authentication());
    }
}
