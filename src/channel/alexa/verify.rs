//! Verifying that a request really comes from Alexa, as Amazon requires of skills hosted
//! on an HTTPS endpoint. [`Verifier::verify_request`] is the one entry, for `serve` and for
//! the Lambda function alike, and it does the cheap checks first so that nobody can make us
//! download anything without a fresh, well-addressed request for our skill:
//!
//! 1. The `SignatureCertChainUrl` header: `https`, host `s3.amazonaws.com`, path under
//!    `/echo.api/` after resolving `..`, port 443 if given; query and fragment are dropped
//!    (the chain is cached and fetched by the normalised URL). `Signature-256` must be
//!    present and base64 (the legacy SHA-1 `Signature` alone is not enough).
//! 2. The body parsed once: `request.timestamp` within 150 seconds of now (the injected
//!    clock), and the skill id in `session.application` and in `context.System.application`
//!    (each that is present, and both when both are) one of `OPSVOICE_ALEXA_SKILL_IDS`.
//! 3. The chain at that URL (fetched with a timeout, cached per normalised URL, failures
//!    remembered for a while, downloads bounded per second): it must lead to a trusted
//!    root, be within its validity dates now, and the leaf's SAN must hold
//!    `echo-api.amazon.com` itself (a wildcard is not enough).
//! 4. `Signature-256`: RSA PKCS#1 v1.5 SHA-256 over the raw body, by the leaf's key (an
//!    `rsaEncryption` key of 2048 to 8192 bits, parsed once per chain).
//!
//! The answer always waits for the signature. Any failure is a [`VerifyError`]; the route
//! answers it with HTTP 400 and logs why.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{self, ParsedPublicKey};
use axum::http::HeaderMap;
use base64::Engine as _;
use reqwest::Url;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use serde::Deserialize;
use webpki::{EndEntityCert, KeyUsage};

use crate::clock::Clock;

/// The SAN the leaf must carry.
pub const ECHO_API_NAME: &str = "echo-api.amazon.com";
/// How far the request timestamp may be from now.
pub const MAX_SKEW: Duration = Duration::from_secs(150);
/// How long a chain download may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest chain accepted, in bytes.
pub const MAX_CHAIN_BYTES: usize = 64 * 1024;

