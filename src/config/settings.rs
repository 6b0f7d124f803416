//! The one table of settings: each one's file key, environment variable, kind, default and
//! an example. Parsing, `opsvoice config`, the problems and the README test all read it, so
//! they cannot drift apart.

use super::Secret;

/// What a setting's value is, and so how its text is read and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any text.
    Text,
    /// A list: comma-separated in the environment, a TOML array (or the same comma-separated
    /// string) in the file.
    List,
    /// `true` or `false` (`1`, `yes`, `on` and `0`, `no`, `off` too).
    Bool,
    /// A socket address like `127.0.0.1:3000`.
    Addr,
    /// One of these words, any case; `a|b` makes `b` another way to write `a`.
    Choice(&'static [&'static str]),
    /// A whole number from `min` to `max`, in `unit`.
    Number {
        min: u64,
        max: u64,
        unit: &'static str,
    },
    /// A file path.
    Path,
    /// An `http(s)` base URL with a host; a trailing `/` is dropped.
    Url,
    /// Secret text (tokens, signing secrets).
    Secret,
    /// Secret bytes written as base64: at least `min` and at most `max` of them.
    Key { min: usize, max: usize },
    /// `dynamodb:<table>` or `file:<path>`.
    Store,
    /// SNS topic ARNs, as a list.
    TopicArns,
    /// An IAM role ARN.
    RoleArn,
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The dotted file key: a TOML table path, like `slack.signing_secret`.
    pub key: &'static str,
    /// The environment variable (fixed: deployments and the README use these names).
    pub env: &'static str,
    pub kind: Kind,
    /// The default, written as the setting's text would be; `None` when unset by default.
    pub default: Option<&'static str>,
    /// A valid value other than the default, written as in the environment (what the
    /// README test sets, both ways).
    pub example: &'static str,
    /// Only for tests: a warning says so whenever it is set.
    pub test_only: bool,
}

impl Setting {
    /// Whether the value is never shown.
    #[must_use]
    pub fn secret(&self) -> bool {
        matches!(self.kind, Kind::Secret | Kind::Key { .. })
    }

    /// The flat file key the README documented before tables ("the variable names in
    /// lowercase without the prefix"), so that an old file is told its new key.
    #[must_use]
    pub fn flat_key(&self) -> String {
        self.env
            .trim_start_matches("OPSVOICE_")
            .to_ascii_lowercase()
    }

    /// The table the key lives in (`slack` for `slack.signing_secret`).
    #[must_use]
    pub fn table(&self) -> &'static str {
        self.key
            .split_once('.')
            .map_or(self.key, |(table, _)| table)
    }
}

const fn s(key: &'static str, env: &'static str, kind: Kind, example: &'static str) -> Setting {
    Setting {
        key,
        env,
        kind,
        default: None,
        example,
        test_only: false,
    }
}

const fn d(
    key: &'static str,
    env: &'static str,
    kind: Kind,
    default: &'static str,
    example: &'static str,
) -> Setting {
    Setting {
        key,
        env,
        kind,
        default: Some(default),
        example,
        test_only: false,
    }
}

const fn test_only(
    key: &'static str,
    env: &'static str,
    kind: Kind,
    example: &'static str,
) -> Setting {
    Setting {
        key,
        env,
        kind,
        default: None,
        example,
        test_only: true,
    }
}

const MS: Kind = Kind::Number {
    min: 1,
    max: 3_600_000,
    unit: "milliseconds",
};

