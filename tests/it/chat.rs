//! `opsvoice chat`, driven through stdin: a conversation with follow-ups, in-process and
//! against a running server, with spoken answers saved.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `opsvoice chat <args>` with `lines` on stdin; returns (success, stdout, stderr).
fn chat(args: &[&str], lines: &[&str]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsvoice"))
        .arg("chat")
        .args(args)
        .env_remove("OPSVOICE_BACKEND")
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("opsvoice-chat-test"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_three_turn_conversation_follows_up_in_process() {
    let (ok, out, err) = chat(
        &[],
        &[
            "how is checkout doing",
            "and did its deploy finish",
            "what about the cpu",
            "stop",
            "this line is never read",
        ],
    );
    assert!(ok, "{err}");
    let answers: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with("ECS console"))
        .collect();
    assert!(answers[0].starts_with("checkout is degraded"), "{out}");
    assert!(answers[1].starts_with("checkout's last deploy"), "{out}");
    assert!(answers[2].contains("CPU for checkout"), "{out}");
    assert_eq!(answers.last(), Some(&"Okay, goodbye."), "{out}");
    assert!(!out.contains("never"), "the conversation ended at stop");
}

#[test]
fn commands_start_a_new_conversation_and_leave() {
    let (ok, out, err) = chat(
        &[],
        &[
            "how is checkout doing",
            "/new",
            "and did its deploy finish",
            "/quit",
            "any alarms firing",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("(a new conversation)"), "{out}");
    // The new conversation has no "last service": it asks which.
    assert!(out.contains("Which service?"), "{out}");
    assert!(!out.contains("alarms firing"), "left at /quit: {out}");
}

#[tokio::test]
async fn chat_against_a_server_keeps_the_session_and_saves_audio() {
    let moto = common::moto::Moto::start();
    let assistant = common::speaking(&moto).await;
    let app = common::spawn(assistant).await;
    let audio = tempfile::tempdir().unwrap();
    let base = app.base.clone();
    let dir = audio.path().to_owned();
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        chat(
            &["--url", &base, "--audio", dir.to_str().unwrap()],
            &["how is checkout doing", "and did its deploy finish", "bye"],
        )
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("checkout is degraded"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("checkout's last deploy")),
        "{out}"
    );
    let mut saved: Vec<String> = std::fs::read_dir(audio.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    saved.sort();
    assert_eq!(
        saved,
        [
            "001-ServiceHealth.mp3",
            "002-DeploymentStatus.mp3",
            "003-AMAZON-StopIntent.mp3"
        ],
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_reported_and_the_chat_goes_on() {
    let (ok, _out, err) = tokio::task::spawn_blocking(|| {
        chat(
            &["--url", "http://127.0.0.1:9"],
            &["how is checkout doing", "any alarms firing"],
        )
    })
    .await
    .unwrap();
    assert!(ok);
    assert_eq!(
        err.matches("error: cannot reach http://127.0.0.1:9/v1/ask")
            .count(),
        2,
        "{err}"
    );
}
