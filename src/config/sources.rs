//! The sources of settings, layered: each setting's default, then the TOML file, then its
//! `OPSVOICE_*` variable. Keeps where each value came from, for `opsvoice config` and for
//! error messages; an unknown file key is refused with the closest known one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ConfigError;
use super::settings::{self, Raw, SETTINGS, Setting, Value};

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Default,
    File,
    Env,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Default => "default",
            Self::File => "file",
            Self::Env => "env",
        })
    }
}

/// Every setting's checked value (or none) and its source, in [`SETTINGS`] order, plus the
/// few standard variables opsvoice also reads.
#[derive(Debug, Clone)]
pub struct Layered {
    pub(super) values: Vec<(Option<Value>, Source)>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub(super) region: Option<String>,
    /// `$XDG_STATE_HOME/opsvoice`, else `~/.local/state/opsvoice`.
    pub(super) state_dir: Option<PathBuf>,
    pub(super) file: Option<PathBuf>,
    /// `OPSVOICE_*` variables that are no setting, each with the closest one.
    unknown_env: Vec<String>,
}

/// The `OPSVOICE_*` variables that are not settings of the file.
const NOT_SETTINGS: [&str; 2] = [
    // Names the file itself.
    "OPSVOICE_CONFIG",
    // `ask --url` and `chat --url`: a client's credential, read by the command line.
    "OPSVOICE_TOKEN",
];

/// One line of `opsvoice config`, in the shape the README gives for `--json` (scripts rely
/// on it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub key: &'static str,
    pub env: &'static str,
    /// `null` when unset; `"<redacted>"` for a secret, set or not.
    pub value: serde_json::Value,
    pub source: Source,
}

impl Layered {
    /// Reads `file` (else the one `OPSVOICE_CONFIG` names, if any) and the process
    /// environment.
    ///
    /// # Errors
    /// As [`Self::from_sources`].
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::from_sources(file, &env)
    }

    /// Reads `file` (else the one `OPSVOICE_CONFIG` names, if any) and `env`.
    ///
    /// # Errors
    /// An unreadable file or bad TOML; else every unknown key and every bad value at once,
    /// each naming its setting and where it was set.
    pub fn from_sources(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            env.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let path = file
            .map(Path::to_path_buf)
            .or_else(|| var("OPSVOICE_CONFIG").map(PathBuf::from));
        let mut from_file = HashMap::new();
        let mut problems = Vec::new();
        if let Some(path) = &path {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| syntax(path, &text, &e))?;
            walk(&table, "", path, &mut from_file, &mut problems);
        }
        // Lambda's log pipeline wants one JSON object a line.
        let lambda = var("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let mut values = Vec::with_capacity(SETTINGS.len());
        for setting in SETTINGS {
            let (raw, source, origin) = if let Some(v) = var(setting.env) {
                (Some(Raw::Text(v)), Source::Env, setting.env.to_owned())
            } else if let Some(raw) = from_file.remove(setting.key) {
                let origin = format!("`{}` in {}", setting.key, display(path.as_deref()));
                (Some(raw), Source::File, origin)
            } else {
                let default = match setting.key {
                    "server.log_format" if lambda => Some("json"),
                    _ => setting.default,
                };
                let raw = default.map(|d| Raw::Text(d.to_owned()));
                (raw, Source::Default, setting.key.to_owned())
            };
            let value = match raw.filter(|r| !r.is_empty()) {
                None => None,
                Some(raw) => match settings::parse(setting.kind, &raw) {
                    Ok(value) => Some(value),
                    Err(problem) => {
                        problems.push(format!("{origin}: {problem}"));
                        None
                    }
                },
            };
            values.push((value, source));
        }
        if !problems.is_empty() {
            return Err(ConfigError::Invalid(
                problems.iter().map(|p| printable(p)).collect(),
            ));
        }
        let mut unknown_env: Vec<String> = env
            .iter()
            .filter(|(name, value)| {
                name.starts_with("OPSVOICE_")
                    && !value.trim().is_empty()
                    && !NOT_SETTINGS.contains(&name.as_str())
                    && !SETTINGS.iter().any(|s| s.env == name.as_str())
            })
            .map(|(name, _)| printable(&unknown_variable(name)))
            .collect();
        unknown_env.sort();
        Ok(Self {
            unknown_env,
            values,
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            state_dir: var("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".local/state")))
                .map(|state| state.join("opsvoice")),
            file: path,
        })
    }

    /// The value of the setting with file key `key`, if set.
    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        debug_assert!(settings::index(key).is_some(), "no setting {key}");
        settings::index(key).and_then(|i| self.values[i].0.as_ref())
    }

    /// Where `key`'s value came from.
    #[must_use]
    pub fn source(&self, key: &str) -> Option<Source> {
        settings::index(key).map(|i| self.values[i].1)
    }

    /// A warning for each `OPSVOICE_*` variable that is no setting (a typo is otherwise
    /// ignored without a word), naming the closest one.
    #[must_use]
    pub fn unknown_variables(&self) -> &[String] {
        &self.unknown_env
    }

    /// The config file read, if any.
    #[must_use]
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Every setting with its value (secrets redacted) and its source, in table order.
    #[must_use]
    pub fn report(&self) -> Vec<Entry> {
        SETTINGS
            .iter()
            .zip(&self.values)
            .map(|(setting, (value, source))| Entry {
                key: setting.key,
                env: setting.env,
                // A secret is always `<redacted>`, set or not (DESIGN §7's words); whether
                // it is set is its source: `default` means it is not.
                value: match value {
                    _ if setting.secret() => super::settings::REDACTED.into(),
                    Some(value) => value.shown(),
                    None => serde_json::Value::Null,
                },
                source: *source,
            })
            .collect()
    }
}

