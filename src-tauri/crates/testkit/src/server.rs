//! The machinery the fakes share: a loopback listener that can be stopped and restarted
//! (connection refused), a log of every request received, and fault injection.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde::Serialize;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::{AbortHandle, JoinHandle};

/// A failure the fake produces instead of (or around) its normal reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Reply with this HTTP status and a short HTML body; nothing happens.
    Status(u16),
    /// Wait this long, then handle the request normally (a slow server).
    Delay(Duration),
    /// Never answer; nothing happens (the client's timeout fires).
    Hang,
    /// HTTP 200 with an HTML page instead of JSON; nothing happens.
    Garbage,
    /// HTTP 200 with an empty body; nothing happens.
    Empty,
    /// HTTP 200 with the body `false` (how Services reports a refused call); nothing happens.
    False,
    /// Handle the request (the effect happens) and then never answer: a lost reply.
    DropReply,
}

impl Fault {
    fn label(&self) -> String {
        match self {
            Fault::Status(s) => format!("status {s}"),
            Fault::Delay(d) => format!("delay {} ms", d.as_millis()),
            Fault::Hang => "hang".into(),
            Fault::Garbage => "garbage".into(),
            Fault::Empty => "empty".into(),
            Fault::False => "false".into(),
            Fault::DropReply => "drop reply".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    /// `None`: every endpoint.
    endpoint: Option<String>,
    fault: Fault,
    /// `None`: until cleared.
    remaining: Option<u32>,
}

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The fake's name for the endpoint: the WHM function (`createacct`), or for Aegir
    /// `site.index`, `site.retrieve`, `profile.index`, `task.create`, `task.retrieve`.
    pub endpoint: String,
    /// Query and form parameters in order (a `password` or `key` value, a secret, is logged as `<redacted>`).
    pub params: Vec<(String, String)>,
    /// Whether the credentials were right.
    pub authorized: bool,
    /// The fault applied, if any.
    pub fault: Option<String>,
}

impl LoggedRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A request handed to a fake's handler.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub params: Vec<(String, String)>,
    /// The raw body (a JSON API reads it with [`Incoming::json`]; forms are in `params`).
    pub body: Bytes,
}

impl Incoming {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON when it is sent as `application/json` and parses.
    pub fn json(&self) -> Option<serde_json::Value> {
        let is_json = self
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        is_json
            .then(|| serde_json::from_slice(&self.body).ok())
            .flatten()
    }
}

/// What a fake tells the shared machinery about a request before handling it.
pub(crate) struct Classified {
    pub endpoint: String,
    pub authorized: bool,
}

/// The protocol-specific part of a fake.
pub(crate) trait Backend: Send + Sync + 'static {
    fn classify(&self, req: &Incoming) -> Classified;
    /// The reply when the credentials are wrong.
    fn unauthorized(&self) -> Response;
    /// The normal reply (and its effect on the fake's state).
    fn handle(&self, req: &Incoming) -> Response;
}

#[derive(Default)]
struct Shared {
    log: Vec<LoggedRequest>,
    rules: VecDeque<Rule>,
}

struct Running {
    accept: JoinHandle<()>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
}

