//! A loopback stand-in for the Slack Web API, as Slack documents it: `POST /{method}` with
//! a JSON body and `Authorization: Bearer xoxb-…`, answered `{"ok": true, "ts": …}`, or
//! `{"ok": false, "error": …}` for a bad token, a missing channel or invalid blocks (Slack
//! checks Block Kit's limits and refuses the message). Failures can be queued: a `429` with
//! `Retry-After`, or a `500`; and a method's next call can be made slow, so that a later
//! call lands first. `POST /response/{id}` stands in for a `response_url`.
//!
//! Files, as Slack's upload flow documents it (`files.upload` is gone):
//! `files.getUploadURLExternal` (form-encoded `filename`, `length`, optional `alt_txt` of at
//! most 1000 characters) answers an `upload_url` on this stand-in (`POST /upload/{file_id}`,
//! the bytes, no token) and a `file_id`; `files.completeUploadExternal` (form-encoded
//! `files` JSON `[{"id", "title"}]`, `channel_id`, `thread_ts`) shares uploaded files.
//! Each step's failures can be queued apart from the posts' ([`SlackStub::fail_file_step`]):
//! a `429` with `Retry-After`, a `500`, and for the upload URL a `500` too. Files and their
//! calls are kept apart from [`SlackStub::posts`] and [`SlackStub::attempts`].

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

/// A file shared through the three steps.
#[derive(Debug, Clone)]
pub struct SharedFile {
    pub id: String,
    pub filename: String,
    pub title: String,
    pub alt: Option<String>,
    pub bytes: Vec<u8>,
    pub channel: Option<String>,
    pub thread_ts: Option<String>,
}

/// A file between `files.getUploadURLExternal` and `files.completeUploadExternal`.
#[derive(Debug, Clone, Default)]
struct Pending {
    filename: String,
    length: usize,
    alt: Option<String>,
    bytes: Option<Vec<u8>>,
}

/// The steps of a file's upload, to fail one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileStep {
    GetUploadUrl,
    Upload,
    Complete,
}

#[derive(Default)]
struct Inner {
    pending: HashMap<String, Pending>,
    files: Vec<SharedFile>,
    /// Every file-flow HTTP call, in order: the step and its status.
    file_calls: Vec<(FileStep, u16)>,
    file_failures: HashMap<FileStep, VecDeque<Failure>>,
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
    /// This stand-in's own base URL (upload URLs point back at it).
    base: Arc<std::sync::OnceLock<String>>,
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

fn failure_response(failure: Failure) -> Response {
    match failure {
        Failure::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after.to_string())],
            "",
        )
            .into_response(),
        Failure::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
    }
}

/// `files.getUploadURLExternal` and `files.completeUploadExternal`.
fn file_method(shared: &Shared, step: FileStep, headers: &HeaderMap, body: &[u8]) -> Response {
    let mut inner = shared.inner.lock().unwrap();
    if let Some(failure) = inner
        .file_failures
        .get_mut(&step)
        .and_then(VecDeque::pop_front)
    {
        let response = failure_response(failure);
        inner.file_calls.push((step, response.status().as_u16()));
        return response;
    }
    inner.file_calls.push((step, 200));
    let refuse = |inner: &mut Inner, error: &str| {
        let method = match step {
            FileStep::GetUploadUrl => "files.getUploadURLExternal",
            _ => "files.completeUploadExternal",
        };
        inner.refused.push((method.to_owned(), error.to_owned()));
        axum::Json(json!({ "ok": false, "error": error })).into_response()
    };
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {}", shared.token) {
        return refuse(&mut inner, "invalid_auth");
    }
    let form_encoded = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        return refuse(&mut inner, "invalid_form_data");
    }
    let fields: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    match step {
        FileStep::GetUploadUrl => {
            let Some(filename) = fields.get("filename").filter(|f| !f.is_empty()) else {
                return refuse(&mut inner, "missing_argument");
            };
            let Some(length) = fields
                .get("length")
                .and_then(|l| l.parse::<usize>().ok())
                .filter(|l| *l > 0)
            else {
                return refuse(&mut inner, "missing_argument");
            };
            let alt = fields.get("alt_txt").cloned();
            if alt.as_ref().is_some_and(|a| a.chars().count() > 1000) {
                return refuse(&mut inner, "alt_txt_too_large");
            }
            let id = format!("F{:08}", inner.pending.len() + inner.files.len() + 1);
            inner.pending.insert(
                id.clone(),
                Pending {
                    filename: filename.clone(),
                    length,
                    alt,
                    bytes: None,
                },
            );
            axum::Json(json!({
                "ok": true,
                "upload_url": format!(
                    "{}/upload/{id}",
                    shared.base.get().map_or("", String::as_str)
                ),
                "file_id": id,
            }))
            .into_response()
        }
        _ => {
            let Some(files) = fields
                .get("files")
                .and_then(|f| serde_json::from_str::<Vec<Value>>(f).ok())
                .filter(|f| !f.is_empty())
            else {
                return refuse(&mut inner, "invalid_arguments");
            };
            let mut shared_now = Vec::new();
            for file in &files {
                let id = file["id"].as_str().unwrap_or_default();
                let Some(Pending {
                    filename,
                    alt,
                    bytes: Some(bytes),
                    ..
                }) = inner.pending.get(id).cloned()
                else {
                    // Never got its URL, or its bytes never arrived.
                    return refuse(&mut inner, "file_not_found");
                };
                shared_now.push(SharedFile {
                    id: id.to_owned(),
                    title: file["title"].as_str().unwrap_or(&filename).to_owned(),
                    filename,
                    alt,
                    bytes,
                    channel: fields.get("channel_id").cloned(),
                    thread_ts: fields.get("thread_ts").cloned(),
                });
            }
            let answer: Vec<Value> = shared_now
                .iter()
                .map(|f| json!({ "id": f.id, "title": f.title }))
                .collect();
            for file in shared_now {
                inner.pending.remove(&file.id);
                inner.files.push(file);
            }
            axum::Json(json!({ "ok": true, "files": answer })).into_response()
        }
    }
}

