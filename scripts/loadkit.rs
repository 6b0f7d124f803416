//! Helpers for `scripts/load.sh` (built as the `loadkit` example):
//!
//! - `loadkit baseline ADDR`: the baseline server. It reads the JSON body and answers a
//!   constant JSON response, with nothing else, so opsvoice's figures can be given as a
//!   ratio to what this machine does with axum alone.
//! - `loadkit alexa DIR SECONDS`: a test certificate chain for Alexa signatures. It writes
//!   `DIR/root.pem`, serves the chain on loopback for SECONDS (its base URL goes in
//!   `DIR/base_url`), and writes a freshly stamped, signed request: `DIR/alexa.json` and
//!   `DIR/alexa.sig`.
//! - `loadkit startup URL BINARY [ARGS...]`: starts BINARY and prints the milliseconds
//!   from spawning it to the first 200 from URL (polled every millisecond), then stops it.
//!   A `/v1/ask` URL is asked "any alarms firing"; any other is a GET.
#![allow(clippy::unwrap_used)]

#[path = "../tests/it/common/alexa_pki.rs"]
mod alexa_pki;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("baseline") => baseline(&args[1]).await,
        Some("alexa") => alexa(&args[1], args[2].parse().unwrap()).await,
        Some("startup") => startup(&args[1], &args[2], &args[3..]).await,
        _ => {
            eprintln!(
                "usage: loadkit baseline ADDR | alexa DIR SECONDS | startup URL BINARY [ARGS...]"
            );
            std::process::exit(2);
        }
    }
}

async fn baseline(addr: &str) {
    async fn answer(Json(_body): Json<Value>) -> Json<Value> {
        Json(json!({"ok": true, "text": "constant"}))
    }
    let router = axum::Router::new()
        .route("/lex", post(answer))
        .route("/alexa", post(answer))
        .route("/v1/ask", post(answer));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    axum::serve(listener, router).await.unwrap();
}

async fn alexa(dir: &str, seconds: u64) {
    let dir = std::path::Path::new(dir);
    let pki = alexa_pki::Pki::new(alexa_pki::Leaf::Good);
    std::fs::write(dir.join("root.pem"), &pki.root_pem).unwrap();
    let chains = alexa_pki::ChainServer::start(HashMap::from([(
        "echo-api-cert.pem".to_owned(),
        pki.chain_pem.clone(),
    )]))
    .await;
    std::fs::write(dir.join("base_url"), &chains.base).unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/alexa/service-health.json");
    let mut body: Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    alexa_pki::stamp(&mut body, alexa_pki::unix_now());
    let bytes = serde_json::to_vec(&body).unwrap();
    std::fs::write(dir.join("alexa.sig"), pki.sign(&bytes)).unwrap();
    std::fs::write(dir.join("alexa.json"), bytes).unwrap();
    std::fs::write(dir.join("ready"), b"").unwrap();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
}

async fn startup(url: &str, binary: &str, args: &[String]) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = started + Duration::from_secs(30);
    loop {
        let request = if url.ends_with("/v1/ask") {
            client.post(url).json(&json!({"text": "any alarms firing"}))
        } else {
            client.get(url)
        };
        if let Ok(r) = request.send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "no answer from {url} in 30 s");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!("{:.1}", started.elapsed().as_secs_f64() * 1000.0);
    child.kill().await.unwrap();
}
