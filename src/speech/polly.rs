//! Audio answers from Amazon Polly `SynthesizeSpeech`.
//!
//! The spoken sentences are split into requests that each stay within Polly's limits, and
//! the audio of the parts is joined: MP3 frames and raw PCM concatenate as they are, and
//! consecutive Ogg streams form a valid chained Ogg file. Each request's SSML is kept
//! within 3000 characters *including* markup: real Polly allows 6000 in total of which
//! 3000 billed, but moto (our test emulator) rejects anything over 3000, and staying under
//! both costs nothing for answers of this size.
//!
//! The client is created on first use, so a server that never speaks never loads AWS
//! settings for Polly (and starts without touching the network).

use std::time::Duration;

use aws_sdk_polly::primitives::ByteStream;
use aws_sdk_polly::types::{Engine as PollyEngine, OutputFormat, TextType, VoiceId};
use tokio::sync::OnceCell;

use super::ssml::{Engine, SsmlBuilder};
use crate::config::Polly as Settings;

/// The largest SSML document sent in one request, markup included.
pub const MAX_REQUEST_CHARS: usize = 3000;
/// At most this many requests for one answer; the rest is left unsaid (and logged).
pub const MAX_REQUESTS: usize = 8;
/// The deadline of one `SynthesizeSpeech` call.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The audio formats `/v1/ask` can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioFormat {
    Mp3,
    OggVorbis,
    /// 16-bit signed little-endian mono at 16 kHz.
    Pcm,
}

impl AudioFormat {
    /// The media type written in `Content-Type`.
    #[must_use]
    pub fn content_type(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::OggVorbis => "audio/ogg",
            AudioFormat::Pcm => "audio/pcm;rate=16000",
        }
    }

    /// A file extension for saved answers.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "mp3",
            AudioFormat::OggVorbis => "ogg",
            AudioFormat::Pcm => "pcm",
        }
    }

    fn polly(self) -> OutputFormat {
        match self {
            AudioFormat::Mp3 => OutputFormat::Mp3,
            AudioFormat::OggVorbis => OutputFormat::OggVorbis,
            AudioFormat::Pcm => OutputFormat::Pcm,
        }
    }

    /// What an `Accept` header asks for: `Ok(None)` for JSON, `Ok(Some(format))` for
    /// audio, `Err(())` when it accepts neither. The highest `q` wins; on a tie the first
    /// listed. A missing header, `*/*` and `application/json` mean JSON.
    ///
    /// # Errors
    /// When nothing acceptable is offered.
    #[allow(clippy::result_unit_err)]
    pub fn negotiate(accept: Option<&str>) -> Result<Option<Self>, ()> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Ok(None);
        };
        let mut best: Option<(f32, Option<Self>)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let offer = match media.as_str() {
                "application/json" | "*/*" | "application/*" => Some(None),
                "audio/mpeg" | "audio/mp3" | "audio/*" => Some(Some(AudioFormat::Mp3)),
                "audio/ogg" | "audio/vorbis" => Some(Some(AudioFormat::OggVorbis)),
                "audio/pcm" | "audio/l16" => Some(Some(AudioFormat::Pcm)),
                _ => None,
            };
            if let Some(offer) = offer
                && q > 0.0
                && best.is_none_or(|(b, _)| q > b)
            {
                best = Some((q, offer));
            }
        }
        best.map(|(_, offer)| offer).ok_or(())
    }
}

/// What to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speech {
    /// Sentences, escaped and split into requests here.
    Sentences(Vec<String>),
    /// A finished SSML document (from a Lex bot), sent as it is when it fits one request.
    Ssml(String),
}

/// Synthesised audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    pub bytes: Vec<u8>,
    pub format: AudioFormat,
    /// How many `SynthesizeSpeech` calls it took.
    pub requests: usize,
    /// Whether sentences were left out to stay within [`MAX_REQUESTS`].
    pub truncated: bool,
}

/// Why no audio could be made.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("there is nothing to say")]
    Empty,
    #[error("Polly SynthesizeSpeech failed")]
    Polly(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("Polly did not answer within {} seconds", CALL_TIMEOUT.as_secs())]
    Timeout,
}

/// One `SynthesizeSpeech` request: an SSML document in, audio bytes out. The small trait
/// Polly sits behind (so tests put a stand-in there); [`PollyClient`] is the real one.
#[async_trait::async_trait]
pub trait Synthesizer: Send + Sync + std::fmt::Debug {
    /// Speaks one SSML document (within [`MAX_REQUEST_CHARS`]) with `settings`' voice.
    ///
    /// # Errors
    /// A call that failed or did not answer within [`CALL_TIMEOUT`].
    async fn synthesize(
        &self,
        settings: &Settings,
        ssml: &str,
        format: AudioFormat,
    ) -> Result<Vec<u8>, SpeechError>;
}

