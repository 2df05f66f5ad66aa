//! [`PowerDns`]: zones and records on the reseller's PowerDNS Authoritative server, through its
//! HTTP API (`/api/v1`, header `X-API-Key`; the server's `api=yes`, `api-key=...`,
//! `webserver=yes`).
//!
//! | what | request | success | refusal |
//! |---|---|---|---|
//! | the server | `GET /api/v1/servers/{server}` | `{"type": "Server", "daemon_type": "authoritative", "version": ...}` | 401 bad key, 404 unknown server id |
//! | a zone | `GET /api/v1/servers/{server}/zones/{zone}` | `{"name": "lumiere.fr.", "kind", "serial", "rrsets": [...]}` | 404 (422 on older versions) when there is no such zone |
//! | create | `POST /api/v1/servers/{server}/zones` `{"name", "kind": "Native", "nameservers": [...], "rrsets": [...]}` | 201 with the zone | 409 the zone exists; 422 a bad name or record |
//! | records | `PATCH /api/v1/servers/{server}/zones/{zone}` `{"rrsets": [{"name", "type", "ttl", "changetype": "REPLACE", "records": [{"content", "disabled"}]}]}` | 204 | 422 |
//! | delete | `DELETE /api/v1/servers/{server}/zones/{zone}` | 204 | 404 |
//! | flush the cache | `PUT /api/v1/servers/{server}/cache/flush?domain={zone}` | 200 `{"count": N, "result": ...}` | |
//!
//! Errors come as `{"error": "..."}`. Names are absolute (`lumiere.fr.`). Creating a zone that
//! exists is found (a retry after a lost reply) and its records are set instead: the result is
//! the same zone either way.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use url::Url;

use super::absolute;
use crate::error::{excerpt, RemoteError};
use crate::http::{parse_base_url, root_of, Http, HttpConfig, Reply};
use crate::secret::Secret;

/// How to reach a PowerDNS API. `Debug` shows the key as `<redacted>`.
#[derive(Debug, Clone)]
pub struct PowerDnsConfig {
    /// e.g. `https://dns.example.net:8081` (a test: `http://127.0.0.1:PORT`).
    pub base_url: Url,
    pub api_key: Secret,
    /// The server id in the URL: `localhost` on every PowerDNS Authoritative.
    pub server_id: String,
    pub http: HttpConfig,
}

impl PowerDnsConfig {
    pub fn new(base_url: &str, api_key: Secret) -> Result<Self, RemoteError> {
        if api_key.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the PowerDNS API key is required".into(),
            ));
        }
        Ok(PowerDnsConfig {
            base_url: parse_base_url(base_url)?,
            api_key,
            server_id: "localhost".into(),
            http: HttpConfig::default(),
        })
    }
}

/// One name and type with its records (PowerDNS's RRset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSet {
    /// Absolute or relative to nothing: `lumiere.fr`, `www.lumiere.fr` (a final dot is added).
    pub name: String,
    /// `A`, `AAAA`, `CNAME`, `MX`, `TXT`, `NS`...
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    /// Each record's content as PowerDNS writes it (`203.0.113.10`, `"v=spf1 -all"`, `10 mx.x.`).
    pub records: Vec<String>,
}

impl RecordSet {
    pub fn new(name: &str, rtype: &str, ttl: u32, records: &[&str]) -> RecordSet {
        RecordSet {
            name: name.into(),
            rtype: rtype.into(),
            ttl,
            records: records.iter().map(|r| (*r).to_owned()).collect(),
        }
    }
}

/// A zone as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Zone {
    /// The zone id (`lumiere.fr.`).
    pub id: String,
    pub name: String,
    pub kind: String,
    pub serial: i64,
    pub rrsets: Vec<RecordSet>,
}

impl Zone {
    /// The records of (name, type), if any.
    pub fn records(&self, name: &str, rtype: &str) -> Vec<String> {
        let name = absolute(name);
        self.rrsets
            .iter()
            .filter(|r| r.name == name && r.rtype.eq_ignore_ascii_case(rtype))
            .flat_map(|r| r.records.clone())
            .collect()
    }
}