/// [`Layered::report`] as aligned lines: key, value, source, variable.
#[must_use]
pub fn render(entries: &[Entry]) -> String {
    let shown: Vec<String> = entries
        .iter()
        .map(|e| match &e.value {
            serde_json::Value::Null => "-".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        })
        .map(|v| printable(&v))
        .collect();
    let key_width = entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
    let value_width = shown.iter().map(|v| v.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (entry, value) in entries.iter().zip(&shown) {
        let pad = value_width - value.chars().count();
        out.push_str(&format!(
            "{:key_width$}  {value}{:pad$}  {:7}  {}\n",
            entry.key,
            "",
            entry.source.to_string(),
            entry.env,
        ));
    }
    out
}

/// `text` with control characters escaped: keys and values come from the file and the
/// environment, and must not rewrite the terminal or forge a log line.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

fn display(path: Option<&Path>) -> String {
    path.map_or_else(|| "the config file".to_owned(), |p| p.display().to_string())
}

/// A TOML syntax error by line and column only: its usual text quotes the line, which may
/// hold a secret.
fn syntax(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
    let (line, column) = error.span().map_or((0, 0), |span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, column)
    });
    ConfigError::Syntax {
        path: path.to_owned(),
        line,
        column,
        message: error.message().to_owned(),
    }
}

/// Collects the file's settings by dotted key, and a problem for each key that is not one.
fn walk(
    table: &toml::Table,
    prefix: &str,
    path: &Path,
    out: &mut HashMap<&'static str, Raw>,
    problems: &mut Vec<String>,
) {
    let file = path.display();
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let setting = settings::by_key(&key);
        match (setting, value) {
            (Some(setting), toml::Value::Table(_)) => problems.push(format!(
                "`{}` in {file}: is a table; one value is needed",
                setting.key
            )),
            (Some(setting), value) => match raw(value) {
                Some(raw) => {
                    out.insert(setting.key, raw);
                }
                None => problems.push(format!(
                    "`{}` in {file}: must be a string, a whole number, true or false, or a list of strings",
                    setting.key
                )),
            },
            (None, toml::Value::Table(inner)) if is_table(&key) || !inner.is_empty() => {
                // An unknown table's keys are named one by one (`slak.bot_token`), so each
                // finds its closest setting.
                walk(inner, &key, path, out, problems);
            }
            (None, _) if is_table(&key) => problems.push(format!(
                "`{key}` in {file} is a table of settings: write `[{key}]` and its keys under it"
            )),
            (None, _) => problems.push(unknown(&key, &file.to_string())),
        }
    }
}

