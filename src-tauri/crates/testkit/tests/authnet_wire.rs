#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! FakeAuthnet's wire contract, checked with a plain HTTP client (independently of the driver):
//! the BOM, element order, credentials, declines, duplicates with and without a window,
//! single-use nonces, settlement, refunds and voids, the transaction list, faults.

use std::time::Duration;

use hostdesk_testkit::authnet::{DECLINE_ZIP, TRIGGER_CARD, VISA};
use hostdesk_testkit::{FakeAuthnet, Fault};
use serde_json::Value;

fn client() -> reqwest::Client {
    hostdesk_remote::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// Sends a raw JSON text (order preserved) and returns the raw body bytes.
async fn raw(fake: &FakeAuthnet, body: String) -> Vec<u8> {
    let r = client()
        .post(fake.endpoint())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    r.bytes().await.unwrap().to_vec()
}

async fn call(fake: &FakeAuthnet, body: String) -> Value {
    let bytes = raw(fake, body).await;
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "no BOM: {}",
        String::from_utf8_lossy(&bytes)
    );
    // Without stripping it, a strict JSON parser fails: that is the point of the BOM.
    assert!(serde_json::from_slice::<Value>(&bytes).is_err());
    serde_json::from_slice(&bytes[3..]).unwrap()
}

fn auth(fake: &FakeAuthnet) -> String {
    format!(
        r#""merchantAuthentication":{{"name":"{}","transactionKey":"{}"}}"#,
        fake.login(),
        fake.transaction_key()
    )
}

