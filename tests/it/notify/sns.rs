//! Signed SNS deliveries to `POST /events` (forged ones post nothing), and two processes
//! sharing one moto DynamoDB table.

use super::*;

/// A loopback stand-in for SNS's certificate host.
async fn cert_server(pem: String) -> (String, tokio::sync::oneshot::Sender<()>) {
    let router = axum::Router::new().route(
        "/{file}",
        axum::routing::get(move || {
            let pem = pem.clone();
            async move { pem }
        }),
    );
    let (addr, stop) = common::serve_on_loopback(router).await;
    (format!("http://{addr}/"), stop)
}

fn sns_signed(pki: &Pki, mut delivery: Value, version: &str) -> Vec<u8> {
    delivery["SignatureVersion"] = json!(version);
    if delivery.get("Stale").is_some() {
        delivery.as_object_mut().unwrap().remove("Stale");
        delivery["Timestamp"] = json!(iso(SystemTime::now() - Duration::from_secs(2 * 24 * 3600)));
    } else {
        delivery["Timestamp"] = json!(iso(SystemTime::now()));
    }
    delivery["SigningCertURL"] =
        json!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem");
    let d: opsvoice::notify::sns::Delivery = serde_json::from_value(delivery.clone()).unwrap();
    let signed = opsvoice::notify::sns::string_to_sign(&d).unwrap();
    let der = pki.leaf_key.serialize_der();
    let signature = if version == "1" {
        use rsa::pkcs8::DecodePrivateKey as _;
        use rsa::signature::{SignatureEncoding as _, Signer as _};
        let key = rsa::RsaPrivateKey::from_pkcs8_der(&der).unwrap();
        rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key)
            .sign(signed.as_bytes())
            .to_vec()
    } else {
        let key = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).unwrap();
        let mut signature = vec![0u8; key.public_modulus_len()];
        key.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut signature,
        )
        .unwrap();
        signature
    };
    use base64::Engine as _;
    delivery["Signature"] = json!(base64::engine::general_purpose::STANDARD.encode(signature));
    serde_json::to_vec(&delivery).unwrap()
}

