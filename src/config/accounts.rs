//! The accounts file (`OPSVOICE_ACCOUNTS_FILE`): the AWS accounts opsvoice reads, each with
//! the name people say ("prod", "payments team"), the read role to assume, the regions to
//! read, the clusters to watch and the actions role. Read and checked whole, so a typo is
//! said at start-up with its line rather than found mid-incident.
//!
//! ```toml
//! [[account]]
//! name    = "prod"
//! role    = "arn:aws:iam::111111111111:role/opsvoice-read"   # omit: the default credentials
//! external_id = "…"                                          # optional, only with a role
//! regions = ["eu-west-1", "us-east-1"]                       # default: the AWS region
//! clusters = ["*"]                                           # optional, as OPSVOICE_CLUSTERS
//! actions_role = "arn:aws:iam::111111111111:role/opsvoice-act"
//! ```

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

/// One configured account, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The spoken name, lower case, words separated by one space.
    pub name: String,
    /// The read role; `None` reads with the default credentials.
    pub role: Option<String>,
    pub external_id: Option<String>,
    /// The regions to read (never empty: the AWS region when the file names none).
    pub regions: Vec<String>,
    /// Cluster globs to watch; empty means every cluster (as `OPSVOICE_CLUSTERS` unset).
    pub clusters: Vec<String>,
    /// The role assumed for writes in this account.
    pub actions_role: Option<String>,
}

/// What is wrong with an accounts file, said so a person can fix it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountsError {
    #[error("{path}: cannot be read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    account: Vec<RawAccount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    name: String,
    role: Option<String>,
    external_id: Option<String>,
    regions: Option<Vec<String>>,
    clusters: Option<Vec<String>>,
    actions_role: Option<String>,
}

/// The keys an `[[account]]` takes, for the closest-key hint.
const KEYS: &[&str] = &[
    "name",
    "role",
    "external_id",
    "regions",
    "clusters",
    "actions_role",
];

/// Reads and checks the accounts file at `path`; `default_region` is the AWS region, for
/// accounts that name none.
///
/// # Errors
/// The file cannot be read, is not TOML of the documented shape, or an account is wrong
/// (each reason names the account and the key).
pub fn load(path: &Path, default_region: &str) -> Result<Vec<Account>, AccountsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AccountsError::Unreadable {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    parse(&text, default_region).map_err(|reason| AccountsError::Invalid {
        path: shown,
        reason,
    })
}

/// [`load`] on the file's text.
///
/// # Errors
/// As [`load`], without the path.
pub fn parse(text: &str, default_region: &str) -> Result<Vec<Account>, String> {
    let file: File = toml::from_str(text).map_err(|e| with_closest_key(&e.to_string()))?;
    if file.account.is_empty() {
        return Err("no [[account]] is listed; list at least one, or unset OPSVOICE_ACCOUNTS_FILE to read the default credentials' account".to_owned());
    }
    let mut seen = HashSet::new();
    let mut accounts = Vec::with_capacity(file.account.len());
    for raw in file.account {
        let account = check(raw, default_region)?;
        if !seen.insert(account.name.clone()) {
            return Err(format!("account \"{}\" is listed twice", account.name));
        }
        accounts.push(account);
    }
    Ok(accounts)
}

