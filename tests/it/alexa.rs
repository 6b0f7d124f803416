//! `POST /alexa` end to end: real signatures by a test chain served over loopback, the
//! shared fixtures re-stamped and signed, answers that follow Alexa's conventions, and
//! every request Amazon says must be refused refused with a 400, never answered.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::alexa_pki::{ChainServer, Leaf, Pki};
use opsvoice::channel::alexa::verify::Verifier;
use serde_json::{Value, json};

const SKILL: &str = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555";
const CHAIN_URL: &str = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem";

struct Alexa {
    app: common::TestApp,
    good: &'static Pki,
    chains: ChainServer,
}

/// The test chains: RSA key generation is slow in debug builds, so once per test binary.
struct Chains {
    good: Pki,
    expired: Pki,
    other: Pki,
    stranger: Pki,
    wildcard: Pki,
}

fn chains() -> &'static Chains {
    static CHAINS: OnceLock<Chains> = OnceLock::new();
    CHAINS.get_or_init(|| Chains {
        good: Pki::new(Leaf::Good),
        expired: Pki::new(Leaf::Expired),
        other: Pki::new(Leaf::OtherName),
        stranger: Pki::new(Leaf::Good),
        wildcard: Pki::new(Leaf::Wildcard),
    })
}

/// The fixture's timestamp moved to `offset` seconds from the tests' fixed "now".
fn stamped(fixture: &str, offset: i64) -> Value {
    let mut body = common::fixture(fixture);
    common::alexa_pki::stamp(&mut body, common::NOW as i64 + offset);
    body
}

