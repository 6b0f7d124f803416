//! A loopback stand-in for the Slack Web API, as Slack documents it: `POST /{method}` with
//! a JSON body and `Authorization: Bearer xoxb-…`, answered `{"ok": true, "ts": …}`, or
//! `{"ok": false, "error": …}` for a bad token, a missing channel or invalid blocks (Slack
//! checks Block Kit's limits and refuses the message). Failures can be queued: a `429` with
//! `Retry-After`, or a `500`; and a method's next call can be made slow, so that a later
//! call lands first. `POST /response/{id}` stands in for a `response_url`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// A call Slack accepted.
#[derive(Debug, Clone)]
pub struct Post {
    pub method: String,
    pub body: Value,
}

/// A failure to answer the next call with.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    RateLimited { retry_after: u64 },
    ServerError,
}

#[derive(Default)]
struct Inner {
    posts: Vec<Post>,
    refused: Vec<(String, String)>,
    failures: VecDeque<Failure>,
    attempts: usize,
    ts: u64,
    /// Calls that have arrived (a slow one counts before it is answered).
    arrived: usize,
    /// How long the next call of a method waits before it is taken.
    slow: HashMap<String, Duration>,
}

#[derive(Clone)]
struct Shared {
    token: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct SlackStub {
    pub base: String,
    shared: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Why Slack would refuse a message (Block Kit's documented limits), if it would.
pub fn block_kit_problem(body: &Value) -> Option<String> {
    let text = body.get("text").and_then(Value::as_str);
    match text {
        None => return Some("no plain `text` fallback".to_owned()),
        Some(t) if t.trim().is_empty() => return Some("an empty `text` fallback".to_owned()),
        Some(t) if t.chars().count() > 4000 => return Some("`text` over 4000".to_owned()),
        _ => {}
    }
    // No blocks is fine: the text is the message.
    let blocks = body.get("blocks")?;
    let Some(blocks) = blocks.as_array() else {
        return Some("`blocks` is not a list".to_owned());
    };
    if blocks.len() > 50 {
        return Some(format!("{} blocks", blocks.len()));
    }
    let mut action_ids = HashSet::new();
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    for block in blocks {
        match block["type"].as_str() {
            Some("section") => {
                if chars(&block["text"]["text"]) > 3000 || chars(&block["text"]["text"]) == 0 {
                    return Some("a section's text is empty or over 3000".to_owned());
                }
            }
            Some("context") => {
                let Some(elements) = block["elements"].as_array() else {
                    return Some("a context block without elements".to_owned());
                };
                if elements.is_empty() || elements.len() > 10 {
                    return Some("a context block with 0 or over 10 elements".to_owned());
                }
            }
            Some("actions") => {
                let Some(elements) = block["elements"].as_array() else {
                    return Some("an actions block without elements".to_owned());
                };
                if elements.is_empty() || elements.len() > 25 {
                    return Some("an actions block with 0 or over 25 elements".to_owned());
                }
                for e in elements {
                    if e["text"]["type"] != "plain_text" || chars(&e["text"]["text"]) > 75 {
                        return Some("a button label over 75 or not plain_text".to_owned());
                    }
                    if chars(&e["value"]) > 2000 {
                        return Some("a button value over 2000".to_owned());
                    }
                    let id = e["action_id"].as_str().unwrap_or_default();
                    if id.is_empty() || id.len() > 255 || !action_ids.insert(id.to_owned()) {
                        return Some("an action_id empty, over 255 or repeated".to_owned());
                    }
                }
            }
            Some("header") => {
                if chars(&block["text"]["text"]) > 150 {
                    return Some("a header over 150".to_owned());
                }
            }
            Some("divider") => {}
            other => return Some(format!("an unknown block type {other:?}")),
        }
    }
    None
}

async fn call(
    State(shared): State<Shared>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let slow = {
        let mut inner = shared.inner.lock().unwrap();
        inner.arrived += 1;
        inner.slow.remove(&method)
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    let response = |mut inner: std::sync::MutexGuard<'_, Inner>| -> Response {
        inner.attempts += 1;
        match inner.failures.pop_front() {
            Some(Failure::RateLimited { retry_after }) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", retry_after.to_string())],
                    "",
                )
                    .into_response();
            }
            Some(Failure::ServerError) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
            }
            None => {}
        }
        let refuse = |inner: &mut Inner, error: &str| {
            inner.refused.push((method.clone(), error.to_owned()));
            axum::Json(json!({ "ok": false, "error": error })).into_response()
        };
        let Ok(body) = serde_json::from_slice::<Value>(&body) else {
            return refuse(&mut inner, "invalid_json");
        };
        if method != "response" {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if auth != format!("Bearer {}", shared.token) {
                return refuse(&mut inner, "invalid_auth");
            }
            if body.get("channel").and_then(Value::as_str).is_none() {
                return refuse(&mut inner, "channel_not_found");
            }
            if method == "chat.postEphemeral" && body.get("user").is_none() {
                return refuse(&mut inner, "user_not_in_channel");
            }
        }
        if let Some(problem) = block_kit_problem(&body) {
            return refuse(&mut inner, &format!("invalid_blocks: {problem}"));
        }
        inner.ts += 1;
        let ts = format!("1700000000.{:06}", inner.ts);
        // As Slack does: the channel the message went to (a channel id is answered as is).
        let channel = body
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or("C1")
            .to_owned();
        inner.posts.push(Post {
            method: if method == "response" {
                "response_url".to_owned()
            } else {
                method.clone()
            },
            body,
        });
        axum::Json(json!({ "ok": true, "ts": ts, "channel": channel })).into_response()
    };
    let guard = shared.inner.lock().unwrap();
    response(guard)
}