/// Every setting, in the order `opsvoice config` and the README list them.
pub const SETTINGS: &[Setting] = &[
    d(
        "server.addr",
        "OPSVOICE_ADDR",
        Kind::Addr,
        "127.0.0.1:3000",
        "0.0.0.0:8080",
    ),
    d(
        "server.request_timeout_ms",
        "OPSVOICE_REQUEST_TIMEOUT_MS",
        MS,
        "10000",
        "20000",
    ),
    d(
        "server.answer_deadline_ms",
        "OPSVOICE_ANSWER_DEADLINE_MS",
        MS,
        "3000",
        "2500",
    ),
    d(
        "server.body_limit_bytes",
        "OPSVOICE_BODY_LIMIT_BYTES",
        Kind::Number {
            min: 1,
            max: 1 << 30,
            unit: "bytes",
        },
        "65536",
        "131072",
    ),
    d(
        "server.log_format",
        "OPSVOICE_LOG_FORMAT",
        Kind::Choice(&["pretty|text", "json"]),
        "pretty",
        "json",
    ),
    s(
        "server.session_key",
        "OPSVOICE_SESSION_KEY",
        Kind::Key { min: 32, max: 1024 },
        "c2Vzc2lvbi1rZXktZm9yLXRoZS1yZWFkbWUtdGVzdC0xMjM0NTY3OA==",
    ),
    d(
        "aws.backend",
        "OPSVOICE_BACKEND",
        Kind::Choice(&["demo", "aws"]),
        "demo",
        "aws",
    ),
    s(
        "aws.clusters",
        "OPSVOICE_CLUSTERS",
        Kind::List,
        "prod,staging",
    ),
    d(
        "aws.alarm_name_match",
        "OPSVOICE_ALARM_NAME_MATCH",
        Kind::Bool,
        "true",
        "false",
    ),
    s(
        "cognito.user_pool_id",
        "OPSVOICE_COGNITO_USER_POOL_ID",
        Kind::Text,
        "eu-west-1_AbC123",
    ),
    s(
        "cognito.client_ids",
        "OPSVOICE_COGNITO_CLIENT_IDS",
        Kind::List,
        "client1,client2",
    ),
    s(
        "cognito.region",
        "OPSVOICE_COGNITO_REGION",
        Kind::Text,
        "eu-west-1",
    ),
    d(
        "cognito.token_use",
        "OPSVOICE_COGNITO_TOKEN_USE",
        Kind::Choice(&["access", "id"]),
        "access",
        "id",
    ),
    d(
        "cognito.leeway_secs",
        "OPSVOICE_COGNITO_LEEWAY_SECS",
        Kind::Number {
            min: 0,
            max: 300,
            unit: "seconds",
        },
        "5",
        "30",
    ),
    test_only(
        "cognito.jwks_url",
        "OPSVOICE_COGNITO_JWKS_URL",
        Kind::Url,
        "http://127.0.0.1:9/jwks.json",
    ),
    s(
        "cognito.policy_file",
        "OPSVOICE_POLICY_FILE",
        Kind::Path,
        "/etc/opsvoice/policy.toml",
    ),
    s(
        "alexa.skill_ids",
        "OPSVOICE_ALEXA_SKILL_IDS",
        Kind::List,
        "amzn1.ask.skill.1",
    ),
    test_only(
        "alexa.trust_roots",
        "OPSVOICE_ALEXA_TRUST_ROOTS",
        Kind::Path,
        "/tmp/roots.pem",
    ),
    test_only(
        "alexa.cert_base_url",
        "OPSVOICE_ALEXA_CERT_BASE_URL",
        Kind::Url,
        "http://127.0.0.1:9",
    ),
    test_only(
        "alexa.api_base_url",
        "OPSVOICE_ALEXA_API_BASE_URL",
        Kind::Url,
        "http://127.0.0.1:9",
    ),
    s(
        "lex.bot_id",
        "OPSVOICE_LEX_BOT_ID",
        Kind::Text,
        "BOTID12345",
    ),
    s(
        "lex.bot_alias_id",
        "OPSVOICE_LEX_BOT_ALIAS_ID",
        Kind::Text,
        "ALIAS12345",
    ),
    s("lex.locale", "OPSVOICE_LEX_LOCALE", Kind::Text, "en_GB"),
    d(
        "polly.voice",
        "OPSVOICE_POLLY_VOICE",
        Kind::Text,
        "Joanna",
        "Matthew",
    ),
    d(
        "polly.engine",
        "OPSVOICE_POLLY_ENGINE",
        Kind::Choice(&["standard", "neural", "long-form", "generative"]),
        "neural",
        "standard",
    ),
    s(
        "slack.signing_secret",
        "OPSVOICE_SLACK_SIGNING_SECRET",
        Kind::Secret,
        "8f742231b10e8888",
    ),
    s(
        "slack.bot_token",
        "OPSVOICE_SLACK_BOT_TOKEN",
        Kind::Secret,
        "xoxb-1-2-abc",
    ),
    test_only(
        "slack.api_url",
        "OPSVOICE_SLACK_API_URL",
        Kind::Url,
        "http://127.0.0.1:9/api",
    ),
    s(
        "link.public_url",
        "OPSVOICE_PUBLIC_URL",
        Kind::Url,
        "https://ops.example.com",
    ),
    s(
        "link.cognito_domain",
        "OPSVOICE_COGNITO_DOMAIN",
        Kind::Url,
        "https://ops.auth.eu-west-1.amazoncognito.com",
    ),
    s(
        "link.client_id",
        "OPSVOICE_COGNITO_LINK_CLIENT_ID",
        Kind::Text,
        "linkclient1",
    ),
    s(
        "link.client_secret",
        "OPSVOICE_COGNITO_LINK_CLIENT_SECRET",
        Kind::Secret,
        "link-client-secret",
    ),
    d(
        "link.ttl_days",
        "OPSVOICE_LINK_TTL_DAYS",
        Kind::Number {
            min: 1,
            max: 365,
            unit: "days",
        },
        "30",
        "7",
    ),
    s(
        "store.location",
        "OPSVOICE_STORE",
        Kind::Store,
        "dynamodb:opsvoice",
    ),
    s(
        "store.key",
        "OPSVOICE_STORE_KEY",
        Kind::Key { min: 32, max: 32 },
        "c3RvcmUta2V5LWZvci10aGUtcmVhZG1lLXRlc3QtMTI=",
    ),
    s(
        "notify.file",
        "OPSVOICE_NOTIFY_FILE",
        Kind::Path,
        "/etc/opsvoice/notify.toml",
    ),
    s(
        "notify.sns_topic_arns",
        "OPSVOICE_SNS_TOPIC_ARNS",
        Kind::TopicArns,
        "arn:aws:sns:eu-west-1:111111111111:alarms",
    ),
    test_only(
        "notify.sns_trust_roots",
        "OPSVOICE_SNS_TRUST_ROOTS",
        Kind::Path,
        "/tmp/sns.pem",
    ),
    test_only(
        "notify.sns_cert_base_url",
        "OPSVOICE_SNS_CERT_BASE_URL",
        Kind::Url,
        "http://127.0.0.1:9",
    ),
    s(
        "actions.mode",
        "OPSVOICE_ACTIONS",
        Kind::Choice(&["off"]),
        "off",
    ),
    s(
        "actions.role_arn",
        "OPSVOICE_ACTIONS_ROLE_ARN",
        Kind::RoleArn,
        "arn:aws:iam::111111111111:role/opsvoice-act",
    ),
    s(
        "accounts.file",
        "OPSVOICE_ACCOUNTS_FILE",
        Kind::Path,
        "/etc/opsvoice/accounts.toml",
    ),
    d(
        "accounts.concurrency",
        "OPSVOICE_ACCOUNTS_CONCURRENCY",
        Kind::Number {
            min: 1,
            max: 64,
            unit: "accounts and regions at once",
        },
        "8",
        "16",
    ),
    d(
        "accounts.answer_concurrency",
        "OPSVOICE_ACCOUNTS_ANSWER_CONCURRENCY",
        Kind::Number {
            min: 1,
            max: 1024,
            unit: "AWS calls at once",
        },
        "64",
        "128",
    ),
];

