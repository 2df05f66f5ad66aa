#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! StripeGateway on the wire, against a small recording stub that answers with Stripe's own
//! shapes where localstripe differs: the `Idempotency-Key` header on every POST (and Stripe's
//! replay of the first answer for a repeated key), 402 `card_error`s with `decline_code` and
//! `payment_intent`, `authentication_required`, PaymentIntent statuses, HTTP failures, and the
//! secret key never printed.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hostdesk_core::{Currency, Money};
use hostdesk_remote::*;
use serde_json::{json, Value};

const KEY: &str = "sk_test_WIRESECRET0123456789";

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    content_type: Option<String>,
    form: Vec<(String, String)>,
}

impl Seen {
    fn param(&self, k: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct StubState {
    seen: Vec<Seen>,
    replies: VecDeque<(u16, String)>,
    /// Stripe's idempotency: the first answer per key.
    by_key: HashMap<String, (u16, String)>,
}

struct Stub {
    addr: SocketAddr,
    state: Arc<Mutex<StubState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    async fn start() -> Stub {
        let state: Arc<Mutex<StubState>> = Arc::default();
        let s2 = state.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = s2.clone();
                async move { answer(&state, method, uri, headers, body) }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Stub { addr, state, task }
    }

    fn reply(&self, status: u16, body: Value) {
        self.state
            .lock()
            .unwrap()
            .replies
            .push_back((status, body.to_string()));
    }

    fn reply_raw(&self, status: u16, body: &str) {
        self.state
            .lock()
            .unwrap()
            .replies
            .push_back((status, body.to_owned()));
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    fn gateway(&self) -> StripeGateway {
        let mut cfg =
            StripeConfig::with_base_url(&format!("http://{}", self.addr), Secret::new(KEY))
                .unwrap();
        cfg.http = hostdesk_testkit::drivers::test_http();
        StripeGateway::new(cfg).unwrap()
    }
}

fn answer(
    state: &Mutex<StubState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        authorization: h("authorization"),
        idempotency_key: h("idempotency-key"),
        content_type: h("content-type"),
        form: form_pairs(&body),
    };
    let mut st = state.lock().unwrap();
    st.seen.push(seen.clone());
    let replayed = seen
        .idempotency_key
        .as_ref()
        .and_then(|k| st.by_key.get(k).cloned());
    let (status, text, was_replay) = match replayed {
        Some((s, b)) => (s, b, true),
        None => {
            let (s, b) = st.replies.pop_front().unwrap_or((500, "{}".into()));
            if let Some(k) = &seen.idempotency_key {
                st.by_key.insert(k.clone(), (s, b.clone()));
            }
            (s, b, false)
        }
    };
    let mut resp = (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json")],
        text,
    )
        .into_response();
    if was_replay {
        resp.headers_mut()
            .insert("idempotent-replayed", "true".parse().unwrap());
    }
    resp
}

/// `a=1&b%5Bc%5D=2` into pairs (enough for the driver's forms).
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("EUR").unwrap())
}

fn src() -> StoredPaymentMethod {
    StoredPaymentMethod {
        customer_ref: "cus_1".into(),
        payment_method_ref: "pm_1".into(),
    }
}

fn charge(key: &str) -> ChargeRequest {
    ChargeRequest {
        source: src(),
        amount: eur(995),
        idempotency_key: key.into(),
        reference: Some("INV-1".into()),
        attempt: 1,
    }
}

