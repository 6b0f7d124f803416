//! A small TCP proxy for fault tests and `scripts/bigfleet.sh`: in front of moto (or any
//! loopback server) it passes traffic through, adds latency (per connection or per
//! request), resets connections, or accepts and never answers. The
//! fault can be changed while it runs; a change also cuts the connections already open, so
//! pooled client connections meet the new fault too. Loopback only; stops when dropped.
//!
//! In [`Fault::Inspect`] it reads HTTP: every request is recorded whole (what the acting
//! tests count and read: which API, with which parameters, signed by which key), and a
//! request whose API has an [`Answer`] set gets that answer (a 500, an AccessDenied, or
//! none at all) instead of reaching the upstream.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Bytes go through untouched.
    Pass,
    /// Each connection waits this long before anything goes through.
    Latency(Duration),
    /// Each request waits this long (a region's round trip): a chunk from the client
    /// after the last answer is a new request, since clients keep connections alive.
    PerRequest(Duration),
    /// Each connection is reset (RST) as soon as it is accepted.
    Reset,
    /// Connections are accepted and then nothing is ever said.
    Silent,
    /// Each request is read whole and recorded ([`Proxy::requests`]), then answered as an
    /// [`Answer`] set for its API says, else by the upstream. One request a connection:
    /// every answer says `Connection: close`.
    Inspect,
}

pub struct Proxy {
    pub url: String,
    fault: tokio::sync::watch::Sender<Fault>,
    connections: Arc<AtomicUsize>,
    inspector: Arc<Inspector>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A request the proxy saw in [`Fault::Inspect`], and what it was answered.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The answer's status, headers and body (none while it is awaited, or never given).
    pub status: Option<u16>,
    pub answer_headers: Vec<(String, String)>,
    pub answer: Vec<u8>,
    /// The requests (their indices in [`Proxy::requests`]) that were still unanswered
    /// when this one arrived: what was in flight with it, without a clock.
    pub in_flight_with: Vec<usize>,
}

impl Seen {
    /// A request header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    /// An answer header, by name in any case.
    pub fn answer_header(&self, name: &str) -> Option<&str> {
        find(&self.answer_headers, name)
    }

    /// The API called: the operation of `X-Amz-Target` (JSON protocols:
    /// `AmazonEC2ContainerServiceV20141113.UpdateService` is `UpdateService`), else the
    /// form's `Action` (query protocol: STS, this CloudWatch), else empty.
    pub fn action(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        self.param("Action").unwrap_or_default()
    }

    /// A parameter of a query-protocol (form) body.
    pub fn param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as JSON (JSON protocols).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The access key id the request was signed with (SigV4 `Credential=<key>/...`).
    pub fn access_key(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let credential = auth.split("Credential=").nth(1)?;
        credential.split('/').next()
    }

    /// The region the request was signed for (SigV4 `Credential=<key>/<date>/<region>/...`).
    pub fn region(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let credential = auth.split("Credential=").nth(1)?;
        credential.split('/').nth(2)
    }

    /// The answer's body as text.
    pub fn answer_text(&self) -> String {
        String::from_utf8_lossy(&self.answer).into_owned()
    }
}

fn find<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What the proxy answers, instead of the upstream, to requests for one API.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The API, as [`Seen::action`] names it (`UpdateService`, `AssumeRole`).
    pub action: String,
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// Say nothing at all: the connection stays open, unanswered, until the client gives up.
    pub hang: bool,
    /// Only for requests whose body has this text (an AssumeRole into one account: its id
    /// is in the `RoleArn`); others go to the upstream.
    pub only_when: Option<String>,
}

impl Answer {
    /// A JSON-protocol error (ECS): `{"__type": code, "message": ...}`.
    pub fn json_error(action: &str, status: u16, code: &str) -> Self {
        Self {
            action: action.to_owned(),
            status,
            content_type: "application/x-amz-json-1.1".to_owned(),
            body: serde_json::json!({"__type": code, "message": format!("injected {code}")})
                .to_string(),
            hang: false,
            only_when: None,
        }
    }