/// `POST /upload/{file_id}`: the bytes of a file whose URL was handed out (200 when taken,
/// as Slack answers; 404 for a URL it never gave, 400 for a length other than announced).
async fn upload(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let mut inner = shared.inner.lock().unwrap();
    if let Some(failure) = inner
        .file_failures
        .get_mut(&FileStep::Upload)
        .and_then(VecDeque::pop_front)
    {
        let response = failure_response(failure);
        inner
            .file_calls
            .push((FileStep::Upload, response.status().as_u16()));
        return response;
    }
    let status = match inner.pending.get_mut(&id) {
        None => StatusCode::NOT_FOUND,
        Some(pending) if pending.length != body.len() => StatusCode::BAD_REQUEST,
        Some(pending) => {
            pending.bytes = Some(body.to_vec());
            StatusCode::OK
        }
    };
    inner.file_calls.push((FileStep::Upload, status.as_u16()));
    (status, format!("OK - {}", body.len())).into_response()
}

async fn call(
    State(shared): State<Shared>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match method.as_str() {
        "files.getUploadURLExternal" => {
            return file_method(&shared, FileStep::GetUploadUrl, &headers, &body);
        }
        "files.completeUploadExternal" => {
            return file_method(&shared, FileStep::Complete, &headers, &body);
        }
        "files.upload" => {
            // Retired by Slack (2025-11-12).
            return axum::Json(json!({ "ok": false, "error": "method_deprecated" }))
                .into_response();
        }
        _ => {}
    }
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
            base: Arc::default(),
            inner: Arc::default(),
        };
        let router = axum::Router::new()
            .route("/response/{id}", post(respond))
            .route("/upload/{id}", post(upload))
            .route("/{method}", post(call))
            .with_state(shared.clone());
        let (addr, stop) = super::serve_on_loopback(router).await;
        // Upload URLs point back here; the address is known only once bound.
        let _ = shared.base.set(format!("http://{addr}"));
        Self {
            base: format!("http://{addr}"),
            shared,
            _stop: stop,
        }
    }

    /// Files shared through the three steps, in order.
    pub fn files(&self) -> Vec<SharedFile> {
        self.shared.inner.lock().unwrap().files.clone()
    }

    /// Every call of the file flow, in order: the step and the HTTP status answered.
    pub fn file_calls(&self) -> Vec<(FileStep, u16)> {
        self.shared.inner.lock().unwrap().file_calls.clone()
    }

    /// Answers the next call of `step` with `failure`.
    pub fn fail_file_step(&self, step: FileStep, failure: Failure) {
        self.shared
            .inner
            .lock()
            .unwrap()
            .file_failures
            .entry(step)
            .or_default()
            .push_back(failure);
    }

    /// The files shared, once there are at least `n` (or after `within`).
    pub async fn wait_for_files(&self, n: usize, within: Duration) -> Vec<SharedFile> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let files = self.files();
            if files.len() >= n || tokio::time::Instant::now() >= deadline {
                return files;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
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
