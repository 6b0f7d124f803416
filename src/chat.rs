//! `opsvoice chat`: a conversation at the terminal, in-process or against a running server.
//!
//! Each line is a question; the session carries over between lines, so "and its
//! deployment?" follows up on the last service. Line editing and history come from
//! rustyline (history is kept only for interactive sessions). With an audio directory,
//! each spoken answer is saved there as `NNN-<intent>.mp3`.
//!
//! Commands: `/new` starts a new conversation, `/help` lists commands, `/quit` (or
//! Ctrl-D) leaves. A "stop" or "cancel" that ends the conversation leaves too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustyline::error::ReadlineError;

use crate::assistant::Assistant;
use crate::channel::ask::{AskRequest, AskResponse};
use crate::speech::polly::{AudioFormat, Speech};

/// Where the questions go.
pub enum Target {
    /// Answered in this process.
    Local(Arc<Assistant>),
    /// Asked of a server's `/v1/ask`.
    Remote(Remote),
}

/// A running server's `/v1/ask`.
#[derive(Debug, Clone)]
pub struct Remote {
    endpoint: String,
    token: Option<String>,
    client: reqwest::Client,
}

/// Why a remote question failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot reach {endpoint}: {source}")]
    Unreachable {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{endpoint} answered {status}: {message}")]
    Refused {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("{endpoint} sent an answer that is not the /v1/ask shape: {problem}")]
    Malformed { endpoint: String, problem: String },
}

impl Remote {
    /// The server at `base` (e.g. `http://127.0.0.1:3000`), asking as `token`.
    ///
    /// # Errors
    /// Only if no HTTP client can be built.
    pub fn new(base: &str, token: Option<String>) -> Result<Self, reqwest::Error> {
        Ok(Self {
            endpoint: format!("{}/v1/ask", base.trim_end_matches('/')),
            token,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()?,
        })
    }

    /// Asks one question; with `audio`, asks for it spoken and returns the audio too.
    ///
    /// # Errors
    /// An unreachable server, a refusal (with the server's message) or a malformed answer.
    pub async fn ask(
        &self,
        request: &AskRequest,
        audio: Option<AudioFormat>,
    ) -> Result<(AskResponse, Option<Vec<u8>>), RemoteError> {
        let mut post = self
            .client
            .post(&self.endpoint)
            .json(&serde_json::json!({ "text": request.text, "session_id": request.session_id }));
        if let Some(token) = &self.token {
            post = post.bearer_auth(token);
        }
        if let Some(format) = audio {
            post = post.header("accept", format.content_type());
        }
        let unreachable = |source| RemoteError::Unreachable {
            endpoint: self.endpoint.clone(),
            source,
        };
        let response = post.send().await.map_err(unreachable)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
            return Err(RemoteError::Refused {
                endpoint: self.endpoint.clone(),
                status: status.as_u16(),
                message,
            });
        }
        let malformed = |problem: String| RemoteError::Malformed {
            endpoint: self.endpoint.clone(),
            problem,
        };
        let is_json = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            let answer = serde_json::from_slice(&body).map_err(|e| malformed(e.to_string()))?;
            return Ok((answer, None));
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| malformed(format!("no {name} header with the audio")))
        };
        let text = percent_encoding::percent_decode_str(&header("x-opsvoice-text")?)
            .decode_utf8_lossy()
            .into_owned();
        let answer = AskResponse {
            text,
            ssml: String::new(),
            intent: header("x-opsvoice-intent")?,
            slots: Default::default(),
            session_id: header("x-opsvoice-session-id")?,
            end_session: header("x-opsvoice-end-session")? == "true",
        };
        Ok((answer, Some(body.to_vec())))
    }
}

/// How the chat runs.
pub struct Options {
    /// Save each spoken answer here.
    pub audio_dir: Option<PathBuf>,
    /// Also print the SSML of each answer.
    pub ssml: bool,
    /// Where to keep the line history (interactive sessions only).
    pub history: Option<PathBuf>,
    /// What `/help` (and an interactive start) prints: `chat-help` in `prompts/`.
    pub help: String,
}