/// The setting with this file key.
#[must_use]
pub fn by_key(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}

/// The setting's index in [`SETTINGS`] (what the loaded values are kept by).
pub(super) fn index(key: &str) -> Option<usize> {
    SETTINGS.iter().position(|s| s.key == key)
}

/// A value as a source gave it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raw {
    Text(String),
    List(Vec<String>),
    Bool(bool),
    Int(i64),
}

impl Raw {
    /// Whether it says nothing (an empty string or list): the same as not set.
    pub(super) fn is_empty(&self) -> bool {
        match self {
            Self::Text(t) => t.trim().is_empty(),
            Self::List(l) => l.iter().all(|i| i.trim().is_empty()),
            Self::Bool(_) | Self::Int(_) => false,
        }
    }
}

/// A checked value, in its one canonical form whichever source gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    List(Vec<String>),
    Bool(bool),
    Number(u64),
    Secret(Secret),
}

impl Value {
    /// The value as `opsvoice config --json` shows it: a secret is `"<redacted>"`.
    #[must_use]
    pub fn shown(&self) -> serde_json::Value {
        match self {
            Self::Text(t) => t.clone().into(),
            Self::List(l) => l.clone().into(),
            Self::Bool(b) => (*b).into(),
            Self::Number(n) => (*n).into(),
            Self::Secret(_) => REDACTED.into(),
        }
    }
}

