//! SNS HTTPS deliveries to `POST /events` (REFERENCE.md, "SNS HTTPS deliveries"), verified
//! before anything is acted on:
//!
//! 1. The topic must be one of `OPSVOICE_SNS_TOPIC_ARNS` (checked first, so a stranger's
//!    topic never makes us fetch anything).
//! 2. `SigningCertURL` must be `https` on port 443 from `sns.<region>.amazonaws.com` (or
//!    `.amazonaws.com.cn`), its path a `.pem`.
//! 3. The certificate is fetched from there (cached; one fetch however many wait), and its
//!    chain checked to a trusted root (the public web roots, plus test-only roots that
//!    warn), within its dates.
//! 4. The signature over the string to sign (`key\nvalue\n` pairs, in the documented order,
//!    of the fields present) must verify with the certificate's RSA key: SHA1withRSA for
//!    `SignatureVersion` 1, SHA256withRSA for 2.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{self, ParsedPublicKey};
use base64::Engine as _;
use reqwest::Url;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use serde::Deserialize;
use webpki::{EndEntityCert, KeyUsage};

use crate::clock::Clock;

/// How long a certificate download may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest certificate file accepted.
pub const MAX_CERT_BYTES: usize = 32 * 1024;

/// An SNS delivery's body.
#[derive(Debug, Clone, Deserialize)]
pub struct Delivery {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Message", default)]
    pub message: String,
    #[serde(rename = "Subject", default)]
    pub subject: Option<String>,
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "SignatureVersion")]
    pub signature_version: String,
    #[serde(rename = "Signature")]
    pub signature: String,
    #[serde(rename = "SigningCertURL", alias = "SigningCertUrl")]
    pub signing_cert_url: String,
    #[serde(rename = "Token", default)]
    pub token: Option<String>,
    #[serde(rename = "SubscribeURL", alias = "SubscribeUrl", default)]
    pub subscribe_url: Option<String>,
}

/// Why a delivery was refused. Never says more than which rule failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnsError {
    #[error("the body is not an SNS message")]
    Malformed,
    #[error("deliveries from this topic are not accepted")]
    UnknownTopic,
    #[error("the message type is not one SNS sends")]
    UnknownType,
    #[error("SignatureVersion must be 1 or 2")]
    BadSignatureVersion,
    #[error("the SigningCertURL is not an https URL on an SNS host")]
    BadCertUrl,
    #[error("the signing certificate could not be fetched")]
    CertUnavailable,
    #[error("the signing certificate does not chain to a trusted root")]
    UntrustedCert,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the message's Timestamp is too old, or in the future")]
    Stale,
}

/// The string SNS signs for `d` (its documented fields, in order, of those present).
#[must_use]
pub fn string_to_sign(d: &Delivery) -> Option<String> {
    let mut out = String::new();
    let mut add = |key: &str, value: &str| {
        out.push_str(key);
        out.push('\n');
        out.push_str(value);
        out.push('\n');
    };
    match d.kind.as_str() {
        "Notification" => {
            add("Message", &d.message);
            add("MessageId", &d.message_id);
            if let Some(subject) = &d.subject {
                add("Subject", subject);
            }
            add("Timestamp", &d.timestamp);
            add("TopicArn", &d.topic_arn);
            add("Type", &d.kind);
        }
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
            add("Message", &d.message);
            add("MessageId", &d.message_id);
            add("SubscribeURL", d.subscribe_url.as_deref()?);
            add("Timestamp", &d.timestamp);
            add("Token", d.token.as_deref()?);
            add("TopicArn", &d.topic_arn);
            add("Type", &d.kind);
        }
        _ => return None,
    }
    Some(out)
}

