//! Typed configuration, loaded once at start: an optional TOML file, then `OPSVOICE_*`
//! environment variables over it (DESIGN.md §3 names). Nothing else reads the environment.
//!
//! Standard AWS variables keep their standard meaning and are read by the AWS SDK itself;
//! the region is read here only to build console links.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Where answers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded, simulated fleet. Fake data, so anonymous callers are allowed.
    #[default]
    Demo,
    /// Live ECS and CloudWatch through the AWS SDK.
    Aws,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object a line, for Lambda and log pipelines.
    Json,
}

/// Cognito settings: whose tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cognito {
    pub user_pool_id: Option<String>,
    pub client_ids: Vec<String>,
    pub region: Option<String>,
    /// Test-only: where keys are fetched from. The issuer check still uses the pool.
    pub jwks_url: Option<String>,
    /// Accept ID tokens instead of access tokens.
    pub id_tokens: bool,
    /// Grace for token expiry and not-before.
    pub leeway: Duration,
}

impl Default for Cognito {
    fn default() -> Self {
        Self {
            user_pool_id: None,
            client_ids: Vec::new(),
            region: None,
            jwks_url: None,
            id_tokens: false,
            leeway: Duration::from_secs(5),
        }
    }
}

/// Alexa settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Alexa {
    pub skill_ids: Vec<String>,
    /// Test-only: extra trusted roots for certificate chains.
    pub trust_roots: Option<PathBuf>,
    /// Test-only: where chains are fetched from instead of `https://s3.amazonaws.com`.
    pub cert_base_url: Option<String>,
}

/// Lex runtime settings for `/v1/ask`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lex {
    pub bot_id: Option<String>,
    pub bot_alias_id: Option<String>,
    pub locale: Option<String>,
}

/// Polly settings for audio answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polly {
    pub voice: String,
    pub engine: String,
}

impl Default for Polly {
    fn default() -> Self {
        Self {
            voice: "Joanna".to_owned(),
            engine: "neural".to_owned(),
        }
    }
}

/// The native Slack app (DESIGN.md §6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slack {
    /// Verifies every Slack request; without it the Slack routes refuse everything.
    pub signing_secret: Option<Secret>,
    /// The `xoxb-` bot token for the Web API.
    pub bot_token: Option<Secret>,
    /// Test-only: the Web API base instead of `https://slack.com/api`.
    pub api_url: Option<String>,
}

/// Account linking through the Cognito hosted UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The externally visible base URL (`{public_url}/link/callback` is the `redirect_uri`).
    pub public_url: Option<String>,
    /// The hosted UI's base URL.
    pub cognito_domain: Option<String>,
    pub client_id: Option<String>,
    /// Sent as HTTP Basic when set, as Cognito requires for a client with a secret.
    pub client_secret: Option<Secret>,
    /// How long a link lasts before the user links again.
    pub ttl: Duration,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            public_url: None,
            cognito_domain: None,
            client_id: None,
            client_secret: None,
            ttl: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

impl Link {
    /// Whether linking is set up (all of the URLs and the client).
    #[must_use]
    pub fn configured(&self) -> bool {
        self.public_url.is_some() && self.cognito_domain.is_some() && self.client_id.is_some()
    }
}

/// SNS deliveries to `POST /events`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sns {
    /// The topics whose deliveries are accepted; every other topic is refused.
    pub topic_arns: Vec<String>,
    /// Test-only: a PEM file of extra trusted roots for signing certificates.
    pub trust_roots: Option<PathBuf>,
    /// Test-only: fetch signing certificates from this base instead of the message's host
    /// (the message's URL is still checked as sent).
    pub cert_base_url: Option<String>,
}