fn check(raw: RawAccount, default_region: &str) -> Result<Account, String> {
    let name = raw
        .name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if name.is_empty()
        || name.len() > 40
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        return Err(format!(
            "account name \"{}\" must be 1 to 40 letters, digits, spaces or hyphens: it is what people say",
            raw.name.escape_debug()
        ));
    }
    let at = |key: &str| format!("account \"{name}\": {key}");
    for (key, arn) in [("role", &raw.role), ("actions_role", &raw.actions_role)] {
        if let Some(arn) = arn
            && !super::settings::is_role_arn(arn)
        {
            return Err(format!(
                "{} \"{}\" is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)",
                at(key),
                arn.escape_debug()
            ));
        }
    }
    if let Some(id) = &raw.external_id {
        if raw.role.is_none() {
            return Err(format!(
                "{} is set without a role: an external id is only sent with AssumeRole",
                at("external_id")
            ));
        }
        let fits = (2..=1224).contains(&id.len())
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c));
        if !fits {
            return Err(format!(
                "{} must be 2 to 1224 of letters, digits and +=,.@:/-_",
                at("external_id")
            ));
        }
    }
    let regions = raw
        .regions
        .unwrap_or_else(|| vec![default_region.to_owned()]);
    if regions.is_empty() {
        return Err(format!(
            "{} is empty; omit it to read the AWS region",
            at("regions")
        ));
    }
    for region in &regions {
        if !is_region(region) {
            return Err(format!(
                "{} has \"{}\", which is not a region name such as eu-west-1",
                at("regions"),
                region.escape_debug()
            ));
        }
    }
    let clusters = raw.clusters.unwrap_or_default();
    for glob in &clusters {
        globset::Glob::new(glob).map_err(|e| {
            format!(
                "{} has a bad pattern \"{}\": {e}",
                at("clusters"),
                glob.escape_debug()
            )
        })?;
    }
    Ok(Account {
        name,
        role: raw.role,
        external_id: raw.external_id,
        regions,
        clusters,
        actions_role: raw.actions_role,
    })
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`: two letters, optional `-gov`, a
/// direction word, a number.
#[must_use]
pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let (head, rest) = match parts.as_slice() {
        [area, "gov", rest @ ..] | [area, rest @ ..] => (*area, rest),
        [] => return false,
    };
    head.len() == 2
        && head.bytes().all(|b| b.is_ascii_lowercase())
        && matches!(rest, [direction, number]
            if !direction.is_empty()
                && direction.bytes().all(|b| b.is_ascii_lowercase())
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit()))
}

/// A TOML error, with the closest known key when it is an unknown one.
fn with_closest_key(message: &str) -> String {
    let message = message.trim().to_owned();
    let Some(rest) = message.split("unknown field `").nth(1) else {
        return message;
    };
    let unknown = rest.split('`').next().unwrap_or_default();
    match super::closest(unknown, KEYS.iter().copied(), (unknown.len() / 3).max(2)) {
        Some(k) => format!("{message}\n(did you mean `{k}`?)"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TWO: &str = r#"
[[account]]
name = "Prod"
role = "arn:aws:iam::111111111111:role/opsvoice-read"
external_id = "opsvoice-7f3"
regions = ["eu-west-1", "us-east-1"]
actions_role = "arn:aws:iam::111111111111:role/opsvoice-act"

[[account]]
name = "payments  team"
clusters = ["payments-*"]
"#;

    #[test]
    fn the_documented_shape_reads_with_defaults_filled_in() {
        let accounts = parse(TWO, "eu-central-1").unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].name, "prod");
        assert_eq!(accounts[0].regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(
            accounts[1].name, "payments team",
            "said as one spaced, lower-case name"
        );
        assert_eq!(accounts[1].role, None, "the default credentials");
        assert_eq!(accounts[1].regions, ["eu-central-1"]);
        assert_eq!(accounts[1].clusters, ["payments-*"]);
    }

    #[test]
    fn every_mistake_is_named_with_its_account_and_key() {
        let cases = [
            ("", "no [[account]]"),
            (
                "[[account]]\nname = \"a\"\nrgions = [\"eu-west-1\"]",
                "did you mean `regions`",
            ),
            (
                "[[account]]\nname = \"a\"\n[[account]]\nname = \"A\"",
                "listed twice",
            ),
            (
                "[[account]]\nname = \"prod!\"",
                "letters, digits, spaces or hyphens",
            ),
            (
                "[[account]]\nname = \"a\"\nrole = \"arn:aws:iam::1:role/x\"",
                "account \"a\": role",
            ),
            (
                "[[account]]\nname = \"a\"\nexternal_id = \"xyz\"",
                "without a role",
            ),
            (
                "[[account]]\nname = \"a\"\nregions = [\"Ireland\"]",
                "not a region name",
            ),
            ("[[account]]\nname = \"a\"\nregions = []", "is empty"),
            (
                "[[account]]\nname = \"a\"\nclusters = [\"[\"]",
                "bad pattern",
            ),
            (
                "[[account]]\nname = \"a\"\nactions_role = \"arn:aws:iam::111111111111:user/x\"",
                "actions_role",
            ),
        ];
        for (text, said) in cases {
            let error = parse(text, "eu-west-1").unwrap_err();
            assert!(error.contains(said), "{text:?}: {error}");
        }
    }

    #[test]
    fn region_names_are_told_from_places() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "il-central-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in ["Ireland", "eu-west", "euwest1", "EU-WEST-1", "eu--1", ""] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