/// What [`PowerDns::ensure_zone`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneOutcome {
    pub zone: Zone,
    /// false: the zone was there already (its records were set again).
    pub created: bool,
}

/// The PowerDNS Authoritative API client.
#[derive(Debug)]
pub struct PowerDns {
    config: PowerDnsConfig,
    http: Http,
    root: String,
}

impl PowerDns {
    pub fn new(config: PowerDnsConfig) -> Result<Self, RemoteError> {
        let http = Http::new(&config.http, vec![config.api_key.clone()])?;
        let root = format!(
            "{}/api/v1/servers/{}",
            root_of(&config.base_url),
            config.server_id
        );
        Ok(PowerDns { config, http, root })
    }

    pub fn config(&self) -> &PowerDnsConfig {
        &self.config
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, RemoteError> {
        let (name, value) = Http::secret_header("x-api-key", self.config.api_key.expose())?;
        let mut rb = self
            .http
            .request(method, &format!("{}{path}", self.root))
            .header(name, value)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            rb = rb.json(b);
        }
        self.http.send(rb).await
    }

    /// 2xx passes; `{"error": ...}` on a 4xx other than 401/403 is a refusal with its reason.
    fn check(&self, reply: Reply) -> Result<Reply, RemoteError> {
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        if (400..500).contains(&reply.status) && !matches!(reply.status, 401 | 403 | 404) {
            if let Some(msg) = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            {
                return Err(RemoteError::remote(format!(
                    "PowerDNS refused it (HTTP {}): {}",
                    reply.status,
                    self.http.scrub(&msg)
                )));
            }
        }
        self.http.check_status(reply)
    }

    fn zone_path(name: &str) -> String {
        // Zone ids are the absolute name, with '/' escaped as "=2F" (RFC 2317 names).
        format!("/zones/{}", absolute(name).replace('/', "=2F"))
    }

    /// The server's version (proves the URL and the key).
    pub async fn test_connection(&self) -> Result<String, RemoteError> {
        let reply = self.check(self.call(Method::GET, "", None).await?)?;
        let v: Value = self.http.json(&reply)?;
        if v.get("daemon_type").and_then(Value::as_str) != Some("authoritative") {
            return Err(RemoteError::Protocol {
                endpoint: reply.endpoint,
                detail: format!(
                    "not a PowerDNS Authoritative server: {}",
                    excerpt(&reply.body)
                ),
            });
        }
        Ok(format!(
            "PowerDNS Authoritative {}",
            v.get("version").and_then(Value::as_str).unwrap_or("?")
        ))
    }

