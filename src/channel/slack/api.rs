//! The Slack Web API calls we make (`chat.postMessage`, `chat.postEphemeral`,
//! `chat.update`, and a file's upload: `files.getUploadURLExternal`, the bytes to its
//! `upload_url`, `files.completeUploadExternal`) and posts to a slash command's
//! `response_url`.
//!
//! Every call has a deadline. A `429` waits as long as `Retry-After` says (if that fits the
//! call's budget) and tries again; a `5xx` or a timeout is retried with a short backoff;
//! `{"ok": false}` is an error naming Slack's reason. The bot token is sent only in the
//! `Authorization` header and never logged.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::Secret;

/// The real Web API.
pub const SLACK_API: &str = "https://slack.com/api";
/// How long one HTTP attempt may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a call may take with its retries.
pub const CALL_BUDGET: Duration = Duration::from_secs(15);
/// Attempts per call.
const ATTEMPTS: u32 = 3;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackApiError {
    #[error("no Slack bot token is configured (OPSVOICE_SLACK_BOT_TOKEN)")]
    NoToken,
    #[error("Slack refused {method}: {reason}")]
    Refused { method: String, reason: String },
    #[error("Slack is rate limiting {method} for {} s more", retry_after.as_secs())]
    RateLimited {
        method: String,
        retry_after: Duration,
    },
    #[error("Slack could not be reached for {method} ({reason})")]
    Unreachable { method: String, reason: String },
    #[error("the response_url is not one of Slack's")]
    ForeignResponseUrl,
    #[error("the upload_url is not one of Slack's")]
    ForeignUploadUrl,
}

/// A file to share (see [`WebApi::upload_file`]).
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub channel: &'a str,
    pub thread_ts: Option<&'a str>,
    pub filename: &'a str,
    pub title: &'a str,
    /// The image's description for screen readers (`alt_txt`, at most 1000 characters).
    pub alt: &'a str,
    pub bytes: &'a [u8],
}

/// A Web API client.
#[derive(Clone)]
pub struct WebApi {
    base: String,
    token: Option<Secret>,
    http: reqwest::Client,
}

impl std::fmt::Debug for WebApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl WebApi {
    /// A client for the API at `base` (default [`SLACK_API`]) with the bot `token`.
    #[must_use]
    pub fn new(base: Option<&str>, token: Option<Secret>) -> Self {
        Self {
            base: base.unwrap_or(SLACK_API).trim_end_matches('/').to_owned(),
            token,
            http: reqwest::Client::builder()
                .timeout(ATTEMPT_TIMEOUT)
                .connect_timeout(Duration::from_secs(2))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
        }
    }

    /// Calls `method` with the JSON `body`; Slack's answer when it says `ok`.
    ///
    /// # Errors
    /// No token, a refusal (`ok: false`), rate limiting beyond the call's budget, or an
    /// API that could not be reached.
    pub async fn call(&self, method: &str, body: &Value) -> Result<Value, SlackApiError> {
        let token = self.token.as_ref().ok_or(SlackApiError::NoToken)?;
        let url = format!("{}/{method}", self.base);
        let answer = self
            .send(method, |http| {
                http.post(&url).bearer_auth(token.expose_str()).json(body)
            })
            .await?;
        Self::answer(method, &answer)
    }