#[tokio::test]
async fn signed_sns_deliveries_post_cards_and_forged_ones_post_nothing() {
    let w = World::new().await;
    let moto = common::moto::Moto::start();
    let sdk = moto.sdk().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name("opsvoice-events")
        .send()
        .await
        .unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_owned();
    assert_eq!(topic_arn, TOPIC);
    let pki = Pki::new(Leaf::Good);
    let stranger = Pki::new(Leaf::Good);
    let (cert_base, _stop) = cert_server(pki.chain_pem.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut notifier = w.notifier(file_store(&dir, w.clock.clone()));
    notifier.inline = false;
    let notifier = Arc::new(notifier);
    let verifier = opsvoice::notify::sns::SnsVerifier::new(
        vec![TOPIC.to_owned()],
        Some(("test root", pki.root_pem.as_bytes())),
        Some(&cert_base),
        w.clock.clone(),
    )
    .unwrap();
    let state = opsvoice::builder(&Config::default())
        .with_assistant(w.assistant.clone())
        .alexa(
            opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, w.clock.clone())
                .unwrap(),
        )
        .events(opsvoice::notify::http::EventsState {
            verifier: Some(Arc::new(verifier)),
            notifier: Some(notifier.clone()),
            sns: Some(sns.clone()),
        })
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = common::serve_state(listener, state, &Config::default()).await;
    let post = |body: Vec<u8>, kind: &'static str| {
        let client = app.client.clone();
        let url = format!("{}/events", app.base);
        async move {
            let r = client
                .post(url)
                .header("x-amz-sns-message-type", kind)
                .header("content-type", "text/plain; charset=UTF-8")
                .body(body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };

    // A confirmation, signed: confirmed through the SNS API (moto), never by fetching.
    let sub = sns
        .subscribe()
        .topic_arn(TOPIC)
        .protocol("https")
        .endpoint("https://opsvoice.example.com/events")
        .send()
        .await
        .unwrap();
    assert!(sub.subscription_arn().is_some());
    let mut confirm = fixture("sns-subscription-confirmation-envelope.json");
    confirm["TopicArn"] = json!(TOPIC);
    confirm["SubscribeURL"] = json!("https://169.254.169.254/latest/meta-data/");
    assert_eq!(
        post(
            sns_signed(&pki, confirm.clone(), "2"),
            "SubscriptionConfirmation"
        )
        .await,
        200
    );

    // A notification carrying the documented EventBridge alarm event, SignatureVersion 1.
    let mut note = fixture("sns-notification-envelope.json");
    note["TopicArn"] = json!(TOPIC);
    note["MessageId"] = json!(uuid::Uuid::new_v4().to_string());
    let event = alarm_event("checkout-p99-latency-high", "ALARM", "OK", w.clock.now());
    note["Message"] = json!(event.to_string());
    assert_eq!(
        post(sns_signed(&pki, note.clone(), "1"), "Notification").await,
        200
    );
    // CloudWatch's own alarm JSON in Message, SignatureVersion 2.
    let mut cw = fixture("cloudwatch-alarm-sns-message.json");
    cw["AlarmName"] = json!("ml-scoring-cpu-high");
    cw["NewStateValue"] = json!("ALARM");
    let mut note2 = note.clone();
    note2["MessageId"] = json!(uuid::Uuid::new_v4().to_string());
    note2["Message"] = json!(cw.to_string());
    assert_eq!(
        post(sns_signed(&pki, note2, "2"), "Notification").await,
        200
    );

    // Forged: another key's signature, an edited message, no signature, another topic,
    // a certificate URL off SNS's hosts.
    let mut forged = note.clone();
    forged["MessageId"] = json!("forged-1");
    forged["Message"] =
        json!(alarm_event("forged-alarm", "ALARM", "OK", w.clock.now()).to_string());
    let mut refusals = vec![post(sns_signed(&stranger, forged.clone(), "2"), "Notification").await];
    let mut edited: Value = serde_json::from_slice(&sns_signed(&pki, forged.clone(), "2")).unwrap();
    edited["Message"] =
        json!(alarm_event("forged-alarm-2", "ALARM", "OK", w.clock.now()).to_string());
    refusals.push(post(serde_json::to_vec(&edited).unwrap(), "Notification").await);
    let mut unsigned: Value =
        serde_json::from_slice(&sns_signed(&pki, forged.clone(), "2")).unwrap();
    unsigned["Signature"] = json!("");
    refusals.push(post(serde_json::to_vec(&unsigned).unwrap(), "Notification").await);
    let mut other_topic = forged.clone();
    other_topic["TopicArn"] = json!("arn:aws:sns:us-east-1:123456789012:someone-else");
    refusals.push(post(sns_signed(&pki, other_topic, "2"), "Notification").await);
    let mut stale = forged.clone();
    stale["Stale"] = json!(true);
    refusals.push(post(sns_signed(&pki, stale, "2"), "Notification").await);
    let mut off_host: Value = serde_json::from_slice(&sns_signed(&pki, forged, "2")).unwrap();
    off_host["SigningCertURL"] = json!("https://evil.example.com/sns.us-east-1.amazonaws.com.pem");
    refusals.push(post(serde_json::to_vec(&off_host).unwrap(), "Notification").await);
    // 401 for a signature or certificate that does not verify, 403 for another topic,
    // 400 for a stale Timestamp.
    assert!(
        refusals.iter().all(|s| [400, 401, 403].contains(s)),
        "{refusals:?}"
    );
    assert_eq!(refusals.len(), 6);

    // A certificate that does not chain to a trusted root: a stranger's whole PKI, served
    // where the certificate is fetched from, with the message signed by its own key.
    let (stranger_base, _stop_stranger) = cert_server(stranger.chain_pem.clone()).await;
    let untrusting = opsvoice::notify::sns::SnsVerifier::new(
        vec![TOPIC.to_owned()],
        Some(("test root", pki.root_pem.as_bytes())),
        Some(&stranger_base),
        w.clock.clone(),
    )
    .unwrap();
    let mut wrong_cert = note.clone();
    wrong_cert["MessageId"] = json!("wrong-cert-1");
    assert_eq!(
        untrusting
            .verify(&sns_signed(&stranger, wrong_cert, "2"))
            .await
            .err(),
        Some(opsvoice::notify::sns::SnsError::UntrustedCert)
    );

    w.settle(&notifier).await;
    let ops = w.posts_to(OPS);
    let tops: Vec<String> = ops
        .iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .map(text)
        .collect();
    assert_eq!(tops.len(), 2, "{tops:?}");
    assert!(
        tops.iter().any(|t| t.contains("checkout-p99-latency-high")),
        "{tops:?}"
    );
    assert!(
        tops.iter().any(|t| t.contains("ml-scoring-cpu-high")),
        "{tops:?}"
    );
    assert!(!w.slack.posts().iter().any(|p| text(p).contains("forged")));
    assert_valid(&w.slack);
}

#[tokio::test]
async fn two_processes_on_one_dynamodb_table_post_each_episode_once() {
    let w = World::new().await;
    let moto = common::moto::Moto::start();
    let sdk = moto.sdk().await;
    common::moto::store_table(&sdk, "shared").await;
    let store = || -> Arc<dyn Store> {
        Arc::new(opsvoice::store::dynamo::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            "shared".to_owned(),
            w.clock.clone(),
        ))
    };
    let a = w.notifier(store());
    let b = w.notifier(store());
    // The same alarm's state change reaches both (two events: EventBridge to Lambda, and
    // the alarm's SNS action to `serve`), and both deliver.
    let at = w.clock.now();
    let one = alarm_event("ml-scoring-cpu-high", "ALARM", "OK", at);
    let two = alarm_event("ml-scoring-cpu-high", "ALARM", "OK", at);
    let (x, y) = tokio::join!(accept(&a, &one), accept(&b, &two));
    let ((), ()) = (x, y);
    w.clock
        .advance(opsvoice::notify::SETTLE + Duration::from_millis(10));
    for _ in 0..3 {
        tokio::join!(a.deliver_due(), b.deliver_due());
    }
    let cards: Vec<Post> = w
        .posts_to(OPS)
        .into_iter()
        .filter(|p| p.body["thread_ts"].is_null())
        .collect();
    assert_eq!(cards.len(), 1, "{:?}", w.slack.posts());
    assert_eq!(
        w.posts_to(DATA_ONLY)
            .iter()
            .filter(|p| p.body["thread_ts"].is_null())
            .count(),
        1
    );
    assert_valid(&w.slack);
}