    /// The same answer, only for requests whose body has `text`.
    pub fn only_when(mut self, text: &str) -> Self {
        self.only_when = Some(text.to_owned());
        self
    }

    /// A query-protocol error (STS, CloudWatch): an `ErrorResponse` document.
    pub fn query_error(action: &str, status: u16, code: &str) -> Self {
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        Self {
            action: action.to_owned(),
            status,
            content_type: "text/xml".to_owned(),
            body: format!(
                "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>\
                 <Message>injected {code}</Message></Error>\
                 <RequestId>injected-request</RequestId></ErrorResponse>"
            ),
            hang: false,
            only_when: None,
        }
    }

    /// No answer at all.
    pub fn hang(action: &str) -> Self {
        Self {
            action: action.to_owned(),
            status: 0,
            content_type: String::new(),
            body: String::new(),
            hang: true,
            only_when: None,
        }
    }
}

/// What [`Fault::Inspect`] records and answers.
#[derive(Debug, Default)]
struct Inspector {
    seen: Mutex<Vec<Seen>>,
    answers: Mutex<Vec<Answer>>,
    /// The requests not answered yet, by index.
    open: Mutex<std::collections::BTreeSet<usize>>,
    /// How long each request is held before it goes to the upstream.
    hold: Mutex<Duration>,
}

impl Inspector {
    fn record(&self, mut seen: Seen) -> usize {
        let mut all = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        seen.in_flight_with = open.iter().copied().collect();
        all.push(seen);
        open.insert(all.len() - 1);
        all.len() - 1
    }

    fn answered(&self, index: usize, status: u16, headers: Vec<(String, String)>, body: Vec<u8>) {
        let mut all = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&index);
        if let Some(seen) = all.get_mut(index) {
            seen.status = Some(status);
            seen.answer_headers = headers;
            seen.answer = body;
        }
    }

    fn answer_for(&self, action: &str, body: &[u8]) -> Option<Answer> {
        let body = String::from_utf8_lossy(body);
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|a| {
                a.action == action
                    && a.only_when
                        .as_ref()
                        .is_none_or(|t| body.contains(t.as_str()))
            })
            .cloned()
    }
}

