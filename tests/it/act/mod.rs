//! Acting, first slice (issue 31): the policy's `[actions]` keys and per-group verbs, who may
//! act and approve on what, the kill switch, `check` refusing approval without the Slack
//! app. The action record is `record`.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::time::Duration;

use opsvoice::act::{Gate, Refusal, Target};
use opsvoice::auth::Principal;
use opsvoice::auth::policy::Policy;
use opsvoice::ops::ServiceRef;
use opsvoice::vocab::Verb;

mod channels;
mod desk;
mod effect;
mod over_moto;
mod record;

/// DESIGN §7's policy example, with the groups of the README's example and two more.
const POLICY: &str = r#"
[actions]
enabled     = true
approval    = ["prod", "acme/staging"]
channel     = "C0APPROVALS"
approval_ttl = "15m"
scale_max   = 12
silence_max = "2h"
per_service = 5

[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
actions  = ["restart", "rollback", "scale", "silence"]
approve  = ["restart", "rollback", "scale", "silence"]

[groups.conference-room]
clusters = ["prod"]
services = ["*"]
intents  = ["FleetSummary", "ActiveAlarms", "ServiceHealth"]

[groups.payments-team]
clusters = ["prod", "staging"]
services = ["payments*"]
intents  = ["*"]
actions  = ["restart"]

[groups.staging-hands]
clusters = ["staging"]
services = ["*"]
intents  = ["*"]
accounts = ["dev"]
actions  = ["scale"]
approve  = ["scale"]
"#;

fn who(sub: &str, groups: &[&str]) -> Principal {
    Principal {
        sub: sub.to_owned(),
        username: sub.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn svc(cluster: &str, name: &str) -> ServiceRef {
    ServiceRef::new(cluster, name)
}

fn policy_error(text: &str) -> String {
    Policy::from_toml(text).unwrap_err().to_string()
}

#[test]
fn the_actions_table_is_read_with_every_key_and_its_defaults() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let a = policy.actions();
    assert!(a.enabled);
    assert_eq!(a.approval, ["prod", "acme/staging"]);
    assert_eq!(a.channel.as_deref(), Some("C0APPROVALS"));
    assert_eq!(a.approval_ttl, Duration::from_secs(15 * 60));
    assert_eq!(a.scale_max, 12);
    assert_eq!(a.silence_max, Duration::from_secs(2 * 3600));
    assert_eq!(a.per_service, 5);
    assert!(a.approval_required());
    assert!(a.needs_approval(None, "prod"));
    assert!(!a.needs_approval(None, "staging"));
    assert!(
        a.needs_approval(Some("acme"), "staging"),
        "account/cluster glob"
    );
    assert!(!a.needs_approval(Some("other"), "staging"));

    let defaults = Policy::from_toml("[actions]\nenabled = true\n").unwrap();
    let d = defaults.actions();
    assert!(d.enabled && d.approval.is_empty() && d.channel.is_none());
    assert_eq!(d.approval_ttl, Duration::from_secs(600));
    assert_eq!(d.scale_max, 20);
    assert_eq!(d.silence_max, Duration::from_secs(4 * 3600));
    assert_eq!(d.per_service, 3);
    assert!(!Policy::from_toml("[actions]\n").unwrap().actions().enabled);
}

#[test]
fn an_old_policy_file_reads_as_before_and_grants_no_verb() {
    // The README's example before issue 31: no `[actions]`, no verbs.
    let old = "[groups.oncall]\nclusters = [\"*\"]\nservices = [\"*\"]\nintents = [\"*\"]\n";
    let policy = Policy::from_toml(old).unwrap();
    assert!(!policy.actions().enabled);
    let grants = policy.grants(Some(&who("ana", &["oncall"])));
    let checkout = svc("prod", "checkout");
    assert!(grants.service(opsvoice::vocab::Intent::ServiceHealth, &checkout));
    assert!(grants.sees(None, Some(&checkout)));
    for verb in Verb::ALL {
        assert!(!grants.may_act(verb, None, Some(&checkout)), "{verb}");
        assert!(!grants.may_approve(verb, None, Some(&checkout)), "{verb}");
    }
    // Verbs granted but `enabled = false`: still nothing.
    let off = POLICY.replace("enabled     = true", "enabled = false");
    let grants = Policy::from_toml(&off)
        .unwrap()
        .grants(Some(&who("ana", &["oncall"])));
    assert!(!grants.may_act(Verb::Restart, None, Some(&checkout)));
    assert!(grants.actions().is_none());
}

#[test]
fn the_shipped_policy_gives_the_conference_room_no_verb_and_leaves_actions_off() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/infra/policy.toml")).unwrap();
    let policy = Policy::from_toml(&text).unwrap();
    assert!(
        !policy.actions().enabled,
        "off until an operator enables it"
    );
    // Even enabled, the conference room gets nothing.
    let enabled = Policy::from_toml(&text.replace("enabled = false", "enabled = true")).unwrap();
    assert!(enabled.actions().enabled);
    let room = enabled.group_grants("conference-room");
    let oncall = enabled.group_grants("oncall");
    let checkout = svc("prod", "checkout");
    for verb in Verb::ALL {
        assert!(!room.may_act(verb, None, Some(&checkout)), "{verb}");
        assert!(!room.may_approve(verb, None, Some(&checkout)), "{verb}");
        assert!(oncall.may_act(verb, None, Some(&checkout)), "{verb}");
    }
}

#[test]
fn each_bad_actions_key_is_refused_with_a_message_naming_it() {
    let cases: &[(&str, &[&str])] = &[
        (
            "[actions]\nenabled = true\napproval = [\"prod\"]\n",
            &["`channel`", "required when `approval` is set"],
        ),
        (
            "[actions]\napproval = [\"prod\"]\nchannel = \"approvals\"\n",
            &["`channel`", "`approvals` is not a Slack channel id"],
        ),
        (
            "[actions]\napproval_ttl = \"10 minutes\"\n",
            &["`approval_ttl`", "`10 minutes` is not a duration"],
        ),
        (
            "[actions]\napproval_ttl = \"30s\"\n",
            &["`approval_ttl`", "out of bounds: between 1m and 24h"],
        ),
        (
            "[actions]\napproval_ttl = \"2d\"\n",
            &["`approval_ttl`", "not a duration"],
        ),
        (
            "[actions]\nsilence_max = \"48h\"\n",
            &["`silence_max`", "out of bounds"],
        ),
        (
            "[actions]\nsilence_max = \"0m\"\n",
            &["`silence_max`", "not a duration"],
        ),
        (
            "[actions]\nscale_max = 0\n",
            &["`scale_max`", "0 is not a whole number of at least 1"],
        ),
        (
            "[actions]\nper_service = -2\n",
            &["`per_service`", "at least 1"],
        ),
        (
            "[actions]\napproval = [\"[\"]\nchannel = \"C0APPROVALS\"\n",
            &["[actions] `approval`", "`[` is not a valid glob"],
        ),
        ("[actions]\nenable = true\n", &["enable"]),
        (
            "[groups.x]\nactions = [\"rollbak\"]\n",
            &[
                "policy group x",
                "`rollbak` in `actions` is not a verb",
                "did you mean `rollback`?",
            ],
        ),
        (
            "[groups.x]\napprove = [\"deploy\"]\n",
            &["`deploy` in `approve` is not a verb", "restart, rollback"],
        ),
        (
            "[groups.x]\naccounts = [\"[\"]\n",
            &["policy group x", "not a valid glob"],
        ),
    ];
    for (text, wanted) in cases {
        let message = policy_error(text);
        for w in *wanted {
            assert!(message.contains(w), "{text:?}: `{w}` not in: {message}");
        }
    }
    // The verb error never suggests for something far from any verb.
    assert!(!policy_error("[groups.x]\napprove = [\"deploy\"]\n").contains("did you mean"));
}

#[test]
fn a_verb_needs_a_group_that_grants_it_and_sees_the_target() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let checkout = svc("prod", "checkout");
    let payments = svc("prod", "payments-api");

    let oncall = policy.grants(Some(&who("ana", &["oncall"])));
    for verb in Verb::ALL {
        assert!(oncall.may_act(verb, None, Some(&checkout)));
        assert!(oncall.may_approve(verb, None, Some(&checkout)));
    }
    assert!(
        oncall.may_act(Verb::Silence, None, None),
        "an alarm of no service"
    );

    let team = policy.grants(Some(&who("bo", &["payments-team"])));
    assert!(team.may_act(Verb::Restart, None, Some(&payments)));
    assert!(
        !team.may_act(Verb::Rollback, None, Some(&payments)),
        "not granted"
    );
    assert!(!team.may_approve(Verb::Restart, None, Some(&payments)));
    assert!(
        !team.sees(None, Some(&checkout)) && !team.may_act(Verb::Restart, None, Some(&checkout)),
        "a hidden service is never a target"
    );
    assert!(
        !team.may_act(Verb::Restart, None, None),
        "an alarm tied to no service is visible only to groups that see everything"
    );

    let room = policy.grants(Some(&who("room-1", &["conference-room"])));
    assert!(room.sees(None, Some(&checkout)));
    assert!(!room.may_act(Verb::Restart, None, Some(&checkout)));

    // One group grants scale (staging, account dev), another sees prod: no scale in prod.
    let both = policy.grants(Some(&who("cy", &["staging-hands", "conference-room"])));
    assert!(both.may_act(Verb::Scale, Some("dev"), Some(&svc("staging", "web"))));
    assert!(both.may_approve(Verb::Scale, Some("dev"), Some(&svc("staging", "web"))));
    assert!(!both.may_act(Verb::Scale, Some("prod"), Some(&svc("staging", "web"))));
    assert!(!both.may_act(Verb::Scale, None, Some(&checkout)));
    assert!(
        both.may_act(Verb::Scale, None, Some(&svc("staging", "web"))),
        "without accounts configured there is no account to match"
    );

    assert!(
        !policy
            .grants(None)
            .may_act(Verb::Restart, None, Some(&checkout))
    );
    assert!(
        !Policy::deny_all()
            .grants(Some(&who("ana", &["oncall"])))
            .may_act(Verb::Restart, None, Some(&checkout))
    );
}