fn is_table(key: &str) -> bool {
    SETTINGS.iter().any(|s| s.table() == key)
}

fn raw(value: &toml::Value) -> Option<Raw> {
    Some(match value {
        toml::Value::String(s) => Raw::Text(s.clone()),
        toml::Value::Integer(i) => Raw::Int(*i),
        toml::Value::Boolean(b) => Raw::Bool(*b),
        toml::Value::Array(items) => Raw::List(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?,
        ),
        toml::Value::Float(_) | toml::Value::Datetime(_) | toml::Value::Table(_) => return None,
    })
}

/// "unknown key `x` in FILE; did you mean `y`?": the closest known key, by its dotted key or
/// by the flat key the README once documented (so an old file is told its new keys).
fn unknown(key: &str, file: &str) -> String {
    let lower = key.to_ascii_lowercase();
    let closest = SETTINGS
        .iter()
        .flat_map(|s: &Setting| {
            [
                (strsim::levenshtein(&lower, s.key), s.key),
                (strsim::levenshtein(&lower, &s.flat_key()), s.key),
            ]
        })
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, _)| *distance <= (key.len() / 3).max(2));
    match closest {
        Some((_, known)) => format!("unknown key `{key}` in {file}; did you mean `{known}`?"),
        None => format!(
            "unknown key `{key}` in {file} (`opsvoice config` lists every key; the README's \
             Configuration section says what each does)"
        ),
    }
}

fn unknown_variable(name: &str) -> String {
    let closest = super::closest(
        name,
        SETTINGS
            .iter()
            .map(|s| s.env)
            .chain(NOT_SETTINGS.iter().copied()),
        3,
    );
    match closest {
        Some(known) => {
            format!("{name} is not a setting and is ignored; did you mean {known}?")
        }
        None => {
            format!("{name} is not a setting and is ignored (`opsvoice config` lists them all)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_flat_key_and_a_typo_find_their_setting() {
        assert!(unknown("addr", "f").ends_with("did you mean `server.addr`?"));
        assert!(unknown("store_key", "f").ends_with("did you mean `store.key`?"));
        assert!(unknown("sns_topic_arns", "f").ends_with("did you mean `notify.sns_topic_arns`?"));
        assert!(unknown("slak.bot_token", "f").ends_with("did you mean `slack.bot_token`?"));
        assert!(unknown("completely_different", "f").contains("opsvoice config"));
    }

    #[test]
    fn a_misspelt_variable_is_named_with_the_closest_setting() {
        let env: HashMap<String, String> = [
            ("OPSVOICE_SLACK_SIGNING_SECRT", "s"),
            ("OPSVOICE_TOKEN", "t"),
            ("OPSVOICE_EMPTY", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let layered = Layered::from_sources(None, &env).unwrap();
        assert_eq!(
            layered.unknown_variables(),
            [
                "OPSVOICE_SLACK_SIGNING_SECRT is not a setting and is ignored; did you mean \
              OPSVOICE_SLACK_SIGNING_SECRET?"
            ]
        );
    }

    #[test]
    fn keys_and_values_with_control_characters_are_escaped_in_errors() {
        let env: HashMap<String, String> = [("OPSVOICE_BACKEND", "aws\n\u{1b}[31mok")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let err = Layered::from_sources(None, &env).unwrap_err().to_string();
        assert!(!err.contains('\n') && !err.contains('\u{1b}'), "{err}");
        assert!(err.contains("aws\\n\\u{1b}[31mok"), "{err}");
    }

    #[test]
    fn the_human_listing_aligns_its_columns() {
        let entries = vec![
            Entry {
                key: "a",
                env: "OPSVOICE_A",
                value: serde_json::Value::Null,
                source: Source::Default,
            },
            Entry {
                key: "long.key",
                env: "OPSVOICE_LONG",
                value: "value".into(),
                source: Source::Env,
            },
        ];
        assert_eq!(
            render(&entries),
            "a         -      default  OPSVOICE_A\nlong.key  value  env      OPSVOICE_LONG\n"
        );
    }
}
