//! Progressive responses: when an answer is not ready within about a second, Alexa is told
//! to say "Looking at checkout…" meanwhile (`VoicePlayer.Speak` through the Progressive
//! Response API), so the room does not sit in silence.
//!
//! The call goes to `{apiEndpoint}/v1/directives` with the request's `apiAccessToken` as a
//! Bearer token and its `requestId`, but only when `apiEndpoint` is one of Amazon's Alexa
//! API hosts ([`HOSTS`]): the URL called is our own constant for that host, never the
//! request's text, so the token can go nowhere else. The test-only
//! `OPSVOICE_ALEXA_API_BASE_URL` sends the call to a stand-in instead (the request's
//! `apiEndpoint` is still checked as sent). The call has its own short deadline and runs
//! beside the answer: it never delays it, and its failure changes nothing in it.

use std::time::Duration;

/// Amazon's Alexa API hosts, as the Progressive Response API reference lists them (North
/// America, Europe, Far East under both names it gives).
pub const HOSTS: [&str; 4] = [
    "https://api.amazonalexa.com",
    "https://api.eu.amazonalexa.com",
    "https://api.fe.amazonalexa.com",
    "https://api.fe.amazon.com",
];

/// How long an answer may take before Alexa is asked to say we are looking.
pub const AFTER: Duration = Duration::from_millis(1000);

/// The directive call's own deadline: a progressive response heard later than this is no
/// use (the answer follows soon after).
pub const DEADLINE: Duration = Duration::from_millis(1500);

/// The base URL for an `apiEndpoint` from a request, when it is one of [`HOSTS`] exactly
/// (https, that host, the default port, no path, user, query or fragment).
#[must_use]
pub fn allowed(api_endpoint: &str) -> Option<&'static str> {
    let url = url::Url::parse(api_endpoint.trim()).ok()?;
    let plain = url.scheme() == "https"
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return None;
    }
    let host = url.host_str()?;
    HOSTS
        .iter()
        .copied()
        .find(|base| base.strip_prefix("https://") == Some(host))
}

/// What a progressive response needs from the request.
#[derive(Clone)]
pub struct Heard<'a> {
    pub api_endpoint: &'a str,
    /// Never logged.
    pub token: &'a str,
    pub request_id: &'a str,
}

/// Sends progressive responses.
#[derive(Debug, Clone)]
pub struct Herald {
    client: reqwest::Client,
    /// Test-only: every call goes here instead.
    base_override: Option<String>,
    after: Duration,
}

impl Herald {
    /// A herald calling Amazon's hosts (or, in tests, `base_override`), speaking when an
    /// answer has taken [`AFTER`].
    #[must_use]
    pub fn new(base_override: Option<String>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(DEADLINE)
            .connect_timeout(DEADLINE)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            client,
            base_override: base_override.map(|b| b.trim_end_matches('/').to_owned()),
            after: AFTER,
        }
    }

    /// How long an answer may take before the herald speaks.
    #[must_use]
    pub fn after(&self) -> Duration {
        self.after
    }

    /// Starts sending `ssml` for the request `heard` describes, beside the answer (the
    /// call is not awaited). An `apiEndpoint` that is not Amazon's is refused with a
    /// warning, and nothing is sent.
    pub fn speak(&self, heard: &Heard<'_>, ssml: String) {
        let Some(base) = allowed(heard.api_endpoint) else {
            let shown: String = heard.api_endpoint.chars().take(100).collect();
            tracing::warn!(
                api_endpoint = ?shown,
                "progressive response not sent: apiEndpoint is not an Alexa API host"
            );
            return;
        };
        let url = format!(
            "{}/v1/directives",
            self.base_override.as_deref().unwrap_or(base)
        );
        let body = serde_json::json!({
            "header": {"requestId": heard.request_id},
            "directive": {"type": "VoicePlayer.Speak", "speech": ssml},
        });
        let request = self
            .client
            .post(url)
            .bearer_auth(heard.token)
            .json(&body)
            .timeout(DEADLINE);
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let outcome = match tokio::time::timeout(DEADLINE, request.send()).await {
                Ok(Ok(response)) if response.status().is_success() => "sent",
                Ok(Ok(response)) => {
                    tracing::info!(
                        status = response.status().as_u16(),
                        "progressive response refused"
                    );
                    "refused"
                }
                Ok(Err(error)) => {
                    tracing::info!(error = %crate::error::ErrorChain(&error), "progressive response failed");
                    "failed"
                }
                Err(_) => {
                    tracing::info!(deadline = ?DEADLINE, "progressive response timed out");
                    "timeout"
                }
            };
            metrics::counter!("opsvoice_alexa_progressive_total", "outcome" => outcome)
                .increment(1);
            tracing::debug!(
                outcome,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "progressive response"
            );
        });
    }
}