#[test]
fn the_demo_policy_allows_every_verb_without_approval() {
    let demo = Policy::allow_all();
    assert!(demo.actions().enabled && !demo.actions().approval_required());
    let grants = demo.grants(None);
    let target = Target::service(svc("prod", "checkout"));
    for verb in [Verb::Restart, Verb::Rollback, Verb::Scale] {
        assert_eq!(Gate::new(false).decide(&grants, verb, &target), Ok(()));
    }
    assert_eq!(
        Gate::new(false).decide(&grants, Verb::Silence, &Target::alarm("cpu-high", None)),
        Ok(())
    );
    assert!(!Gate::needs_approval(&grants, &target));
}

#[test]
fn the_gate_refuses_in_order_kill_switch_then_policy_then_visibility_then_grant() {
    let policy = Policy::from_toml(POLICY).unwrap();
    let checkout = Target::service(svc("prod", "checkout"));
    let open = Gate::new(false);

    // The kill switch refuses everyone, the demo's allow-all included.
    let killed = Gate::from_config(&opsvoice::config::Config {
        actions: opsvoice::config::Actions {
            off: true,
            ..Default::default()
        },
        ..Default::default()
    });
    for grants in [
        Policy::allow_all().grants(None),
        policy.grants(Some(&who("ana", &["oncall"]))),
    ] {
        assert_eq!(
            killed.decide(&grants, Verb::Restart, &checkout),
            Err(Refusal::KillSwitch)
        );
        assert_eq!(open.decide(&grants, Verb::Restart, &checkout), Ok(()));
    }
    assert_eq!(
        Gate::from_config(&opsvoice::config::Config::default()).decide(
            &Policy::allow_all().grants(None),
            Verb::Scale,
            &checkout
        ),
        Ok(())
    );

    let old = Policy::from_toml(
        "[groups.oncall]\nclusters = [\"*\"]\nservices = [\"*\"]\nintents = [\"*\"]\n",
    )
    .unwrap();
    assert_eq!(
        open.decide(
            &old.grants(Some(&who("ana", &["oncall"]))),
            Verb::Restart,
            &checkout
        ),
        Err(Refusal::NotEnabled)
    );
    let team = policy.grants(Some(&who("bo", &["payments-team"])));
    assert_eq!(
        open.decide(&team, Verb::Restart, &checkout),
        Err(Refusal::Hidden)
    );
    let payments = Target::service(svc("prod", "payments-api"));
    assert_eq!(open.decide(&team, Verb::Restart, &payments), Ok(()));
    assert_eq!(
        open.decide(&team, Verb::Scale, &payments),
        Err(Refusal::NoGrant)
    );
    assert_eq!(
        open.decide(&team, Verb::Silence, &payments),
        Err(Refusal::Mismatch),
        "a service cannot be silenced"
    );
    assert!(
        Gate::needs_approval(&team, &payments),
        "prod needs approval"
    );
    assert!(!Gate::needs_approval(
        &team,
        &Target::service(svc("staging", "payments"))
    ));
}

