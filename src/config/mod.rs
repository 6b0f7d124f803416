//! Typed configuration, loaded once at start: each setting's default, then an optional TOML
//! file (nested tables), then `OPSVOICE_*` environment variables over it (the names in the
//! README's table, which deployments rely on). [`settings::SETTINGS`] lists them all;
//! nothing else reads the environment.
//!
//! Standard AWS variables keep their standard meaning and are read by the AWS SDK itself;
//! the region is read here only to build console links.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub mod accounts;
mod problems;
pub mod settings;
mod sources;

pub use problems::{Problem, Severity};
use settings::Value;
pub use sources::{Entry, Layered, Source, render};

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
    /// The group policy (TOML): what each Cognito group may ask.
    pub policy_file: Option<PathBuf>,
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
            policy_file: None,
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
    /// Test-only: the Alexa API host for progressive responses instead of the request's
    /// `apiEndpoint`.
    pub api_base_url: Option<String>,
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

/// The native Slack app.
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

/// The HTTP server: where it listens and how long and large a request may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub addr: SocketAddr,
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
}

impl Default for Server {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            request_timeout: Duration::from_secs(10),
            answer_deadline: DEFAULT_DEADLINE,
            body_limit: 64 * 1024,
            log_format: LogFormat::Pretty,
            session_key: None,
        }
    }
}

/// Where answers come from and which part of AWS they look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aws {
    pub backend: Backend,
    /// ECS clusters to watch; `None` means all (ListClusters).
    pub clusters: Option<Vec<String>>,
    /// Also tie alarms to services by name (`<service>-...`), not only by dimensions.
    pub alarm_name_match: bool,
    /// The AWS region, for console links (`AWS_REGION`, else `AWS_DEFAULT_REGION`; the SDK
    /// reads them itself for its calls).
    pub region: Option<String>,
}

impl Default for Aws {
    fn default() -> Self {
        Self {
            backend: Backend::Demo,
            clusters: None,
            alarm_name_match: true,
            region: None,
        }
    }
}

/// Where links and delivery state are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A DynamoDB table (production and Lambda).
    Dynamo(String),
    /// An embedded SQLite file.
    File(PathBuf),
}

/// The store: links, Slack events, the notification queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Store {
    /// `OPSVOICE_STORE`; `None` means a file under [`Self::state_dir`].
    pub location: Option<StoreLocation>,
    /// `OPSVOICE_STORE_KEY`: exactly 32 bytes, encrypts secrets at rest.
    pub key: Option<Secret>,
    /// Where opsvoice keeps local state (the store by default, the chat history):
    /// `$XDG_STATE_HOME/opsvoice`, else `~/.local/state/opsvoice`; `None` when neither is
    /// known.
    pub state_dir: Option<PathBuf>,
}

/// Notifications: routes to Slack, and SNS deliveries to `POST /events`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    /// Which events go to which Slack channel, for which group.
    pub file: Option<PathBuf>,
    /// The topics whose deliveries are accepted; every other topic is refused.
    pub sns_topic_arns: Vec<String>,
    /// Test-only: a PEM file of extra trusted roots for signing certificates.
    pub sns_trust_roots: Option<PathBuf>,
    /// Test-only: fetch signing certificates from this base instead of the message's host
    /// (the message's URL is still checked as sent).
    pub sns_cert_base_url: Option<String>,
}

/// The whole configuration, nested as the file is: `config.server.addr` is `[server] addr`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub server: Server,
    pub aws: Aws,
    pub cognito: Cognito,
    pub alexa: Alexa,
    pub lex: Lex,
    pub polly: Polly,
    pub slack: Slack,
    pub link: Link,
    pub store: Store,
    pub notify: Notify,
    pub actions: Actions,
    pub accounts: Accounts,
}

/// Acting on the fleet. Parsed and shown, but nothing acts on it yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    /// `OPSVOICE_ACTIONS=off`: the kill switch, every action refused.
    pub off: bool,
    /// The role assumed for writes in the home account.
    pub role_arn: Option<String>,
}

/// Other AWS accounts and regions (`OPSVOICE_ACCOUNTS_FILE`, read by [`accounts::load`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounts {
    /// The accounts file (TOML).
    pub file: Option<PathBuf>,
    /// How many (account, region) members of one account the answers ask at once, and
    /// how many members the background refresh renews at once.
    pub concurrency: usize,
    /// How many AWS calls all the answers under way make at once across accounts, as the
    /// members being asked make them (a member listing its services counts 4).
    pub answer_concurrency: usize,
}

