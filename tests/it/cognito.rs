//! Cognito token verification against moto: real tokens from a real user-pool flow are
//! accepted with their groups, and every token the rules refuse is refused for the right
//! reason. Forged tokens are signed with moto's own key, so only the rule under test can
//! refuse them.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use common::moto::{Moto, UserPool};
use opsvoice::auth::cognito::{AuthError, Settings, TokenUse, Verifier};
use opsvoice::ops::{Clock, ManualClock, SystemClock};
use serde_json::{Value, json};

struct Pool {
    moto: Moto,
    pool: String,
    client: String,
    access: String,
    id: String,
}

async fn pool() -> Pool {
    let moto = Moto::start();
    let users = UserPool::create(&moto.sdk().await).await;
    users.group("oncall").await;
    let ana = users.sign_in("ana", Some("oncall")).await;
    Pool {
        access: ana.access,
        id: ana.id,
        pool: users.pool,
        client: users.client,
        moto,
    }
}

impl Pool {
    fn verifier(&self, token_use: TokenUse, clock: Arc<dyn Clock>) -> Verifier {
        self.verifier_at(
            token_use,
            clock,
            format!("{}/{}/.well-known/jwks.json", self.moto.url(), self.pool),
        )
    }

    fn verifier_at(&self, token_use: TokenUse, clock: Arc<dyn Clock>, jwks: String) -> Verifier {
        Verifier::new(
            Settings {
                region: "us-east-1".to_owned(),
                user_pool_id: self.pool.clone(),
                client_ids: vec![self.client.clone()],
                token_use,
                leeway: Duration::from_secs(5),
                jwks_url: Some(jwks),
            },
            clock,
        )
        .unwrap()
    }

    fn issuer(&self) -> String {
        format!("https://cognito-idp.us-east-1.amazonaws.com/{}", self.pool)
    }

    /// Claims like a real access token's, now.
    fn claims(&self) -> Value {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        json!({
            "iss": self.issuer(), "sub": "3f1c", "client_id": self.client, "token_use": "access",
            "username": "ana", "cognito:groups": ["oncall"], "iat": now, "exp": now + 3600,
        })
    }
}

/// A token signed by moto's key with the given header and claims.
fn mint(header: &Value, claims: &Value) -> String {
    static MOTO_KEY: std::sync::OnceLock<common::jwks::SigningKey> = std::sync::OnceLock::new();
    MOTO_KEY
        .get_or_init(common::jwks::SigningKey::moto)
        .mint(header, claims)
}