/// Where links and delivery state are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A DynamoDB table (production and Lambda).
    Dynamo(String),
    /// An embedded SQLite file.
    File(PathBuf),
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub addr: SocketAddr,
    pub backend: Backend,
    /// ECS clusters to watch; `None` means all (ListClusters).
    pub clusters: Option<Vec<String>>,
    /// Also tie alarms to services by name (`<service>-...`), not only by dimensions.
    pub alarm_name_match: bool,
    pub cognito: Cognito,
    pub policy_file: Option<PathBuf>,
    pub alexa: Alexa,
    pub lex: Lex,
    pub polly: Polly,
    /// The AWS region, for console links (`AWS_REGION`, else `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// The most an HTTP request may take before the server gives up on it.
    pub request_timeout: Duration,
    /// The most an answer may take before the user hears "that took too long".
    pub answer_deadline: Duration,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    pub log_format: LogFormat,
    /// Seals session contexts to their owner (`OPSVOICE_SESSION_KEY`, base64 of at least
    /// 32 bytes); without one each process makes its own.
    pub session_key: Option<Secret>,
    /// Where opsvoice keeps local state (the chat history): `$XDG_STATE_HOME/opsvoice`,
    /// else `~/.local/state/opsvoice`; `None` when neither is known.
    pub state_dir: Option<PathBuf>,
    pub slack: Slack,
    pub link: Link,
    /// `OPSVOICE_STORE`; `None` means a file under [`Self::state_dir`].
    pub store: Option<StoreLocation>,
    /// `OPSVOICE_STORE_KEY`: exactly 32 bytes, encrypts secrets at rest.
    pub store_key: Option<Secret>,
    /// `OPSVOICE_NOTIFY_FILE`: which events go to which Slack channel, for which group.
    pub notify_file: Option<PathBuf>,
    pub sns: Sns,
}

/// Whether this process is a Lambda function's bootstrap (the runtime API is in the
/// environment): then there are no arguments to parse.
#[must_use]
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// How long an answer may take before the user hears "that took too long" instead.
/// Alexa allows about 8 seconds in all; we aim to answer well within that.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(3);

/// Secret bytes that never reach a log: `Debug` prints only that there is one.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret holding `bytes` (what tests and other configuration sources build).
    #[must_use]
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The secret as text (tokens and passwords), for the one place that uses it.
    #[must_use]
    pub fn expose_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The bytes, for the one place that uses them.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            backend: Backend::Demo,
            clusters: None,
            alarm_name_match: true,
            cognito: Cognito::default(),
            policy_file: None,
            alexa: Alexa::default(),
            lex: Lex::default(),
            polly: Polly::default(),
            region: None,
            request_timeout: Duration::from_secs(10),
            answer_deadline: DEFAULT_DEADLINE,
            body_limit: 64 * 1024,
            log_format: LogFormat::Pretty,
            session_key: None,
            state_dir: None,
            slack: Slack::default(),
            link: Link::default(),
            store: None,
            store_key: None,
            notify_file: None,
            sns: Sns::default(),
        }
    }
}

/// Why the configuration is unusable. Names the setting; never echoes a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{name}: {problem}")]
    Invalid { name: &'static str, problem: String },
}