#[tokio::test]
async fn every_post_carries_the_key_the_bearer_and_a_form() {
    let stub = Stub::start().await;
    let gw = stub.gateway();
    stub.reply(200, json!({"object": "list", "data": []}));
    stub.reply(200, json!({"id": "cus_1", "object": "customer"}));
    stub.reply(
        200,
        json!({"id": "pi_1", "object": "payment_intent", "status": "succeeded"}),
    );
    stub.reply(
        200,
        json!({"id": "re_1", "object": "refund", "status": "succeeded"}),
    );
    gw.test_connection().await.unwrap();
    let c = gw
        .create_customer(&NewCustomer {
            reference: "client-42".into(),
            name: Some("Acme".into()),
            email: None,
            description: None,
            token: PaymentToken::stripe("pm_1"),
            idempotency_key: "cust-42".into(),
        })
        .await
        .unwrap();
    assert_eq!(c.stored(), Some(&src()));
    assert_eq!(
        gw.charge(&charge("pay-1")).await.unwrap(),
        ChargeOutcome::Charged {
            id: "pi_1".into(),
            replayed: false
        }
    );
    let r = gw
        .refund(&RefundRequest {
            charge_id: "pi_1".into(),
            amount: None,
            idempotency_key: "ref-1".into(),
            attempt: 1,
        })
        .await
        .unwrap();
    assert_eq!(
        r,
        RefundOutcome::Refunded {
            id: "re_1".into(),
            kind: RefundKind::Refund,
            replayed: false
        }
    );

    let seen = stub.seen();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/v1/customers")
    );
    assert_eq!(seen[0].idempotency_key, None);
    for (s, key) in seen[1..].iter().zip(["cust-42", "pay-1", "ref-1"]) {
        assert_eq!(s.method, "POST");
        assert_eq!(
            s.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(s.idempotency_key.as_deref(), Some(key), "{s:?}");
        assert!(s
            .content_type
            .as_deref()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded"));
    }
    assert_eq!(seen[1].path, "/v1/customers");
    assert_eq!(seen[1].param("payment_method"), Some("pm_1"));
    assert_eq!(
        seen[1].param("invoice_settings[default_payment_method]"),
        Some("pm_1")
    );
    assert_eq!(
        seen[1].param("metadata[hostdesk_reference]"),
        Some("client-42")
    );
    let pi = &seen[2];
    assert_eq!(pi.path, "/v1/payment_intents");
    assert_eq!(pi.param("amount"), Some("995"));
    assert_eq!(pi.param("currency"), Some("eur"));
    assert_eq!(pi.param("customer"), Some("cus_1"));
    assert_eq!(pi.param("payment_method"), Some("pm_1"));
    assert_eq!(pi.param("off_session"), Some("true"));
    assert_eq!(pi.param("confirm"), Some("true"));
    assert_eq!(pi.param("metadata[hostdesk_reference]"), Some("INV-1"));
    assert_eq!(seen[3].path, "/v1/refunds");
    assert_eq!(seen[3].param("payment_intent"), Some("pi_1"));
    assert_eq!(
        seen[3].param("amount"),
        None,
        "a full refund sends no amount"
    );
}

#[tokio::test]
async fn a_repeated_key_gets_the_first_answer() {
    let stub = Stub::start().await;
    let gw = stub.gateway();
    stub.reply(
        200,
        json!({"id": "pi_first", "object": "payment_intent", "status": "succeeded"}),
    );
    stub.reply(
        200,
        json!({"id": "pi_second", "object": "payment_intent", "status": "succeeded"}),
    );
    let a = gw.charge(&charge("pay-same")).await.unwrap();
    let b = gw.charge(&charge("pay-same")).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a.charge_id(), Some("pi_first"));
    let keys: Vec<_> = stub.seen().into_iter().map(|s| s.idempotency_key).collect();
    assert_eq!(
        keys,
        vec![Some("pay-same".to_owned()), Some("pay-same".to_owned())]
    );
}