impl Proxy {
    /// A proxy to `upstream` (`127.0.0.1:port`), passing traffic through.
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (fault, changes) = tokio::sync::watch::channel(Fault::Pass);
        let connections = Arc::new(AtomicUsize::new(0));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let c = connections.clone();
        let inspector = Arc::new(Inspector::default());
        let inspecting = inspector.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => accepted,
                };
                let Ok((client, _)) = accepted else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let mut changes = changes.clone();
                let fault = *changes.borrow_and_update();
                let upstream = upstream.clone();
                let inspector = inspecting.clone();
                tokio::spawn(async move {
                    // Every connection ends within a minute, or when the fault changes.
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                        _ = changes.changed() => {}
                        () = handle(client, &upstream, fault, &inspector) => {}
                    }
                });
            }
        });
        Self {
            url,
            fault,
            connections,
            inspector,
            _stop: stop,
        }
    }

    /// Changes the fault for new connections.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The requests seen in [`Fault::Inspect`] so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Seen> {
        self.inspector
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The APIs called so far, in order.
    pub fn actions(&self) -> Vec<String> {
        self.requests().iter().map(Seen::action).collect()
    }

    /// Forgets the requests seen so far.
    pub fn forget(&self) {
        self.inspector
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// From now on, requests for `answer.action` get `answer` (replacing any set before).
    pub fn answer(&self, answer: Answer) {
        let mut answers = self
            .inspector
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        answers.retain(|a| a.action != answer.action || a.only_when != answer.only_when);
        answers.push(answer);
    }

    /// From now on, in [`Fault::Inspect`], each request is held this long before it goes to
    /// the upstream (a region's round trip), so what is asked at once is in flight at once.
    pub fn hold_each(&self, hold: Duration) {
        *self
            .inspector
            .hold
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = hold;
    }

    /// Every request goes to the upstream again.
    pub fn pass_all(&self) {
        self.inspector
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

async fn handle(client: TcpStream, upstream: &str, fault: Fault, inspector: &Inspector) {
    match fault {
        Fault::Inspect => inspect(client, upstream, inspector).await,
        Fault::Reset => {
            // A zero linger makes the close an immediate RST; with zero it never blocks,
            // which is what the deprecation warns about.
            #[allow(deprecated)]
            let _ = client.set_linger(Some(Duration::ZERO));
            drop(client);
        }
        Fault::Silent => {
            std::future::pending::<()>().await;
        }
        Fault::Latency(delay) => {
            tokio::time::sleep(delay).await;
            pass(client, upstream).await;
        }
        Fault::PerRequest(delay) => per_request(client, upstream, delay).await,
        Fault::Pass => pass(client, upstream).await,
    }
}

async fn per_request(client: TcpStream, upstream: &str, delay: Duration) {
    use std::sync::atomic::AtomicBool;
    use tokio::io::AsyncReadExt;
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    let answered = Arc::new(AtomicBool::new(true));
    let waiting = answered.clone();
    let requests = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = client_in.read(&mut buf).await {
            if waiting.swap(false, Ordering::SeqCst) {
                tokio::time::sleep(delay).await;
            }
            if server_out.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    let answers = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = server_in.read(&mut buf).await {
            answered.store(true, Ordering::SeqCst);
            if client_out.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(requests, answers);
}

async fn pass(mut client: TcpStream, upstream: &str) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        let _ = client.shutdown().await;
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// One HTTP/1.1 request, read whole, recorded, and answered: canned, or by the upstream.
async fn inspect(mut client: TcpStream, upstream: &str, inspector: &Inspector) {
    use tokio::io::AsyncReadExt;
    let Some((head, mut body)) = read_head(&mut client).await else {
        return;
    };
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers = parse_headers(lines);
    let length: usize = find(&headers, "content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    assert!(
        find(&headers, "transfer-encoding").is_none(),
        "the inspecting proxy reads Content-Length bodies only"
    );
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let seen = Seen {
        method: method.clone(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
        ..Seen::default()
    };
    let canned = inspector.answer_for(&seen.action(), &seen.body);
    let index = inspector.record(seen);
    if let Some(answer) = canned {
        if answer.hang {
            std::future::pending::<()>().await;
        }
        let answer_headers = vec![
            ("Content-Type".to_owned(), answer.content_type.clone()),
            ("x-amzn-RequestId".to_owned(), format!("injected-{index}")),
        ];
        let response = response_bytes(answer.status, &answer_headers, answer.body.as_bytes());
        inspector.answered(
            index,
            answer.status,
            answer_headers,
            answer.body.into_bytes(),
        );
        let _ = client.write_all(&response).await;
        let _ = client.shutdown().await;
        return;
    }
    let hold = *inspector
        .hold
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        let _ = client.shutdown().await;
        return;
    };
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("connection"))
    {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(&body);
    if server.write_all(&bytes).await.is_err() {
        return;
    }
    let mut raw = Vec::new();
    if server.read_to_end(&mut raw).await.is_err() {
        return;
    }
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return;
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let answer = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut answer_headers: Vec<(String, String)> = parse_headers(lines)
        .into_iter()
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("keep-alive")
        })
        .collect();
    if find(&answer_headers, "content-length").is_none()
        && find(&answer_headers, "transfer-encoding").is_none()
    {
        answer_headers.push(("Content-Length".to_owned(), answer.len().to_string()));
    }
    inspector.answered(index, status, answer_headers.clone(), answer.clone());
    let mut response = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in &answer_headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("Connection: close\r\n\r\n");
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(&answer);
    let _ = client.write_all(&bytes).await;
    let _ = client.shutdown().await;
}

/// Reads up to the end of a request head: the head, and whatever of the body came with it.
async fn read_head(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            return Some((head, buf[end + 4..].to_vec()));
        }
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn parse_headers<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn response_bytes(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
