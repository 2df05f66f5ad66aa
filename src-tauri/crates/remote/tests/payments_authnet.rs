#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! AuthorizeNetGateway against FakeAuthnet: approve, decline, held, duplicates and retries,
//! refunds and voids, the BOM, transport faults, and secrets never printed.

use std::sync::Arc;
use std::time::Duration;

use hostdesk_core::{Currency, Money};
use hostdesk_remote::payments::authnet::short_ref;
use hostdesk_remote::*;
use hostdesk_testkit::authnet::{DECLINE_ZIP, TRIGGER_CARD, VISA};
use hostdesk_testkit::{authnet_config, authnet_gateway, FakeAuthnet, Fault};

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::from_code("USD").unwrap())
}

fn customer(fake: &FakeAuthnet, reference: &str, card: &str, zip: &str) -> NewCustomer {
    NewCustomer {
        reference: reference.into(),
        name: Some("Acme Ltd".into()),
        email: Some("billing@acme.test".into()),
        description: Some("Acme (client 42)".into()),
        token: PaymentToken::accept_nonce(fake.accept_nonce(card, zip)),
        idempotency_key: format!("cust-{reference}"),
    }
}

async fn stored(
    fake: &FakeAuthnet,
    gw: &dyn PaymentGateway,
    reference: &str,
    card: &str,
    zip: &str,
) -> StoredPaymentMethod {
    match gw
        .create_customer(&customer(fake, reference, card, zip))
        .await
        .unwrap()
    {
        CustomerOutcome::Created {
            stored,
            already_existed,
        } => {
            assert!(!already_existed);
            stored
        }
        other => panic!("expected a stored card, got {other:?}"),
    }
}

fn charge(source: &StoredPaymentMethod, minor: i64, key: &str) -> ChargeRequest {
    ChargeRequest {
        source: source.clone(),
        amount: usd(minor),
        idempotency_key: key.into(),
        reference: Some("INV-2026-000123".into()),
        attempt: 1,
    }
}

fn refund(charge_id: &str, amount: Option<i64>, key: &str) -> RefundRequest {
    RefundRequest {
        charge_id: charge_id.into(),
        amount: amount.map(usd),
        idempotency_key: key.into(),
        attempt: 1,
    }
}

#[tokio::test]
async fn customer_then_approved_charge() {
    let fake = FakeAuthnet::start().await;
    let gw: Arc<dyn PaymentGateway> = Arc::new(authnet_gateway(&fake).unwrap());
    assert_eq!(gw.kind(), GatewayKind::AuthorizeNet);
    gw.test_connection().await.unwrap();

    let src = stored(&fake, gw.as_ref(), "client-42", VISA, "10001").await;
    let profiles = fake.profiles();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].customer_profile_id, src.customer_ref);
    assert_eq!(profiles[0].merchant_customer_id, "client-42");
    assert_eq!(
        profiles[0].payment_profiles[0].customer_payment_profile_id,
        src.payment_method_ref
    );

    let out = gw.charge(&charge(&src, 995, "pay-1")).await.unwrap();
    let ChargeOutcome::Charged { id, replayed } = &out else {
        panic!("{out:?}")
    };
    assert!(!replayed);
    let t = fake.transaction(id).unwrap();
    assert_eq!(t.amount_cents, 995);
    assert_eq!(t.status, "capturedPendingSettlement");
    assert_eq!(t.invoice_number.as_deref(), Some("pay-1"));
    assert_eq!(t.ref_id.as_deref(), Some("pay-1"));

    // The wire: amount as a decimal string, the profile, the key as invoiceNumber, the window.
    let req = fake
        .requests()
        .into_iter()
        .rfind(|r| r.endpoint == "createTransactionRequest")
        .unwrap();
    assert!(req.authorized);
    assert_eq!(
        req.param("transactionRequest.transactionType"),
        Some("authCaptureTransaction")
    );
    assert_eq!(req.param("transactionRequest.amount"), Some("9.95"));
    assert_eq!(
        req.param("transactionRequest.profile.customerProfileId"),
        Some(src.customer_ref.as_str())
    );
    assert_eq!(
        req.param("transactionRequest.profile.paymentProfile.paymentProfileId"),
        Some(src.payment_method_ref.as_str())
    );
    assert_eq!(
        req.param("transactionRequest.order.invoiceNumber"),
        Some("pay-1")
    );
    assert_eq!(
        req.param("transactionRequest.order.description"),
        Some("INV-2026-000123")
    );
    assert_eq!(
        req.param("transactionRequest.transactionSettings.setting.0.settingName"),
        Some("duplicateWindow")
    );
    assert_eq!(
        req.param("transactionRequest.transactionSettings.setting.0.settingValue"),
        Some("28800")
    );
    assert_eq!(
        req.param("merchantAuthentication.transactionKey"),
        Some("<redacted>")
    );
    // The customer was stored from the Accept.js nonce: no card number ever went over the wire.
    for body in fake.bodies() {
        let s = body.to_string();
        assert!(!s.contains(VISA), "a card number was sent: {s}");
        assert!(!s.contains("cardNumber"), "{s}");
    }
    let create = fake
        .bodies()
        .into_iter()
        .find(|b| b.get("createCustomerProfileRequest").is_some())
        .unwrap();
    assert_eq!(
        create["createCustomerProfileRequest"]["profile"]["paymentProfiles"]["payment"]
            ["opaqueData"]["dataDescriptor"],
        "COMMON.ACCEPT.INAPP.PAYMENT"
    );
}