/// What Alexa says while we look, as SSML: the intent's own message
/// (`looking-<intent>`, e.g. `looking-log-errors`: "Looking at checkout's logs…") when
/// there is one and the service is known, else the generic `looking`.
#[must_use]
pub fn phrase(
    renderer: &crate::speech::Renderer,
    locale: &str,
    intent: crate::dialog::Intent,
    service: Option<&str>,
) -> String {
    let say = renderer.say(locale, crate::dialog::Mode::Voice);
    let own = message_id(intent.name()).filter(|id| renderer.has_message(id, locale));
    let sentence = match (own, service) {
        (Some(id), Some(service)) => say.msg(
            &id,
            [("service", crate::speech::render::s(say.name(service)))],
        ),
        _ => say.msg("looking", []),
    };
    crate::speech::render::sentences_ssml(
        [&sentence],
        crate::speech::Engine::Alexa,
        super::MAX_SPEECH,
        super::MAX_SPEECH,
    )
    .into_string()
}

/// `looking-` and the intent's name in kebab case (`LogErrors` -> `looking-log-errors`);
/// `None` for the built-ins (`AMAZON.HelpIntent`), which are quick.
fn message_id(intent: &str) -> Option<String> {
    if !intent.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut id = String::from("looking");
    for c in intent.chars() {
        if c.is_ascii_uppercase() {
            id.push('-');
        }
        id.push(c.to_ascii_lowercase());
    }
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_amazons_alexa_hosts_are_allowed() {
        for host in HOSTS {
            assert_eq!(allowed(host), Some(host));
            assert_eq!(allowed(&format!("{host}/")), Some(host));
        }
        assert_eq!(
            allowed("https://API.EU.AMAZONALEXA.COM"),
            Some("https://api.eu.amazonalexa.com")
        );
        for bad in [
            "http://api.amazonalexa.com",
            "https://api.amazonalexa.com.evil.example",
            "https://evil.example/api.amazonalexa.com",
            "https://api.amazonalexa.com:8443",
            "https://user:pw@api.amazonalexa.com",
            "https://api.amazonalexa.com/v1",
            "https://api.amazonalexa.com?x=1",
            "https://127.0.0.1",
            "api.amazonalexa.com",
            "",
        ] {
            assert_eq!(allowed(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_intent_has_its_own_looking_message_or_the_generic_one() {
        assert_eq!(
            message_id("LogErrors").as_deref(),
            Some("looking-log-errors")
        );
        assert_eq!(message_id("AMAZON.HelpIntent"), None);
        let renderer = crate::speech::Renderer::embedded(None).unwrap();
        let health = phrase(
            &renderer,
            "en-US",
            crate::dialog::Intent::ServiceHealth,
            Some("check<out"),
        );
        assert_eq!(health, "<speak><s>Looking at check&lt;out…</s></speak>");
        let logs = renderer.say("en-US", crate::dialog::Mode::Voice).msg(
            "looking-log-errors",
            [("service", crate::speech::render::s("checkout"))],
        );
        assert_eq!(logs, "Looking at checkout's logs…");
        let fleet = phrase(
            &renderer,
            "en-US",
            crate::dialog::Intent::FleetSummary,
            None,
        );
        assert_eq!(fleet, "<speak><s>One moment, I'm looking…</s></speak>");
    }
}