/// What a secret's value is shown as.
pub const REDACTED: &str = "<redacted>";

fn words(choices: &[&str]) -> String {
    let names: Vec<String> = choices
        .iter()
        .map(|c| format!("`{}`", c.split('|').next().unwrap_or(c)))
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

fn items(raw: &Raw) -> Vec<String> {
    match raw {
        Raw::List(list) => list
            .iter()
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty())
            .collect(),
        other => text(other)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

fn text(raw: &Raw) -> String {
    match raw {
        Raw::Text(t) => t.trim().to_owned(),
        Raw::List(l) => l.join(","),
        Raw::Bool(b) => b.to_string(),
        Raw::Int(i) => i.to_string(),
    }
}

fn key(raw: &Raw, min: usize, max: usize) -> Result<Value, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text(raw))
        .map_err(|_| "is not base64 (make one with `openssl rand -base64 32`)".to_owned())?;
    if bytes.len() < min || bytes.len() > max {
        let needed = if min == max {
            format!("exactly {min}")
        } else {
            format!("at least {min}")
        };
        return Err(format!("holds {} bytes; {needed} are needed", bytes.len()));
    }
    Ok(Value::Secret(Secret::new(bytes)))
}

fn url(raw: &Raw) -> Result<Value, String> {
    let value = text(raw);
    let parsed = url::Url::parse(&value).map_err(|e| format!("`{value}` is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
        return Err(format!("`{value}` is not an http(s) URL with a host"));
    }
    Ok(Value::Text(value.trim_end_matches('/').to_owned()))
}

fn topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns" && !parts[5].is_empty()
}

pub(super) fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty())
}