/// Polly through the AWS SDK; the client is made from the standard AWS configuration on
/// first use (most answers are never spoken).
#[derive(Debug, Default)]
pub struct PollyClient {
    client: OnceCell<aws_sdk_polly::Client>,
}

impl PollyClient {
    /// A ready client (tests point it at moto).
    #[must_use]
    pub fn with_client(client: aws_sdk_polly::Client) -> Self {
        Self {
            client: OnceCell::new_with(Some(client)),
        }
    }

    async fn client(&self) -> &aws_sdk_polly::Client {
        self.client
            .get_or_init(|| async {
                let sdk = crate::aws::sdk_config().await;
                let config = aws_sdk_polly::config::Builder::from(&sdk)
                    .timeout_config(
                        aws_smithy_types::timeout::TimeoutConfig::builder()
                            .connect_timeout(Duration::from_millis(500))
                            .operation_attempt_timeout(CALL_TIMEOUT)
                            .operation_timeout(CALL_TIMEOUT)
                            .build(),
                    )
                    .build();
                aws_sdk_polly::Client::from_conf(config)
            })
            .await
    }
}

#[async_trait::async_trait]
impl Synthesizer for PollyClient {
    async fn synthesize(
        &self,
        settings: &Settings,
        doc: &str,
        format: AudioFormat,
    ) -> Result<Vec<u8>, SpeechError> {
        let mut call = self
            .client()
            .await
            .synthesize_speech()
            .text(doc)
            .text_type(TextType::Ssml)
            .voice_id(VoiceId::from(settings.voice.as_str()))
            .engine(PollyEngine::from(settings.engine.as_str()))
            .output_format(format.polly());
        if format == AudioFormat::Pcm {
            call = call.sample_rate("16000");
        }
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(CALL_TIMEOUT + Duration::from_millis(250), call.send())
            .await
            .map_err(|_| SpeechError::Timeout)?;
        metrics::histogram!("opsvoice_polly_seconds").record(started.elapsed().as_secs_f64());
        let output = result.map_err(|e| {
            metrics::counter!("opsvoice_polly_errors_total").increment(1);
            SpeechError::Polly(Box::new(e))
        })?;
        let stream: ByteStream = output.audio_stream;
        let audio = stream
            .collect()
            .await
            .map_err(|e| SpeechError::Polly(Box::new(e)))?;
        Ok(audio.into_bytes().to_vec())
    }
}

/// The configured voice and engine, speaking through a [`Synthesizer`].
#[derive(Debug)]
pub struct Voice {
    settings: Settings,
    synthesizer: std::sync::Arc<dyn Synthesizer>,
}

impl Voice {
    /// A voice speaking through Polly, whose client is made on first use.
    #[must_use]
    pub fn new(settings: Settings) -> Self {
        Self::through(settings, std::sync::Arc::new(PollyClient::default()))
    }

    /// A voice with a ready Polly client (tests point it at moto).
    #[must_use]
    pub fn with_client(settings: Settings, client: aws_sdk_polly::Client) -> Self {
        Self::through(
            settings,
            std::sync::Arc::new(PollyClient::with_client(client)),
        )
    }

    /// A voice speaking through any synthesizer.
    #[must_use]
    pub fn through(settings: Settings, synthesizer: std::sync::Arc<dyn Synthesizer>) -> Self {
        Self {
            settings,
            synthesizer,
        }
    }

    /// The SSML dialect for the configured engine: every engine but `standard` rejects
    /// `emphasis` and the other tags [`Engine::PollyNeural`] leaves out.
    #[must_use]
    pub fn engine(&self) -> Engine {
        if self.settings.engine == "standard" {
            Engine::PollyStandard
        } else {
            Engine::PollyNeural
        }
    }

    /// The SSML documents for `speech`, each within [`MAX_REQUEST_CHARS`], at most
    /// [`MAX_REQUESTS`] of them; and whether anything was left out.
    #[must_use]
    pub fn documents(&self, speech: &Speech) -> (Vec<String>, bool) {
        let sentences = match speech {
            Speech::Ssml(doc) if doc.chars().count() <= MAX_REQUEST_CHARS => {
                return (vec![doc.clone()], false);
            }
            Speech::Ssml(doc) => vec![strip_markup(doc)],
            Speech::Sentences(s) => s.clone(),
        };
        // A piece escapes to at most 5 times its length (`&` is `&amp;`), so pieces of a
        // sixth of the limit always fit an empty document.
        let mut pieces: std::collections::VecDeque<String> = sentences
            .iter()
            .flat_map(|s| split_long(s, MAX_REQUEST_CHARS / 6))
            .filter(|p| !p.trim().is_empty())
            .collect();
        let mut docs = Vec::new();
        let mut builder = self.builder();
        let mut empty = true;
        while let Some(piece) = pieces.pop_front() {
            if builder.sentence(&piece) {
                empty = false;
                continue;
            }
            docs.push(
                std::mem::replace(&mut builder, self.builder())
                    .build()
                    .into_string(),
            );
            if docs.len() == MAX_REQUESTS {
                return (docs, true);
            }
            if !empty {
                // It goes first into the next document.
                pieces.push_front(piece);
            }
            empty = true;
        }
        if !empty {
            docs.push(builder.build().into_string());
        }
        (docs, false)
    }

