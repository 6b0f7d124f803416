//! Stored records outlive releases: what an earlier release wrote (a stored fixture,
//! `tests/fixtures/store/records-v0.json`, written by the code before records carried a
//! version) is still found under the same keys and read by this one.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opsvoice::auth::cognito::{Settings, TokenUse, Verifier};
use opsvoice::auth::link::{HostedUi, Links, SlackUser};
use opsvoice::ops::{Clock, ManualClock};
use opsvoice::store::Store;
use opsvoice::store::cipher::Cipher;
use opsvoice::store::file::FileStore;

/// The fixture's records, put in a fresh store file as they were stored.
async fn earlier_release(dir: &tempfile::TempDir, clock: Arc<dyn Clock>) -> Arc<dyn Store> {
    let fixture = common::fixture("store/records-v0.json");
    let store = FileStore::open(&dir.path().join("store.sqlite"), clock.clone()).unwrap();
    let until = clock.now() + Duration::from_secs(86_400);
    for record in fixture["records"].as_array().unwrap() {
        store
            .put(
                // As stored: the key's text, read back as a key (as a record naming
                // another record's key does).
                &serde_json::from_value::<opsvoice::store::Key>(record["key"].clone()).unwrap(),
                record["value"].as_str().unwrap(),
                until,
            )
            .await
            .unwrap();
    }
    Arc::new(store)
}

#[tokio::test]
async fn records_an_earlier_release_stored_are_read_after_an_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(common::NOW + 600),
    ));
    let store = earlier_release(&dir, clock.clone()).await;

    // An account link: found under its key, read, and its sealed token opened (the seal
    // is bound to the key, so this also holds the key's text).
    let verifier = Verifier::new(
        Settings {
            region: "us-east-1".to_owned(),
            user_pool_id: "us-east-1_fixture".to_owned(),
            client_ids: vec!["fixture".to_owned()],
            token_use: TokenUse::Access,
            leeway: Duration::from_secs(5),
            jwks_url: Some("http://127.0.0.1:9/jwks.json".to_owned()),
        },
        clock.clone(),
    )
    .unwrap();
    let links = Links::new(
        store.clone(),
        Cipher::new(&[7u8; 32]).unwrap(),
        HostedUi {
            domain: "http://127.0.0.1:9".to_owned(),
            client_id: "fixture".to_owned(),
            client_secret: None,
            redirect_uri: "http://127.0.0.1:9/link/callback".to_owned(),
        },
        "http://127.0.0.1:9",
        Arc::new(verifier),
        Duration::from_secs(30 * 86_400),
        clock.clone(),
    );
    let linked = links
        .principal(&SlackUser {
            team: "T0FIXTURE".to_owned(),
            user: "U0FIXTURE".to_owned(),
        })
        .await
        .unwrap()
        .expect("the earlier release's link is still a link");
    assert_eq!(linked.principal.username, "ana");
    assert_eq!(linked.principal.groups, ["oncall"]);
    assert_eq!(linked.access_token.expose_str(), "fixture-access-token");

    // The event log: "what did I miss?" still reads the earlier release's entry.
    let answer = common::ask_with_log(clock.clone(), store.clone(), "what did I miss").await;
    assert!(answer.text.contains("checkout"), "{}", answer.text);
}