/// Checks `raw` as a value of `kind`. The problem names no setting (the caller knows which
/// and from where) and never repeats a secret.
///
/// # Errors
/// Why the value is not one of `kind`.
pub fn parse(kind: Kind, raw: &Raw) -> Result<Value, String> {
    match (kind, raw) {
        (Kind::Bool, Raw::Bool(b)) => return Ok(Value::Bool(*b)),
        (Kind::Number { min, max, unit }, Raw::Int(i)) => {
            return u64::try_from(*i)
                .ok()
                .filter(|n| (min..=max).contains(n))
                .map(Value::Number)
                .ok_or_else(|| {
                    format!("`{i}` is not a whole number of {unit} from {min} to {max}")
                });
        }
        (Kind::List | Kind::TopicArns, _) => {}
        (_, Raw::List(_)) => return Err("is a list; one value is needed".to_owned()),
        (Kind::Bool | Kind::Number { .. }, _) => {}
        (_, Raw::Bool(_) | Raw::Int(_)) if kind.is_secret() => {
            return Err("must be a string".to_owned());
        }
        _ => {}
    }
    let value = text(raw);
    match kind {
        Kind::Text | Kind::Path => Ok(Value::Text(value)),
        Kind::List => Ok(Value::List(items(raw))),
        Kind::Bool => match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
            _ => Err(format!("`{value}` is not true or false")),
        },
        Kind::Addr => value
            .parse::<std::net::SocketAddr>()
            .map(|a| Value::Text(a.to_string()))
            .map_err(|e| format!("`{value}` is not a socket address like 127.0.0.1:3000 ({e})")),
        Kind::Choice(choices) => {
            let lower = value.to_ascii_lowercase();
            choices
                .iter()
                .find(|c| c.split('|').any(|w| w == lower))
                .map(|c| Value::Text(c.split('|').next().unwrap_or(c).to_owned()))
                .ok_or_else(|| format!("`{value}` is not {}", words(choices)))
        }
        Kind::Number { min, max, unit } => value
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .map(Value::Number)
            .ok_or_else(|| {
                format!("`{value}` is not a whole number of {unit} from {min} to {max}")
            }),
        Kind::Url => url(raw),
        Kind::Secret => Ok(Value::Secret(Secret::new(value.into_bytes()))),
        Kind::Key { min, max } => key(raw, min, max),
        Kind::Store => match value.split_once(':') {
            Some(("dynamodb" | "file", rest)) if !rest.is_empty() => Ok(Value::Text(value)),
            _ => Err(format!(
                "`{value}` is not `dynamodb:<table>` or `file:<path>`"
            )),
        },
        Kind::TopicArns => {
            let arns = items(raw);
            match arns.iter().find(|a| !topic_arn(a)) {
                Some(bad) => Err(format!(
                    "`{bad}` is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"
                )),
                None => Ok(Value::List(arns)),
            }
        }
        Kind::RoleArn if is_role_arn(&value) => Ok(Value::Text(value)),
        Kind::RoleArn => Err(format!(
            "`{value}` is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        )),
    }
}

impl Kind {
    fn is_secret(self) -> bool {
        matches!(self, Self::Secret | Self::Key { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_and_example_is_a_valid_value_and_every_name_is_unique() {
        for s in SETTINGS {
            if let Some(default) = s.default {
                assert!(
                    parse(s.kind, &Raw::Text(default.into())).is_ok(),
                    "{}",
                    s.key
                );
                assert_ne!(default, s.example, "{}: the example must differ", s.key);
            }
            assert!(
                parse(s.kind, &Raw::Text(s.example.into())).is_ok(),
                "{}",
                s.key
            );
            assert!(s.env.starts_with("OPSVOICE_"), "{}", s.env);
            assert_eq!(SETTINGS.iter().filter(|o| o.key == s.key).count(), 1);
            assert_eq!(SETTINGS.iter().filter(|o| o.env == s.env).count(), 1);
        }
    }

    #[test]
    fn a_list_reads_the_same_from_commas_and_from_an_array() {
        assert_eq!(
            parse(Kind::List, &Raw::Text(" a, b ,,".into())),
            parse(Kind::List, &Raw::List(vec!["a".into(), " b".into()]))
        );
    }

    #[test]
    fn bad_values_say_what_is_wanted_and_never_echo_a_secret() {
        assert_eq!(
            parse(
                Kind::Choice(&["demo", "aws"]),
                &Raw::Text("mainframe".into())
            ),
            Err("`mainframe` is not `demo` or `aws`".to_owned())
        );
        let err = parse(
            Kind::Key { min: 32, max: 32 },
            &Raw::Text("not-base64!".into()),
        );
        assert!(!err.unwrap_err().contains("not-base64!"));
        assert!(parse(Kind::Secret, &Raw::Int(3)).is_err());
        assert!(parse(Kind::RoleArn, &Raw::Text("arn:aws:iam::1:role/x".into())).is_err());
        assert_eq!(
            parse(
                Kind::Choice(&["pretty|text", "json"]),
                &Raw::Text("TEXT".into())
            ),
            Ok(Value::Text("pretty".into()))
        );
    }
}