/// Whether `raw` is a certificate URL SNS would send: `https`, port 443,
/// `sns.<region>.amazonaws.com` (or `.com.cn`), a `.pem` path.
///
/// # Errors
/// Anything else.
pub fn check_cert_url(raw: &str) -> Result<Url, SnsError> {
    let url = Url::parse(raw).map_err(|_| SnsError::BadCertUrl)?;
    if url.scheme() != "https"
        || url.port().is_some_and(|p| p != 443)
        || !url.username().is_empty()
        || url.password().is_some()
        || !url.path().ends_with(".pem")
    {
        return Err(SnsError::BadCertUrl);
    }
    let host = url.host_str().ok_or(SnsError::BadCertUrl)?;
    let region = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))
        .and_then(|h| h.strip_prefix("sns."))
        .ok_or(SnsError::BadCertUrl)?;
    if !is_region(region) {
        return Err(SnsError::BadCertUrl);
    }
    Ok(url)
}

/// Whether `name` is shaped like an AWS region (`us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `cn-north-1`): a two-letter area, words, then a number. Not `s3`,
/// `s3-external-1` or `s3-accelerate`, whose `sns.` buckets would otherwise pass.
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// How old a delivery may be: older ones are past the memory that tells repeats apart,
/// so a replay of a recorded delivery is refused instead.
pub const MAX_AGE: Duration = Duration::from_secs(23 * 60 * 60);

struct Cert {
    leaf: CertificateDer<'static>,
    intermediates: Vec<CertificateDer<'static>>,
    spki: Vec<u8>,
}

/// The verifier.
pub struct SnsVerifier {
    topics: Vec<String>,
    roots: Vec<TrustAnchor<'static>>,
    cert_base: Option<Url>,
    http: reqwest::Client,
    certs: moka::future::Cache<String, Arc<Cert>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SnsVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsVerifier")
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

/// Why the verifier could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read OPSVOICE_SNS_TRUST_ROOTS {path}: {source}")]
    Roots {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("OPSVOICE_SNS_TRUST_ROOTS {0} holds no usable certificate")]
    NoRoots(String),
    #[error("OPSVOICE_SNS_CERT_BASE_URL is not a URL: {0}")]
    BadBase(String),
}

impl SnsVerifier {
    /// A verifier for `topics`, trusting the public web roots plus `extra_roots_pem` (test
    /// only), fetching certificates from `cert_base` instead of the message's host (test
    /// only; the message's URL is still checked as sent).
    ///
    /// # Errors
    /// Unusable extra roots, or a bad base URL.
    pub fn new(
        topics: Vec<String>,
        extra_roots_pem: Option<(&str, &[u8])>,
        cert_base: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SetupError> {
        let roots = crate::channel::alexa::verify::trust_roots(extra_roots_pem.map(|(_, pem)| pem))
            .ok_or_else(|| {
                SetupError::NoRoots(extra_roots_pem.map_or_else(String::new, |(p, _)| p.to_owned()))
            })?;
        let cert_base = match cert_base {
            Some(base) => {
                let with_slash = if base.ends_with('/') {
                    base.to_owned()
                } else {
                    format!("{base}/")
                };
                Some(Url::parse(&with_slash).map_err(|_| SetupError::BadBase(base.to_owned()))?)
            }
            None => None,
        };
        Ok(Self {
            topics,
            roots,
            cert_base,
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            certs: moka::future::Cache::builder()
                .max_capacity(32)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            clock,
        })
    }

    /// Whether any topic is accepted (else `/events` refuses everything).
    #[must_use]
    pub fn accepts_any(&self) -> bool {
        !self.topics.is_empty()
    }

    /// The verified delivery in `body`.
    ///
    /// # Errors
    /// The first rule the delivery breaks.
    pub async fn verify(&self, body: &[u8]) -> Result<Delivery, SnsError> {
        let delivery: Delivery = serde_json::from_slice(body).map_err(|_| SnsError::Malformed)?;
        if !self.topics.contains(&delivery.topic_arn) {
            return Err(SnsError::UnknownTopic);
        }
        let signed = string_to_sign(&delivery).ok_or(SnsError::UnknownType)?;
        let algorithm: &'static dyn signature::VerificationAlgorithm =
            match delivery.signature_version.as_str() {
                "1" => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                "2" => &signature::RSA_PKCS1_2048_8192_SHA256,
                _ => return Err(SnsError::BadSignatureVersion),
            };
        let url = check_cert_url(&delivery.signing_cert_url)?;
        let sent = crate::notify::event::time(&delivery.timestamp).ok_or(SnsError::Malformed)?;
        let now = self.clock.now();
        if crate::clock::age(now, sent) > MAX_AGE
            || sent
                .duration_since(now)
                .is_ok_and(|ahead| ahead > Duration::from_secs(15 * 60))
        {
            return Err(SnsError::Stale);
        }
        let cert = self.cert(&url).await?;
        let leaf = EndEntityCert::try_from(&cert.leaf).map_err(|_| SnsError::UntrustedCert)?;
        let now = self
            .clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        leaf.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.roots,
            &cert.intermediates,
            UnixTime::since_unix_epoch(now),
            KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|_| SnsError::UntrustedCert)?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(delivery.signature.trim())
            .map_err(|_| SnsError::BadSignature)?;
        let key =
            ParsedPublicKey::new(algorithm, &cert.spki).map_err(|_| SnsError::BadSignature)?;
        key.verify_sig(signed.as_bytes(), &signature)
            .map_err(|_| SnsError::BadSignature)?;
        Ok(delivery)
    }