/// The file's shape: the same settings, lowercase, without the prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    backend: Option<String>,
    clusters: Option<Vec<String>>,
    alarm_name_match: Option<bool>,
    cognito_user_pool_id: Option<String>,
    cognito_client_ids: Option<Vec<String>>,
    cognito_region: Option<String>,
    cognito_jwks_url: Option<String>,
    cognito_token_use: Option<String>,
    cognito_leeway_secs: Option<u64>,
    policy_file: Option<PathBuf>,
    alexa_skill_ids: Option<Vec<String>>,
    alexa_trust_roots: Option<PathBuf>,
    alexa_cert_base_url: Option<String>,
    lex_bot_id: Option<String>,
    lex_bot_alias_id: Option<String>,
    lex_locale: Option<String>,
    polly_voice: Option<String>,
    polly_engine: Option<String>,
    request_timeout_ms: Option<u64>,
    answer_deadline_ms: Option<u64>,
    body_limit_bytes: Option<usize>,
    log_format: Option<String>,
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Loads the configuration from the process environment and, if `file` is given (or
    /// `OPSVOICE_CONFIG` names one), a TOML file under it.
    ///
    /// # Errors
    /// An unreadable file or an invalid value, naming the setting.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::from_sources(file, &env)
    }

    /// Loads from an explicit environment map (what `load` and the tests use).
    ///
    /// # Errors
    /// An unreadable file or an invalid value, naming the setting.
    pub fn from_sources(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let var = |name: &str| non_empty(env.get(name).cloned());
        let path = file
            .map(Path::to_path_buf)
            .or_else(|| var("OPSVOICE_CONFIG").map(PathBuf::from));
        let f: FileConfig = match &path {
            Some(path) => {
                let raw = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str(&raw).map_err(|source| ConfigError::Parse {
                    path: path.clone(),
                    source,
                })?
            }
            None => FileConfig::default(),
        };
        let mut c = Config::default();
        if let Some(addr) = var("OPSVOICE_ADDR").or(f.addr) {
            c.addr = addr.parse().map_err(|e| ConfigError::Invalid {
                name: "OPSVOICE_ADDR",
                problem: format!("`{addr}` is not a socket address like 127.0.0.1:3000 ({e})"),
            })?;
        }
        if let Some(backend) = var("OPSVOICE_BACKEND").or(f.backend) {
            c.backend = match backend.trim().to_ascii_lowercase().as_str() {
                "demo" => Backend::Demo,
                "aws" => Backend::Aws,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "OPSVOICE_BACKEND",
                        problem: format!("`{other}` is not `demo` or `aws`"),
                    });
                }
            };
        }
        c.clusters = var("OPSVOICE_CLUSTERS")
            .map(|v| list(&v))
            .or(f.clusters)
            .filter(|v| !v.is_empty());
        if let Some(v) = var("OPSVOICE_ALARM_NAME_MATCH") {
            c.alarm_name_match = match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "OPSVOICE_ALARM_NAME_MATCH",
                        problem: format!("`{other}` is not true or false"),
                    });
                }
            };
        } else if let Some(v) = f.alarm_name_match {
            c.alarm_name_match = v;
        }
        c.cognito = Cognito {
            user_pool_id: var("OPSVOICE_COGNITO_USER_POOL_ID").or(f.cognito_user_pool_id),
            client_ids: var("OPSVOICE_COGNITO_CLIENT_IDS")
                .map(|v| list(&v))
                .or(f.cognito_client_ids)
                .unwrap_or_default(),
            region: var("OPSVOICE_COGNITO_REGION").or(f.cognito_region),
            jwks_url: var("OPSVOICE_COGNITO_JWKS_URL").or(f.cognito_jwks_url),
            ..Cognito::default()
        };
        if let Some(kind) = var("OPSVOICE_COGNITO_TOKEN_USE").or(f.cognito_token_use) {
            c.cognito.id_tokens = match kind.to_ascii_lowercase().as_str() {
                "access" => false,
                "id" => true,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "OPSVOICE_COGNITO_TOKEN_USE",
                        problem: format!("`{other}` is not `access` or `id`"),
                    });
                }
            };
        }
        let leeway =
            var("OPSVOICE_COGNITO_LEEWAY_SECS").or(f.cognito_leeway_secs.map(|s| s.to_string()));
        if let Some(secs) = leeway {
            let secs: u64 = secs.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "OPSVOICE_COGNITO_LEEWAY_SECS",
                problem: format!("`{secs}` is not a whole number of seconds"),
            })?;
            if secs > 300 {
                return Err(ConfigError::Invalid {
                    name: "OPSVOICE_COGNITO_LEEWAY_SECS",
                    problem:
                        "at most 300 seconds: a grace is for clock skew, not for expired tokens"
                            .to_owned(),
                });
            }
            c.cognito.leeway = Duration::from_secs(secs);
        }
        c.policy_file = var("OPSVOICE_POLICY_FILE")
            .map(PathBuf::from)
            .or(f.policy_file);
        c.alexa = Alexa {
            skill_ids: var("OPSVOICE_ALEXA_SKILL_IDS")
                .map(|v| list(&v))
                .or(f.alexa_skill_ids)
                .unwrap_or_default(),
            trust_roots: var("OPSVOICE_ALEXA_TRUST_ROOTS")
                .map(PathBuf::from)
                .or(f.alexa_trust_roots),
            cert_base_url: var("OPSVOICE_ALEXA_CERT_BASE_URL").or(f.alexa_cert_base_url),
        };
        c.lex = Lex {
            bot_id: var("OPSVOICE_LEX_BOT_ID").or(f.lex_bot_id),
            bot_alias_id: var("OPSVOICE_LEX_BOT_ALIAS_ID").or(f.lex_bot_alias_id),
            locale: var("OPSVOICE_LEX_LOCALE").or(f.lex_locale),
        };
        if c.lex.bot_id.is_some() != c.lex.bot_alias_id.is_some() {
            return Err(ConfigError::Invalid {
                name: "OPSVOICE_LEX_BOT_ID",
                problem: "set both OPSVOICE_LEX_BOT_ID and OPSVOICE_LEX_BOT_ALIAS_ID to ask through Lex, or neither"
                    .to_owned(),
            });
        }
        if let Some(voice) = var("OPSVOICE_POLLY_VOICE").or(f.polly_voice) {
            c.polly.voice = voice;
        }
        if let Some(engine) = var("OPSVOICE_POLLY_ENGINE").or(f.polly_engine) {
            let engine = engine.to_ascii_lowercase();
            if !["standard", "neural", "long-form", "generative"].contains(&engine.as_str()) {
                return Err(ConfigError::Invalid {
                    name: "OPSVOICE_POLLY_ENGINE",
                    problem: format!("`{engine}` is not standard, neural, long-form or generative"),
                });
            }
            c.polly.engine = engine;
        }
        c.region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
        let millis = |name: &'static str,
                      v: Option<String>,
                      file: Option<u64>|
         -> Result<Option<Duration>, ConfigError> {
            let ms = match v {
                Some(v) => Some(v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                    name,
                    problem: format!("`{v}` is not a whole number of milliseconds"),
                })?),
                None => file,
            };
            match ms {
                Some(0) => Err(ConfigError::Invalid {
                    name,
                    problem: "must be more than 0".to_owned(),
                }),
                other => Ok(other.map(Duration::from_millis)),
            }
        };
        if let Some(t) = millis(
            "OPSVOICE_REQUEST_TIMEOUT_MS",
            var("OPSVOICE_REQUEST_TIMEOUT_MS"),
            f.request_timeout_ms,
        )? {
            c.request_timeout = t;
        }
        if let Some(t) = millis(
            "OPSVOICE_ANSWER_DEADLINE_MS",
            var("OPSVOICE_ANSWER_DEADLINE_MS"),
            f.answer_deadline_ms,
        )? {
            c.answer_deadline = t;
        }
        if c.answer_deadline >= c.request_timeout {
            return Err(ConfigError::Invalid {
                name: "OPSVOICE_ANSWER_DEADLINE_MS",
                problem:
                    "must be shorter than the request timeout, so a late answer is still spoken"
                        .to_owned(),
            });
        }
        if let Some(limit) = var("OPSVOICE_BODY_LIMIT_BYTES") {
            c.body_limit = limit.parse().map_err(|_| ConfigError::Invalid {
                name: "OPSVOICE_BODY_LIMIT_BYTES",
                problem: format!("`{limit}` is not a number of bytes"),
            })?;
        } else if let Some(limit) = f.body_limit_bytes {
            c.body_limit = limit;
        }
        let log = var("OPSVOICE_LOG_FORMAT").or(f.log_format).or_else(|| {
            // Lambda's log pipeline wants one JSON object a line.
            var("AWS_LAMBDA_FUNCTION_NAME").map(|_| "json".to_owned())
        });
        if let Some(log) = log {
            c.log_format = match log.to_ascii_lowercase().as_str() {
                "json" => LogFormat::Json,
                "pretty" | "text" => LogFormat::Pretty,
                other => {
                    return Err(ConfigError::Invalid {
                        name: "OPSVOICE_LOG_FORMAT",
                        problem: format!("`{other}` is not `pretty` or `json`"),
                    });
                }
            };
        }
        c.state_dir = var("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".local/state")))
            .map(|state| state.join("opsvoice"));
        if let Some(key) = var("OPSVOICE_SESSION_KEY") {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .map_err(|_| ConfigError::Invalid {
                    name: "OPSVOICE_SESSION_KEY",
                    problem: "is not base64 (make one with `openssl rand -base64 32`)".to_owned(),
                })?;
            if bytes.len() < 32 {
                return Err(ConfigError::Invalid {
                    name: "OPSVOICE_SESSION_KEY",
                    problem: format!("holds {} bytes; at least 32 are needed", bytes.len()),
                });
            }
            c.session_key = Some(Secret(bytes));
        }
        let secret = |name: &str| var(name).map(|v| Secret(v.trim().as_bytes().to_vec()));
        c.slack = Slack {
            signing_secret: secret("OPSVOICE_SLACK_SIGNING_SECRET"),
            bot_token: secret("OPSVOICE_SLACK_BOT_TOKEN"),
            api_url: var("OPSVOICE_SLACK_API_URL").map(|u| u.trim_end_matches('/').to_owned()),
        };
        let base_url = |name: &'static str| -> Result<Option<String>, ConfigError> {
            let Some(raw) = var(name) else {
                return Ok(None);
            };
            let parsed = url::Url::parse(raw.trim()).map_err(|e| ConfigError::Invalid {
                name,
                problem: format!("`{raw}` is not a URL ({e})"),
            })?;
            if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
                return Err(ConfigError::Invalid {
                    name,
                    problem: format!("`{raw}` is not an http(s) URL with a host"),
                });
            }
            Ok(Some(raw.trim().trim_end_matches('/').to_owned()))
        };
        c.link = Link {
            public_url: base_url("OPSVOICE_PUBLIC_URL")?,
            cognito_domain: base_url("OPSVOICE_COGNITO_DOMAIN")?,
            client_id: var("OPSVOICE_COGNITO_LINK_CLIENT_ID"),
            client_secret: secret("OPSVOICE_COGNITO_LINK_CLIENT_SECRET"),
            ..Link::default()
        };
        if let Some(days) = var("OPSVOICE_LINK_TTL_DAYS") {
            let days: u64 = days
                .trim()
                .parse()
                .ok()
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| ConfigError::Invalid {
                    name: "OPSVOICE_LINK_TTL_DAYS",
                    problem: format!("`{days}` is not a whole number of days from 1 to 365"),
                })?;
            c.link.ttl = Duration::from_secs(days * 24 * 3600);
        }
        c.store = match var("OPSVOICE_STORE") {
            None => None,
            Some(raw) => Some(match raw.trim().split_once(':') {
                Some(("dynamodb", table)) if !table.is_empty() => {
                    StoreLocation::Dynamo(table.to_owned())
                }
                Some(("file", path)) if !path.is_empty() => StoreLocation::File(path.into()),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "OPSVOICE_STORE",
                        problem: format!("`{raw}` is not `dynamodb:<table>` or `file:<path>`"),
                    });
                }
            }),
        };
        if let Some(key) = var("OPSVOICE_STORE_KEY") {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .map_err(|_| ConfigError::Invalid {
                    name: "OPSVOICE_STORE_KEY",
                    problem: "is not base64 (make one with `openssl rand -base64 32`)".to_owned(),
                })?;
            if bytes.len() != 32 {
                return Err(ConfigError::Invalid {
                    name: "OPSVOICE_STORE_KEY",
                    problem: format!("holds {} bytes; exactly 32 are needed", bytes.len()),
                });
            }
            c.store_key = Some(Secret(bytes));
        }
        c.notify_file = var("OPSVOICE_NOTIFY_FILE").map(PathBuf::from);
        c.sns = Sns {
            topic_arns: var("OPSVOICE_SNS_TOPIC_ARNS")
                .map(|v| list(&v))
                .unwrap_or_default(),
            trust_roots: var("OPSVOICE_SNS_TRUST_ROOTS").map(PathBuf::from),
            cert_base_url: var("OPSVOICE_SNS_CERT_BASE_URL"),
        };
        if let Some(bad) = c.sns.topic_arns.iter().find(|a| {
            let parts: Vec<&str> = a.split(':').collect();
            parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns"
        }) {
            return Err(ConfigError::Invalid {
                name: "OPSVOICE_SNS_TOPIC_ARNS",
                problem: format!(
                    "`{bad}` is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"
                ),
            });
        }
        Ok(c)
    }

    /// Whether anything needs the store: the Slack app, or notifications.
    #[must_use]
    pub fn wants_store(&self) -> bool {
        self.slack.signing_secret.is_some()
            || self.notify_file.is_some()
            || !self.sns.topic_arns.is_empty()
    }

    /// Where the store is: the configured place, else `store.db` in the state directory.
    #[must_use]
    pub fn store_location(&self) -> Option<StoreLocation> {
        self.store.clone().or_else(|| {
            self.state_dir
                .as_ref()
                .map(|dir| StoreLocation::File(dir.join("store.db")))
        })
    }

    /// Why the Slack and linking settings cannot work together, if they cannot: each
    /// problem names the settings to fix. Empty when Slack is off or set up right.
    #[must_use]
    pub fn slack_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.slack.signing_secret.is_none() {
            return out;
        }
        if self.slack.bot_token.is_none() {
            out.push("OPSVOICE_SLACK_BOT_TOKEN is not set: answers cannot be posted".to_owned());
        }
        let link = &self.link;
        let any_link =
            link.public_url.is_some() || link.cognito_domain.is_some() || link.client_id.is_some();
        if any_link && !link.configured() {
            out.push(
                "account linking needs all of OPSVOICE_PUBLIC_URL, OPSVOICE_COGNITO_DOMAIN and \
                 OPSVOICE_COGNITO_LINK_CLIENT_ID"
                    .to_owned(),
            );
        }
        if link.configured() && self.store_key.is_none() {
            out.push(
                "OPSVOICE_STORE_KEY is not set: refresh tokens must be encrypted at rest \
                 (make one with `openssl rand -base64 32`)"
                    .to_owned(),
            );
        }
        if link.configured() && self.cognito.user_pool_id.is_none() {
            out.push(
                "OPSVOICE_COGNITO_USER_POOL_ID is not set: linked sign-ins cannot be verified"
                    .to_owned(),
            );
        }
        if self.backend == Backend::Aws && !link.configured() {
            out.push(
                "OPSVOICE_BACKEND=aws with Slack but no account linking: every Slack user \
                 would be refused (set OPSVOICE_PUBLIC_URL, OPSVOICE_COGNITO_DOMAIN and \
                 OPSVOICE_COGNITO_LINK_CLIENT_ID)"
                    .to_owned(),
            );
        }
        if self.store_location().is_none() {
            out.push("no place for the store: set OPSVOICE_STORE".to_owned());
        }
        out
    }

    /// Warnings to log at start: test-only settings in use.
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.cognito.jwks_url.is_some() {
            out.push("OPSVOICE_COGNITO_JWKS_URL is set: signing keys come from a test-only location (the issuer check still applies)".to_owned());
        }
        if self.alexa.trust_roots.is_some() {
            out.push("OPSVOICE_ALEXA_TRUST_ROOTS is set: extra, test-only roots are trusted for Alexa certificate chains".to_owned());
        }
        if self.alexa.cert_base_url.is_some() {
            out.push("OPSVOICE_ALEXA_CERT_BASE_URL is set: Alexa chains are fetched from a test-only location".to_owned());
        }
        if self.sns.trust_roots.is_some() {
            out.push("OPSVOICE_SNS_TRUST_ROOTS is set: extra, test-only roots are trusted for SNS signing certificates".to_owned());
        }
        if self.sns.cert_base_url.is_some() {
            out.push("OPSVOICE_SNS_CERT_BASE_URL is set: SNS signing certificates are fetched from a test-only location".to_owned());
        }
        if self.slack.api_url.is_some() {
            out.push(
                "OPSVOICE_SLACK_API_URL is set: Slack Web API calls go to a test-only location"
                    .to_owned(),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn no_configuration_means_the_demo_fleet_on_localhost() {
        let c = Config::from_sources(None, &env(&[])).unwrap();
        assert_eq!(c.backend, Backend::Demo);
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opsvoice.toml");
        std::fs::write(
            &path,
            "addr = \"127.0.0.1:4000\"\nclusters = [\"a\"]\nbackend = \"aws\"\n",
        )
        .unwrap();
        let c = Config::from_sources(
            Some(&path),
            &env(&[
                ("OPSVOICE_CLUSTERS", "prod, staging"),
                ("OPSVOICE_BACKEND", "demo"),
            ]),
        )
        .unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:4000");
        assert_eq!(
            c.clusters,
            Some(vec!["prod".to_owned(), "staging".to_owned()])
        );
        assert_eq!(c.backend, Backend::Demo);
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err =
            Config::from_sources(None, &env(&[("OPSVOICE_BACKEND", "mainframe")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OPSVOICE_BACKEND: `mainframe` is not `demo` or `aws`"
        );
        let err = Config::from_sources(None, &env(&[("OPSVOICE_ADDR", "localhost")])).unwrap_err();
        assert!(err.to_string().starts_with("OPSVOICE_ADDR:"), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_rejected_and_test_only_settings_warn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "adress = \"x\"\n").unwrap();
        assert!(
            Config::from_sources(Some(&path), &env(&[]))
                .unwrap_err()
                .to_string()
                .contains("adress")
        );
        let c = Config::from_sources(
            None,
            &env(&[("OPSVOICE_COGNITO_JWKS_URL", "http://127.0.0.1:1/jwks")]),
        )
        .unwrap();
        assert_eq!(c.warnings().len(), 1);
    }
}