fn result(v: &Value) -> (String, String) {
    (
        v["messages"]["resultCode"].as_str().unwrap().to_owned(),
        v["messages"]["message"][0]["code"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

async fn profile(fake: &FakeAuthnet, mcid: &str, card: &str, zip: &str) -> (String, String) {
    let nonce = fake.accept_nonce(card, zip);
    let v = call(
        fake,
        format!(
            r#"{{"createCustomerProfileRequest":{{{},"refId":"c1","profile":{{"merchantCustomerId":"{mcid}","email":"a@b.test","paymentProfiles":{{"customerType":"individual","payment":{{"opaqueData":{{"dataDescriptor":"COMMON.ACCEPT.INAPP.PAYMENT","dataValue":"{nonce}"}}}}}}}}}}}}"#,
            auth(fake)
        ),
    )
    .await;
    assert_eq!(result(&v), ("Ok".into(), "I00001".into()), "{v}");
    assert_eq!(v["refId"], "c1");
    (
        v["customerProfileId"].as_str().unwrap().to_owned(),
        v["customerPaymentProfileIdList"][0]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

fn charge_body(
    fake: &FakeAuthnet,
    p: &(String, String),
    amount: &str,
    invoice: &str,
    window: Option<u32>,
) -> String {
    let settings = window
        .map(|w| format!(r#","transactionSettings":{{"setting":[{{"settingName":"duplicateWindow","settingValue":"{w}"}}]}}"#))
        .unwrap_or_default();
    format!(
        r#"{{"createTransactionRequest":{{{},"refId":"{invoice}","transactionRequest":{{"transactionType":"authCaptureTransaction","amount":"{amount}","profile":{{"customerProfileId":"{}","paymentProfile":{{"paymentProfileId":"{}"}}}},"order":{{"invoiceNumber":"{invoice}"}}{settings}}}}}}}"#,
        auth(fake),
        p.0,
        p.1
    )
}

#[tokio::test]
async fn bom_credentials_and_element_order() {
    let fake = FakeAuthnet::start().await;
    let v = call(
        &fake,
        format!(r#"{{"authenticateTestRequest":{{{}}}}}"#, auth(&fake)),
    )
    .await;
    assert_eq!(result(&v), ("Ok".into(), "I00001".into()));
    let v = call(
        &fake,
        r#"{"authenticateTestRequest":{"merchantAuthentication":{"name":"x","transactionKey":"y"}}}"#.into(),
    )
    .await;
    assert_eq!(result(&v), ("Error".into(), "E00007".into()));
    assert_eq!(
        v["messages"]["message"][0]["text"],
        "User authentication failed due to invalid authentication values."
    );
    // `amount` before `transactionType`: the XSD's sequence is broken.
    let v = call(
        &fake,
        format!(
            r#"{{"createTransactionRequest":{{{},"transactionRequest":{{"amount":"5","transactionType":"authCaptureTransaction"}}}}}}"#,
            auth(&fake)
        ),
    )
    .await;
    assert_eq!(result(&v), ("Error".into(), "E00003".into()));
    let text = v["messages"]["message"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("has invalid child element 'transactionType'"),
        "{text}"
    );
    // `refId` after the request body is out of order too.
    let v = call(
        &fake,
        format!(
            r#"{{"authenticateTestRequest":{{{},"bogus":"1"}}}}"#,
            auth(&fake)
        ),
    )
    .await;
    assert_eq!(result(&v).1, "E00003");
    // Not JSON at all.
    let v = call(&fake, "hello".into()).await;
    assert_eq!(result(&v).0, "Error");
    // The log names the calls and redacts the key.
    let log = fake.requests();
    assert_eq!(log[0].endpoint, "authenticateTestRequest");
    assert!(log[0].authorized);
    assert!(!log[1].authorized);
    assert_eq!(
        log[0].param("merchantAuthentication.transactionKey"),
        Some("<redacted>")
    );
    assert_eq!(fake.count("createTransactionRequest"), 1);
    assert!(fake
        .bodies()
        .iter()
        .all(|b| !b.to_string().contains(&fake.transaction_key())));
}

#[tokio::test]
async fn profiles_nonces_and_duplicates() {
    let fake = FakeAuthnet::start().await;
    let p = profile(&fake, "client-1", VISA, "10001").await;
    assert_eq!(fake.profiles()[0].payment_profiles[0].zip, "10001");
    // The same merchantCustomerId + email: E00039 with the existing id.
    let nonce = fake.accept_nonce(VISA, "10001");
    let body = format!(
        r#"{{"createCustomerProfileRequest":{{{},"profile":{{"merchantCustomerId":"client-1","email":"a@b.test","paymentProfiles":{{"payment":{{"opaqueData":{{"dataDescriptor":"COMMON.ACCEPT.INAPP.PAYMENT","dataValue":"{nonce}"}}}}}}}}}}}}"#,
        auth(&fake)
    );
    let v = call(&fake, body.clone()).await;
    assert_eq!(result(&v), ("Error".into(), "E00039".into()));
    assert_eq!(
        v["messages"]["message"][0]["text"],
        format!("A duplicate record with ID {} already exists.", p.0)
    );
    // A nonce works once.
    let used = call(&fake, body.replace("client-1", "client-2")).await;
    assert_eq!(result(&used).0, "Ok");
    let again = call(&fake, body.replace("client-1", "client-3")).await;
    assert_eq!(result(&again), ("Error".into(), "E00114".into()));
    // ... and only for 15 minutes.
    let late = fake.accept_nonce(VISA, "10001");
    fake.advance_clock(Duration::from_secs(16 * 60));
    let v = call(
        &fake,
        body.replace(&nonce, &late).replace("client-1", "client-4"),
    )
    .await;
    assert_eq!(result(&v).1, "E00114");
    // A second card on the profile; the same card again is E00039 with its id.
    let n2 = fake.accept_nonce("5424000000000015", "10001");
    let add = |nonce: String| {
        format!(
            r#"{{"createCustomerPaymentProfileRequest":{{{},"customerProfileId":"{}","paymentProfile":{{"payment":{{"opaqueData":{{"dataDescriptor":"COMMON.ACCEPT.INAPP.PAYMENT","dataValue":"{nonce}"}}}}}}}}}}"#,
            auth(&fake),
            p.0
        )
    };
    let v = call(&fake, add(n2)).await;
    assert_eq!(result(&v).0, "Ok", "{v}");
    let second = v["customerPaymentProfileId"].as_str().unwrap().to_owned();
    let v = call(&fake, add(fake.accept_nonce("5424000000000015", "10001"))).await;
    assert_eq!(result(&v).1, "E00039");
    assert_eq!(v["customerPaymentProfileId"], second.as_str());
    // Lookup by merchantCustomerId; masked card numbers only.
    let v = call(
        &fake,
        format!(
            r#"{{"getCustomerProfileRequest":{{{},"merchantCustomerId":"client-1"}}}}"#,
            auth(&fake)
        ),
    )
    .await;
    assert_eq!(v["profile"]["customerProfileId"], p.0.as_str());
    assert_eq!(v["profile"]["paymentProfiles"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["profile"]["paymentProfiles"][0]["payment"]["creditCard"]["cardNumber"],
        "XXXX1111"
    );
    assert!(!v.to_string().contains(VISA));
}

#[tokio::test]
async fn charges_declines_and_duplicate_windows() {
    let fake = FakeAuthnet::start().await;
    let p = profile(&fake, "c-ok", VISA, "10001").await;
    let v = call(&fake, charge_body(&fake, &p, "9.95", "inv-1", Some(28800))).await;
    assert_eq!(result(&v), ("Ok".into(), "I00001".into()));
    let t = &v["transactionResponse"];
    assert_eq!(t["responseCode"], "1");
    assert_eq!(
        t["messages"][0]["description"],
        "This transaction has been approved."
    );
    assert_eq!(t["profile"]["customerProfileId"], p.0.as_str());
    let first = t["transId"].as_str().unwrap().to_owned();
    let auth_code = t["authCode"].as_str().unwrap().to_owned();
    assert_eq!(fake.transaction(&first).unwrap().amount_cents, 995);

    // Same amount, profile and invoice with a window: 3 / 11 with the first transaction.
    let v = call(&fake, charge_body(&fake, &p, "9.95", "inv-1", Some(28800))).await;
    assert_eq!(result(&v), ("Error".into(), "E00027".into()));
    let t = &v["transactionResponse"];
    assert_eq!(t["responseCode"], "3");
    assert_eq!(t["errors"][0]["errorCode"], "11");
    assert_eq!(
        t["errors"][0]["errorText"],
        "A duplicate transaction has been submitted."
    );
    assert_eq!(t["transId"], first.as_str());
    assert_eq!(t["authCode"], auth_code.as_str());
    // Without the window setting: the default 2 minutes, and no details.
    let v = call(&fake, charge_body(&fake, &p, "9.95", "inv-1", None)).await;
    assert_eq!(v["transactionResponse"]["errors"][0]["errorCode"], "11");
    assert_eq!(v["transactionResponse"]["transId"], "0");
    // Another invoice number is another transaction; after the window the same one is too.
    let v = call(&fake, charge_body(&fake, &p, "9.95", "inv-2", Some(28800))).await;
    assert_eq!(v["transactionResponse"]["responseCode"], "1");
    fake.advance_clock(Duration::from_secs(28_801));
    let v = call(&fake, charge_body(&fake, &p, "9.95", "inv-1", Some(28800))).await;
    assert_eq!(v["transactionResponse"]["responseCode"], "1");
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 3);

    // Declines: the zip, and the trigger card's amounts.
    let d = profile(&fake, "c-decl", VISA, DECLINE_ZIP).await;
    let v = call(&fake, charge_body(&fake, &d, "10.00", "inv-d", Some(60))).await;
    assert_eq!(result(&v).1, "E00027");
    assert_eq!(v["transactionResponse"]["responseCode"], "2");
    assert_eq!(v["transactionResponse"]["errors"][0]["errorCode"], "2");
    assert_ne!(
        v["transactionResponse"]["transId"], "0",
        "a decline is a recorded transaction"
    );
    let trig = profile(&fake, "c-trig", TRIGGER_CARD, "10001").await;
    for (amount, code, reason) in [
        ("27.00", "2", "27"),
        ("8.00", "3", "8"),
        ("252.00", "4", "252"),
        ("5.00", "1", "1"),
    ] {
        let v = call(
            &fake,
            charge_body(&fake, &trig, amount, &format!("t-{amount}"), Some(60)),
        )
        .await;
        let t = &v["transactionResponse"];
        assert_eq!(t["responseCode"], code, "{amount}: {v}");
        let got = t["errors"][0]["errorCode"]
            .as_str()
            .or(t["messages"][0]["code"].as_str())
            .unwrap();
        assert_eq!(got, reason, "{amount}");
    }
    // A bad amount.
    let v = call(&fake, charge_body(&fake, &p, "1.005", "inv-x", None)).await;
    assert_eq!(v["transactionResponse"]["errors"][0]["errorCode"], "5");

    // The customer's list and the details.
    let v = call(
        &fake,
        format!(
            r#"{{"getTransactionListForCustomerRequest":{{{},"customerProfileId":"{}","customerPaymentProfileId":"{}","sorting":{{"orderBy":"submitTimeUTC","orderDescending":true}},"paging":{{"limit":"100","offset":"1"}}}}}}"#,
            auth(&fake),
            p.0,
            p.1
        ),
    )
    .await;
    let rows = v["transactions"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["transId"], first.as_str(), "newest first");
    assert_eq!(rows[2]["invoiceNumber"], "inv-1");
    assert_eq!(rows[2]["transactionStatus"], "capturedPendingSettlement");
    let v = call(
        &fake,
        format!(
            r#"{{"getTransactionDetailsRequest":{{{},"transId":"{first}"}}}}"#,
            auth(&fake)
        ),
    )
    .await;
    let t = &v["transaction"];
    assert_eq!(t["transactionType"], "authCaptureTransaction");
    assert_eq!(t["authAmount"], "9.95");
    assert_eq!(t["order"]["invoiceNumber"], "inv-1");
    assert_eq!(t["profile"]["customerPaymentProfileId"], p.1.as_str());
    let v = call(
        &fake,
        format!(
            r#"{{"getTransactionDetailsRequest":{{{},"transId":"1"}}}}"#,
            auth(&fake)
        ),
    )
    .await;
    assert_eq!(result(&v).1, "E00040");
}

#[tokio::test]
async fn settlement_refunds_and_voids() {
    let fake = FakeAuthnet::start().await;
    let p = profile(&fake, "c-r", VISA, "10001").await;
    let v = call(&fake, charge_body(&fake, &p, "50.00", "inv-r", Some(60))).await;
    let id = v["transactionResponse"]["transId"]
        .as_str()
        .unwrap()
        .to_owned();
    let refund = |amount: &str, inv: &str| {
        format!(
            r#"{{"createTransactionRequest":{{{},"refId":"{inv}","transactionRequest":{{"transactionType":"refundTransaction","amount":"{amount}","profile":{{"customerProfileId":"{}","paymentProfile":{{"paymentProfileId":"{}"}}}},"refTransId":"{id}","order":{{"invoiceNumber":"{inv}"}},"transactionSettings":{{"setting":[{{"settingName":"duplicateWindow","settingValue":"600"}}]}}}}}}}}"#,
            auth(&fake),
            p.0,
            p.1
        )
    };
    // Not settled yet: reason 54.
    let v = call(&fake, refund("10.00", "r-1")).await;
    assert_eq!(v["transactionResponse"]["errors"][0]["errorCode"], "54");
    fake.settle_all();
    assert_eq!(fake.transaction(&id).unwrap().status, "settledSuccessfully");
    let v = call(&fake, refund("10.00", "r-1")).await;
    assert_eq!(v["transactionResponse"]["responseCode"], "1", "{v}");
    assert_eq!(v["transactionResponse"]["refTransID"], id.as_str());
    let v = call(&fake, refund("45.00", "r-2")).await;
    assert_eq!(v["transactionResponse"]["errors"][0]["errorCode"], "55");
    // A voided transaction: void an unsettled one, twice.
    let v = call(&fake, charge_body(&fake, &p, "7.00", "inv-v", Some(60))).await;
    let vid = v["transactionResponse"]["transId"]
        .as_str()
        .unwrap()
        .to_owned();
    let void = format!(
        r#"{{"createTransactionRequest":{{{},"transactionRequest":{{"transactionType":"voidTransaction","refTransId":"{vid}"}}}}}}"#,
        auth(&fake)
    );
    let v = call(&fake, void.clone()).await;
    assert_eq!(v["transactionResponse"]["responseCode"], "1");
    assert_eq!(fake.transaction(&vid).unwrap().status, "voided");
    let v = call(&fake, void).await;
    assert_eq!(v["transactionResponse"]["messages"][0]["code"], "310");
}

#[tokio::test]
async fn faults_and_listening() {
    let fake = FakeAuthnet::start().await;
    let body = format!(r#"{{"authenticateTestRequest":{{{}}}}}"#, auth(&fake));
    fake.fail_next("authenticateTestRequest", 1, Fault::Status(503));
    let r = client()
        .post(fake.endpoint())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    fake.fail_next("authenticateTestRequest", 1, Fault::Garbage);
    let r = client()
        .post(fake.endpoint())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<html>"));
    // Other paths and methods.
    let r = client()
        .post(format!("{}/other", fake.base_url()))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client().get(fake.endpoint()).send().await.unwrap();
    assert_eq!(r.status(), 405);
    // DropReply: the effect happens, the reply never comes.
    let p = profile(&fake, "c-f", VISA, "10001").await;
    fake.fail_next("createTransactionRequest", 1, Fault::DropReply);
    let err = client()
        .post(fake.endpoint())
        .body(charge_body(&fake, &p, "1.00", "inv-f", None))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(fake.count_transactions("authCaptureTransaction"), 1);
    assert_eq!(
        fake.requests().last().unwrap().fault.as_deref(),
        Some("drop reply")
    );
    fake.stop_listening();
    assert!(client()
        .post(fake.endpoint())
        .body(body.clone())
        .send()
        .await
        .is_err());
    fake.resume_listening();
    let v = call(&fake, body).await;
    assert_eq!(result(&v).0, "Ok");
}