    fn builder(&self) -> SsmlBuilder {
        SsmlBuilder::with_limits(self.engine(), MAX_REQUEST_CHARS, MAX_REQUEST_CHARS)
    }

    /// Speaks `speech` in `format`.
    ///
    /// # Errors
    /// Nothing to say, or a Polly call that failed or timed out.
    pub async fn synthesize(
        &self,
        speech: &Speech,
        format: AudioFormat,
    ) -> Result<Audio, SpeechError> {
        let (docs, truncated) = self.documents(speech);
        if docs.is_empty() {
            return Err(SpeechError::Empty);
        }
        if truncated {
            tracing::warn!(
                requests = MAX_REQUESTS,
                "answer too long to speak in full; the end is left out"
            );
        }
        // The parts are asked for at once (at most MAX_REQUESTS) and joined in order, so a
        // long answer takes about as long as a short one.
        let parts = futures_util::future::try_join_all(
            docs.iter()
                .map(|doc| self.synthesizer.synthesize(&self.settings, doc, format)),
        )
        .await?;
        let bytes = parts.concat();
        Ok(Audio {
            bytes,
            format,
            requests: docs.len(),
            truncated,
        })
    }
}

/// Splits a sentence longer than `max` characters at word boundaries.
fn split_long(sentence: &str, max: usize) -> Vec<String> {
    if sentence.chars().count() <= max {
        return vec![sentence.to_owned()];
    }
    let mut out = Vec::new();
    let mut current = String::new();
    for word in sentence.split_whitespace() {
        let word: String = word.chars().take(max).collect();
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > max {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The text of an SSML document, for re-splitting one too long for a request.
fn strip_markup(doc: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in doc.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_are_negotiated() {
        assert_eq!(AudioFormat::negotiate(None), Ok(None));
        assert_eq!(AudioFormat::negotiate(Some("*/*")), Ok(None));
        assert_eq!(
            AudioFormat::negotiate(Some("audio/mpeg")),
            Ok(Some(AudioFormat::Mp3))
        );
        assert_eq!(
            AudioFormat::negotiate(Some("application/json;q=0.5, audio/ogg")),
            Ok(Some(AudioFormat::OggVorbis))
        );
        assert_eq!(
            AudioFormat::negotiate(Some("audio/pcm, audio/mpeg")),
            Ok(Some(AudioFormat::Pcm))
        );
        assert_eq!(
            AudioFormat::negotiate(Some("audio/mpeg;q=0, application/json")),
            Ok(None)
        );
        assert_eq!(AudioFormat::negotiate(Some("audio/wav")), Err(()));
        assert_eq!(AudioFormat::negotiate(Some("text/html")), Err(()));
    }

    #[test]
    fn long_speech_is_split_into_requests_within_the_limit() {
        let voice = Voice::new(Settings::default());
        let sentence = "Checkout & payments <are> \"degraded\" with 3 of 4 tasks running.";
        let speech = Speech::Sentences(vec![sentence.to_owned(); 150]);
        let (docs, truncated) = voice.documents(&speech);
        assert!(!truncated);
        assert!(docs.len() >= 4, "{}", docs.len());
        for doc in &docs {
            assert!(doc.chars().count() <= MAX_REQUEST_CHARS, "{}", doc.len());
            assert!(doc.starts_with("<speak>") && doc.ends_with("</speak>"));
        }
        let said: usize = docs.iter().map(|d| d.matches("degraded").count()).sum();
        assert_eq!(said, 150, "every sentence is said once");

        let one_long = Speech::Sentences(vec!["word ".repeat(2000)]);
        let (docs, _) = voice.documents(&one_long);
        assert!(docs.len() >= 4);
        assert!(docs.iter().all(|d| d.chars().count() <= MAX_REQUEST_CHARS));

        let huge = Speech::Sentences(vec![sentence.to_owned(); 5000]);
        let (docs, truncated) = voice.documents(&huge);
        assert!(truncated);
        assert_eq!(docs.len(), MAX_REQUESTS);
    }

    #[test]
    fn a_short_document_is_sent_as_it_is() {
        let voice = Voice::new(Settings::default());
        let doc = "<speak><s>Fine.</s></speak>".to_owned();
        assert_eq!(voice.documents(&Speech::Ssml(doc.clone())).0, [doc]);
        let long = format!("<speak>{}</speak>", "<s>A &amp; b.</s>".repeat(400));
        let (docs, _) = voice.documents(&Speech::Ssml(long));
        assert!(docs.len() > 1);
        assert!(docs[0].contains("A &amp; b."));
    }
}