impl Default for Accounts {
    fn default() -> Self {
        Self {
            file: None,
            concurrency: 8,
            answer_concurrency: 64,
        }
    }
}

/// The `known` word closest to `word` by edit distance, if within `max` edits: the
/// "did you mean" of every configuration file and variable.
pub(crate) fn closest<'a>(
    word: &str,
    known: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::levenshtein(word, k), k))
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, _)| *distance <= max)
        .map(|(_, k)| k)
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

/// Why the configuration cannot be loaded. Names the setting and where it was set; never
/// echoes a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Bad TOML, by position only (the parser's own text quotes the line, maybe a secret).
    #[error("config file {path}, line {line}, column {column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// Every unknown key and bad value, each naming its setting.
    #[error("{}", lines(.0))]
    Invalid(Vec<String>),
}

/// One problem as it is; several, one a line.
#[must_use]
pub fn lines(problems: &[String]) -> String {
    match problems {
        [one] => one.clone(),
        many => format!("{} problems:\n  {}", many.len(), many.join("\n  ")),
    }
}

impl Config {
    /// Loads the configuration from the process environment and, if `file` is given (or
    /// `OPSVOICE_CONFIG` names one), a TOML file under it.
    ///
    /// # Errors
    /// An unreadable file, an unknown key or an invalid value, naming the setting.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Ok(Self::from_layered(&Layered::load(file)?))
    }

    /// Loads from an explicit environment map (what `load` and the tests use).
    ///
    /// # Errors
    /// An unreadable file, an unknown key or an invalid value, naming the setting.
    pub fn from_sources(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        Ok(Self::from_layered(&Layered::from_sources(file, env)?))
    }

    /// The typed configuration of checked, layered settings.
    #[must_use]
    pub fn from_layered(l: &Layered) -> Self {
        let text = |key: &str| match l.get(key) {
            Some(Value::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let list = |key: &str| match l.get(key) {
            Some(Value::List(items)) if !items.is_empty() => Some(items.clone()),
            _ => None,
        };
        let number = |key: &str| match l.get(key) {
            Some(Value::Number(n)) => Some(*n),
            _ => None,
        };
        let secret = |key: &str| match l.get(key) {
            Some(Value::Secret(s)) => Some(s.clone()),
            _ => None,
        };
        let path = |key: &str| text(key).map(PathBuf::from);
        let millis = |key: &str| number(key).map(Duration::from_millis);
        let d = Self::default();
        Self {
            server: Server {
                addr: text("server.addr")
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(d.server.addr),
                request_timeout: millis("server.request_timeout_ms")
                    .unwrap_or(d.server.request_timeout),
                answer_deadline: millis("server.answer_deadline_ms")
                    .unwrap_or(d.server.answer_deadline),
                body_limit: number("server.body_limit_bytes")
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(d.server.body_limit),
                log_format: match text("server.log_format").as_deref() {
                    Some("json") => LogFormat::Json,
                    _ => LogFormat::Pretty,
                },
                session_key: secret("server.session_key"),
            },
            aws: Aws {
                backend: match text("aws.backend").as_deref() {
                    Some("aws") => Backend::Aws,
                    _ => Backend::Demo,
                },
                clusters: list("aws.clusters"),
                alarm_name_match: !matches!(
                    l.get("aws.alarm_name_match"),
                    Some(Value::Bool(false))
                ),
                region: l.region.clone(),
            },
            cognito: Cognito {
                user_pool_id: text("cognito.user_pool_id"),
                client_ids: list("cognito.client_ids").unwrap_or_default(),
                region: text("cognito.region"),
                jwks_url: text("cognito.jwks_url"),
                id_tokens: text("cognito.token_use").as_deref() == Some("id"),
                leeway: number("cognito.leeway_secs").map_or(d.cognito.leeway, Duration::from_secs),
                policy_file: path("cognito.policy_file"),
            },
            alexa: Alexa {
                skill_ids: list("alexa.skill_ids").unwrap_or_default(),
                trust_roots: path("alexa.trust_roots"),
                cert_base_url: text("alexa.cert_base_url"),
                api_base_url: text("alexa.api_base_url"),
            },
            lex: Lex {
                bot_id: text("lex.bot_id"),
                bot_alias_id: text("lex.bot_alias_id"),
                locale: text("lex.locale"),
            },
            polly: Polly {
                voice: text("polly.voice").unwrap_or(d.polly.voice),
                engine: text("polly.engine").unwrap_or(d.polly.engine),
            },
            slack: Slack {
                signing_secret: secret("slack.signing_secret"),
                bot_token: secret("slack.bot_token"),
                api_url: text("slack.api_url"),
            },
            link: Link {
                public_url: text("link.public_url"),
                cognito_domain: text("link.cognito_domain"),
                client_id: text("link.client_id"),
                client_secret: secret("link.client_secret"),
                ttl: number("link.ttl_days")
                    .map_or(d.link.ttl, |days| Duration::from_secs(days * 24 * 3600)),
            },
            store: Store {
                location: text("store.location").and_then(|s| match s.split_once(':') {
                    Some(("dynamodb", table)) => Some(StoreLocation::Dynamo(table.to_owned())),
                    Some(("file", path)) => Some(StoreLocation::File(path.into())),
                    _ => None,
                }),
                key: secret("store.key"),
                state_dir: l.state_dir.clone(),
            },
            notify: Notify {
                file: path("notify.file"),
                sns_topic_arns: list("notify.sns_topic_arns").unwrap_or_default(),
                sns_trust_roots: path("notify.sns_trust_roots"),
                sns_cert_base_url: text("notify.sns_cert_base_url"),
            },
            actions: Actions {
                off: text("actions.mode").as_deref() == Some("off"),
                role_arn: text("actions.role_arn"),
            },
            accounts: Accounts {
                file: path("accounts.file"),
                concurrency: number("accounts.concurrency")
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(d.accounts.concurrency),
                answer_concurrency: number("accounts.answer_concurrency")
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(d.accounts.answer_concurrency),
            },
        }
    }

    /// Whether some configured account has an `actions_role` (`false` without an accounts
    /// file, or with one that cannot be read: that is said on its own).
    #[must_use]
    pub fn accounts_act(&self) -> bool {
        let Some(path) = &self.accounts.file else {
            return false;
        };
        let region = self.aws.region.as_deref().unwrap_or("us-east-1");
        accounts::load(path, region)
            .is_ok_and(|accounts| accounts.iter().any(|a| a.actions_role.is_some()))
    }

    /// Whether anything needs the store: the Slack app, notifications, or acting (an
    /// actions role, the home account's or a configured account's).
    #[must_use]
    pub fn wants_store(&self) -> bool {
        self.slack.signing_secret.is_some()
            || self.actions.role_arn.is_some()
            || self.accounts_act()
            || self.notify.file.is_some()
            || !self.notify.sns_topic_arns.is_empty()
    }

    /// Where the store is: the configured place, else `store.db` in the state directory.
    #[must_use]
    pub fn store_location(&self) -> Option<StoreLocation> {
        self.store.location.clone().or_else(|| {
            self.store
                .state_dir
                .as_ref()
                .map(|dir| StoreLocation::File(dir.join("store.db")))
        })
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
        assert_eq!(c.aws.backend, Backend::Demo);
        assert_eq!(c.server.addr.to_string(), "127.0.0.1:3000");
        assert!(c.warnings().is_empty());
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("opsvoice.toml");
        std::fs::write(
            &path,
            "[server]\naddr = \"127.0.0.1:4000\"\n[aws]\nclusters = [\"a\"]\nbackend = \"aws\"\n",
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
        assert_eq!(c.server.addr.to_string(), "127.0.0.1:4000");
        assert_eq!(
            c.aws.clusters,
            Some(vec!["prod".to_owned(), "staging".to_owned()])
        );
        assert_eq!(c.aws.backend, Backend::Demo);
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

    #[test]
    fn the_defaults_are_the_tables_defaults() {
        // `Config::default()` is written out for tests to build on; the table is what
        // loading uses. They must agree.
        assert_eq!(
            Config::from_sources(None, &env(&[])).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn every_bad_value_is_reported_at_once_naming_where_it_was_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[polly]\nengine = \"loud\"\n[link]\nttl_days = 0\n").unwrap();
        let err = Config::from_sources(Some(&path), &env(&[("OPSVOICE_BACKEND", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`polly.engine` in "), "{err}");
        assert!(err.contains("`link.ttl_days` in "), "{err}");
        assert!(err.contains("OPSVOICE_BACKEND: `x` is not"), "{err}");
    }

    #[test]
    fn a_syntax_error_gives_the_position_but_not_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[slack]\nsigning_secret = \"hush\n").unwrap();
        let err = Config::from_sources(Some(&path), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("hush"), "{err}");
    }
}