/// The default history file: `history` in the state directory (see
/// [`crate::config::Store::state_dir`]).
#[must_use]
pub fn default_history(config: &crate::config::Config) -> Option<PathBuf> {
    config
        .store
        .state_dir
        .as_ref()
        .map(|dir| dir.join("history"))
}

/// Why the chat could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("cannot open the terminal")]
    Terminal(#[source] ReadlineError),
    #[error("cannot read a line")]
    Read(#[source] ReadlineError),
    #[error("cannot create the audio directory {path}")]
    AudioDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs the REPL until end of input or `/quit`.
///
/// # Errors
/// A terminal that cannot be opened or read, or an audio directory that cannot be made.
pub async fn run(target: Target, options: Options) -> Result<(), ChatError> {
    use std::io::IsTerminal;

    let mut editor = rustyline::DefaultEditor::new().map_err(ChatError::Terminal)?;
    let interactive = std::io::stdin().is_terminal();
    let history = options.history.filter(|_| interactive);
    if let Some(path) = &history {
        // A first run has no history yet.
        let _ = editor.load_history(path);
    }
    if let Some(dir) = &options.audio_dir {
        std::fs::create_dir_all(dir).map_err(|source| ChatError::AudioDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    if interactive {
        eprintln!("{}", options.help);
    }
    let mut session = new_session();
    let mut saved = 0usize;
    loop {
        let line = match editor.readline("you> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(ChatError::Read(error)),
        };
        let question = line.trim();
        if question.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(question);
        match question {
            "/quit" | "/exit" => break,
            "/help" => {
                println!("{}", options.help);
                continue;
            }
            "/new" => {
                session = new_session();
                println!("(a new conversation)");
                continue;
            }
            _ => {}
        }
        let request = AskRequest {
            text: question.to_owned(),
            session_id: Some(session.clone()),
        };
        let outcome = match &target {
            Target::Local(assistant) => local_turn(assistant, request, &options.audio_dir).await,
            Target::Remote(remote) => remote
                .ask(
                    &request,
                    options.audio_dir.as_ref().map(|_| AudioFormat::Mp3),
                )
                .await
                .map(|(answer, audio)| (answer, audio.map(Ok)))
                .map_err(|e| e.to_string()),
        };
        let (answer, audio) = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                eprintln!("error: {error}");
                continue;
            }
        };
        println!("{}", answer.text);
        if options.ssml && !answer.ssml.is_empty() {
            println!("{}", answer.ssml);
        }
        if let (Some(dir), Some(audio)) = (&options.audio_dir, audio) {
            match audio {
                Ok(bytes) => {
                    saved += 1;
                    match save(dir, saved, &answer.intent, &bytes) {
                        Ok(path) => eprintln!("(saved {})", path.display()),
                        Err(error) => eprintln!("warning: {error}"),
                    }
                }
                Err(error) => eprintln!("warning: no audio for this answer: {error}"),
            }
        }
        if answer.end_session {
            break;
        }
    }
    if let Some(path) = &history {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(error) = editor.save_history(path) {
            eprintln!(
                "warning: cannot save history to {}: {error}",
                path.display()
            );
        }
    }
    Ok(())
}

type Turn = (AskResponse, Option<Result<Vec<u8>, String>>);

async fn local_turn(
    assistant: &Assistant,
    request: AskRequest,
    audio_dir: &Option<PathBuf>,
) -> Result<Turn, String> {
    let asked = assistant
        .answer(request, None)
        .await
        .map_err(|e| crate::error::ErrorChain(&e).to_string())?;
    let audio = match audio_dir {
        Some(_) => Some(speak(assistant, &asked.speech).await),
        None => None,
    };
    Ok((asked.response, audio))
}

async fn speak(assistant: &Assistant, speech: &Speech) -> Result<Vec<u8>, String> {
    assistant
        .voice
        .synthesize(speech, AudioFormat::Mp3)
        .await
        .map(|audio| audio.bytes)
        .map_err(|e| crate::error::ErrorChain(&e).to_string())
}

fn save(dir: &Path, n: usize, intent: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let name: String = intent
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!("{n:03}-{name}.mp3"));
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

fn new_session() -> String {
    uuid::Uuid::new_v4().to_string()
}