async fn respond(
    state: State<Shared>,
    Path(_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    call(state, Path("response".to_owned()), headers, body).await
}

impl SlackStub {
    pub async fn start(token: &str) -> Self {
        let shared = Shared {
            token: token.to_owned(),
            inner: Arc::default(),
        };
        let router = axum::Router::new()
            .route("/response/{id}", post(respond))
            .route("/{method}", post(call))
            .with_state(shared.clone());
        let (addr, stop) = super::serve_on_loopback(router).await;
        Self {
            base: format!("http://{addr}"),
            shared,
            _stop: stop,
        }
    }

    /// A `response_url` on this stand-in.
    pub fn response_url(&self, id: &str) -> String {
        format!("{}/response/{id}", self.base)
    }

    pub fn posts(&self) -> Vec<Post> {
        self.shared.inner.lock().unwrap().posts.clone()
    }

    /// Calls Slack refused (bad token, invalid blocks, …): none, in a correct run.
    pub fn refused(&self) -> Vec<(String, String)> {
        self.shared.inner.lock().unwrap().refused.clone()
    }

    /// Every HTTP attempt, failed ones included.
    pub fn attempts(&self) -> usize {
        self.shared.inner.lock().unwrap().attempts
    }

    /// Calls that have arrived, answered or not yet.
    pub fn arrived(&self) -> usize {
        self.shared.inner.lock().unwrap().arrived
    }

    /// Takes the next call of `method` only after `delay` (as if it were slow on the way),
    /// so that calls arriving meanwhile land first.
    pub fn slow_next(&self, method: &str, delay: Duration) {
        self.shared
            .inner
            .lock()
            .unwrap()
            .slow
            .insert(method.to_owned(), delay);
    }

    pub fn fail_next(&self, failure: Failure) {
        self.shared
            .inner
            .lock()
            .unwrap()
            .failures
            .push_back(failure);
    }

    /// The posts, once there are at least `n` (or after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Post> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let posts = self.posts();
            if posts.len() >= n || tokio::time::Instant::now() >= deadline {
                return posts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
