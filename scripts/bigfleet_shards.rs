//! `scripts/bigfleet.sh accounts`' moto, one server per account (issue 32): real AWS serves
//! each account on its own, while one moto server (one Python process, one GIL) serves
//! every account's requests one at a time, so a single moto times the fleet's calls as if
//! they were one account's. Here the home account (the default credentials: AssumeRole)
//! has a moto of its own, and so has each account, started with `MOTO_ACCOUNT_ID` (moto 5
//! serves every request as that account, whatever key signed it: `get_current_account` in
//! `moto/core/responses.py` reads it before the request's key).
//!
//! A router in front holds each request for the delay (a region's round trip, as the delay
//! proxy does) and sends it to the moto of the account it is for: it reads the AssumeRole
//! requests and their answers, so it knows which account each assumed access key is in; a
//! request signed with any other key (the home credentials) goes to the home moto. The
//! seeding goes through it too, so each account's resources are made in its own moto.
//! Loopback only; everything stops when dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::moto::Moto;

/// The home moto, one per account, and the router in front of them.
pub struct Shards {
    /// Where the SDK is pointed.
    pub url: String,
    home: Moto,
    accounts: HashMap<String, Moto>,
    route: Arc<Route>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// What the router knows.
struct Route {
    home: String,
    /// Each account's moto, by account id.
    shards: HashMap<String, String>,
    /// The account each assumed access key is in (from AssumeRole and its answer).
    keys: Mutex<HashMap<String, String>>,
    /// Added to each request, in milliseconds.
    delay_ms: AtomicU64,
    /// Requests sent to the home moto, and to the accounts' ones.
    to_home: AtomicU64,
    to_accounts: AtomicU64,
    client: reqwest::Client,
}

impl Shards {
    /// A moto for the home account and one for each of `ids`, started at once, and the
    /// router in front (no delay until [`Shards::set_delay`]).
    pub async fn start(ids: &[String]) -> Self {
        // Every port picked before any server starts: two servers started at once on one
        // port would leave one account's moto serving two accounts.
        let mut ports = Moto::free_ports(ids.len() + 1);
        let home_port = ports.pop().unwrap();
        let home = tokio::task::spawn_blocking(move || Moto::start_on(home_port, None));
        let started: Vec<_> = ids
            .iter()
            .zip(ports)
            .map(|(id, port)| {
                let id = id.clone();
                tokio::task::spawn_blocking(move || (id.clone(), Moto::start_on(port, Some(&id))))
            })
            .collect();
        let home = home.await.unwrap();
        let mut accounts = HashMap::new();
        for shard in started {
            let (id, moto) = shard.await.unwrap();
            accounts.insert(id, moto);
        }
        let route = Arc::new(Route {
            home: home.url(),
            shards: accounts
                .iter()
                .map(|(id, m)| (id.clone(), m.url()))
                .collect(),
            keys: Mutex::default(),
            delay_ms: AtomicU64::new(0),
            to_home: AtomicU64::new(0),
            to_accounts: AtomicU64::new(0),
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(route.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            url,
            home,
            accounts,
            route,
            _stop: stop,
        }
    }

    /// Each request is held this long before it goes to its moto.
    pub fn set_delay(&self, delay: Duration) {
        self.route
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The moto of account `id` (the home one for an id not sharded), to probe it alone.
    pub fn moto_of(&self, id: &str) -> &Moto {
        self.accounts.get(id).unwrap_or(&self.home)
    }

    /// Panics unless every moto server still runs (one that could not listen exits).
    pub fn check_running(&mut self) {
        assert!(self.home.running(), "the home moto has exited");
        for (id, moto) in &mut self.accounts {
            assert!(moto.running(), "the moto of account {id} has exited");
        }
    }

    /// Every moto server's process id (the home one's included).
    pub fn pids(&self) -> Vec<u32> {
        std::iter::once(&self.home)
            .chain(self.accounts.values())
            .filter_map(Moto::pid)
            .collect()
    }

    /// Requests sent so far to the home moto and to the accounts' ones (what shows the
    /// accounts' calls do go to their own).
    pub fn routed(&self) -> (u64, u64) {
        (
            self.route.to_home.load(Ordering::SeqCst),
            self.route.to_accounts.load(Ordering::SeqCst),
        )
    }

    /// How many moto servers run (the home one included).
    pub fn servers(&self) -> usize {
        self.accounts.len() + 1
    }
}

/// The access key a request was signed with (SigV4 `Credential=<key>/...`).
fn access_key(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    auth.split("Credential=").nth(1)?.split('/').next()
}

/// A form (query protocol) parameter of `body`.
fn param(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// One request: held for the delay, sent to the moto of its account, answered with what
/// that moto said; an AssumeRole's answer teaches the router its key's account.
async fn forward(State(route): State<Arc<Route>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return status(StatusCode::BAD_REQUEST);
    };
    let account = access_key(&parts.headers).and_then(|k| {
        route
            .keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(k)
            .cloned()
    });
    let upstream = match account.and_then(|id| route.shards.get(&id)) {
        Some(shard) => {
            route.to_accounts.fetch_add(1, Ordering::Relaxed);
            shard
        }
        None => {
            route.to_home.fetch_add(1, Ordering::Relaxed);
            &route.home
        }
    };
    let delay = route.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = route
        .client
        .request(parts.method.clone(), format!("{upstream}{path}"))
        .body(body.clone());
    for (name, value) in &parts.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            outgoing = outgoing.header(name, value);
        }
    }
    let Ok(answer) = outgoing.send().await else {
        return status(StatusCode::BAD_GATEWAY);
    };
    let code = answer.status();
    let headers = answer.headers().clone();
    let Ok(bytes) = answer.bytes().await else {
        return status(StatusCode::BAD_GATEWAY);
    };
    if param(&body, "Action").as_deref() == Some("AssumeRole") {
        learn(&route, &body, &bytes);
    }
    let mut response = Response::builder().status(code);
    for (name, value) in &headers {
        if !matches!(
            name.as_str(),
            "content-length" | "connection" | "transfer-encoding" | "keep-alive"
        ) {
            response = response.header(name, value);
        }
    }
    response.body(Body::from(bytes)).unwrap()
}

/// Remembers which account an AssumeRole's answer's access key is in: the role's
/// (`arn:aws:iam::<id>:role/...`).
fn learn(route: &Route, request: &[u8], answer: &Bytes) {
    let Some(id) =
        param(request, "RoleArn").and_then(|arn| arn.split(':').nth(4).map(str::to_owned))
    else {
        return;
    };
    let text = String::from_utf8_lossy(answer);
    let Some(key) = text
        .split("<AccessKeyId>")
        .nth(1)
        .and_then(|k| k.split('<').next())
    else {
        return;
    };
    route
        .keys
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key.to_owned(), id);
}

fn status(code: StatusCode) -> Response {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .unwrap()
}
