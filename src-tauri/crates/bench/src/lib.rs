//! Shared pieces of the benchmarks: a large realistic workspace and percentile reporting.

use std::time::{Duration, Instant};

use hostdesk_app::core::client::{ClientDraft, ClientStatus};
use hostdesk_app::store::subscriptions::{self, NewSubscription};
use hostdesk_app::store::{catalog, clients};
use hostdesk_app::{demo, Workspace};

const FIRST: &[&str] = &[
    "Anna", "Ben", "Camille", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kai",
    "Lea", "Mia", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wen",
    "Yui", "Zoe",
];
const LAST: &[&str] = &[
    "Martin",
    "Keller",
    "Ito",
    "Smith",
    "Jansen",
    "Dubois",
    "Schneider",
    "Tanaka",
    "Bennett",
    "Fischer",
    "Moreau",
    "Wagner",
    "Rossi",
    "Silva",
    "Novak",
    "Berg",
    "Costa",
    "Weber",
    "Laurent",
    "Nakamura",
    "Hughes",
    "Kowalski",
    "Olsen",
    "Petit",
    "Romero",
];
const WORDS: &[&str] = &[
    "Atelier",
    "Harbour",
    "Northwind",
    "Summit",
    "Lotus",
    "Alpine",
    "Copper",
    "Riverside",
    "Prairie",
    "Lighthouse",
    "Greenleaf",
    "Blue",
    "Heron",
    "Pioneer",
    "Castle",
    "Valley",
    "Studio",
    "Labs",
    "Cooperative",
    "Trust",
    "Clinic",
    "Academy",
    "Roasters",
    "Supply",
    "Works",
];

fn pick<'a>(r: &mut fastrand::Rng, list: &[&'a str]) -> &'a str {
    list[r.usize(..list.len())]
}

/// Fills `ws` (demo catalog first) up to `n_clients` clients and `n_subs` subscriptions with a
/// site each for site packages. Returns the time it took.
pub fn seed(ws: &mut Workspace, n_clients: usize, n_subs: usize) -> Duration {
    let t = Instant::now();
    demo::load(ws).expect("demo catalog");
    let mut r = fastrand::Rng::with_seed(42);
    ws.write(|tx, ctx| {
        let products: Vec<(i64, bool)> = ["oa-site", "drupal-site", "reseller-account"]
            .iter()
            .map(|c| {
                (
                    catalog::product_id(tx, c).unwrap_or(1),
                    *c != "reseller-account",
                )
            })
            .collect();
        let first_new = tx.query_row("SELECT coalesce(max(id), 0) + 1 FROM clients", [], |r| {
            r.get::<_, i64>(0)
        })?;
        let existing: i64 = tx.query_row("SELECT count(*) FROM clients", [], |r| r.get(0))?;
        for i in existing as usize..n_clients {
            let company = r.u8(..3) == 0;
            let name = if company {
                format!("{} {} {}", pick(&mut r, WORDS), pick(&mut r, WORDS), i)
            } else {
                format!("{} {} {}", pick(&mut r, FIRST), pick(&mut r, LAST), i)
            };
            let mut f = ClientDraft {
                name: name.clone(),
                email: format!("c{i}@{}.example", pick(&mut r, LAST).to_lowercase()),
                currency: "EUR".into(),
                timezone: "Europe/Paris".into(),
                ..Default::default()
            }
            .validate(1)
            .expect("valid seed client");
            f.status = match r.u8(..20) {
                0 => ClientStatus::Suspended,
                1 => ClientStatus::Closed,
                _ => ClientStatus::Active,
            };
            clients::insert(tx, &f, &ctx.at)?;
        }
        let last_id = first_new + (n_clients as i64) - existing - 1;
        let existing_subs: i64 =
            tx.query_row("SELECT count(*) FROM subscriptions", [], |r| r.get(0))?;
        for s in existing_subs as usize..n_subs {
            let client_id = r.i64(first_new..=last_id.max(first_new));
            let (product_id, is_site) = products[r.usize(..products.len())];
            let id = subscriptions::insert(
                tx,
                &NewSubscription {
                    client_id,
                    product_id,
                    kit_id: None,
                    tier_id: None,
                    currency: "EUR",
                    period: "month",
                    price_minor: 995,
                    state: "active",
                    anchor_day: 1,
                    started_on: "2026-01-01",
                    next_due_on: Some("2026-12-01"),
                    expires_on: None,
                    choices: &[],
                    quotas: &[],
                },
                &ctx.at,
            )?;
            if is_site {
                subscriptions::insert_site(
                    tx,
                    id,
                    &format!("site{s}.sites.example.net"),
                    "",
                    "",
                    "active",
                    &ctx.at,
                )?;
            }
        }
        Ok(())
    })
    .expect("seed");
    t.elapsed()
}

/// Runs `f` `n` times and returns (p50, p95) in milliseconds.
pub fn percentiles(n: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
    let mut times: Vec<Duration> = (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(times[n / 2]), ms(times[(n * 95 / 100).min(n - 1)]))
}

/// Random search prefixes as people type them: 1 to 6 letters of a name in use.
pub fn typed_prefixes(n: usize) -> Vec<String> {
    let mut r = fastrand::Rng::with_seed(7);
    (0..n)
        .map(|_| {
            let word = match r.u8(..3) {
                0 => pick(&mut r, FIRST),
                1 => pick(&mut r, LAST),
                _ => pick(&mut r, WORDS),
            };
            let len = r.usize(1..=word.len().min(6));
            word[..len].to_lowercase()
        })
        .collect()
}
