#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! StripeGateway against the real `localstripe` server (PyPI), started on a free loopback port
//! by each test. Without localstripe these tests fail and say `pip install localstripe`.
//!
//! The PaymentMethods are made the way Stripe.js makes them in the customer's browser (a
//! `POST /v1/payment_methods` with a test card); the driver itself only ever sends their ids.

use std::sync::Arc;

use hostdesk_core::{Currency, Money};
use hostdesk_remote::*;
use hostdesk_testkit::LocalStripe;
use serde_json::Value;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("EUR").unwrap())
}

/// Plays Stripe.js: turns a test card into a PaymentMethod id.
async fn payment_method(ls: &LocalStripe, card: &str) -> String {
    install_crypto_provider();
    let v: Value = reqwest::Client::new()
        .post(format!("{}/v1/payment_methods", ls.base_url()))
        .bearer_auth(LocalStripe::SECRET_KEY)
        .form(&[
            ("type", "card"),
            ("card[number]", card),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_str().unwrap().to_owned()
}

fn new_customer(pm: &str, key: &str) -> NewCustomer {
    NewCustomer {
        reference: "client-42".into(),
        name: Some("Acme Ltd".into()),
        email: Some("billing@acme.test".into()),
        description: None,
        token: PaymentToken::stripe(pm),
        idempotency_key: key.into(),
    }
}

async fn stored(ls: &LocalStripe, gw: &dyn PaymentGateway, card: &str) -> StoredPaymentMethod {
    let pm = payment_method(ls, card).await;
    match gw
        .create_customer(&new_customer(&pm, &format!("cust-{pm}")))
        .await
        .unwrap()
    {
        CustomerOutcome::Created {
            stored,
            already_existed,
        } => {
            assert!(!already_existed);
            assert!(stored.customer_ref.starts_with("cus_"), "{stored:?}");
            assert_eq!(stored.payment_method_ref, pm);
            stored
        }
        other => panic!("{card}: {other:?}"),
    }
}

fn charge(src: &StoredPaymentMethod, minor: i64, key: &str) -> ChargeRequest {
    ChargeRequest {
        source: src.clone(),
        amount: eur(minor),
        idempotency_key: key.into(),
        reference: Some("INV-2026-000123".into()),
        attempt: 1,
    }
}

async fn get(ls: &LocalStripe, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}{path}", ls.base_url()))
        .bearer_auth(LocalStripe::SECRET_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn customer_charge_and_refunds() {
    let ls = LocalStripe::start();
    let gw: Arc<dyn PaymentGateway> = Arc::new(ls.gateway().unwrap());
    assert_eq!(gw.kind(), GatewayKind::Stripe);
    gw.test_connection().await.unwrap();

    let src = stored(&ls, gw.as_ref(), "4242424242424242").await;
    let customer = get(&ls, &format!("/v1/customers/{}", src.customer_ref)).await;
    assert_eq!(customer["email"], "billing@acme.test");
    assert_eq!(customer["metadata"]["hostdesk_reference"], "client-42");
    assert_eq!(
        customer["invoice_settings"]["default_payment_method"],
        src.payment_method_ref.as_str()
    );

    let out = gw.charge(&charge(&src, 995, "pay-1")).await.unwrap();
    let ChargeOutcome::Charged { id, replayed } = &out else {
        panic!("{out:?}")
    };
    assert!(id.starts_with("pi_"));
    assert!(!replayed);
    let pi = get(&ls, &format!("/v1/payment_intents/{id}")).await;
    assert_eq!(pi["status"], "succeeded");
    assert_eq!(pi["amount"], 995);
    assert_eq!(pi["currency"], "eur");
    assert_eq!(pi["customer"], src.customer_ref.as_str());
    assert_eq!(pi["payment_method"], src.payment_method_ref.as_str());
    assert_eq!(pi["metadata"]["hostdesk_reference"], "INV-2026-000123");

    // A partial refund, then the rest.
    let r1 = gw
        .refund(&RefundRequest {
            charge_id: id.clone(),
            amount: Some(eur(300)),
            idempotency_key: "ref-1".into(),
            attempt: 1,
        })
        .await
        .unwrap();
    let RefundOutcome::Refunded {
        id: r1_id,
        kind,
        replayed,
    } = &r1
    else {
        panic!("{r1:?}")
    };
    assert!(r1_id.starts_with("re_"));
    assert_eq!(*kind, RefundKind::Refund);
    assert!(!replayed);
    let refund = get(&ls, &format!("/v1/refunds/{r1_id}")).await;
    assert_eq!(refund["amount"], 300);
    assert_eq!(refund["payment_intent"], id.as_str());
    let r2 = gw
        .refund(&RefundRequest {
            charge_id: id.clone(),
            amount: Some(eur(695)),
            idempotency_key: "ref-2".into(),
            attempt: 1,
        })
        .await
        .unwrap();
    assert!(
        matches!(
            r2,
            RefundOutcome::Refunded {
                kind: RefundKind::Refund,
                ..
            }
        ),
        "{r2:?}"
    );
    let ch = pi["latest_charge"]["id"]
        .as_str()
        .or(pi["latest_charge"].as_str())
        .unwrap();
    let ch = get(&ls, &format!("/v1/charges/{ch}")).await;
    assert_eq!(ch["amount_refunded"], 995);
    assert_eq!(ch["refunded"], true);
    // Note: localstripe does not check what is left to refund (Stripe answers
    // `charge_already_refunded` / `amount_too_large`, which the driver turns into
    // `RefundOutcome::Rejected`; see payments_stripe_wire.rs).
}

#[tokio::test]
async fn a_declining_card_is_declined() {
    let ls = LocalStripe::start();
    let gw = ls.gateway().unwrap();
    // 4000000000000341: attaches to the customer; every charge is declined.
    let src = stored(&ls, &gw, "4000000000000341").await;
    let out = gw.charge(&charge(&src, 2000, "pay-d")).await.unwrap();
    match &out {
        ChargeOutcome::Declined { code, message, id } => {
            assert_eq!(code, "card_declined");
            assert_eq!(message, "Your card was declined.");
            // localstripe names the failed charge (Stripe names the PaymentIntent).
            assert!(
                id.as_deref().is_some_and(|i| i.starts_with("ch_")),
                "{id:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!out.is_charged());
}

#[tokio::test]
async fn cards_declined_when_saved_are_not_stored() {
    let ls = LocalStripe::start();
    let gw = ls.gateway().unwrap();
    // 4000000000009995 (insufficient funds) and 4000000000000002 (generic decline): localstripe
    // declines them when they are attached to the customer.
    for card in ["4000000000009995", "4000000000000002"] {
        let pm = payment_method(&ls, card).await;
        match gw
            .create_customer(&new_customer(&pm, &format!("cust-{card}")))
            .await
            .unwrap()
        {
            CustomerOutcome::Declined { code, message } => {
                assert_eq!(code, "card_declined", "{card}");
                assert!(message.contains("declined"), "{message}");
            }
            other => panic!("{card}: {other:?}"),
        }
    }
    // An Authorize.net nonce is refused before anything is sent.
    let mut wrong = new_customer("pm_x", "cust-x");
    wrong.token = PaymentToken::accept_nonce("nonce");
    assert!(matches!(
        gw.create_customer(&wrong).await,
        Err(RemoteError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn a_card_that_needs_3d_secure_asks_for_the_customer() {
    let ls = LocalStripe::start();
    let gw = ls.gateway().unwrap();
    // 4000002500003155: localstripe leaves the confirmed PaymentIntent in `requires_action`
    // (HTTP 200) even off session; Stripe answers 402 `authentication_required` (tested on the
    // wire in payments_stripe_wire.rs). Both are AuthenticationRequired.
    let src = stored(&ls, &gw, "4000002500003155").await;
    let out = gw.charge(&charge(&src, 5000, "pay-3ds")).await.unwrap();
    match &out {
        ChargeOutcome::AuthenticationRequired { code, id, .. } => {
            assert_eq!(code, "authentication_required");
            let id = id.as_deref().unwrap();
            assert!(id.starts_with("pi_"));
            let pi = get(&ls, &format!("/v1/payment_intents/{id}")).await;
            assert_eq!(pi["status"], "requires_action");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn localstripe_ignores_idempotency_keys() {
    let ls = LocalStripe::start();
    let gw = ls.gateway().unwrap();
    let src = stored(&ls, &gw, "4242424242424242").await;
    let a = gw.charge(&charge(&src, 700, "pay-same")).await.unwrap();
    let b = gw.charge(&charge(&src, 700, "pay-same")).await.unwrap();
    // Stripe would answer the second request with the first PaymentIntent (the driver sends the
    // same Idempotency-Key: payments_stripe_wire.rs checks the header). localstripe does not
    // implement idempotency keys, so it makes a second charge: this asserts that, so a
    // localstripe that starts honouring them shows up here.
    let (ChargeOutcome::Charged { id: ida, .. }, ChargeOutcome::Charged { id: idb, .. }) = (&a, &b)
    else {
        panic!("{a:?} {b:?}")
    };
    assert_ne!(
        ida, idb,
        "localstripe now honours Idempotency-Key: update this test and the docs"
    );
}

#[tokio::test]
async fn bad_key_and_a_stopped_server() {
    let ls = LocalStripe::start();
    let mut cfg = ls.stripe_config().unwrap();
    // A key localstripe refuses (it wants `sk_` and more than 5 characters), set past the
    // config's own check.
    cfg.secret_key = Secret::new("sk_");
    let err = StripeGateway::new(cfg)
        .unwrap()
        .test_connection()
        .await
        .unwrap_err();
    assert!(
        matches!(err, RemoteError::Auth { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());

    let gw = ls.gateway().unwrap();
    let src = StoredPaymentMethod {
        customer_ref: "cus_nope".into(),
        payment_method_ref: "pm_card_visa".into(),
    };
    // An unknown customer: localstripe's 404, an HTTP error that is not retried.
    let err = gw.charge(&charge(&src, 100, "pay-404")).await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 404, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());

    let url = ls.base_url();
    drop(ls);
    let mut cfg = StripeConfig::with_base_url(&url, Secret::new(LocalStripe::SECRET_KEY)).unwrap();
    cfg.http = hostdesk_testkit::drivers::test_http();
    let err = StripeGateway::new(cfg)
        .unwrap()
        .charge(&charge(&src, 100, "pay-down"))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn a_missing_localstripe_says_how_to_install_it() {
    let err = LocalStripe::try_start_with(std::path::Path::new("/nonexistent/bin/localstripe"))
        .unwrap_err();
    assert!(err.contains("pip install localstripe"), "{err}");
    assert!(hostdesk_testkit::LOCALSTRIPE_MISSING.contains("pip install localstripe"));
}