fn rs256() -> Value {
    json!({"alg": "RS256", "kid": "dummy"})
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn real_tokens_are_accepted_with_their_groups() {
    let pool = pool().await;
    let access = pool.verifier(TokenUse::Access, Arc::new(SystemClock));
    let who = access.verify(&pool.access).await.unwrap();
    assert_eq!(who.username, "ana");
    assert_eq!(who.groups, ["oncall"]);
    assert!(!who.sub.is_empty());

    // An ID token where an access token is expected, and the other way round.
    assert!(matches!(
        access.verify(&pool.id).await,
        Err(AuthError::WrongTokenUse { .. })
    ));
    let id = pool.verifier(TokenUse::Id, Arc::new(SystemClock));
    assert_eq!(id.verify(&pool.id).await.unwrap().username, "ana");
    assert!(matches!(
        id.verify(&pool.access).await,
        Err(AuthError::WrongTokenUse { .. })
    ));
}

#[tokio::test]
async fn every_bad_token_is_refused_for_its_reason() {
    let pool = pool().await;
    let v = pool.verifier(TokenUse::Access, Arc::new(SystemClock));
    // A forged token with nothing wrong passes: the cases below differ by one thing each.
    assert!(v.verify(&mint(&rs256(), &pool.claims())).await.is_ok());
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut c = pool.claims();
        edit(&mut c);
        mint(&rs256(), &c)
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let jwks = reqwest::get(format!(
        "{}/{}/.well-known/jwks.json",
        pool.moto.url(),
        pool.pool
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let hs256 = common::jwks::hs256(jwks.as_bytes(), &pool.claims());
    let real = pool.access.clone();
    let parts: Vec<&str> = real.split('.').collect();
    let mut tampered_claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    tampered_claims["cognito:groups"] = json!(["admins"]);
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);

    type Case<'a> = (&'a str, String, fn(&AuthError) -> bool);
    let cases: Vec<Case<'_>> = vec![
        (
            "alg none",
            common::jwks::unsigned(&json!({"alg": "none", "kid": "dummy"}), &pool.claims(), b""),
            |e| matches!(e, AuthError::Malformed(_) | AuthError::WrongAlgorithm(_)),
        ),
        ("HS256 with the public key as secret", hs256, |e| {
            matches!(e, AuthError::WrongAlgorithm(_))
        }),
        (
            "wrong issuer",
            with(&|c| {
                c["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other")
            }),
            |e| matches!(e, AuthError::WrongIssuer(_)),
        ),
        (
            "another client id",
            with(&|c| c["client_id"] = json!("someone-elses-client")),
            |e| matches!(e, AuthError::WrongClient),
        ),
        (
            "id token where access is expected",
            mint(&rs256(), &{
                let mut c = pool.claims();
                c["token_use"] = json!("id");
                c["aud"] = json!(pool.client);
                c
            }),
            |e| matches!(e, AuthError::WrongTokenUse { .. }),
        ),
        ("expired", with(&|c| c["exp"] = json!(now - 60)), |e| {
            matches!(e, AuthError::Expired)
        }),
        (
            "not yet valid",
            with(&|c| c["nbf"] = json!(now + 600)),
            |e| matches!(e, AuthError::NotYetValid),
        ),
        (
            "unknown kid",
            mint(&json!({"alg": "RS256", "kid": "forged"}), &pool.claims()),
            |e| matches!(e, AuthError::UnknownKey),
        ),
        (
            "no kid",
            mint(&json!({"alg": "RS256"}), &pool.claims()),
            |e| matches!(e, AuthError::NoKeyId),
        ),
        ("tampered payload", tampered, |e| {
            matches!(e, AuthError::BadSignature)
        }),
        (
            "bad base64",
            "eyJhbGciOi.@@@not-base64@@@.x".to_owned(),
            |e| matches!(e, AuthError::Malformed(_)),
        ),
        ("not a JWT", "hello".to_owned(), |e| {
            matches!(e, AuthError::Malformed(_))
        }),
        (
            "oversized",
            format!("{}.{}.x", "a".repeat(5000), "b".repeat(5000)),
            |e| matches!(e, AuthError::TooLarge),
        ),
        (
            "missing exp",
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            |e| matches!(e, AuthError::MissingClaim("exp")),
        ),
    ];
    for (name, token, expected) in cases {
        let result = v.verify(&token).await;
        match &result {
            Err(e) if expected(e) => {
                let message = e.to_string();
                assert!(
                    !message.contains(&token),
                    "{name}: the error repeats the token"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unreachable_jwks_is_a_clear_refusal() {
    let pool = pool().await;
    let v = pool.verifier_at(
        TokenUse::Access,
        Arc::new(SystemClock),
        "http://127.0.0.1:9/jwks.json".to_owned(),
    );
    assert!(matches!(
        v.verify(&pool.access).await,
        Err(AuthError::JwksUnavailable)
    ));
}

#[tokio::test]
async fn unknown_kid_floods_fetch_the_jwks_at_most_once_per_ten_seconds() {
    let pool = pool().await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let v = Arc::new(pool.verifier(TokenUse::Access, clock.clone()));
    v.verify(&pool.access).await.unwrap();
    assert_eq!(v.jwks_fetches(), 1);
    let forged: Vec<String> = (0..20)
        .map(|i| {
            mint(
                &json!({"alg": "RS256", "kid": format!("forged-{i}")}),
                &pool.claims(),
            )
        })
        .collect();
    let results = futures_util::future::join_all(forged.iter().map(|t| v.verify(t))).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(AuthError::UnknownKey)))
    );
    assert_eq!(v.jwks_fetches(), 1, "inside the penalty box: no fetch");
    clock.advance(Duration::from_secs(11));
    for t in &forged {
        assert!(v.verify(t).await.is_err());
    }
    assert_eq!(v.jwks_fetches(), 2, "one fetch per 10 s at most");
    println!(
        "unknown-kid flood: 40 forged tokens over 11 s caused {} JWKS fetches",
        v.jwks_fetches()
    );
    // Known keys still verify with no more fetches.
    v.verify(&pool.access).await.unwrap();
    assert_eq!(v.jwks_fetches(), 2);
}

/// A JWKS endpoint whose document can be changed (a key rotation); returns its URL.
async fn rotating_jwks(document: Arc<std::sync::Mutex<String>>) -> String {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let document = document.clone();
            async move { document.lock().unwrap().clone() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/jwks.json")
}

#[tokio::test]
async fn an_unknown_kid_is_a_bad_token_and_a_rotated_key_is_found_after_the_interval() {
    let old = common::jwks::SigningKey::new();
    let document = Arc::new(std::sync::Mutex::new(old.jwks()));
    let url = rotating_jwks(document.clone()).await;
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(common::NOW),
    ));
    let v = Verifier::new(
        Settings {
            region: "us-east-1".to_owned(),
            user_pool_id: "us-east-1_pool".to_owned(),
            client_ids: vec!["client".to_owned()],
            token_use: TokenUse::Access,
            leeway: Duration::from_secs(5),
            jwks_url: Some(url),
        },
        clock.clone(),
    )
    .unwrap();
    let claims = common::jwks::SigningKey::access_claims("us-east-1_pool", "client", common::NOW);
    // The pool rotates to a new key; its first token arrives while our key set is fresh.
    let new = common::jwks::SigningKey::new();
    let rotated = new.mint(&json!({"alg": "RS256", "kid": "k2"}), &claims);
    assert_eq!(
        v.verify(&rotated).await,
        Err(AuthError::UnknownKey),
        "an unknown kid against a key set fetched just now is a bad token, not an outage"
    );
    assert_eq!(v.jwks_fetches(), 1);
    // The rotation is published; inside the minimum refetch interval nothing is fetched.
    let mut jwks: Value = serde_json::from_str(&old.jwks()).unwrap();
    let mut published: Value = serde_json::from_str(&new.jwks()).unwrap();
    published["keys"][0]["kid"] = json!("k2");
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .push(published["keys"][0].clone());
    *document.lock().unwrap() = jwks.to_string();
    assert_eq!(v.verify(&rotated).await, Err(AuthError::UnknownKey));
    assert_eq!(v.jwks_fetches(), 1);
    // Once the key set is older than the interval, the unknown kid refetches it once.
    clock.advance(opsvoice::auth::cognito::PENALTY_BOX + Duration::from_secs(1));
    let principal = v.verify(&rotated).await.unwrap();
    assert_eq!(principal.username, "ana");
    assert_eq!(v.jwks_fetches(), 2);
    // The old key still verifies, with no fetch.
    v.verify(&old.mint(&old.header(), &claims)).await.unwrap();
    assert_eq!(v.jwks_fetches(), 2);
}
