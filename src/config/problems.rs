//! What is wrong with a configuration as a whole: settings that cannot work together
//! (errors: `serve` and the Lambda refuse to start, `check` fails) and settings that work
//! but deserve a word (warnings). One list, so `check`, `serve` and the Lambda agree.

use serde::Serialize;

use super::settings::by_key;
use super::{Backend, Config};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The configuration cannot be served.
    Error,
    /// It can, but something is probably not what was meant (or is test-only).
    Warning,
}

/// One problem, naming the settings involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// The file keys of the settings involved (`slack.bot_token`).
    pub settings: Vec<&'static str>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `OPSVOICE_SLACK_BOT_TOKEN (slack.bot_token)`: both names a reader may have set.
fn name(key: &str) -> String {
    by_key(key).map_or_else(|| key.to_owned(), |s| format!("{} ({key})", s.env))
}

fn names(keys: &[&str]) -> String {
    let all: Vec<String> = keys.iter().map(|k| name(k)).collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => all.concat(),
    }
}

const LINK: [&str; 3] = ["link.public_url", "link.cognito_domain", "link.client_id"];

struct Found(Vec<Problem>);

impl Found {
    fn error(&mut self, settings: &[&'static str], message: String) {
        self.push(Severity::Error, settings, message);
    }

    fn warning(&mut self, settings: &[&'static str], message: String) {
        self.push(Severity::Warning, settings, message);
    }

    fn push(&mut self, severity: Severity, settings: &[&'static str], message: String) {
        self.0.push(Problem {
            severity,
            settings: settings.to_vec(),
            message,
        });
    }
}

impl Config {
    /// Every problem with this configuration at once, errors first. Each value is already
    /// valid on its own (loading checked it); these are about settings together.
    #[must_use]
    pub fn problems(&self) -> Vec<Problem> {
        let mut found = Found(Vec::new());
        self.serving(&mut found);
        self.slack_and_links(&mut found);
        self.notifications(&mut found);
        self.test_only(&mut found);
        let mut all = found.0;
        all.sort_by_key(|p| p.severity != Severity::Error);
        all
    }

    /// The errors alone.
    #[must_use]
    pub fn errors(&self) -> Vec<Problem> {
        self.problems()
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .collect()
    }

    /// The warnings' messages alone, for the start-up log.
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        self.problems()
            .into_iter()
            .filter(|p| p.severity == Severity::Warning)
            .map(|p| p.message)
            .collect()
    }

    /// The problems of acting with a policy that does (`approval_required`) or does not
    /// ask a second person to approve somewhere: approval cards are posted, and their
    /// buttons answered, by the Slack app, so approval without one could never be given.
    /// (The policy, read by `auth`, is not part of this configuration: the caller that
    /// read it passes what it needs, and adds these to [`Config::problems`].)
    #[must_use]
    pub fn action_problems(&self, approval_required: bool) -> Vec<Problem> {
        self.acting_problems(false, approval_required)
    }

    /// As [`Self::action_problems`], knowing whether the policy enables acting at all:
    /// on `aws`, acting writes through a role of its own (`OPSVOICE_ACTIONS_ROLE_ARN` in
    /// the home account, an account's `actions_role` in it), so a policy that enables it
    /// with no such role anywhere is an error (every action would be refused).
    #[must_use]
    pub fn acting_problems(&self, enabled: bool, approval_required: bool) -> Vec<Problem> {
        let mut found = Found(Vec::new());
        if enabled
            && !self.actions.off
            && self.aws.backend == crate::config::Backend::Aws
            && self.actions.role_arn.is_none()
            && !self.accounts_act()
        {
            found.error(
                &["cognito.policy_file", "actions.role_arn"],
                format!(
                    "the policy in {} enables actions (`[actions] enabled = true`), but writes go \
                     through a role of their own: set {} (or an account's actions_role in {}; \
                     or {}=off to keep actions off)",
                    name("cognito.policy_file"),
                    name("actions.role_arn"),
                    name("accounts.file"),
                    name("actions.mode")
                ),
            );
        }
        let missing: Vec<&'static str> = [
            ("slack.signing_secret", self.slack.signing_secret.is_none()),
            ("slack.bot_token", self.slack.bot_token.is_none()),
        ]
        .into_iter()
        .filter_map(|(key, unset)| unset.then_some(key))
        .collect();
        if approval_required && !missing.is_empty() {
            let mut settings = vec!["cognito.policy_file"];
            settings.extend(&missing);
            found.error(
                &settings,
                format!(
                    "the policy in {} asks for approval (`[actions] approval`), but approval \
                     cards need the Slack app: set {}",
                    name("cognito.policy_file"),
                    names(&missing)
                ),
            );
        }
        found.0
    }

    /// The errors about Slack, account linking and the store.
    #[must_use]
    pub fn slack_problems(&self) -> Vec<String> {
        self.errors()
            .into_iter()
            .filter(|p| {
                p.settings.iter().any(|s| {
                    s.starts_with("slack.") || s.starts_with("link.") || s.starts_with("store.")
                })
            })
            .map(|p| p.message)
            .collect()
    }

    fn serving(&self, found: &mut Found) {
        if self.lex.bot_id.is_some() != self.lex.bot_alias_id.is_some() {
            found.error(
                &["lex.bot_id", "lex.bot_alias_id"],
                format!(
                    "set both {} to ask through Lex, or neither",
                    names(&["lex.bot_id", "lex.bot_alias_id"])
                ),
            );
        }
        if self.server.answer_deadline >= self.server.request_timeout {
            found.error(
                &["server.answer_deadline_ms", "server.request_timeout_ms"],
                format!(
                    "{} must be shorter than {}, so a late answer is still spoken",
                    name("server.answer_deadline_ms"),
                    name("server.request_timeout_ms")
                ),
            );
        }
        let region = self.cognito.region.is_some() || self.aws.region.is_some();
        if self.aws.backend == Backend::Aws
            && (self.cognito.user_pool_id.is_none()
                || self.cognito.client_ids.is_empty()
                || !region)
        {
            found.error(
                &[
                    "aws.backend",
                    "cognito.user_pool_id",
                    "cognito.client_ids",
                    "cognito.region",
                ],
                format!(
                    "{}=aws serves live data, which must only reach verified Cognito users: \
                     set {} and a region ({} or AWS_REGION)",
                    by_key("aws.backend").map_or("", |s| s.env),
                    names(&["cognito.user_pool_id", "cognito.client_ids"]),
                    name("cognito.region")
                ),
            );
        }
        if self.aws.backend == Backend::Aws && self.cognito.policy_file.is_none() {
            found.warning(
                &["cognito.policy_file"],
                format!(
                    "{} is not set: with live data every group is denied everything",
                    name("cognito.policy_file")
                ),
            );
        }
    }

    fn slack_and_links(&self, found: &mut Found) {
        let link = &self.link;
        let set = [
            link.public_url.is_some(),
            link.cognito_domain.is_some(),
            link.client_id.is_some(),
        ];
        if set.contains(&true) && set.contains(&false) {
            found.error(
                &LINK,
                format!("account linking needs all of {}", names(&LINK)),
            );
        }
        if link.configured() {
            if self.store.key.is_none() {
                found.error(
                    &["store.key"],
                    format!(
                        "{} is not set: with account linking, refresh tokens must be encrypted \
                         at rest (make one with `openssl rand -base64 32`)",
                        name("store.key")
                    ),
                );
            }
            if self.cognito.user_pool_id.is_none() {
                found.error(
                    &["cognito.user_pool_id"],
                    format!(
                        "{} is not set: linked sign-ins cannot be verified",
                        name("cognito.user_pool_id")
                    ),
                );
            }
            if self.slack.signing_secret.is_none() {
                found.warning(
                    &["slack.signing_secret"],
                    format!(
                        "account linking is set up but {} is not: links are made from Slack",
                        name("slack.signing_secret")
                    ),
                );
            }
        }
        if self.slack.signing_secret.is_none() {
            return;
        }
        if self.slack.bot_token.is_none() {
            found.error(
                &["slack.bot_token"],
                format!(
                    "{} is not set: answers cannot be posted",
                    name("slack.bot_token")
                ),
            );
        }
        // Push-only Slack (cards from the notification routes, no questions) is a fair setup:
        // it starts, and unlinked users asking questions are told to link.
        if self.aws.backend == Backend::Aws && !link.configured() {
            found.warning(
                &LINK,
                format!(
                    "live data with Slack but no account linking: Slack questions are refused \
                     (cards are still posted); set {} to let people link",
                    names(&LINK)
                ),
            );
        }
    }

    fn notifications(&self, found: &mut Found) {
        if self.wants_store() && self.store_location().is_none() {
            found.error(
                &["store.location"],
                format!(
                    "no place for the store (no state directory): set {}",
                    name("store.location")
                ),
            );
        }
        if self.notify.file.is_some() && self.slack.bot_token.is_none() {
            found.error(
                &["notify.file", "slack.bot_token"],
                format!(
                    "{} needs {} to post",
                    name("notify.file"),
                    name("slack.bot_token")
                ),
            );
        }
        if !self.notify.sns_topic_arns.is_empty() && self.notify.file.is_none() {
            found.warning(
                &["notify.sns_topic_arns", "notify.file"],
                format!(
                    "{} is set but {} is not: /events refuses every delivery",
                    name("notify.sns_topic_arns"),
                    name("notify.file")
                ),
            );
        }
        if let Some(path) = &self.accounts.file {
            let region = self.aws.region.as_deref().unwrap_or("us-east-1");
            if let Err(error) = super::accounts::load(path, region) {
                found.error(
                    &["accounts.file"],
                    format!("{}: {error}", name("accounts.file")),
                );
            }
        }
    }

    fn test_only(&self, found: &mut Found) {
        let uses = [
            (
                "cognito.jwks_url",
                self.cognito.jwks_url.is_some(),
                "signing keys come from a test-only location (the issuer check still applies)",
            ),
            (
                "alexa.trust_roots",
                self.alexa.trust_roots.is_some(),
                "extra, test-only roots are trusted for Alexa certificate chains",
            ),
            (
                "alexa.cert_base_url",
                self.alexa.cert_base_url.is_some(),
                "Alexa chains are fetched from a test-only location",
            ),
            (
                "alexa.api_base_url",
                self.alexa.api_base_url.is_some(),
                "Alexa progressive responses go to a test-only location",
            ),
            (
                "notify.sns_trust_roots",
                self.notify.sns_trust_roots.is_some(),
                "extra, test-only roots are trusted for SNS signing certificates",
            ),
            (
                "notify.sns_cert_base_url",
                self.notify.sns_cert_base_url.is_some(),
                "SNS signing certificates are fetched from a test-only location",
            ),
            (
                "slack.api_url",
                self.slack.api_url.is_some(),
                "Slack Web API calls go to a test-only location",
            ),
        ];
        for (key, set, what) in uses {
            if set {
                found.warning(&[key], format!("{} is set: {what}", name(key)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Secret, Slack};
    use super::*;

    #[test]
    fn every_problem_is_reported_at_once_and_errors_come_first() {
        let config = Config {
            lex: super::super::Lex {
                bot_id: Some("B".into()),
                ..Default::default()
            },
            server: super::super::Server {
                answer_deadline: std::time::Duration::from_secs(20),
                ..Default::default()
            },
            cognito: super::super::Cognito {
                jwks_url: Some("http://127.0.0.1:1/jwks".into()),
                ..Default::default()
            },
            slack: Slack {
                signing_secret: Some(Secret::new("s")),
                ..Slack::default()
            },
            store: super::super::Store {
                location: Some(super::super::StoreLocation::File("store.db".into())),
                ..Default::default()
            },
            ..Config::default()
        };
        let problems = config.problems();
        let errors: Vec<_> = problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 3, "{problems:#?}");
        assert!(
            errors[0]
                .message
                .contains("OPSVOICE_LEX_BOT_ID (lex.bot_id)")
        );
        assert!(errors[1].message.contains("OPSVOICE_ANSWER_DEADLINE_MS"));
        assert!(
            errors[2]
                .message
                .starts_with("OPSVOICE_SLACK_BOT_TOKEN (slack.bot_token) is not set")
        );
        assert_eq!(problems.last().map(|p| p.severity), Some(Severity::Warning));
        assert_eq!(config.warnings().len(), 1);
    }

    #[test]
    fn approval_without_the_slack_app_is_an_error_naming_what_is_missing() {
        let config = Config::default();
        assert_eq!(config.action_problems(false), vec![]);
        let problems = config.action_problems(true);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert_eq!(problems[0].severity, Severity::Error);
        assert!(
            problems[0].message.contains(
                "set OPSVOICE_SLACK_SIGNING_SECRET (slack.signing_secret) and \
                 OPSVOICE_SLACK_BOT_TOKEN (slack.bot_token)"
            ),
            "{}",
            problems[0].message
        );
        let slack = Config {
            slack: Slack {
                signing_secret: Some(Secret::new("s")),
                bot_token: Some(Secret::new("xoxb-1")),
                ..Slack::default()
            },
            ..Config::default()
        };
        assert_eq!(slack.action_problems(true), vec![]);
    }

    #[test]
    fn no_configuration_has_no_problem() {
        assert_eq!(Config::default().problems(), vec![]);
    }
}