    /// Calls `method` with form-encoded `fields` (the file methods take their arguments
    /// so); Slack's answer when it says `ok`.
    ///
    /// # Errors
    /// As [`Self::call`].
    pub async fn call_form(
        &self,
        method: &str,
        fields: &[(&str, &str)],
    ) -> Result<Value, SlackApiError> {
        let token = self.token.as_ref().ok_or(SlackApiError::NoToken)?;
        let url = format!("{}/{method}", self.base);
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let answer = self
            .send(method, |http| {
                http.post(&url)
                    .bearer_auth(token.expose_str())
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body.clone())
            })
            .await?;
        Self::answer(method, &answer)
    }

    /// Shares a file in `channel` (in `thread_ts`'s thread when given) with Slack's upload
    /// flow: `files.getUploadURLExternal` (name, length, alt text), the bytes POSTed to the
    /// `upload_url` it gives (which must be Slack's; the token never goes there), then
    /// `files.completeUploadExternal` into the channel and thread. The file's id.
    ///
    /// # Errors
    /// Any step refused or unreachable (each retried as [`Self::call`] retries), or an
    /// upload URL that is not Slack's.
    pub async fn upload_file(&self, file: &Upload<'_>) -> Result<String, SlackApiError> {
        const GET_URL: &str = "files.getUploadURLExternal";
        const COMPLETE: &str = "files.completeUploadExternal";
        let length = file.bytes.len().to_string();
        let got = self
            .call_form(
                GET_URL,
                &[
                    ("filename", file.filename),
                    ("length", &length),
                    ("alt_txt", file.alt),
                ],
            )
            .await?;
        let missing = |what: &str| SlackApiError::Refused {
            method: GET_URL.to_owned(),
            reason: format!("no {what} in the answer"),
        };
        let upload_url = got
            .get("upload_url")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("upload_url"))?
            .to_owned();
        let file_id = got
            .get("file_id")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("file_id"))?
            .to_owned();
        if !self.is_upload_url(&upload_url) {
            return Err(SlackApiError::ForeignUploadUrl);
        }
        let bytes = file.bytes.to_vec();
        self.send("upload_url", |http| {
            http.post(&upload_url)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(bytes.clone())
        })
        .await?;
        let files = serde_json::json!([{ "id": file_id, "title": file.title }]).to_string();
        let mut fields = vec![("files", files.as_str()), ("channel_id", file.channel)];
        if let Some(thread) = file.thread_ts {
            fields.push(("thread_ts", thread));
        }
        self.call_form(COMPLETE, &fields).await?;
        metrics::counter!("opsvoice_slack_api_total", "outcome" => "uploaded").increment(1);
        Ok(file_id)
    }

    /// Whether `raw` is where Slack takes uploads (`https://files.slack.com/…`), or the
    /// test-only API host.
    fn is_upload_url(&self, raw: &str) -> bool {
        let Ok(url) = url::Url::parse(raw) else {
            return false;
        };
        (url.scheme() == "https" && url.host_str() == Some("files.slack.com"))
            || self.is_test_host(&url)
    }

    fn answer(method: &str, answer: &[u8]) -> Result<Value, SlackApiError> {
        let parsed: Value =
            serde_json::from_slice(answer).map_err(|_| SlackApiError::Unreachable {
                method: method.to_owned(),
                reason: "the answer is not JSON".to_owned(),
            })?;
        if parsed.get("ok").and_then(Value::as_bool) == Some(true) {
            Ok(parsed)
        } else {
            let reason = parsed
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no reason given")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(60)
                .collect();
            Err(SlackApiError::Refused {
                method: method.to_owned(),
                reason,
            })
        }
    }

    /// Posts `body` to a slash command's or an interaction's `response_url`, which must
    /// be on `hooks.slack.com` over https (or on the test-only API host).
    ///
    /// # Errors
    /// A foreign URL, or a post that failed.
    pub async fn respond(&self, response_url: &str, body: &Value) -> Result<(), SlackApiError> {
        if !self.is_slack_url(response_url) {
            return Err(SlackApiError::ForeignResponseUrl);
        }
        self.send("response_url", |http| http.post(response_url).json(body))
            .await
            .map(|_| ())
    }

    fn is_slack_url(&self, raw: &str) -> bool {
        let Ok(url) = url::Url::parse(raw) else {
            return false;
        };
        if url.scheme() == "https" && url.host_str() == Some("hooks.slack.com") {
            return true;
        }
        // The test-only API stand-in also takes the response_url posts.
        self.is_test_host(&url)
    }

    fn is_test_host(&self, url: &url::Url) -> bool {
        self.base != SLACK_API
            && url::Url::parse(&self.base).is_ok_and(|base| {
                base.scheme() == url.scheme()
                    && base.host_str() == url.host_str()
                    && base.port_or_known_default() == url.port_or_known_default()
            })
    }

    /// Sends the request `build` makes, retrying 429s (after `Retry-After`), 5xx and
    /// timeouts within [`CALL_BUDGET`]; the body of the first 2xx.
    async fn send(
        &self,
        method: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, SlackApiError> {
        let started = Instant::now();
        let unreachable = |reason: String| SlackApiError::Unreachable {
            method: method.to_owned(),
            reason,
        };
        let mut last = unreachable("no attempt was made".to_owned());
        for attempt in 1..=ATTEMPTS {
            let wait = match build(&self.http).send().await {
                Ok(response) if response.status().is_success() => {
                    return response
                        .bytes()
                        .await
                        .map(|b| b.to_vec())
                        .map_err(|e| unreachable(format!("the answer broke off: {e}")));
                }
                Ok(response) if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map_or(Duration::from_secs(1), Duration::from_secs);
                    metrics::counter!("opsvoice_slack_api_total", "outcome" => "rate_limited")
                        .increment(1);
                    last = SlackApiError::RateLimited {
                        method: method.to_owned(),
                        retry_after,
                    };
                    retry_after
                }
                Ok(response) if response.status().is_server_error() => {
                    last = unreachable(format!("HTTP {}", response.status().as_u16()));
                    Duration::from_millis(250 * u64::from(attempt))
                }
                Ok(response) => {
                    // Any other 4xx will not change on a retry.
                    return Err(SlackApiError::Refused {
                        method: method.to_owned(),
                        reason: format!("HTTP {}", response.status().as_u16()),
                    });
                }
                Err(error) => {
                    last = unreachable(if error.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        "connection failed".to_owned()
                    });
                    Duration::from_millis(250 * u64::from(attempt))
                }
            };
            if attempt == ATTEMPTS || started.elapsed() + wait + ATTEMPT_TIMEOUT > CALL_BUDGET {
                break;
            }
            tracing::debug!(
                method,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "Slack call retried"
            );
            tokio::time::sleep(wait).await;
        }
        metrics::counter!("opsvoice_slack_api_total", "outcome" => "failed").increment(1);
        Err(last)
    }
}
