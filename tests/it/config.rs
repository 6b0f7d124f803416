//! Configuration as the README documents it (issue 30): every setting works from the TOML
//! file (nested tables, the key a dotted path) and from its `OPSVOICE_*` variable, with the
//! same result; unknown file keys are refused naming the closest known one.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::HashMap;
use std::path::PathBuf;

use opsvoice::config::settings::{Kind, SETTINGS, Setting};
use opsvoice::config::{Config, Layered, Secret, Source};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A config file holding `text`, kept as long as the returned directory.
fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsvoice.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

// Issue 30: "The README says every setting works in the TOML file as well as in the
// environment; the file accepts 23 of the 38." The Slack signing secret was one of the 15.
#[test]
fn the_slack_signing_secret_works_from_the_file_as_from_the_environment() {
    let (_dir, path) = file("[slack]\nsigning_secret = \"s3cret\"\n");
    let from_file = Config::from_sources(Some(&path), &env(&[])).unwrap();
    let from_env =
        Config::from_sources(None, &env(&[("OPSVOICE_SLACK_SIGNING_SECRET", "s3cret")])).unwrap();
    assert_eq!(from_file, from_env);
    assert_eq!(from_file.slack.signing_secret, Some(Secret::new("s3cret")));
}

// Issue 30 (design guidance): the README used to document flat keys, "the variable names in
// lowercase without the prefix"; such a file must not silently change meaning.
#[test]
fn an_old_flat_file_key_is_an_error_naming_its_new_key() {
    let (_dir, path) = file("cognito_user_pool_id = \"eu-west-1_abc\"\n");
    let err = Config::from_sources(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown key `cognito_user_pool_id`"), "{err}");
    assert!(
        err.contains("did you mean `cognito.user_pool_id`?"),
        "{err}"
    );
    assert!(err.contains(&path.display().to_string()), "{err}");
}

// Issue 30: "Unknown keys in the file are an error that names the key and the closest known
// one."
#[test]
fn a_misspelt_file_key_names_the_closest_known_one() {
    let (_dir, path) = file("[slack]\nsigning_secert = \"x\"\n");
    let err = Config::from_sources(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown key `slack.signing_secert`"), "{err}");
    assert!(
        err.contains("did you mean `slack.signing_secret`?"),
        "{err}"
    );
    // The value is never echoed: it might be the secret.
    assert!(!err.contains("\"x\""), "{err}");

    // A misspelt table: each of its keys is named, with its setting.
    let (_dir, path) = file("[slak]\nbot_token = \"x\"\nsigning_secret = \"y\"\n");
    let err = Config::from_sources(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("2 problems:\n"), "{err}");
    assert!(err.contains("unknown key `slak.bot_token` in "), "{err}");
    assert!(err.contains("did you mean `slack.bot_token`?"), "{err}");
    assert!(
        err.contains("did you mean `slack.signing_secret`?"),
        "{err}"
    );
}

/// The README's configuration table, as (file key, variable) of each row.
fn readme_table() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("a Configuration section")
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|row| {
            let cells: Vec<&str> = row
                .split(" | ")
                .map(|c| c.trim_matches(['|', ' ', '`']))
                .collect();
            (cells[0].to_owned(), cells[1].to_owned())
        })
        .collect()
}

/// `setting`'s example as a TOML value of the kind the file naturally holds.
fn toml_value(setting: &Setting) -> toml::Value {
    match setting.kind {
        Kind::List | Kind::TopicArns => toml::Value::Array(
            setting
                .example
                .split(',')
                .map(|i| toml::Value::String(i.to_owned()))
                .collect(),
        ),
        Kind::Bool => toml::Value::Boolean(setting.example.parse().unwrap()),
        Kind::Number { .. } => toml::Value::Integer(setting.example.parse().unwrap()),
        _ => toml::Value::String(setting.example.to_owned()),
    }
}

// Issue 30: "a test walks the README's table and sets each key both ways"; the table must
// fail this test if a setting is missing from either side.
#[test]
fn the_readme_table_lists_every_setting_once_with_its_file_key_and_variable() {
    let rows = readme_table();
    let table: Vec<(String, String)> = SETTINGS
        .iter()
        .map(|s| (s.key.to_owned(), s.env.to_owned()))
        .collect();
    for row in &rows {
        assert!(
            table.contains(row),
            "the README lists {row:?}, which is no setting"
        );
        assert_eq!(
            rows.iter().filter(|r| *r == row).count(),
            1,
            "{row:?} twice"
        );
    }
    for setting in &table {
        assert!(
            rows.contains(setting),
            "the README's table lacks {setting:?}"
        );
    }
}

#[test]
fn every_readme_setting_works_from_the_file_and_from_the_environment_alike() {
    let default = Config::from_sources(None, &env(&[])).unwrap();
    for (key, var) in readme_table() {
        let setting = opsvoice::config::settings::by_key(&key).unwrap();
        let (table, name) = key.split_once('.').unwrap();
        let (_dir, path) = file(&format!("[{table}]\n{name} = {}\n", toml_value(setting)));
        let from_file = Layered::from_sources(Some(&path), &env(&[]))
            .unwrap_or_else(|e| panic!("{key} from the file: {e}"));
        let from_env = Layered::from_sources(None, &env(&[(&var, setting.example)]))
            .unwrap_or_else(|e| panic!("{var}: {e}"));
        let config = Config::from_layered(&from_env);
        assert_eq!(
            Config::from_layered(&from_file),
            config,
            "{key} and {var} differ"
        );
        assert_ne!(config, default, "{var} changes nothing");

        let entry =
            |layered: &Layered| layered.report().into_iter().find(|e| e.key == key).unwrap();
        let (file_entry, env_entry) = (entry(&from_file), entry(&from_env));
        assert_eq!(file_entry.source, Source::File, "{key}");
        assert_eq!(env_entry.source, Source::Env, "{var}");
        assert_eq!(file_entry.value, env_entry.value, "{key} shows differently");
        assert_eq!(env_entry.env, var);
        if setting.secret() {
            assert_eq!(env_entry.value, "<redacted>", "{key}");
        } else {
            assert_ne!(env_entry.value, serde_json::Value::Null, "{key}");
        }
    }
}

#[test]
fn the_environment_wins_over_the_file_and_an_empty_variable_is_unset() {
    let (_dir, path) = file("[aws]\nbackend = \"aws\"\nclusters = \"prod, staging\"\n");
    let layered = Layered::from_sources(
        Some(&path),
        &env(&[("OPSVOICE_BACKEND", "demo"), ("OPSVOICE_CLUSTERS", " ")]),
    )
    .unwrap();
    let config = Config::from_layered(&layered);
    assert_eq!(config.aws.backend, opsvoice::config::Backend::Demo);
    assert_eq!(layered.source("aws.backend"), Some(Source::Env));
    // A list in the file may be one comma-separated string, as in the environment.
    assert_eq!(
        config.aws.clusters,
        Some(vec!["prod".to_owned(), "staging".to_owned()])
    );
    assert_eq!(layered.source("aws.clusters"), Some(Source::File));
}

#[test]
fn a_value_of_the_wrong_type_in_the_file_names_the_key() {
    let (_dir, path) = file(
        "[server]\naddr = 3000\nrequest_timeout_ms = \"soon\"\n[slack]\nbot_token = [\"a\"]\n",
    );
    let err = Config::from_sources(Some(&path), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`server.addr` in "), "{err}");
    assert!(err.contains("`server.request_timeout_ms` in "), "{err}");
    assert!(err.contains("`slack.bot_token` in "), "{err}");
    assert!(err.contains("is a list; one value is needed"), "{err}");
}