    async fn cert(&self, url: &Url) -> Result<Arc<Cert>, SnsError> {
        let fetch_from = match &self.cert_base {
            Some(base) => base
                .join(url.path().trim_start_matches('/'))
                .map_err(|_| SnsError::CertUnavailable)?,
            None => url.clone(),
        };
        self.certs
            .try_get_with(url.as_str().to_owned(), async {
                let response = self
                    .http
                    .get(fetch_from)
                    .send()
                    .await
                    .map_err(|_| SnsError::CertUnavailable)?;
                if !response.status().is_success() {
                    return Err(SnsError::CertUnavailable);
                }
                let pem = response
                    .bytes()
                    .await
                    .map_err(|_| SnsError::CertUnavailable)?;
                if pem.len() > MAX_CERT_BYTES {
                    return Err(SnsError::CertUnavailable);
                }
                let mut certs = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| SnsError::UntrustedCert)?
                    .into_iter();
                let leaf = certs.next().ok_or(SnsError::UntrustedCert)?;
                let spki = EndEntityCert::try_from(&leaf)
                    .map_err(|_| SnsError::UntrustedCert)?
                    .subject_public_key_info()
                    .as_ref()
                    .to_vec();
                tracing::info!(url = %url, "fetched an SNS signing certificate");
                Ok(Arc::new(Cert {
                    leaf,
                    intermediates: certs.collect(),
                    spki,
                }))
            })
            .await
            .map_err(|e: Arc<SnsError>| (*e).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_urls_must_be_sns_hosts_over_https() {
        assert!(
            check_cert_url("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem")
                .is_ok()
        );
        assert!(
            check_cert_url(
                "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem"
            )
            .is_ok()
        );
        for bad in [
            "http://sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
            "https://evil.com/sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com:8443/x.pem",
            "https://a.sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.evil.us-east-1.amazonaws.com/x.pem",
            "https://user@sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com/x.txt",
            "https://s3.amazonaws.com/x.pem",
            "https://sns.s3.amazonaws.com/x.pem",
            "https://sns.s3-external-1.amazonaws.com/x.pem",
            "https://sns.s3-accelerate.amazonaws.com/x.pem",
        ] {
            assert_eq!(
                check_cert_url(bad).err(),
                Some(SnsError::BadCertUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_string_to_sign_follows_the_documented_order() {
        let d: Delivery = serde_json::from_value(serde_json::json!({
            "Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": "hi", "Timestamp": "2020-01-01T00:00:00.000Z", "SignatureVersion": "1",
            "Signature": "", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/x.pem"
        }))
        .unwrap();
        assert_eq!(
            string_to_sign(&d).unwrap(),
            "Message\nhi\nMessageId\nm\nTimestamp\n2020-01-01T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n"
        );
    }
}