#[test]
fn every_refusal_is_said_in_a_sentence_naming_the_verb_and_that_nothing_changed() {
    let renderer = opsvoice::speech::Renderer::embedded(None).unwrap();
    let target = Target::service(svc("prod", "checkout"));
    for mode in [opsvoice::vocab::Mode::Voice, opsvoice::vocab::Mode::Text] {
        let say = renderer.say("en-US", mode);
        for refusal in [
            Refusal::KillSwitch,
            Refusal::NotEnabled,
            Refusal::Hidden,
            Refusal::NoGrant,
            Refusal::Mismatch,
            Refusal::RateLimited,
            Refusal::TargetChanged,
        ] {
            assert!(
                renderer.has_message(refusal.message_id(), "en-US"),
                "{refusal:?}"
            );
            let sentence = refusal.explain(&say, Verb::Rollback, &target);
            assert!(
                sentence.contains("Nothing was changed") || sentence.contains("didn't"),
                "{refusal:?}: {sentence}"
            );
            // A hidden target gets the words of any question outside the grants.
            if refusal == Refusal::Hidden {
                assert!(!sentence.contains("checkout"), "{sentence}");
            } else {
                assert!(
                    sentence.contains("roll back checkout"),
                    "{refusal:?}: {sentence}"
                );
            }
        }
    }
}

