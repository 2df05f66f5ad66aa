//! The commercial model at scale: 100,000 clients and 250,000 subscriptions.
//! Prints p50/p95 of search-as-you-type and of sorted, filtered pages of 100 rows, and how long
//! the app takes to open on that database. Goals (2 cores): search p95 < 10 ms,
//! page p95 < 20 ms, open < 1 s.

use std::time::Instant;

use hostdesk_app::store::clients::{ClientQuery, ClientSort};
use hostdesk_app::{clients, status, Clock, Workspace};
use hostdesk_bench::{percentiles, seed, typed_prefixes};

fn main() {
    let n_clients: usize = std::env::var("CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let n_subs: usize = std::env::var("SUBSCRIPTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    {
        let mut ws = Workspace::open(&path, Clock::System).expect("open");
        let took = seed(&mut ws, n_clients, n_subs);
        let s = status::report(&ws).expect("status");
        println!(
            "seeded {} clients, {} subscriptions, {} sites in {:.1} s",
            s.clients,
            s.subscriptions,
            s.sites,
            took.as_secs_f64()
        );
    }

    // What the app does when its window opens: open + migrate check, dashboard counts, first
    // page of the clients table.
    let t = Instant::now();
    let ws = Workspace::open(&path, Clock::System).expect("open");
    let counts = status::report(&ws).expect("status");
    let first = clients::query(
        &ws,
        &ClientQuery {
            limit: 100,
            ..Default::default()
        },
    )
    .expect("page");
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(first.total, Some(counts.clients));

    let prefixes = typed_prefixes(400);
    let (s50, s95) = percentiles(prefixes.len(), |i| {
        clients::search(&ws, &prefixes[i], 20).expect("search");
    });
    // The table's search: the (capped) total count plus the first page, sorted by name.
    let (t50, t95) = percentiles(prefixes.len(), |i| {
        let q = ClientQuery {
            search: prefixes[i].clone(),
            limit: 100,
            ..Default::default()
        };
        clients::query(&ws, &q).expect("query");
    });
    let products = ["oa-site", "drupal-site", "reseller-account"];
    // The same, filtered by a product too.
    let (f50, f95) = percentiles(prefixes.len(), |i| {
        let q = ClientQuery {
            search: prefixes[i].clone(),
            product: Some(products[i % products.len()].into()),
            limit: 100,
            ..Default::default()
        };
        clients::query(&ws, &q).expect("query");
    });
    let mut r = fastrand::Rng::with_seed(3);
    let sorts = [
        ClientSort::Name,
        ClientSort::Email,
        ClientSort::Created,
        ClientSort::Status,
    ];
    let queries: Vec<ClientQuery> = (0..400)
        .map(|_| ClientQuery {
            search: String::new(),
            status: if r.bool() {
                Some(["active", "suspended", "closed"][r.usize(..3)].into())
            } else {
                None
            },
            product: if r.bool() {
                Some(products[r.usize(..3)].into())
            } else {
                None
            },
            sort: sorts[r.usize(..sorts.len())],
            descending: r.bool(),
            offset: r.i64(0..(n_clients as i64 / 20)) * 10,
            limit: 100,
        })
        .collect();
    let (p50, p95) = percentiles(queries.len(), |i| {
        clients::query(&ws, &queries[i]).expect("page");
    });
    if std::env::var_os("VERBOSE").is_some() {
        let mut slow: Vec<(f64, String)> = queries
            .iter()
            .map(|q| {
                let t = Instant::now();
                clients::query(&ws, q).expect("page");
                (t.elapsed().as_secs_f64() * 1000.0, format!("{q:?}"))
            })
            .collect();
        slow.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ms, q) in slow.iter().take(12) {
            println!("  slow page {ms:>7.2} ms  {q}");
        }
        let mut slow: Vec<(f64, &String)> = prefixes
            .iter()
            .map(|p| {
                let t = Instant::now();
                clients::search(&ws, p, 20).expect("search");
                (t.elapsed().as_secs_f64() * 1000.0, p)
            })
            .collect();
        slow.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ms, p) in slow.iter().take(8) {
            println!("  slow search {ms:>7.2} ms  {p:?}");
        }
    }
    let deep: Vec<ClientQuery> = (0..200)
        .map(|_| ClientQuery {
            offset: r.i64(0..n_clients as i64 - 100),
            limit: 100,
            ..Default::default()
        })
        .collect();
    let (d50, d95) = percentiles(deep.len(), |i| {
        clients::query(&ws, &deep[i]).expect("page");
    });

    println!("clients-bench ({n_clients} clients, {n_subs} subscriptions)");
    println!("  open (dashboard counts + first page): {open_ms:>7.1} ms   goal < 1000 ms");
    println!(
        "  search as you type, top 20:  p50 {s50:>6.2} ms  p95 {s95:>6.2} ms   goal p95 < 10 ms"
    );
    println!("  table search, count + page:  p50 {t50:>6.2} ms  p95 {t95:>6.2} ms");
    println!("  the same, of one product:    p50 {f50:>6.2} ms  p95 {f95:>6.2} ms");
    println!(
        "  sorted, filtered page (100): p50 {p50:>6.2} ms  p95 {p95:>6.2} ms   goal p95 < 20 ms"
    );
    println!("  unfiltered page at any depth: p50 {d50:>6.2} ms  p95 {d95:>6.2} ms");
}
