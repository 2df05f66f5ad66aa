//! The HTTP layer shared by the drivers: one `reqwest` client with verified TLS (rustls, the
//! platform's roots), timeouts, no redirects, and the mapping of transport failures to
//! [`RemoteError`].

use std::error::Error as StdError;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{excerpt, RemoteError};
use crate::secret::{scrub, Secret};

/// Network settings of a driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// How long establishing the TCP + TLS connection may take.
    pub connect_timeout: Duration,
    /// How long a whole request (connect, send, full reply) may take.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// How an asynchronous task is waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollConfig {
    /// The pause between two polls.
    pub interval: Duration,
    /// The longest wait before `wait_task` gives up with [`RemoteError::Timeout`] (the task goes
    /// on remotely; waiting again later picks it up).
    pub timeout: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Parses a server's base URL and refuses plain `http://` to anything but the local machine:
/// tokens must not cross a network in clear text.
pub fn parse_base_url(raw: &str) -> Result<Url, RemoteError> {
    let url = Url::parse(raw.trim())
        .map_err(|e| RemoteError::InvalidRequest(format!("'{raw}' is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(RemoteError::InvalidRequest(format!(
                "'{raw}' uses plain http to a remote host: use https (tokens must not travel in clear text)"
            )))
        }
        other => {
            return Err(RemoteError::InvalidRequest(format!(
                "'{raw}': unsupported scheme '{other}' (use https)"
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RemoteError::InvalidRequest(format!("'{raw}' has no host")));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The base URL as a string without a trailing slash, to append API paths to.
pub(crate) fn root_of(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// A reply whose transport succeeded (any status).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// `METHOD URL` without the query string, for messages.
    pub endpoint: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    secrets: Vec<Secret>,
    request_timeout: Duration,
}

/// Installs rustls' `ring` crypto provider as the process default, unless one is installed.
///
/// reqwest is built with `rustls-no-provider` (no aws-lc build): any `reqwest::Client` built in
/// this process before a provider is installed panics. The drivers call this themselves; call
/// it first if you build another reqwest client before any driver.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which serves as well.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Http {
    pub fn new(config: &HttpConfig, secrets: Vec<Secret>) -> Result<Self, RemoteError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hostdesk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RemoteError::InvalidRequest(format!("cannot set up HTTP: {e}")))?;
        Ok(Http {
            client,
            secrets,
            request_timeout: config.request_timeout,
        })
    }

    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.client.request(method, url)
    }

    /// A header value holding a secret: marked sensitive so no debug output shows it.
    pub fn secret_header(
        name: &'static str,
        value: &str,
    ) -> Result<(HeaderName, HeaderValue), RemoteError> {
        let mut v = HeaderValue::from_str(value).map_err(|_| {
            RemoteError::InvalidRequest(format!("the {name} credential holds invalid characters"))
        })?;
        v.set_sensitive(true);
        Ok((HeaderName::from_static(name), v))
    }

    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets)
    }

    /// Sends and reads the whole reply; transport failures become typed errors.
    pub async fn send(&self, rb: RequestBuilder) -> Result<Reply, RemoteError> {
        let req = rb
            .build()
            .map_err(|e| RemoteError::InvalidRequest(format!("cannot build the request: {e}")))?;
        let endpoint = endpoint_label(req.method(), req.url());
        let resp = match self.client.execute(req).await {
            Ok(r) => r,
            Err(e) => return Err(self.map_transport(&e, &endpoint)),
        };
        let status = resp.status().as_u16();
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return Err(self.map_transport(&e, &endpoint)),
        };
        Ok(Reply {
            status,
            body,
            endpoint,
        })
    }

    /// Sends and insists on a 2xx status: 401/403 become [`RemoteError::Auth`], other statuses
    /// [`RemoteError::Http`] with a scrubbed excerpt of the body.
    pub async fn send_ok(&self, rb: RequestBuilder) -> Result<Reply, RemoteError> {
        let reply = self.send(rb).await?;
        self.check_status(reply)
    }

    pub fn check_status(&self, reply: Reply) -> Result<Reply, RemoteError> {
        match reply.status {
            200..=299 => Ok(reply),
            401 | 403 => Err(RemoteError::Auth {
                endpoint: reply.endpoint,
                status: reply.status,
            }),
            status => Err(RemoteError::Http {
                body: self.scrub(&excerpt(&reply.body)),
                endpoint: reply.endpoint,
                status,
            }),
        }
    }

    /// Parses a JSON body; anything else is a [`RemoteError::Protocol`].
    pub fn json<T: DeserializeOwned>(&self, reply: &Reply) -> Result<T, RemoteError> {
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Err(RemoteError::Protocol {
                endpoint: reply.endpoint.clone(),
                detail: format!("empty body with HTTP {}", reply.status),
            });
        }
        serde_json::from_slice(&reply.body).map_err(|e| RemoteError::Protocol {
            endpoint: reply.endpoint.clone(),
            detail: format!(
                "not the JSON expected ({e}); body: {}",
                self.scrub(&excerpt(&reply.body))
            ),
        })
    }

    fn map_transport(&self, e: &reqwest::Error, endpoint: &str) -> RemoteError {
        classify_transport(e, endpoint, self.request_timeout, &self.secrets)
    }
}