/// A fake HTTP server on 127.0.0.1. Dropping it stops it.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    router: Router,
    running: Mutex<Option<Running>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not hide the state from the others.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl FakeServer {
    pub(crate) async fn start(backend: Arc<dyn Backend>) -> FakeServer {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let s2 = shared.clone();
        let router = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let backend = backend.clone();
                let shared = s2.clone();
                async move { dispatch(backend, shared, method, uri, headers, body).await }
            },
        );
        #[allow(clippy::expect_used)]
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("cannot listen on 127.0.0.1 for a fake server");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("the fake's address");
        let server = FakeServer {
            addr,
            shared,
            router,
            running: Mutex::new(None),
        };
        server.serve(listener);
        server
    }

    fn serve(&self, listener: TcpListener) {
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let c2 = conns.clone();
        let router = self.router.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let service = TowerToHyperService::new(router.clone());
                let task = tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                let mut list = lock(&c2);
                list.retain(|h| !h.is_finished());
                list.push(task.abort_handle());
            }
        });
        *lock(&self.running) = Some(Running { accept, conns });
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the listening socket and every open connection: new connections are refused.
    pub fn stop_listening(&self) {
        if let Some(r) = lock(&self.running).take() {
            r.accept.abort();
            for c in lock(&r.conns).drain(..) {
                c.abort();
            }
        }
    }

    /// Listens again on the same port after [`FakeServer::stop_listening`].
    pub fn resume_listening(&self) {
        if lock(&self.running).is_some() {
            return;
        }
        #[allow(clippy::expect_used)]
        let listener = bind(self.addr).expect("cannot listen again on the fake's port");
        self.serve(listener);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared).log.clone()
    }

    /// How many requests reached this endpoint (faulted ones included).
    pub fn count(&self, endpoint: &str) -> usize {
        lock(&self.shared)
            .log
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .count()
    }

    pub fn clear_log(&self) {
        lock(&self.shared).log.clear();
    }

    /// Every request to `endpoint` gets `fault` until [`FakeServer::clear_faults`].
    pub fn fail(&self, endpoint: &str, fault: Fault) {
        self.add_rule(Some(endpoint), fault, None);
    }

    /// The next `n` requests to `endpoint` get `fault`; later ones succeed.
    pub fn fail_next(&self, endpoint: &str, n: u32, fault: Fault) {
        self.add_rule(Some(endpoint), fault, Some(n));
    }

    /// Every request, whatever its endpoint, gets `fault` until cleared.
    pub fn fail_all(&self, fault: Fault) {
        self.add_rule(None, fault, None);
    }

    /// The next `n` requests, whatever their endpoint, get `fault`.
    pub fn fail_all_next(&self, n: u32, fault: Fault) {
        self.add_rule(None, fault, Some(n));
    }

    pub fn clear_faults(&self) {
        lock(&self.shared).rules.clear();
    }

    fn add_rule(&self, endpoint: Option<&str>, fault: Fault, remaining: Option<u32>) {
        lock(&self.shared).rules.push_back(Rule {
            endpoint: endpoint.map(str::to_owned),
            fault,
            remaining,
        });
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop_listening();
    }
}

async fn dispatch(
    backend: Arc<dyn Backend>,
    shared: Arc<Mutex<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params: Vec<(String, String)> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let is_form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        params.extend(form_urlencoded::parse(&body).into_owned());
    }
    let req = Incoming {
        method: method.clone(),
        path: uri.path().to_owned(),
        headers,
        params,
        body,
    };
    let class = backend.classify(&req);
    let fault = {
        let mut sh = lock(&shared);
        let idx = sh.rules.iter().position(|r| {
            r.endpoint.as_deref().is_none_or(|e| e == class.endpoint) && r.remaining != Some(0)
        });
        let fault = idx.and_then(|i| {
            let rule = sh.rules.get_mut(i)?;
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            Some(rule.fault.clone())
        });
        sh.rules.retain(|r| r.remaining != Some(0));
        sh.log.push(LoggedRequest {
            method: method.to_string(),
            path: req.path.clone(),
            endpoint: class.endpoint.clone(),
            params: req
                .params
                .iter()
                .map(|(k, v)| {
                    let v = if k == "password" || k == "key" {
                        "<redacted>".into()
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
            authorized: class.authorized,
            fault: fault.as_ref().map(Fault::label),
        });
        fault
    };
    let normal = |backend: &Arc<dyn Backend>| {
        if class.authorized {
            backend.handle(&req)
        } else {
            backend.unauthorized()
        }
    };
    match fault {
        None => normal(&backend),
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [("content-type", "text/html")],
                format!("<html><body><h1>{status}</h1><p>injected fault</p></body></html>"),
            )
                .into_response()
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            normal(&backend)
        }
        Some(Fault::Hang) => std::future::pending().await,
        Some(Fault::Garbage) => (
            StatusCode::OK,
            [("content-type", "text/html")],
            "<!DOCTYPE html><html><head><title>Log in</title></head><body>Please log in</body></html>",
        )
            .into_response(),
        Some(Fault::Empty) => (StatusCode::OK, [("content-type", "application/json")], "")
            .into_response(),
        Some(Fault::False) => (StatusCode::OK, [("content-type", "application/json")], "false")
            .into_response(),
        Some(Fault::DropReply) => {
            let _ = normal(&backend);
            std::future::pending().await
        }
    }
}

/// JSON reply helper.
pub(crate) fn json_reply(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A TCP server on 127.0.0.1 that answers every connection with plain-text HTTP, whatever is
/// sent: an `https://` client gets garbage where a TLS handshake should be.
pub struct PlainTextServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl PlainTextServer {
    pub async fn start() -> PlainTextServer {
        #[allow(clippy::expect_used)]
        let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("listen");
        #[allow(clippy::expect_used)]
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        PlainTextServer { addr, task }
    }

    /// `https://127.0.0.1:PORT`: a URL whose TLS handshake fails.
    pub fn https_url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

impl Drop for PlainTextServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