/// What is wrong with a `SignatureCertChainUrl` (Amazon's rules for it).
#[derive(Debug, thiserror::Error)]
pub enum CertUrlError {
    #[error("it is not a URL")]
    NotAUrl(#[source] url::ParseError),
    #[error("the scheme is not https")]
    NotHttps,
    #[error("the host is not s3.amazonaws.com")]
    WrongHost,
    #[error("the path is not under /echo.api/")]
    WrongPath,
    #[error("port {0} is not 443")]
    WrongPort(u16),
}

/// Why the certificate chain could not be fetched. Shared (in an `Arc`) with every request
/// that waited on the same download, and remembered for a while.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the download URL could not be built")]
    Url(#[source] url::ParseError),
    #[error("the download failed")]
    Http(#[source] reqwest::Error),
    #[error("the chain's server answered {0}")]
    Status(reqwest::StatusCode),
    #[error("the chain is larger than {MAX_CHAIN_BYTES} bytes")]
    TooLarge,
    #[error("it failed within the last 30 seconds")]
    Recently(#[source] Arc<VerifyError>),
}

/// Why a certificate chain is not one Alexa signs with.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("the PEM cannot be read")]
    Pem(#[source] rustls_pki_types::pem::Error),
    #[error("the PEM holds no certificate")]
    Empty,
    #[error("the leaf certificate cannot be read")]
    Leaf(#[source] webpki::Error),
    #[error("the leaf's key is not an RSA key")]
    NotRsa,
    #[error("the leaf is not issued to {ECHO_API_NAME}")]
    NotForAlexa,
    #[error("the leaf's SAN does not hold {ECHO_API_NAME} itself")]
    WildcardOnly,
    #[error("the chain does not lead to a trusted root, or is out of its dates")]
    Path(#[source] webpki::Error),
}

/// What an Alexa request body lacks.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("it is not the JSON of an Alexa request")]
    Json(#[source] serde_json::Error),
    #[error("its timestamp is not ISO 8601")]
    Timestamp,
    #[error("it names no application id")]
    NoApplication,
}

fn bad_chain(e: ChainError) -> VerifyError {
    VerifyError::BadChain(Arc::new(e))
}

fn fetch_failed(e: FetchError) -> VerifyError {
    VerifyError::Fetch(Arc::new(e))
}

/// Why a request was not accepted as coming from Alexa.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("only the legacy SHA-1 Signature header was sent; Signature-256 is required")]
    OnlyLegacySignature,
    #[error("the certificate chain URL is not acceptable: {0}")]
    BadCertUrl(#[source] CertUrlError),
    #[error("the certificate chain could not be fetched")]
    Fetch(#[source] Arc<FetchError>),
    #[error("the certificate chain is not acceptable")]
    BadChain(#[source] Arc<ChainError>),
    #[error("the signature is not valid base64")]
    BadSignatureEncoding,
    #[error("the signature does not match the body")]
    SignatureMismatch,
    #[error("the request body is not an Alexa request")]
    BadBody(#[source] BodyError),
    #[error("the request timestamp is {0} seconds from now (at most 150 allowed)")]
    Stale(i64),
    #[error("the request is for skill {0}, which is not configured")]
    UnknownSkill(String),
    #[error("no Alexa skill ids are configured (OPSVOICE_ALEXA_SKILL_IDS)")]
    NoSkillsConfigured,
    #[error("the session and the context name different skills")]
    MismatchedSkills,
    #[error("too many certificate chain downloads this second")]
    TooManyDownloads,
}

/// How an Alexa request reached us.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    /// Over HTTPS, with the signature headers.
    Https(&'a HeaderMap),
    /// As a direct Lambda invocation from the skill's trigger, which AWS restricts to the
    /// skill id the trigger names: no signature to check, the stamp still is.
    LambdaTrigger,
}

/// Why a request was not taken.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("the request could not be verified as coming from Alexa")]
    Unverified(#[from] VerifyError),
    /// Signed and stamped, but not an Alexa request envelope.
    #[error(transparent)]
    Malformed(#[from] crate::channel::BodyError),
}

/// How long a failed chain download is remembered (and not tried again).
pub const FAILURE_MEMORY: Duration = Duration::from_secs(30);
/// The most chain downloads started in one second (Amazon signs with one or two chains).
pub const DOWNLOADS_PER_SECOND: u32 = 8;

/// A chain as fetched and parsed, cached per URL.
struct Chain {
    leaf: CertificateDer<'static>,
    /// The leaf's RSA key, parsed once: parsing it per request (with its Montgomery set-up)
    /// cost about a sixth of the route's time.
    key: ParsedPublicKey,
    intermediates: Vec<CertificateDer<'static>>,
    /// Until when (Unix seconds) the path to a trusted root is known to be valid; 0 when
    /// not yet checked. See [`VALIDATED_FOR`].
    valid_until: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("intermediates", &self.intermediates.len())
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// The DER of the `rsaEncryption` AlgorithmIdentifier (OID 1.2.840.113549.1.1.1, NULL
/// parameters): the only key type webpki accepts for RSA PKCS#1 signatures.
const RSA_ENCRYPTION: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// The leaf's key for Signature-256, refusing anything but an `rsaEncryption` key (as the
/// webpki check it replaces did); the 2048 to 8192-bit size is checked on each signature.
fn signing_key(leaf: &CertificateDer<'_>) -> Result<ParsedPublicKey, VerifyError> {
    let cert = EndEntityCert::try_from(leaf).map_err(|e| bad_chain(ChainError::Leaf(e)))?;
    rsa_key(cert.subject_public_key_info().as_ref())
}

/// An RSA key from a SubjectPublicKeyInfo, refusing other algorithm identifiers (such as
/// RSASSA-PSS, which aws-lc-rs alone would accept).
fn rsa_key(spki: &[u8]) -> Result<ParsedPublicKey, VerifyError> {
    // The outer SEQUENCE's header: tag, then a short or long-form length.
    let header = match spki.get(1) {
        Some(&len) if len < 0x80 => 2,
        Some(&len) => 2 + usize::from(len & 0x7f),
        None => 0,
    };
    let not_rsa = || bad_chain(ChainError::NotRsa);
    if spki.get(header..header + RSA_ENCRYPTION.len()) != Some(RSA_ENCRYPTION) {
        return Err(not_rsa());
    }
    ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, spki).map_err(|_| not_rsa())
}

/// The public web roots, plus the roots in `extra_pem` (test only); `None` when
/// `extra_pem` holds no usable root (a setting that would silently trust nothing extra).
#[must_use]
pub fn trust_roots(extra_pem: Option<&[u8]>) -> Option<Vec<TrustAnchor<'static>>> {
    let mut roots: Vec<TrustAnchor<'static>> = webpki_roots::TLS_SERVER_ROOTS.to_vec();
    if let Some(pem) = extra_pem {
        let before = roots.len();
        for der in CertificateDer::pem_slice_iter(pem).flatten() {
            if let Ok(anchor) = webpki::anchor_from_trusted_cert(&der) {
                roots.push(anchor.to_owned());
            }
        }
        if roots.len() == before {
            return None;
        }
    }
    Some(roots)
}

/// How long a chain's validation is reused. A chain valid both now and this much later is
/// valid throughout (each certificate's validity is one interval), so reusing the result
/// for that long cannot accept a certificate outside its dates; the signature is still
/// checked on every request.
const VALIDATED_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// The verifier: trust roots, accepted skills, and the chain cache.
pub struct Verifier {
    skill_ids: Vec<String>,
    roots: Vec<TrustAnchor<'static>>,
    cert_base: Option<Url>,
    http: reqwest::Client,
    chains: moka::future::Cache<String, Arc<Chain>>,
    /// Chain URLs whose download or chain failed recently, and why.
    failures: moka::sync::Cache<String, Arc<VerifyError>>,
    /// When the current one-second window of downloads began, and how many started in
    /// it. Real time, not the injected clock: this bounds load, not a protocol window.
    downloads: std::sync::Mutex<(std::time::Instant, u32)>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("skill_ids", &self.skill_ids)
            .field("roots", &self.roots.len())
            .field("cert_base", &self.cert_base)
            .finish_non_exhaustive()
    }
}

/// Why the verifier could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot read OPSVOICE_ALEXA_TRUST_ROOTS {path}: {source}")]
    Roots {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("OPSVOICE_ALEXA_TRUST_ROOTS {0} holds no usable certificate")]
    NoRoots(String),
    #[error("OPSVOICE_ALEXA_CERT_BASE_URL is not a URL: {url}")]
    BadBase {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot build the HTTP client")]
    Http(#[source] reqwest::Error),
}

/// Fields of the body the verifier needs; everything else is ignored here.
#[derive(Deserialize)]
struct Stamped {
    #[serde(default)]
    session: Option<Applied>,
    #[serde(default)]
    context: Option<StampedContext>,
    request: StampedRequest,
}

#[derive(Deserialize)]
struct StampedContext {
    #[serde(rename = "System", default)]
    system: Option<Applied>,
}

#[derive(Deserialize)]
struct Applied {
    #[serde(default)]
    application: Option<Application>,
}

#[derive(Deserialize)]
struct Application {
    #[serde(rename = "applicationId")]
    application_id: String,
}

#[derive(Deserialize)]
struct StampedRequest {
    timestamp: String,
}

impl Verifier {
    /// A verifier accepting `skill_ids`, trusting the public web roots plus
    /// `extra_roots_pem` (test only), fetching chains from `cert_base` instead of the header
    /// URL's host when given (test only; the header URL is still checked as sent).
    ///
    /// # Errors
    /// Unreadable extra roots, or a malformed base URL.
    pub fn new(
        skill_ids: Vec<String>,
        extra_roots_pem: Option<(&str, &[u8])>,
        cert_base: Option<&str>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SetupError> {
        let roots = trust_roots(extra_roots_pem.map(|(_, pem)| pem)).ok_or_else(|| {
            SetupError::NoRoots(extra_roots_pem.map_or_else(String::new, |(p, _)| p.to_owned()))
        })?;
        let cert_base = cert_base
            .map(|b| {
                Url::parse(b).map_err(|e| SetupError::BadBase {
                    url: b.to_owned(),
                    source: Box::new(e),
                })
            })
            .transpose()?;
        Ok(Self {
            skill_ids,
            roots,
            cert_base,
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .map_err(SetupError::Http)?,
            chains: moka::future::Cache::builder()
                .max_capacity(64)
                .time_to_live(Duration::from_secs(24 * 3600))
                .build(),
            failures: moka::sync::Cache::builder()
                .max_capacity(1024)
                .time_to_live(FAILURE_MEMORY)
                .build(),
            downloads: std::sync::Mutex::new((std::time::Instant::now(), 0)),
            clock,
        })
    }

    /// Runs every check on a request and gives its envelope, parsed once.
    ///
    /// # Errors
    /// The first check that fails, or (once signed and stamped) a body that is not an
    /// Alexa request envelope.
    pub async fn verify_request(
        &self,
        via: Via<'_>,
        body: &[u8],
    ) -> Result<super::Envelope, RequestError> {
        let signed = match via {
            Via::Https(headers) => Some(signed_by(headers)?),
            Via::LambdaTrigger => None,
        };
        let envelope = crate::channel::parse_json::<super::Envelope>(body);
        match &envelope {
            Ok(envelope) => self.check_stamp(
                &envelope.request.timestamp,
                envelope.session_application_id(),
                envelope.context_application_id(),
            )?,
            // Not an envelope: refused as unverified unless its stamp holds (then, once
            // the signature holds too, the client is told what is wrong with the body).
            Err(_) => self.check_envelope(body)?,
        }
        if let Some((url, signature)) = signed {
            self.check_signature(&url, &signature, body).await?;
        }
        Ok(envelope?)
    }

    /// Runs every check on a request.
    ///
    /// # Errors
    /// The first check that fails.
    pub async fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        // The same checks in the same order as `verify_request`, reading only the stamp's
        // fields (a caller that wants the envelope uses that).
        let (url, signature) = signed_by(headers)?;
        self.check_envelope(body)?;
        self.check_signature(&url, &signature, body).await
    }

    /// Checks 3 and 4 (the chain and the signature over the raw body), for a URL and a
    /// signature that passed check 1.
    async fn check_signature(
        &self,
        url: &Url,
        signature: &[u8],
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let chain = self.chain(url).await?;
        let now = self
            .clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let ordering = std::sync::atomic::Ordering::Relaxed;
        if now.as_secs() >= chain.valid_until.load(ordering) {
            let leaf =
                EndEntityCert::try_from(&chain.leaf).map_err(|e| bad_chain(ChainError::Leaf(e)))?;
            // Checked before the path, so a reused validation always includes the name.
            let name = ServerName::try_from(ECHO_API_NAME)
                .map_err(|_| bad_chain(ChainError::NotForAlexa))?;
            leaf.verify_is_valid_for_subject_name(&name)
                .map_err(|_| bad_chain(ChainError::NotForAlexa))?;
            // Amazon requires the name itself in the SAN: `*.amazon.com` matches it for
            // TLS, but is not a certificate issued to the Alexa service.
            if !leaf
                .valid_dns_names()
                .any(|n| n.eq_ignore_ascii_case(ECHO_API_NAME))
            {
                return Err(bad_chain(ChainError::WildcardOnly));
            }
            let later = now + VALIDATED_FOR;
            for at in [now, later] {
                if let Err(e) = leaf.verify_for_usage(
                    webpki::ALL_VERIFICATION_ALGS,
                    &self.roots,
                    &chain.intermediates,
                    UnixTime::since_unix_epoch(at),
                    KeyUsage::server_auth(),
                    None,
                    None,
                ) {
                    let expiring = matches!(
                        e,
                        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }
                    );
                    if expiring && at == later {
                        // Valid now but not for the whole reuse window: check every time.
                        break;
                    }
                    if expiring {
                        // A chain past its dates is fetched afresh next time.
                        self.chains.invalidate(url.as_str()).await;
                    }
                    return Err(bad_chain(ChainError::Path(e)));
                }
                if at == later {
                    chain.valid_until.store(later.as_secs(), ordering);
                }
            }
        }
        chain
            .key
            .verify_sig(body, signature)
            .map_err(|_| VerifyError::SignatureMismatch)
    }

    /// Checks 4 and 5 (timestamp and skill id) on a body, without any signature: this is
    /// what a Lambda trigger, which Alexa invokes directly, still needs.
    ///
    /// # Errors
    /// A body without the fields, a timestamp out of range, or an unknown skill.
    pub fn check_envelope(&self, body: &[u8]) -> Result<(), VerifyError> {
        let stamped: Stamped =
            serde_json::from_slice(body).map_err(|e| VerifyError::BadBody(BodyError::Json(e)))?;
        let session = stamped
            .session
            .and_then(|s| s.application)
            .map(|a| a.application_id);
        let context = stamped
            .context
            .and_then(|c| c.system)
            .and_then(|s| s.application)
            .map(|a| a.application_id);
        self.check_stamp(
            &stamped.request.timestamp,
            session.as_deref(),
            context.as_deref(),
        )
    }

    /// The stamp checks on fields already parsed: `timestamp` is `request.timestamp`, and
    /// the skill ids those of `session.application` and `context.System.application`: at
    /// least one must be present, each present must be ours, and two must agree.
    ///
    /// # Errors
    /// A timestamp that is not ISO 8601 or out of range, no skill id, an unknown skill, or
    /// two different ones.
    pub fn check_stamp(
        &self,
        timestamp: &str,
        session_skill: Option<&str>,
        context_skill: Option<&str>,
    ) -> Result<(), VerifyError> {
        let at = aws_smithy_types::DateTime::from_str(
            timestamp,
            aws_smithy_types::date_time::Format::DateTime,
        )
        .map_err(|_| VerifyError::BadBody(BodyError::Timestamp))?;
        let now = self
            .clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let skew = at.secs() - now;
        if skew.unsigned_abs() > MAX_SKEW.as_secs() {
            return Err(VerifyError::Stale(skew));
        }
        if self.skill_ids.is_empty() {
            return Err(VerifyError::NoSkillsConfigured);
        }
        if session_skill.is_none() && context_skill.is_none() {
            return Err(VerifyError::BadBody(BodyError::NoApplication));
        }
        for skill in [session_skill, context_skill].into_iter().flatten() {
            if !self.skill_ids.iter().any(|id| id == skill) {
                return Err(VerifyError::UnknownSkill(skill.to_owned()));
            }
        }
        if let (Some(a), Some(b)) = (session_skill, context_skill)
            && a != b
        {
            return Err(VerifyError::MismatchedSkills);
        }
        Ok(())
    }

    /// Takes one of this second's chain downloads, if any are left.
    fn may_download(&self) -> bool {
        let now = std::time::Instant::now();
        let mut downloads = self
            .downloads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now.duration_since(downloads.0) >= Duration::from_secs(1) {
            *downloads = (now, 0);
        }
        if downloads.1 >= DOWNLOADS_PER_SECOND {
            return false;
        }
        downloads.1 += 1;
        true
    }

    /// The chain for `url`, from the cache or fetched once however many ask at once.
    async fn chain(&self, url: &Url) -> Result<Arc<Chain>, VerifyError> {
        // The common case: a cached chain, found without building the fetch.
        if let Some(chain) = self.chains.get(url.as_str()).await {
            return Ok(chain);
        }
        if let Some(why) = self.failures.get(url.as_str()) {
            return Err(fetch_failed(FetchError::Recently(why)));
        }
        if !self.may_download() {
            return Err(VerifyError::TooManyDownloads);
        }
        let fetch_from = match &self.cert_base {
            Some(base) => base
                .join(url.path().trim_start_matches('/'))
                .map_err(|e| fetch_failed(FetchError::Url(e)))?,
            None => url.clone(),
        };
        self.chains
            .try_get_with(url.as_str().to_owned(), async {
                let response = self
                    .http
                    .get(fetch_from.clone())
                    .send()
                    .await
                    .map_err(|e| fetch_failed(FetchError::Http(e)))?;
                if !response.status().is_success() {
                    return Err(fetch_failed(FetchError::Status(response.status())));
                }
                let pem = response
                    .bytes()
                    .await
                    .map_err(|e| fetch_failed(FetchError::Http(e)))?;
                if pem.len() > MAX_CHAIN_BYTES {
                    return Err(fetch_failed(FetchError::TooLarge));
                }
                let mut certs = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad_chain(ChainError::Pem(e)))?
                    .into_iter();
                let leaf = certs.next().ok_or_else(|| bad_chain(ChainError::Empty))?;
                let key = signing_key(&leaf)?;
                tracing::info!(url = %url, "fetched the Alexa certificate chain");
                Ok(Arc::new(Chain {
                    valid_until: std::sync::atomic::AtomicU64::new(0),
                    key,
                    leaf,
                    intermediates: certs.collect(),
                }))
            })
            .await
            .map_err(|e: Arc<VerifyError>| {
                self.failures.insert(url.as_str().to_owned(), e.clone());
                match e.as_ref() {
                    VerifyError::Fetch(why) => VerifyError::Fetch(why.clone()),
                    VerifyError::BadChain(why) => VerifyError::BadChain(why.clone()),
                    // The download only fails in those two ways; anything else is named
                    // as the failure it came with.
                    _ => fetch_failed(FetchError::Recently(e.clone())),
                }
            })
    }
}

/// Check 1 on the headers: the chain URL (normalised) and the decoded `Signature-256`.
fn signed_by(headers: &HeaderMap) -> Result<(Url, Vec<u8>), VerifyError> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let url = header("signaturecertchainurl")
        .ok_or(VerifyError::MissingHeader("SignatureCertChainUrl"))?;
    let signature = match header("signature-256") {
        Some(s) => s,
        None if header("signature").is_some() => return Err(VerifyError::OnlyLegacySignature),
        None => return Err(VerifyError::MissingHeader("Signature-256")),
    };
    let url = check_cert_url(url)?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .map_err(|_| VerifyError::BadSignatureEncoding)?;
    Ok((url, signature))
}

/// Check 1: the certificate chain URL, after normalising `..` in its path.
///
/// # Errors
/// What is wrong with it.
pub fn check_cert_url(raw: &str) -> Result<Url, VerifyError> {
    // Parsing resolves `.` and `..` (also percent-encoded) and lowercases scheme and host.
    let bad = |e| Err(VerifyError::BadCertUrl(e));
    let url = Url::parse(raw).map_err(|e| VerifyError::BadCertUrl(CertUrlError::NotAUrl(e)))?;
    if url.scheme() != "https" {
        return bad(CertUrlError::NotHttps);
    }
    if url.host_str() != Some("s3.amazonaws.com") {
        return bad(CertUrlError::WrongHost);
    }
    if !url.path().starts_with("/echo.api/") {
        return bad(CertUrlError::WrongPath);
    }
    if let Some(port) = url.port() {
        // `Url` drops an explicit default port, so any port left is not 443.
        return bad(CertUrlError::WrongPort(port));
    }
    // One chain, one cache entry: `?n=1` and `#x` name the same object on S3.
    let mut url = url;
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(alg: &'static rcgen::SignatureAlgorithm) -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        rcgen::CertificateParams::new(vec![ECHO_API_NAME.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .der()
            .clone()
    }

    #[test]
    fn only_an_rsa_leaf_key_is_used_for_signatures() {
        assert!(signing_key(&self_signed(&rcgen::PKCS_RSA_SHA256)).is_ok());
        for alg in [&rcgen::PKCS_ECDSA_P256_SHA256, &rcgen::PKCS_ED25519] {
            let err = signing_key(&self_signed(alg)).unwrap_err();
            assert!(
                matches!(&err, VerifyError::BadChain(why) if matches!(**why, ChainError::NotRsa)),
                "{err:?}"
            );
        }
        let err = signing_key(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]));
        assert!(matches!(err, Err(VerifyError::BadChain(_))));
    }

    #[test]
    fn an_rsa_pss_key_identifier_is_refused() {
        let cert = self_signed(&rcgen::PKCS_RSA_SHA256);
        let spki = EndEntityCert::try_from(&cert)
            .unwrap()
            .subject_public_key_info()
            .as_ref()
            .to_vec();
        assert_eq!(&spki[..2], &[0x30, 0x82]);
        assert_eq!(&spki[4..4 + RSA_ENCRYPTION.len()], RSA_ENCRYPTION);
        // The same key under id-RSASSA-PSS (1.2.840.113549.1.1.10, no parameters).
        let pss_id = [
            0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
        ];
        let rest = &spki[4 + RSA_ENCRYPTION.len()..];
        let len = u16::try_from(pss_id.len() + rest.len())
            .unwrap()
            .to_be_bytes();
        let pss = [&[0x30, 0x82, len[0], len[1]][..], &pss_id, rest].concat();
        assert!(
            ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &pss).is_ok(),
            "aws-lc-rs takes it, so the identifier check is what refuses it"
        );
        assert!(rsa_key(&spki).is_ok());
        assert!(rsa_key(&pss).is_err());
    }

    #[test]
    fn cert_urls_follow_amazons_rules() {
        for ok in [
            "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
            "https://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        ] {
            assert!(check_cert_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "https://notamazon.com/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
            "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/%2e%2e/evil/cert.pem",
            "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com.evil.com/echo.api/cert.pem",
            "not a url",
        ] {
            assert!(check_cert_url(bad).is_err(), "{bad}");
        }
    }
}