/// `METHOD scheme://host:port/path` (no query: it may carry parameters).
pub(crate) fn endpoint_label(method: &Method, url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    format!("{method} {u}")
}

/// Maps a reqwest transport error by walking its cause chain.
fn classify_transport(
    e: &reqwest::Error,
    endpoint: &str,
    timeout: Duration,
    secrets: &[Secret],
) -> RemoteError {
    let endpoint = endpoint.to_owned();
    if e.is_timeout() {
        return RemoteError::Timeout {
            what: format!("the request {endpoint}"),
            after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        };
    }
    let mut chain: Vec<String> = Vec::new();
    let mut refused = false;
    let mut tls: Option<String> = None;
    let mut io_timeout = false;
    // Walk the causes. `io::Error::source()` skips the error it wraps, and tokio-rustls nests
    // io errors, so unwrap those with `get_ref` too.
    let mut stack: Vec<&(dyn StdError + 'static)> = e.source().into_iter().collect();
    let mut seen = 0;
    while let Some(err) = stack.pop() {
        seen += 1;
        if seen > 32 {
            break;
        }
        chain.push(err.to_string());
        if let Some(te) = err.downcast_ref::<rustls::Error>() {
            tls.get_or_insert_with(|| te.to_string());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => refused = true,
                std::io::ErrorKind::TimedOut => io_timeout = true,
                _ => {}
            }
            if let Some(inner) = io.get_ref() {
                stack.push(inner);
            }
        } else if let Some(next) = err.source() {
            stack.push(next);
        }
    }
    chain.dedup();
    let detail = scrub(&chain.join(": "), secrets);
    let lower = detail.to_ascii_lowercase();
    if refused {
        return RemoteError::Connect {
            endpoint,
            detail:
                "connection refused (nothing listens there: is the server down or the port wrong?)"
                    .into(),
        };
    }
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return RemoteError::Dns { endpoint, detail };
    }
    if let Some(t) = tls {
        return RemoteError::Tls {
            endpoint,
            detail: t,
        };
    }
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return RemoteError::Tls { endpoint, detail };
    }
    if io_timeout {
        return RemoteError::Timeout {
            what: format!("the request {endpoint}"),
            after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        };
    }
    if e.is_decode() {
        return RemoteError::Protocol { endpoint, detail };
    }
    let detail = if detail.is_empty() {
        scrub(&e.to_string(), secrets)
    } else {
        detail
    };
    RemoteError::Connect { endpoint, detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert!(parse_base_url("https://aegir.example.com").is_ok());
        assert!(parse_base_url("http://127.0.0.1:2019").is_ok());
        assert!(parse_base_url("http://localhost:8080/").is_ok());
        assert!(parse_base_url("http://[::1]:8080/").is_ok());
        assert!(matches!(
            parse_base_url("http://whm.example.com:2086"),
            Err(RemoteError::InvalidRequest(_))
        ));
        assert!(parse_base_url("ftp://x.example").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn endpoint_labels_drop_query_and_userinfo() {
        let u = Url::parse("https://u:p@h.example:2087/json-api/createacct?password=x").unwrap();
        assert_eq!(
            endpoint_label(&Method::POST, &u),
            "POST https://h.example:2087/json-api/createacct"
        );
    }
}