#[tokio::test]
async fn declines_and_held_and_errors() {
    let fake = FakeAuthnet::start().await;
    let gw = authnet_gateway(&fake).unwrap();
    // The sandbox's decline zip.
    let declining = stored(&fake, &gw, "client-decl", VISA, DECLINE_ZIP).await;
    let out = gw
        .charge(&charge(&declining, 1000, "pay-d1"))
        .await
        .unwrap();
    match &out {
        ChargeOutcome::Declined { code, message, id } => {
            assert_eq!(code, "card_declined");
            assert!(message.contains("declined"), "{message}");
            let t = fake.transaction(id.as_deref().unwrap()).unwrap();
            assert_eq!(t.status, "declined");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out.charge_id().map(str::len), Some(11));
    assert!(!out.is_charged());

    // The trigger card: the dollar amount is the reason code.
    let trig = stored(&fake, &gw, "client-trig", TRIGGER_CARD, "10001").await;
    match gw.charge(&charge(&trig, 2700, "pay-t27")).await.unwrap() {
        ChargeOutcome::Declined { code, .. } => assert_eq!(code, "avs_mismatch"),
        other => panic!("{other:?}"),
    }
    match gw.charge(&charge(&trig, 800, "pay-t8")).await.unwrap() {
        ChargeOutcome::Declined { code, id, .. } => {
            assert_eq!(code, "expired_card");
            assert_eq!(id, None, "an error (code 3) makes no transaction");
        }
        other => panic!("{other:?}"),
    }
    match gw.charge(&charge(&trig, 25200, "pay-t252")).await.unwrap() {
        ChargeOutcome::Pending { id, message } => {
            assert_eq!(fake.transaction(&id).unwrap().status, "FDSPendingReview");
            assert!(message.contains("252"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Reason 19, "try again in 5 minutes": the API said no; not a transport failure.
    let err = gw
        .charge(&charge(&trig, 1900, "pay-t19"))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Remote { .. }), "{err:?}");
    assert!(err.to_string().contains("reason 19"), "{err}");
    // An unknown payment profile.
    let bogus = StoredPaymentMethod {
        customer_ref: trig.customer_ref.clone(),
        payment_method_ref: "1".into(),
    };
    let err = gw.charge(&charge(&bogus, 100, "pay-x")).await.unwrap_err();
    assert!(err.to_string().contains("E00040"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn the_same_key_twice_charges_once() {
    let fake = FakeAuthnet::start().await;
    let gw = authnet_gateway(&fake).unwrap();
    let src = stored(&fake, &gw, "client-dup", VISA, "10001").await;
    let first = gw.charge(&charge(&src, 4999, "pay-dup")).await.unwrap();
    let ChargeOutcome::Charged { id: first_id, .. } = first else {
        panic!("{first:?}")
    };
    // A second request with the same key: Authorize.net answers "duplicate" (3 / 11) with the
    // first transId, which the driver reports as the first charge, replayed.
    let second = gw.charge(&charge(&src, 4999, "pay-dup")).await.unwrap();
    assert_eq!(
        second,
        ChargeOutcome::Charged {
            id: first_id.clone(),
            replayed: true
        }
    );
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 1);
    assert_eq!(fake.count("createTransactionRequest"), 2);
    // Another key for the same amount is a new charge.
    let third = gw.charge(&charge(&src, 4999, "pay-dup-2")).await.unwrap();
    assert!(
        matches!(&third, ChargeOutcome::Charged { id, replayed: false } if *id != first_id),
        "{third:?}"
    );
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 2);

    // A duplicate of a declined charge is that decline.
    let declining = stored(&fake, &gw, "client-dd", VISA, DECLINE_ZIP).await;
    let d1 = gw.charge(&charge(&declining, 100, "pay-dd")).await.unwrap();
    let d2 = gw.charge(&charge(&declining, 100, "pay-dd")).await.unwrap();
    assert!(matches!(d1, ChargeOutcome::Declined { .. }));
    match d2 {
        ChargeOutcome::Declined { code, id, .. } => {
            assert_eq!(code, "card_declined");
            assert_eq!(id, d1.charge_id().map(str::to_owned));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn long_keys_become_stable_twenty_character_references() {
    let fake = FakeAuthnet::start().await;
    let gw = authnet_gateway(&fake).unwrap();
    let src = stored(&fake, &gw, "client-long", VISA, "10001").await;
    let key = "charge:invoice:INV-2026-000123:attempt:1";
    let out = gw.charge(&charge(&src, 1234, key)).await.unwrap();
    let t = fake.transaction(out.charge_id().unwrap()).unwrap();
    assert_eq!(t.invoice_number.as_deref(), Some(short_ref(key).as_str()));
    assert_eq!(t.invoice_number.as_ref().unwrap().len(), 20);
}

#[tokio::test]
async fn a_lost_reply_then_a_retry_charges_once() {
    let fake = FakeAuthnet::start().await;
    let gw = authnet_gateway(&fake).unwrap();
    let src = stored(&fake, &gw, "client-lost", VISA, "10001").await;
    // The charge happens, the reply never comes: a timeout, which is retryable.
    fake.fail_next("createTransactionRequest", 1, Fault::DropReply);
    let err = gw
        .charge(&charge(&src, 2500, "pay-lost"))
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 1);
    // The job queue retries (attempt 2): the driver finds the charge by its invoice number.
    let mut retry = charge(&src, 2500, "pay-lost");
    retry.attempt = 2;
    let out = gw.charge(&retry).await.unwrap();
    assert!(
        matches!(out, ChargeOutcome::Charged { replayed: true, .. }),
        "{out:?}"
    );
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 1);
    assert_eq!(fake.count("getTransactionListForCustomerRequest"), 1);
    assert_eq!(
        fake.count("createTransactionRequest"),
        1,
        "the retry did not charge again"
    );

    // Eight hours and more later the duplicate window is over; the list still finds it.
    fake.advance_clock(Duration::from_secs(9 * 3600));
    let out2 = gw.charge(&retry).await.unwrap();
    assert_eq!(out2, out);
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 1);
    // A first attempt after the window (attempt 1 does not look) would be a new charge: that is
    // why retries must say they are retries.
    let fresh = gw.charge(&charge(&src, 2500, "pay-lost")).await.unwrap();
    assert!(
        matches!(
            fresh,
            ChargeOutcome::Charged {
                replayed: false,
                ..
            }
        ),
        "{fresh:?}"
    );
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 2);
}

#[tokio::test]
async fn customer_creation_is_idempotent() {
    let fake = FakeAuthnet::start().await;
    let gw = authnet_gateway(&fake).unwrap();
    let req = customer(&fake, "client-7", VISA, "10001");
    fake.fail_next("createCustomerProfileRequest", 1, Fault::DropReply);
    let err = gw.create_customer(&req).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(
        fake.profiles().len(),
        1,
        "the profile was made; the reply was lost"
    );
    // The retry sends the same (now used) nonce: E00039 duplicate profile, then the card cannot
    // be added again (E00114, the nonce is spent): the driver returns the stored card.
    let again = gw.create_customer(&req).await.unwrap();
    let profile = &fake.profiles()[0];
    assert_eq!(
        again,
        CustomerOutcome::Created {
            stored: StoredPaymentMethod {
                customer_ref: profile.customer_profile_id.clone(),
                payment_method_ref: profile.payment_profiles[0]
                    .customer_payment_profile_id
                    .clone(),
            },
            already_existed: true,
        }
    );
    assert_eq!(fake.profiles().len(), 1);
    assert_eq!(fake.profiles()[0].payment_profiles.len(), 1);

    // The same client with a new card: the profile is reused and the card added to it.
    let mut new_card = customer(&fake, "client-7", "5424000000000015", "10001");
    new_card.idempotency_key = "cust-client-7-b".into();
    let out = gw.create_customer(&new_card).await.unwrap();
    let stored = out.stored().unwrap();
    assert_eq!(stored.customer_ref, profile.customer_profile_id);
    assert_ne!(
        stored.payment_method_ref,
        profile.payment_profiles[0].customer_payment_profile_id
    );
    assert_eq!(fake.profiles()[0].payment_profiles.len(), 2);

    // A nonce that is spent or made up: the card is not stored.
    let mut spent = customer(&fake, "client-8", VISA, "10001");
    spent.token = PaymentToken::accept_nonce("not-a-nonce");
    match gw.create_customer(&spent).await.unwrap() {
        CustomerOutcome::Declined { code, message } => {
            assert_eq!(code, "invalid_token");
            assert!(message.contains("E00114"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A Stripe token is refused locally.
    let mut wrong = customer(&fake, "client-9", VISA, "10001");
    wrong.token = PaymentToken::stripe("pm_card_visa");
    assert!(matches!(
        gw.create_customer(&wrong).await,
        Err(RemoteError::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn refunds_void_unsettled_and_refund_settled() {
    let fake = FakeAuthnet::start().await;
    let gw = authnet_gateway(&fake).unwrap();
    let src = stored(&fake, &gw, "client-r", VISA, "10001").await;
    let a = gw.charge(&charge(&src, 3000, "pay-r1")).await.unwrap();
    let a_id = a.charge_id().unwrap().to_owned();

    // Unsettled: part of it cannot be refunded yet; all of it is a void.
    match gw
        .refund(&refund(&a_id, Some(1000), "ref-a1"))
        .await
        .unwrap()
    {
        RefundOutcome::Rejected { code, .. } => assert_eq!(code, "not_settled"),
        other => panic!("{other:?}"),
    }
    let v = gw.refund(&refund(&a_id, None, "ref-a2")).await.unwrap();
    assert_eq!(
        v,
        RefundOutcome::Refunded {
            id: a_id.clone(),
            kind: RefundKind::Void,
            replayed: false
        }
    );
    assert_eq!(fake.transaction(&a_id).unwrap().status, "voided");
    // Again: already voided.
    let v2 = gw.refund(&refund(&a_id, None, "ref-a2")).await.unwrap();
    assert!(
        matches!(
            v2,
            RefundOutcome::Refunded {
                kind: RefundKind::Void,
                replayed: true,
                ..
            }
        ),
        "{v2:?}"
    );

    // Settled: a partial refund, then the rest, then too much.
    let b = gw.charge(&charge(&src, 5000, "pay-r2")).await.unwrap();
    let b_id = b.charge_id().unwrap().to_owned();
    fake.settle_all();
    let r1 = gw
        .refund(&refund(&b_id, Some(2000), "ref-b1"))
        .await
        .unwrap();
    let RefundOutcome::Refunded {
        id: r1_id,
        kind: RefundKind::Refund,
        replayed: false,
    } = &r1
    else {
        panic!("{r1:?}")
    };
    let t = fake.transaction(r1_id).unwrap();
    assert_eq!(t.transaction_type, "refundTransaction");
    assert_eq!(t.amount_cents, 2000);
    assert_eq!(t.ref_trans_id.as_deref(), Some(b_id.as_str()));
    assert_eq!(
        t.customer_profile_id.as_deref(),
        Some(src.customer_ref.as_str())
    );
    // The same refund key again: a duplicate of the first refund, not a second refund.
    let r1again = gw
        .refund(&refund(&b_id, Some(2000), "ref-b1"))
        .await
        .unwrap();
    assert_eq!(
        r1again,
        RefundOutcome::Refunded {
            id: r1_id.clone(),
            kind: RefundKind::Refund,
            replayed: true
        }
    );
    assert_eq!(fake.count_transactions("refundTransaction"), 1);
    match gw
        .refund(&refund(&b_id, Some(3500), "ref-b2"))
        .await
        .unwrap()
    {
        RefundOutcome::Rejected { code, .. } => assert_eq!(code, "amount_too_large"),
        other => panic!("{other:?}"),
    }
    let rest = gw
        .refund(&refund(&b_id, Some(3000), "ref-b3"))
        .await
        .unwrap();
    assert!(matches!(
        rest,
        RefundOutcome::Refunded {
            kind: RefundKind::Refund,
            replayed: false,
            ..
        }
    ));
    // A retry after a lost reply (attempt 2) finds the refund by its key.
    let mut retry = refund(&b_id, Some(3000), "ref-b3");
    retry.attempt = 2;
    let found = gw.refund(&retry).await.unwrap();
    assert!(
        matches!(found, RefundOutcome::Refunded { replayed: true, .. }),
        "{found:?}"
    );
    assert_eq!(fake.count_transactions("refundTransaction"), 2);
    // Unknown transaction.
    match gw.refund(&refund("99999", None, "ref-z")).await.unwrap() {
        RefundOutcome::Rejected { code, .. } => assert_eq!(code, "not_found"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn transport_faults_are_typed_and_retryable_when_they_should_be() {
    let fake = FakeAuthnet::start().await;
    let gw = authnet_gateway(&fake).unwrap();
    let src = stored(&fake, &gw, "client-f", VISA, "10001").await;
    let c = charge(&src, 100, "pay-f");

    fake.fail_next("createTransactionRequest", 1, Fault::Status(500));
    let err = gw.charge(&c).await.unwrap_err();
    assert!(
        matches!(err, RemoteError::Http { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());

    fake.fail_next("createTransactionRequest", 1, Fault::Status(503));
    assert!(gw.charge(&c).await.unwrap_err().is_retryable());

    // A maintenance page with HTTP 200: the effect is unknown, not retried automatically.
    fake.fail_next("createTransactionRequest", 1, Fault::Garbage);
    let err = gw.charge(&c).await.unwrap_err();
    assert!(matches!(err, RemoteError::Protocol { .. }), "{err:?}");
    assert!(!err.is_retryable());

    fake.fail_next("createTransactionRequest", 1, Fault::Empty);
    assert!(matches!(
        gw.charge(&c).await.unwrap_err(),
        RemoteError::Protocol { .. }
    ));

    fake.fail_next("createTransactionRequest", 1, Fault::Hang);
    let err = gw.charge(&c).await.unwrap_err();
    assert!(matches!(err, RemoteError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());

    fake.fail_next(
        "createTransactionRequest",
        1,
        Fault::Delay(Duration::from_millis(300)),
    );
    assert!(gw.charge(&c).await.unwrap().is_charged());

    fake.stop_listening();
    let err = gw.charge(&c).await.unwrap_err();
    assert!(matches!(err, RemoteError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
    fake.resume_listening();
    // Nothing charged while faulted, and the retry is the charge made during the delay.
    let out = gw
        .charge(&ChargeRequest {
            attempt: 2,
            ..c.clone()
        })
        .await
        .unwrap();
    assert!(
        matches!(out, ChargeOutcome::Charged { replayed: true, .. }),
        "{out:?}"
    );
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 1);
}

#[tokio::test]
async fn wrong_credentials_and_local_checks() {
    let fake = FakeAuthnet::start().await;
    let mut cfg = authnet_config(&fake).unwrap();
    cfg.transaction_key = Secret::new("WRONGKEY00000000");
    let gw = AuthorizeNetGateway::new(cfg).unwrap();
    let err = gw.test_connection().await.unwrap_err();
    assert!(matches!(err, RemoteError::Auth { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("E00007"), "{err}");

    let good = authnet_gateway(&fake).unwrap();
    let src = StoredPaymentMethod {
        customer_ref: "1".into(),
        payment_method_ref: "2".into(),
    };
    let mut eur = charge(&src, 100, "k");
    eur.amount = Money::new(100, Currency::from_code("EUR").unwrap());
    assert!(matches!(
        good.charge(&eur).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    assert!(matches!(
        good.charge(&charge(&src, 0, "k")).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    assert!(matches!(
        good.charge(&charge(&src, 100, "")).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    let bad_ref = StoredPaymentMethod {
        customer_ref: "cus_123".into(),
        payment_method_ref: "2".into(),
    };
    assert!(matches!(
        good.charge(&charge(&bad_ref, 100, "k")).await,
        Err(RemoteError::InvalidRequest(_))
    ));
    assert_eq!(
        fake.count("createTransactionRequest"),
        0,
        "nothing was sent"
    );
}

#[tokio::test]
async fn configs_errors_and_outcomes_never_show_a_secret() {
    let fake = FakeAuthnet::start().await;
    let key = fake.transaction_key();
    let cfg = authnet_config(&fake).unwrap();
    let gw = authnet_gateway(&fake).unwrap();
    let mut printed = vec![format!("{cfg:?}"), format!("{cfg:#?}"), format!("{gw:?}")];

    let src = stored(&fake, &gw, "client-s", VISA, "10001").await;
    let ok = gw.charge(&charge(&src, 100, "pay-s")).await.unwrap();
    printed.push(format!("{ok:?}"));
    printed.push(serde_json::to_string(&ok).unwrap());

    for fault in [Fault::Status(500), Fault::Garbage, Fault::Hang] {
        fake.fail_next("createTransactionRequest", 1, fault);
        let err = gw.charge(&charge(&src, 100, "pay-s2")).await.unwrap_err();
        printed.push(format!("{err} {err:?}"));
        printed.push(serde_json::to_string(&err).unwrap());
    }
    let mut wrong = authnet_config(&fake).unwrap();
    wrong.transaction_key = Secret::new("WRONGKEY11111111");
    let err = AuthorizeNetGateway::new(wrong.clone())
        .unwrap()
        .test_connection()
        .await
        .unwrap_err();
    printed.push(format!("{err} {err:?} {wrong:?}"));
    fake.stop_listening();
    let err = gw.test_connection().await.unwrap_err();
    printed.push(format!("{err} {err:?}"));

    for p in &printed {
        assert!(!p.contains(&key), "the transaction key leaked: {p}");
        assert!(!p.contains("WRONGKEY"), "a transaction key leaked: {p}");
    }
    // The fake's log redacts it too.
    assert!(fake
        .requests()
        .iter()
        .all(|r| r.param("merchantAuthentication.transactionKey") == Some("<redacted>")));
}