impl Alexa {
    async fn start() -> Self {
        let Chains {
            good,
            expired,
            other,
            stranger,
            wildcard,
        } = chains();
        let files: HashMap<String, String> = [
            ("echo-api-cert.pem", good.chain_pem.clone()),
            ("expired.pem", expired.chain_pem.clone()),
            ("other-name.pem", other.chain_pem.clone()),
            ("stranger.pem", stranger.chain_pem.clone()),
            ("wildcard.pem", wildcard.chain_pem.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let chains = ChainServer::start(files).await;
        // Trust the test roots, but not the stranger's.
        let roots = format!(
            "{}{}{}{}",
            good.root_pem, expired.root_pem, other.root_pem, wildcard.root_pem
        );
        let verifier = Verifier::new(
            vec![SKILL.to_owned()],
            Some(("test roots", roots.as_bytes())),
            Some(&chains.base),
            common::clock(),
        )
        .unwrap();
        let app = common::spawn_with(common::assistant(), verifier).await;
        Self { app, good, chains }
    }

    async fn send(&self, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
        let mut request = self
            .app
            .client
            .post(format!("{}/alexa", self.app.base))
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (k, v) in headers {
            request = request.header(*k, v);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Sends `body` signed properly with the good chain.
    async fn ask(&self, body: &Value) -> Value {
        let bytes = serde_json::to_vec(body).unwrap();
        let (status, response) = self
            .send(
                &bytes,
                &[
                    ("SignatureCertChainUrl", CHAIN_URL.to_owned()),
                    ("Signature-256", self.good.sign(&bytes)),
                ],
            )
            .await;
        assert_eq!(status, 200, "{response}");
        common::assert_valid_alexa_response(&response);
        response
    }
}

fn speech_of(r: &Value) -> String {
    common::assert_valid_ssml(r["response"]["outputSpeech"]["ssml"].as_str().unwrap())
}

#[tokio::test]
async fn launch_welcomes_and_keeps_listening() {
    let alexa = Alexa::start().await;
    let r = alexa.ask(&stamped("alexa/launch.json", 0)).await;
    assert!(speech_of(&r).starts_with("Ops desk here."), "{r}");
    assert_eq!(r["response"]["shouldEndSession"], false);
}

#[tokio::test]
async fn a_question_in_a_session_is_answered_and_the_follow_up_uses_its_context() {
    let alexa = Alexa::start().await;
    let r = alexa.ask(&stamped("alexa/service-health.json", 5)).await;
    let spoken = speech_of(&r);
    assert_eq!(
        spoken,
        "checkout is degraded: 2 of 3 tasks running, 1 alarm firing for 12 minutes. What else would you like to know?"
    );
    assert_eq!(r["response"]["shouldEndSession"], false);
    assert_eq!(r["response"]["card"]["type"], "Simple");
    assert!(
        r["response"]["card"]["content"]
            .as_str()
            .unwrap()
            .contains("checkout-p99-latency-high")
    );

    // The next turn carries the session attributes, as Alexa does.
    let mut next = stamped("alexa/service-health.json", 20);
    next["session"]["attributes"] = r["sessionAttributes"].clone();
    next["request"]["intent"] = json!({"name": "DeploymentStatus", "confirmationStatus": "NONE", "slots": {"service": {"name": "service", "confirmationStatus": "NONE"}}});
    let r = alexa.ask(&next).await;
    assert!(
        speech_of(&r).starts_with("checkout's last deploy, revision 42, finished 44 minutes ago"),
        "{r}"
    );
}

#[tokio::test]
async fn a_one_shot_question_ends_the_session() {
    let alexa = Alexa::start().await;
    let mut body = stamped("alexa/service-health.json", 0);
    body["session"]["new"] = json!(true);
    let r = alexa.ask(&body).await;
    assert_eq!(
        speech_of(&r),
        "checkout is degraded: 2 of 3 tasks running, 1 alarm firing for 12 minutes."
    );
    assert_eq!(r["response"]["shouldEndSession"], true);
    assert!(r["response"].get("reprompt").is_none());
}

#[tokio::test]
async fn a_missing_slot_is_elicited_with_a_dialog_directive() {
    let alexa = Alexa::start().await;
    let mut body = stamped("alexa/service-health.json", 0);
    body["request"]["dialogState"] = json!("STARTED");
    body["request"]["intent"] = json!({"name": "DeploymentStatus", "confirmationStatus": "NONE", "slots": {"service": {"name": "service", "confirmationStatus": "NONE"}}});
    let r = alexa.ask(&body).await;
    assert_eq!(speech_of(&r), "Which service?");
    let d = &r["response"]["directives"][0];
    assert_eq!(d["type"], "Dialog.ElicitSlot");
    assert_eq!(d["slotToElicit"], "service");
    assert_eq!(d["updatedIntent"]["name"], "DeploymentStatus");
    assert_eq!(r["response"]["shouldEndSession"], false);
}

#[tokio::test]
async fn an_unclear_name_is_confirmed_with_a_dialog_directive() {
    let alexa = Alexa::start().await;
    let mut body = stamped("alexa/service-health.json", 0);
    body["request"]["intent"]["slots"]["service"] =
        json!({"name": "service", "value": "fraud", "confirmationStatus": "NONE"});
    let r = alexa.ask(&body).await;
    assert_eq!(speech_of(&r), "Did you mean fraud check?");
    let d = &r["response"]["directives"][0];
    assert_eq!(d["type"], "Dialog.ConfirmIntent");
    assert_eq!(
        d["updatedIntent"]["slots"]["service"]["value"],
        "fraud-check"
    );
    let mut yes = body.clone();
    yes["session"]["attributes"] = r["sessionAttributes"].clone();
    yes["request"]["intent"] = d["updatedIntent"].clone();
    yes["request"]["intent"]["confirmationStatus"] = json!("CONFIRMED");
    let r = alexa.ask(&yes).await;
    assert!(
        speech_of(&r).starts_with("fraud-check is healthy")
            || speech_of(&r).starts_with("fraud check is healthy"),
        "{r}"
    );
}

/// Defect: a `DENIED` intent with a filled slot and no session context of ours got the
/// health answer. A denial is never a yes: with nothing we asked to deny, the service is
/// asked for again.
#[tokio::test]
async fn a_denial_without_our_context_is_never_answered_as_a_yes() {
    let alexa = Alexa::start().await;
    let mut body = stamped("alexa/service-health.json", 0);
    body["session"]["attributes"] = json!({});
    body["request"]["dialogState"] = json!("IN_PROGRESS");
    body["request"]["intent"]["confirmationStatus"] = json!("DENIED");
    body["request"]["intent"]["slots"]["service"] =
        json!({"name": "service", "value": "checkout", "confirmationStatus": "NONE"});
    let r = alexa.ask(&body).await;
    let spoken = speech_of(&r);
    assert!(!spoken.contains("checkout is"), "{spoken}");
    assert_eq!(spoken, "Which service?");
    let d = &r["response"]["directives"][0];
    assert_eq!(d["type"], "Dialog.ElicitSlot", "{r}");
    assert_eq!(d["slotToElicit"], "service");
    assert!(
        d["updatedIntent"]["slots"]["service"]["value"].is_null(),
        "{r}"
    );
}

#[tokio::test]
async fn stop_help_and_session_end_follow_alexa_conventions() {
    let alexa = Alexa::start().await;
    let intent = |name: &str| {
        let mut b = stamped("alexa/service-health.json", 0);
        b["request"]["intent"] = json!({"name": name, "confirmationStatus": "NONE", "slots": {}});
        b
    };
    let r = alexa.ask(&intent("AMAZON.StopIntent")).await;
    assert_eq!(r["response"]["shouldEndSession"], true);
    let r = alexa.ask(&intent("AMAZON.HelpIntent")).await;
    assert_eq!(r["response"]["shouldEndSession"], false);
    let r = alexa.ask(&intent("AMAZON.FallbackIntent")).await;
    assert!(speech_of(&r).starts_with("Sorry, I didn't get that."));
    let r = alexa.ask(&stamped("alexa/session-ended.json", 0)).await;
    assert_eq!(r, json!({"version": "1.0", "response": {}}));
}

#[tokio::test]
async fn can_fulfill_answers_honestly_per_slot() {
    let alexa = Alexa::start().await;
    let mut body = stamped("alexa/service-health.json", 0);
    body["request"]["type"] = json!("CanFulfillIntentRequest");
    let r = alexa.ask(&body).await;
    assert_eq!(
        r["response"]["canFulfillIntent"]["canFulfill"], "YES",
        "{r}"
    );
    assert_eq!(
        r["response"]["canFulfillIntent"]["slots"]["service"],
        json!({"canUnderstand": "YES", "canFulfill": "YES"})
    );
    body["request"]["intent"]["slots"]["service"] =
        json!({"name": "service", "value": "mainframe"});
    let r = alexa.ask(&body).await;
    assert_eq!(r["response"]["canFulfillIntent"]["canFulfill"], "NO");
    body["request"]["intent"]["name"] = json!("OrderPizza");
    body["request"]["intent"]["slots"] = json!({});
    let r = alexa.ask(&body).await;
    assert_eq!(r["response"]["canFulfillIntent"]["canFulfill"], "NO");
}

#[tokio::test]
async fn the_chain_is_fetched_once_and_reused() {
    let alexa = Alexa::start().await;
    for i in 0..5 {
        alexa.ask(&stamped("alexa/launch.json", i)).await;
    }
    assert_eq!(alexa.chains.fetched(), 1);
}

#[tokio::test]
async fn every_request_amazon_says_to_refuse_gets_a_400_and_no_answer() {
    let alexa = Alexa::start().await;
    let body = serde_json::to_vec(&stamped("alexa/service-health.json", 0)).unwrap();
    let sig = alexa.good.sign(&body);
    let url = |u: &str| ("SignatureCertChainUrl", u.to_owned());
    let s256 = |s: &str| ("Signature-256", s.to_owned());
    let signed_as = |offset: i64, edit: &dyn Fn(&mut Value)| {
        let mut b = stamped("alexa/service-health.json", offset);
        edit(&mut b);
        let bytes = serde_json::to_vec(&b).unwrap();
        let sig = alexa.good.sign(&bytes);
        (bytes, sig)
    };
    let (old, old_sig) = signed_as(-151, &|_| {});
    let (ahead, ahead_sig) = signed_as(151, &|_| {});
    let (stranger_skill, stranger_sig) = signed_as(0, &|b| {
        b["session"]["application"]["applicationId"] = json!("amzn1.ask.skill.someone-else");
    });
    let (unstamped, unstamped_sig) = signed_as(0, &|b| {
        b["request"].as_object_mut().unwrap().remove("timestamp");
    });
    let (no_skill, no_skill_sig) = signed_as(0, &|b| {
        b["session"].as_object_mut().unwrap().remove("application");
        b["context"]["System"]
            .as_object_mut()
            .unwrap()
            .remove("application");
    });
    let (stranger_in_context, stranger_in_context_sig) = signed_as(0, &|b| {
        b["session"].as_object_mut().unwrap().remove("application");
        b["context"]["System"]["application"]["applicationId"] = json!("amzn1.ask.skill.x");
    });
    let other_body = serde_json::to_vec(&stamped("alexa/launch.json", 0)).unwrap();
    type Case<'a> = (&'a str, Vec<u8>, Vec<(&'a str, String)>);
    let cases: Vec<Case<'_>> = vec![
        (
            "scheme http",
            body.clone(),
            vec![
                url("http://s3.amazonaws.com/echo.api/echo-api-cert.pem"),
                s256(&sig),
            ],
        ),
        (
            "host not s3.amazonaws.com",
            body.clone(),
            vec![
                url("https://notamazon.com/echo.api/echo-api-cert.pem"),
                s256(&sig),
            ],
        ),
        (
            "path outside /echo.api/",
            body.clone(),
            vec![
                url("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem"),
                s256(&sig),
            ],
        ),
        (
            "/echo.api/../evil/",
            body.clone(),
            vec![
                url("https://s3.amazonaws.com/echo.api/../evil/echo-api-cert.pem"),
                s256(&sig),
            ],
        ),
        (
            "port other than 443",
            body.clone(),
            vec![
                url("https://s3.amazonaws.com:8443/echo.api/echo-api-cert.pem"),
                s256(&sig),
            ],
        ),
        // Each chain case is signed by its own leaf, so only the chain rule can refuse it.
        (
            "expired leaf",
            body.clone(),
            vec![
                url("https://s3.amazonaws.com/echo.api/expired.pem"),
                s256(&chains().expired.sign(&body)),
            ],
        ),
        (
            "SAN mismatch",
            body.clone(),
            vec![
                url("https://s3.amazonaws.com/echo.api/other-name.pem"),
                s256(&chains().other.sign(&body)),
            ],
        ),
        (
            "untrusted root",
            body.clone(),
            vec![
                url("https://s3.amazonaws.com/echo.api/stranger.pem"),
                s256(&chains().stranger.sign(&body)),
            ],
        ),
        (
            "signature of another body",
            body.clone(),
            vec![url(CHAIN_URL), s256(&alexa.good.sign(&other_body))],
        ),
        (
            "only the legacy SHA-1 header",
            body.clone(),
            vec![url(CHAIN_URL), ("Signature", sig.clone())],
        ),
        (
            "timestamp 151 s old",
            old,
            vec![url(CHAIN_URL), s256(&old_sig)],
        ),
        (
            "timestamp 151 s ahead",
            ahead,
            vec![url(CHAIN_URL), s256(&ahead_sig)],
        ),
        (
            "unknown skill id",
            stranger_skill,
            vec![url(CHAIN_URL), s256(&stranger_sig)],
        ),
        (
            "signed, but no timestamp",
            unstamped,
            vec![url(CHAIN_URL), s256(&unstamped_sig)],
        ),
        (
            "signed, but no application id",
            no_skill,
            vec![url(CHAIN_URL), s256(&no_skill_sig)],
        ),
        (
            "unknown skill id, in context.System only",
            stranger_in_context,
            vec![url(CHAIN_URL), s256(&stranger_in_context_sig)],
        ),
        ("no headers", body.clone(), vec![]),
        ("no chain URL", body.clone(), vec![s256(&sig)]),
        ("no signature", body.clone(), vec![url(CHAIN_URL)]),
        (
            "garbage base64",
            body.clone(),
            vec![url(CHAIN_URL), s256("%%% not base64 %%%")],
        ),
        (
            "chain not there",
            body.clone(),
            vec![
                url("https://s3.amazonaws.com/echo.api/missing.pem"),
                s256(&sig),
            ],
        ),
    ];
    for (name, bytes, headers) in cases {
        let (status, r) = alexa.send(&bytes, &headers).await;
        assert_eq!(status, 400, "{name}: {r}");
        assert_eq!(r["error"]["code"], "unverified", "{name}: {r}");
        assert!(r.get("response").is_none(), "{name} was answered: {r}");
    }
    // And the proper request still works.
    let (status, _) = alexa.send(&body, &[url(CHAIN_URL), s256(&sig)]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused_before_anything_else() {
    let alexa = Alexa::start().await;
    let (status, r) = alexa.send(&vec![b' '; 70 * 1024], &[]).await;
    assert_eq!(status, 413, "{r}");
    let (status, r) = alexa.send(b"", &[]).await;
    assert_eq!(status, 400, "{r}");
    // A properly signed body that is not an Alexa envelope.
    let bytes = b"{\"hello\": 1}".to_vec();
    let sig = alexa.good.sign(&bytes);
    let (status, r) = alexa
        .send(
            &bytes,
            &[
                ("SignatureCertChainUrl", CHAIN_URL.to_owned()),
                ("Signature-256", sig),
            ],
        )
        .await;
    assert_eq!(status, 400, "{r}");
}

#[tokio::test]
async fn a_chain_is_never_accepted_past_its_dates_even_right_after_a_good_request() {
    use opsvoice::ops::{Clock, ManualClock};
    // The test leaf expires at 2035-01-01T00:00:00Z; start 30 s before.
    let expiry = std::time::UNIX_EPOCH + std::time::Duration::from_secs(2_051_222_400);
    let clock = std::sync::Arc::new(ManualClock::new(
        expiry - std::time::Duration::from_secs(30),
    ));
    let pki = Pki::new(Leaf::Good);
    let chains = ChainServer::start(HashMap::from([(
        "echo-api-cert.pem".to_owned(),
        pki.chain_pem.clone(),
    )]))
    .await;
    let verifier = Verifier::new(
        vec!["amzn1.ask.skill.11111111-2222-3333-4444-555555555555".to_owned()],
        Some(("test root", pki.root_pem.as_bytes())),
        Some(&chains.base),
        clock.clone(),
    )
    .unwrap();
    let signed = |at: std::time::SystemTime| {
        let mut body = common::fixture("alexa/service-health.json");
        let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        common::alexa_pki::stamp(&mut body, secs as i64);
        let bytes = serde_json::to_vec(&body).unwrap();
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "signaturecertchainurl",
            "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"
                .parse()
                .unwrap(),
        );
        headers.insert("signature-256", pki.sign(&bytes).parse().unwrap());
        (headers, bytes)
    };
    let (headers, body) = signed(clock.now());
    verifier.verify(&headers, &body).await.unwrap();
    clock.advance(std::time::Duration::from_secs(40));
    let (headers, body) = signed(clock.now());
    let err = verifier.verify(&headers, &body).await.unwrap_err();
    // The cause is kept, typed, all the way down: the path check found the leaf expired.
    let chain = opsvoice::error::ErrorChain(&err).to_string();
    assert!(chain.contains("out of its dates"), "{chain}");
    assert!(format!("{err:?}").contains("CertExpired"), "{err:?}");
}

/// Signs `body` with `pki` and sends it with `url` as the chain URL.
async fn send_signed(alexa: &Alexa, pki: &Pki, url: &str, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    alexa
        .send(
            &bytes,
            &[
                ("SignatureCertChainUrl", url.to_owned()),
                ("Signature-256", pki.sign(&bytes)),
            ],
        )
        .await
}

/// Hardening: the chain was downloaded before anything else was checked, the cache key was
/// the raw URL (query and fragment included), failures were not cached, and the cache
/// held 64 entries: 40 requests with `?n=<i>` made 40 downloads, and 70 `#<i>` variants
/// evicted the real chain.
#[tokio::test]
async fn unauthenticated_requests_cannot_make_us_download() {
    let alexa = Alexa::start().await;
    let good: &'static Pki = &chains().good;
    let base = "https://s3.amazonaws.com/echo.api/";
    // A stale or foreign request is refused before any download.
    let mut stale = stamped("alexa/service-health.json", -600);
    let mut foreign = stamped("alexa/service-health.json", 0);
    foreign["session"]["application"]["applicationId"] = json!("amzn1.ask.skill.someone-else");
    foreign["context"]["System"]["application"]["applicationId"] =
        json!("amzn1.ask.skill.someone-else");
    for i in 0..40 {
        let url = format!("{base}echo-api-cert.pem?n={i}");
        for body in [&mut stale, &mut foreign] {
            let (status, _) = send_signed(&alexa, good, &url, body).await;
            assert_eq!(status, 400);
        }
    }
    assert_eq!(
        alexa.chains.fetched(),
        0,
        "nothing fetched for stale or foreign requests"
    );

    // Query and fragment variants are one chain: one download, never evicted.
    let body = stamped("alexa/service-health.json", 0);
    for i in 0..40 {
        let (status, r) = send_signed(
            &alexa,
            good,
            &format!("{base}echo-api-cert.pem?n={i}"),
            &body,
        )
        .await;
        assert_eq!(status, 200, "{r}");
    }
    for i in 0..70 {
        let (status, r) =
            send_signed(&alexa, good, &format!("{base}echo-api-cert.pem#{i}"), &body).await;
        assert_eq!(status, 200, "{r}");
    }
    let (status, _) = send_signed(&alexa, good, &format!("{base}echo-api-cert.pem"), &body).await;
    assert_eq!(status, 200);
    assert_eq!(alexa.chains.fetched(), 1, "one download for 111 requests");

    // A chain that cannot be had is remembered for a while.
    for _ in 0..10 {
        let (status, _) = send_signed(&alexa, good, &format!("{base}missing.pem"), &body).await;
        assert_eq!(status, 400);
    }
    assert_eq!(
        alexa.chains.fetched(),
        2,
        "a failed download is not retried at once"
    );

    // Downloads are bounded per second, whatever the number of distinct URLs.
    let before = alexa.chains.fetched();
    let sent = futures_util::future::join_all((0..30).map(|i| {
        let url = format!("{base}missing-{i}.pem");
        let body = body.clone();
        let alexa = &alexa;
        async move { send_signed(alexa, good, &url, &body).await.0 }
    }))
    .await;
    assert!(sent.iter().all(|s| *s == 400));
    let downloads = alexa.chains.fetched() - before;
    assert!(
        downloads <= opsvoice::channel::alexa::verify::DOWNLOADS_PER_SECOND as usize * 2,
        "{downloads} downloads for 30 distinct URLs at once"
    );
}

/// Hardening: a leaf whose SAN is only `*.amazon.com` passed; Amazon requires the SAN
/// `echo-api.amazon.com` itself.
#[tokio::test]
async fn a_wildcard_leaf_is_not_amazons_leaf() {
    let alexa = Alexa::start().await;
    let body = stamped("alexa/service-health.json", 0);
    let (status, r) = send_signed(
        &alexa,
        &chains().wildcard,
        "https://s3.amazonaws.com/echo.api/wildcard.pem",
        &body,
    )
    .await;
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["error"]["code"], "unverified");
}

/// Hardening: `session.application.applicationId` and
/// `context.System.application.applicationId` could differ; both must be ours.
#[tokio::test]
async fn both_skill_ids_must_be_ours() {
    let alexa = Alexa::start().await;
    for (session, context) in [
        (SKILL, "amzn1.ask.skill.someone-else"),
        ("amzn1.ask.skill.someone-else", SKILL),
    ] {
        let mut body = stamped("alexa/service-health.json", 0);
        body["session"]["application"]["applicationId"] = json!(session);
        body["context"]["System"]["application"]["applicationId"] = json!(context);
        let bytes = serde_json::to_vec(&body).unwrap();
        let (status, r) = alexa
            .send(
                &bytes,
                &[
                    ("SignatureCertChainUrl", CHAIN_URL.to_owned()),
                    ("Signature-256", alexa.good.sign(&bytes)),
                ],
            )
            .await;
        assert_eq!(status, 400, "{session} / {context}: {r}");
    }
}

/// The demo assistant behind a Cognito pool whose keys are served at `jwks` (issuer and
/// app client `client` of pool `pool`), on the tests' fixed clock.
fn linked_assistant(jwks: &str) -> std::sync::Arc<opsvoice::channel::Assistant> {
    use opsvoice::auth::cognito::{Settings, TokenUse, Verifier as Tokens};
    let tokens = Tokens::new(
        Settings {
            region: "us-east-1".to_owned(),
            user_pool_id: "us-east-1_pool".to_owned(),
            client_ids: vec!["client".to_owned()],
            token_use: TokenUse::Access,
            leeway: std::time::Duration::from_secs(5),
            jwks_url: Some(jwks.to_owned()),
        },
        common::clock(),
    )
    .unwrap();
    common::demo(opsvoice::auth::Identity::new(
        Some(std::sync::Arc::new(tokens)),
        opsvoice::auth::policy::Policy::allow_all(),
        None,
    ))
    .build()
    .unwrap()
}

/// What the skill answers to the service-health fixture sent with `token`.
async fn answer_with_token(assistant: &opsvoice::channel::Assistant, token: &str) -> Value {
    let mut body = common::fixture("alexa/service-health.json");
    body["session"]["user"]["accessToken"] = json!(token);
    body["context"]["System"]["user"]["accessToken"] = json!(token);
    let envelope: opsvoice::channel::alexa::Envelope = serde_json::from_value(body).unwrap();
    serde_json::to_value(assistant.alexa(&envelope).await).unwrap()
}

#[tokio::test]
async fn a_token_signed_by_a_key_the_pool_does_not_have_gets_the_link_account_card() {
    // The defect's words (issue 30, defect 8): a token signed with a key the pool does not
    // have, its key set just fetched and the key id not in it, was answered "I can't check
    // your sign-in right now" with no LinkAccount card, as if the sign-in service were down.
    let pool_key = common::jwks::SigningKey::new();
    let (_, jwks) = pool_key.serve().await;
    let assistant = linked_assistant(&jwks);
    let stranger = common::jwks::SigningKey::new();
    let claims = common::jwks::SigningKey::access_claims("us-east-1_pool", "client", common::NOW);
    let forged = stranger.mint(&json!({"alg": "RS256", "kid": "not-the-pools"}), &claims);

    // First request: the key set is fetched now, and the key id is not in it.
    let r = answer_with_token(&assistant, &forged).await;
    assert_eq!(r["response"]["card"]["type"], "LinkAccount", "{r}");
    assert!(!speech_of(&r).contains("can't check your sign-in"), "{r}");
    // Again, inside the minimum refetch interval: still a bad token, not an outage.
    let r = answer_with_token(&assistant, &forged).await;
    assert_eq!(r["response"]["card"]["type"], "LinkAccount", "{r}");
    // A good token from the pool's own key is answered.
    let good = pool_key.access_token("us-east-1_pool", "client", common::NOW);
    let r = answer_with_token(&assistant, &good).await;
    assert!(speech_of(&r).starts_with("checkout is degraded"), "{r}");
}

#[tokio::test]
async fn only_an_unreachable_key_set_is_an_outage() {
    let assistant = linked_assistant("http://127.0.0.1:9/jwks.json");
    let key = common::jwks::SigningKey::new();
    let token = key.access_token("us-east-1_pool", "client", common::NOW);
    let r = answer_with_token(&assistant, &token).await;
    assert!(speech_of(&r).contains("can't check your sign-in"), "{r}");
    assert!(r["response"].get("card").is_none(), "{r}");
}

/// Acting by voice (issue 31): the read-back is a `Dialog.ConfirmIntent`, and only
/// `CONFIRMED` with our own session context acts; a confirmation without it does nothing.
#[tokio::test]
async fn a_restart_is_read_back_with_confirm_intent_and_done_on_confirmed() {
    let alexa = Alexa::start().await;
    let mut body = stamped("alexa/service-health.json", 0);
    body["request"]["intent"] = json!({
        "name": "RestartService",
        "confirmationStatus": "NONE",
        "slots": {"service": {"name": "service", "value": "checkout", "confirmationStatus": "NONE"}},
    });
    let r = alexa.ask(&body).await;
    let spoken = speech_of(&r);
    assert!(spoken.contains("Restart checkout in prod?"), "{spoken}");
    assert!(spoken.ends_with("Shall I?"), "{spoken}");
    let d = &r["response"]["directives"][0];
    assert_eq!(d["type"], "Dialog.ConfirmIntent", "{r}");
    assert_eq!(r["response"]["shouldEndSession"], false);

    let mut crafted = body.clone();
    crafted["session"]["attributes"] = json!({});
    crafted["request"]["intent"]["confirmationStatus"] = json!("CONFIRMED");
    let refused = speech_of(&alexa.ask(&crafted).await);
    assert!(refused.contains("nothing waiting"), "{refused}");

    let mut yes = body.clone();
    yes["session"]["attributes"] = r["sessionAttributes"].clone();
    yes["request"]["intent"] = d["updatedIntent"].clone();
    yes["request"]["intent"]["confirmationStatus"] = json!("CONFIRMED");
    let done = speech_of(&alexa.ask(&yes).await);
    assert!(done.contains("Restarting checkout"), "{done}");
    let again = speech_of(&alexa.ask(&yes).await);
    assert!(again.contains("nothing waiting"), "{again}");
}