fn opsvoice_check(policy: &str, slack: bool) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, policy).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_opsvoice"));
    for (key, _) in std::env::vars() {
        if key.starts_with("OPSVOICE_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG")
        .arg("check")
        .env("OPSVOICE_POLICY_FILE", &path)
        .env(
            "OPSVOICE_STORE",
            format!("file:{}", dir.path().join("store.db").display()),
        );
    if slack {
        cmd.env("OPSVOICE_SLACK_SIGNING_SECRET", "s")
            .env("OPSVOICE_SLACK_BOT_TOKEN", "xoxb-1");
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn check_fails_when_the_policy_asks_for_approval_but_there_is_no_slack_app() {
    let approval = "[actions]\nenabled = true\napproval = [\"prod\"]\nchannel = \"C0APPROVALS\"\n";
    let (ok, out) = opsvoice_check(approval, false);
    assert!(!ok, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("error:")
            && l.contains("asks for approval")
            && l.contains("OPSVOICE_SLACK_SIGNING_SECRET")
            && l.contains("OPSVOICE_SLACK_BOT_TOKEN")),
        "{out}"
    );
    let (ok, out) = opsvoice_check(approval, true);
    assert!(ok, "{out}");

    // No channel: the policy itself is refused, naming the key.
    let (ok, out) = opsvoice_check("[actions]\napproval = [\"prod\"]\n", true);
    assert!(!ok, "{out}");
    assert!(out.contains("`channel`"), "{out}");

    // No approval anywhere: no Slack app needed.
    let (ok, out) = opsvoice_check("[actions]\nenabled = true\n", false);
    assert!(ok, "{out}");
}