#[tokio::test]
async fn stripe_402_shapes() {
    let stub = Stub::start().await;
    let gw = stub.gateway();
    stub.reply(402, json!({"error": {"type": "card_error", "code": "authentication_required",
        "decline_code": "authentication_required", "message": "Your card was declined. This transaction requires authentication.",
        "payment_intent": {"id": "pi_auth", "status": "requires_payment_method"}}}));
    stub.reply(402, json!({"error": {"type": "card_error", "code": "card_declined",
        "decline_code": "insufficient_funds", "message": "Your card has insufficient funds.",
        "charge": "ch_x", "payment_intent": {"id": "pi_nsf", "status": "requires_payment_method"}}}));
    stub.reply(
        402,
        json!({"error": {"type": "card_error", "code": "expired_card",
        "message": "Your card has expired.", "payment_intent": {"id": "pi_exp"}}}),
    );
    match gw.charge(&charge("p1")).await.unwrap() {
        ChargeOutcome::AuthenticationRequired { code, id, message } => {
            assert_eq!(code, "authentication_required");
            assert_eq!(id.as_deref(), Some("pi_auth"));
            assert!(message.contains("authentication"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        gw.charge(&charge("p2")).await.unwrap(),
        ChargeOutcome::Declined {
            code: "insufficient_funds".into(),
            message: "Your card has insufficient funds.".into(),
            id: Some("pi_nsf".into())
        }
    );
    match gw.charge(&charge("p3")).await.unwrap() {
        ChargeOutcome::Declined { code, .. } => assert_eq!(code, "expired_card"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn payment_intent_statuses() {
    let stub = Stub::start().await;
    let gw = stub.gateway();
    stub.reply(200, json!({"id": "pi_p", "status": "processing"}));
    stub.reply(200, json!({"id": "pi_r", "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "decline_code": "do_not_honor", "message": "Declined."}}));
    stub.reply(200, json!({"id": "pi_a", "status": "requires_action"}));
    stub.reply(200, json!({"id": "pi_w", "status": "weird"}));
    assert!(
        matches!(gw.charge(&charge("s1")).await.unwrap(), ChargeOutcome::Pending { id, .. } if id == "pi_p")
    );
    assert!(
        matches!(gw.charge(&charge("s2")).await.unwrap(), ChargeOutcome::Declined { code, .. } if code == "do_not_honor")
    );
    assert!(matches!(
        gw.charge(&charge("s3")).await.unwrap(),
        ChargeOutcome::AuthenticationRequired { .. }
    ));
    let err = gw.charge(&charge("s4")).await.unwrap_err();
    assert!(matches!(err, RemoteError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn http_failures_and_refund_refusals() {
    let stub = Stub::start().await;
    let gw = stub.gateway();
    stub.reply(
        500,
        json!({"error": {"type": "api_error", "message": "An unknown error occurred"}}),
    );
    stub.reply(
        429,
        json!({"error": {"type": "invalid_request_error", "code": "rate_limit"}}),
    );
    stub.reply(
        401,
        json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}),
    );
    stub.reply(400, json!({"error": {"type": "invalid_request_error", "code": "parameter_invalid_integer", "param": "amount"}}));
    stub.reply_raw(200, "<html>a proxy login page</html>");
    stub.reply(
        400,
        json!({"error": {"type": "invalid_request_error", "code": "charge_already_refunded",
        "message": "Charge ch_1 has already been refunded."}}),
    );
    let e = gw.charge(&charge("h1")).await.unwrap_err();
    assert!(
        matches!(e, RemoteError::Http { status: 500, .. }) && e.is_retryable(),
        "{e:?}"
    );
    let e = gw.charge(&charge("h2")).await.unwrap_err();
    assert!(
        matches!(e, RemoteError::Http { status: 429, .. }) && e.is_retryable(),
        "{e:?}"
    );
    let e = gw.charge(&charge("h3")).await.unwrap_err();
    assert!(
        matches!(e, RemoteError::Auth { status: 401, .. }) && !e.is_retryable(),
        "{e:?}"
    );
    let e = gw.charge(&charge("h4")).await.unwrap_err();
    assert!(
        matches!(e, RemoteError::Http { status: 400, .. }) && !e.is_retryable(),
        "{e:?}"
    );
    let e = gw.charge(&charge("h5")).await.unwrap_err();
    assert!(
        matches!(e, RemoteError::Protocol { .. }) && !e.is_retryable(),
        "{e:?}"
    );
    let r = gw
        .refund(&RefundRequest {
            charge_id: "ch_1".into(),
            amount: Some(eur(100)),
            idempotency_key: "h6".into(),
            attempt: 1,
        })
        .await
        .unwrap();
    assert!(
        matches!(r, RefundOutcome::Rejected { ref code, .. } if code == "charge_already_refunded"),
        "{r:?}"
    );
    let last = stub.seen().pop().unwrap();
    assert_eq!(
        last.param("charge"),
        Some("ch_1"),
        "a ch_ id is refunded as a charge"
    );
    // Local refusals: nothing is sent.
    let before = stub.seen().len();
    let mut kwd = charge("k1");
    kwd.amount = Money::new(1255, Currency::from_code("KWD").unwrap());
    assert!(matches!(
        gw.charge(&kwd).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    assert!(matches!(
        gw.charge(&charge("has space")).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    let mut zero = charge("z");
    zero.amount = eur(0);
    assert!(matches!(
        gw.charge(&zero).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    assert_eq!(stub.seen().len(), before);
}

#[tokio::test]
async fn the_secret_key_is_never_printed() {
    let stub = Stub::start().await;
    let gw = stub.gateway();
    // A server that echoes the key back in an error body.
    stub.reply(
        400,
        json!({"error": {"message": format!("Invalid API Key provided: {KEY}")}}),
    );
    stub.reply(500, json!({"error": {"message": format!("boom {KEY}")}}));
    let mut printed = vec![format!("{:?}", gw.config()), format!("{gw:?}")];
    for k in ["e1", "e2"] {
        let e = gw.charge(&charge(k)).await.unwrap_err();
        printed.push(format!("{e} {e:?}"));
        printed.push(serde_json::to_string(&e).unwrap());
    }
    for p in &printed {
        assert!(!p.contains("WIRESECRET"), "the key leaked: {p}");
    }
    assert!(
        printed.iter().any(|p| p.contains("<redacted>")),
        "{printed:?}"
    );
}
