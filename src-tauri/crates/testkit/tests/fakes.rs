#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The fakes' wire contract, checked with a plain HTTP client (independently of the drivers).

use std::time::Duration;

use hostdesk_testkit::{FakeAegir, FakeWhm, Fault, AEGIR_ENDPOINT};
use serde_json::Value;

fn client() -> reqwest::Client {
    hostdesk_remote::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

#[tokio::test]
async fn aegir_wire_contract() {
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(2);
    let c = client();
    let url = |p: &str| format!("{}{AEGIR_ENDPOINT}{p}", fake.base_url());

    // No api-key: 401.
    let r = c.get(url("/site.json")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    let post = |form: Vec<(&'static str, &'static str)>| {
        c.post(url("/task"))
            .header("api-key", fake.api_key())
            .form(&form)
            .send()
    };
    // Outside the master domain: HTTP 200 with `false`.
    let r = post(vec![
        ("type", "install"),
        ("target", "shop.example.com"),
        ("options[profile]", "standard"),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "false");
    // Missing `target`: Services' 406.
    let r = post(vec![("type", "clone")]).await.unwrap();
    assert_eq!(r.status(), 406);

    // A task record, Drupal style (numbers as strings), task_status 0.
    let r = post(vec![
        ("type", "install"),
        ("target", "shop.hosting.test"),
        ("options[profile]", "standard"),
    ])
    .await
    .unwrap();
    let task: Value = r.json().await.unwrap();
    assert_eq!(task["task_type"], "install");
    assert_eq!(task["task_status"], "0");
    let nid = task["nid"].as_str().unwrap().to_owned();
    let get = |p: String| c.get(url(&p)).header("api-key", fake.api_key()).send();
    let status = |v: &Value| v["task_status"].as_str().unwrap().to_owned();
    let t1: Value = get(format!("/task/{nid}.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status(&t1), "-1");
    let t2: Value = get(format!("/task/{nid}.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status(&t2), "1");
    let site: Value = get("/site/shop.hosting.test.json".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(site["site_status"], "1");
    assert_eq!(site["profile"], "standard");
    let r = get("/site/none.hosting.test.json".into()).await.unwrap();
    assert_eq!(r.status(), 404);
    let profiles: Value = c
        .get(url("/profile.json?machine_names=1"))
        .header("api-key", fake.api_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(profiles
        .as_object()
        .unwrap()
        .values()
        .any(|v| v == "openatrium"));

    assert_eq!(fake.count("task.create"), 3);
    assert_eq!(fake.count_tasks("install"), 1);
    assert_eq!(fake.count("task.retrieve"), 2);
}

#[tokio::test]
async fn whm_wire_contract() {
    let fake = FakeWhm::start().await;
    let c = client();
    let auth = format!("whm {}:{}", fake.user(), fake.token());
    let call = |f: &str, q: &str| {
        c.get(format!("{}/json-api/{f}?{q}", fake.base_url()))
            .header("authorization", auth.clone())
            .send()
    };
    // GET with query parameters works as well as POST forms.
    let v: Value = call(
        "createacct",
        "api.version=1&username=acme&domain=acme.test&contactemail=a%40acme.test",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(v["metadata"]["result"], 1);
    // A failure is HTTP 200 with result 0 and a reason.
    let r = call(
        "createacct",
        "api.version=1&username=acme&domain=acme2.test",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["metadata"]["result"], 0);
    assert!(v["metadata"]["reason"]
        .as_str()
        .unwrap()
        .contains("already exists"));
    // Without api.version=1: the legacy shape (no metadata).
    let v: Value = call("listaccts", "").await.unwrap().json().await.unwrap();
    assert!(v.get("metadata").is_none());
    // A wrong token: 403.
    let r = c
        .get(format!(
            "{}/json-api/listaccts?api.version=1",
            fake.base_url()
        ))
        .header("authorization", "whm root:nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(fake.count("createacct"), 2);
    assert_eq!(fake.accounts().len(), 1);
}

#[tokio::test]
async fn faults_listening_and_the_log() {
    let fake = FakeWhm::start().await;
    let c = client();
    let url = format!("{}/json-api/version?api.version=1", fake.base_url());
    let auth = format!("whm {}:{}", fake.user(), fake.token());
    let get = || c.get(&url).header("authorization", auth.clone()).send();

    fake.fail_next("version", 2, Fault::Status(502));
    assert_eq!(get().await.unwrap().status(), 502);
    assert_eq!(get().await.unwrap().status(), 502);
    assert_eq!(get().await.unwrap().status(), 200);

    fake.fail_all(Fault::Garbage);
    let body = get().await.unwrap().text().await.unwrap();
    assert!(body.contains("<html>") || body.contains("<!DOCTYPE html>"));
    fake.clear_faults();

    fake.fail_next("version", 1, Fault::Delay(Duration::from_millis(200)));
    let t = std::time::Instant::now();
    assert_eq!(get().await.unwrap().status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(200));

    fake.fail_next("version", 1, Fault::Hang);
    assert!(get().await.unwrap_err().is_timeout());

    fake.stop_listening();
    assert!(get().await.unwrap_err().is_connect());
    fake.resume_listening();
    assert_eq!(get().await.unwrap().status(), 200);

    let log = fake.requests();
    assert_eq!(log.len(), fake.count("version"));
    assert_eq!(log[0].fault.as_deref(), Some("status 502"));
    assert_eq!(log[2].fault, None);
}
