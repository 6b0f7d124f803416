//! A throwaway PKI for Alexa tests: a root, an intermediate and an RSA leaf for
//! `echo-api.amazon.com` (or, to be rejected, an expired leaf, a leaf for another name, or
//! a chain to a root nobody trusts), served over loopback like S3 serves Amazon's chain.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, SigningKey,
};

/// Which leaf to issue.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    Good,
    Expired,
    OtherName,
    /// Only `*.amazon.com` in the SAN: valid for the name in TLS, not Amazon's leaf.
    Wildcard,
}

/// One chain: its root (to trust, or not), the PEM served for the chain, and the leaf key.
pub struct Pki {
    pub root_pem: String,
    pub chain_pem: String,
    pub leaf_key: KeyPair,
}

fn ca(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2040, 1, 1);
    p
}

impl Pki {
    pub fn new(leaf: Leaf) -> Self {
        let root_key = KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap();
        let root = CertifiedIssuer::self_signed(ca("opsvoice test root"), root_key).unwrap();
        let mid_key = KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap();
        let mid =
            CertifiedIssuer::signed_by(ca("opsvoice test intermediate"), mid_key, &root).unwrap();
        let name = match leaf {
            Leaf::OtherName => "evil.example.com",
            Leaf::Wildcard => "*.amazon.com",
            _ => "echo-api.amazon.com",
        };
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        if leaf == Leaf::Expired {
            params.not_before = rcgen::date_time_ymd(2021, 1, 1);
            params.not_after = rcgen::date_time_ymd(2022, 1, 1);
        } else {
            params.not_before = rcgen::date_time_ymd(2025, 1, 1);
            params.not_after = rcgen::date_time_ymd(2035, 1, 1);
        }
        let leaf_key = KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap();
        let issuer: &Issuer<'_, KeyPair> = &mid;
        let leaf_cert = params.signed_by(&leaf_key, issuer).unwrap();
        Self {
            root_pem: root.pem(),
            chain_pem: format!("{}{}", leaf_cert.pem(), mid.pem()),
            leaf_key,
        }
    }

    /// `Signature-256` for `body`: base64 of RSA PKCS#1 v1.5 SHA-256 by the leaf key.
    pub fn sign(&self, body: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.leaf_key.sign(body).unwrap())
    }
}

/// Sets an Alexa request's `request.timestamp` to `unix_secs`, in Alexa's ISO 8601 form.
pub fn stamp(body: &mut serde_json::Value, unix_secs: i64) {
    body["request"]["timestamp"] = serde_json::Value::String(
        aws_smithy_types::DateTime::from_secs(unix_secs)
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap(),
    );
}

/// Seconds since the Unix epoch, by the system clock.
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

/// A loopback server standing in for S3: serves `/echo.api/<file>` and counts fetches.
pub struct ChainServer {
    pub base: String,
    pub fetches: Arc<AtomicUsize>,
}

impl ChainServer {
    pub async fn start(files: HashMap<String, String>) -> Self {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let files = Arc::new(files);
        let app = axum::Router::new().route(
            "/echo.api/{file}",
            axum::routing::get(
                move |axum::extract::Path(file): axum::extract::Path<String>| {
                    let files = files.clone();
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        match files.get(&file) {
                            Some(pem) => (axum::http::StatusCode::OK, pem.clone()),
                            None => (axum::http::StatusCode::NOT_FOUND, String::new()),
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://{addr}/"),
            fetches,
        }
    }

    pub fn fetched(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}