    fn parse_zone(&self, reply: &Reply) -> Result<Zone, RemoteError> {
        let v: Value = self.http.json(reply)?;
        let bad = |what: &str| RemoteError::Protocol {
            endpoint: reply.endpoint.clone(),
            detail: format!("the zone has no {what}: {}", excerpt(&reply.body)),
        };
        let rrsets = v
            .get("rrsets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|r| {
                Some(RecordSet {
                    name: r.get("name")?.as_str()?.to_owned(),
                    rtype: r.get("type")?.as_str()?.to_owned(),
                    ttl: r
                        .get("ttl")
                        .and_then(Value::as_u64)
                        .and_then(|t| u32::try_from(t).ok())
                        .unwrap_or(0),
                    records: r
                        .get("records")?
                        .as_array()?
                        .iter()
                        .filter(|x| x.get("disabled").and_then(Value::as_bool) != Some(true))
                        .filter_map(|x| x.get("content")?.as_str().map(str::to_owned))
                        .collect(),
                })
            })
            .collect();
        Ok(Zone {
            id: v
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("id"))?
                .to_owned(),
            name: v
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("name"))?
                .to_owned(),
            kind: v
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            serial: v.get("serial").and_then(Value::as_i64).unwrap_or(0),
            rrsets,
        })
    }

    /// The zone, `None` when the server has none of that name.
    pub async fn zone(&self, name: &str) -> Result<Option<Zone>, RemoteError> {
        let reply = self.call(Method::GET, &Self::zone_path(name), None).await?;
        // 404 on current versions; 422 "Could not find domain" on older ones.
        if reply.status == 404
            || (reply.status == 422
                && String::from_utf8_lossy(&reply.body).contains("Could not find domain"))
        {
            return Ok(None);
        }
        let reply = self.check(reply)?;
        self.parse_zone(&reply).map(Some)
    }

    fn rrsets_json(records: &[RecordSet], changetype: Option<&str>) -> Vec<Value> {
        records
            .iter()
            .map(|r| {
                let mut v = json!({
                    "name": absolute(&r.name),
                    "type": r.rtype.to_ascii_uppercase(),
                    "ttl": r.ttl,
                    "records": r.records.iter()
                        .map(|c| json!({"content": c, "disabled": false}))
                        .collect::<Vec<_>>(),
                });
                if let Some(c) = changetype {
                    v["changetype"] = json!(c);
                }
                v
            })
            .collect()
    }

    /// Creates the zone with its name servers and records; a zone that exists already gets
    /// these records (REPLACE) instead, so a retry ends in the same state.
    pub async fn ensure_zone(
        &self,
        name: &str,
        nameservers: &[String],
        records: &[RecordSet],
    ) -> Result<ZoneOutcome, RemoteError> {
        let zone_name = absolute(
            hostdesk_core::validate::domain(name)
                .map_err(|e| RemoteError::InvalidRequest(format!("zone {e}")))?
                .as_str(),
        );
        if nameservers.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "a zone needs its name servers (e.g. ns1.example.net, ns2.example.net)".into(),
            ));
        }
        if self.zone(&zone_name).await?.is_some() {
            self.set_records(&zone_name, records).await?;
            let zone = self.zone(&zone_name).await?.ok_or_else(|| {
                RemoteError::remote(format!("zone {zone_name} vanished while it was updated"))
            })?;
            return Ok(ZoneOutcome {
                zone,
                created: false,
            });
        }
        let body = json!({
            "name": zone_name,
            "kind": "Native",
            "nameservers": nameservers.iter().map(|n| absolute(n)).collect::<Vec<_>>(),
            "soa_edit_api": "DEFAULT",
            "rrsets": Self::rrsets_json(records, None),
        });
        let reply = self.call(Method::POST, "/zones", Some(&body)).await?;
        if reply.status == 409 {
            // Created meanwhile (a lost reply, or another Hostdesk): set the records.
            self.set_records(&zone_name, records).await?;
            let zone = self.zone(&zone_name).await?.ok_or_else(|| {
                RemoteError::remote(format!("zone {zone_name} vanished while it was updated"))
            })?;
            return Ok(ZoneOutcome {
                zone,
                created: false,
            });
        }
        let reply = self.check(reply)?;
        self.flush(&zone_name).await;
        Ok(ZoneOutcome {
            zone: self.parse_zone(&reply)?,
            created: true,
        })
    }

    /// Replaces these (name, type) record sets in the zone; others are left alone.
    pub async fn set_records(&self, zone: &str, records: &[RecordSet]) -> Result<(), RemoteError> {
        if records.is_empty() {
            return Ok(());
        }
        let body = json!({ "rrsets": Self::rrsets_json(records, Some("REPLACE")) });
        let reply = self
            .call(Method::PATCH, &Self::zone_path(zone), Some(&body))
            .await?;
        if reply.status == 404 {
            return Err(RemoteError::remote(format!(
                "PowerDNS has no zone {}",
                absolute(zone)
            )));
        }
        self.check(reply)?;
        self.flush(zone).await;
        Ok(())
    }

    /// Drops the server's cached answers for the zone (`PUT /cache/flush?domain=NAME.`), so a
    /// change is answered at once rather than after the cache's TTL; best effort.
    async fn flush(&self, name: &str) {
        let path = format!("/cache/flush?domain={}", absolute(name));
        let _ = self.call(Method::PUT, &path, None).await;
    }

    /// Deletes the zone; `false` when it was not there.
    pub async fn delete_zone(&self, name: &str) -> Result<bool, RemoteError> {
        let reply = self
            .call(Method::DELETE, &Self::zone_path(name), None)
            .await?;
        if reply.status == 404 {
            return Ok(false);
        }
        self.check(reply)?;
        Ok(true)
    }
}
