//! An SSML builder that cannot produce invalid or unescaped markup.
//!
//! [`Ssml`] has no public constructor: the only way to get one is [`SsmlBuilder`], which
//! escapes every piece of text, drops characters XML 1.0 forbids, emits only tags the
//! target [`Engine`] supports, and keeps within the length limits it was given. Names from
//! AWS (services, alarms, clusters) are free text and may contain `& < > " '`.

use std::fmt;

/// Which speech engine will read the SSML; it decides which tags are safe.
///
/// Polly's neural, long-form and generative voices reject `emphasis`, `amazon:effect`,
/// `amazon:auto-breaths` and prosody `pitch`, and an unsupported tag is an error from
/// Polly, so [`Engine::PollyNeural`] is the default and the builder degrades those to
/// plain text there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    #[default]
    PollyNeural,
    PollyStandard,
    Alexa,
}

impl Engine {
    fn supports_emphasis(self) -> bool {
        !matches!(self, Engine::PollyNeural)
    }
}

/// Polly `SynthesizeSpeech` accepts at most 6000 characters in total.
pub const POLLY_MAX_TOTAL: usize = 6000;
/// ... of which at most 3000 may be billed characters (text, not tags).
pub const POLLY_MAX_TEXT: usize = 3000;

/// A complete, well-formed `<speak>` document. Built only by [`SsmlBuilder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssml(String);

impl Ssml {
    /// The markup, starting with `<speak>`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the markup out.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Ssml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds an [`Ssml`] document sentence by sentence.
///
/// Limits are enforced by leaving out whole trailing sentences (answers lead with the
/// verdict, so the tail is what can go); a first sentence longer than the limit on its own
/// is cut at a word boundary.
#[derive(Debug, Clone)]
pub struct SsmlBuilder {
    engine: Engine,
    body: String,
    text_chars: usize,
    max_total: usize,
    max_text: usize,
    truncated: bool,
}

const OPEN: &str = "<speak>";
const CLOSE: &str = "</speak>";

impl SsmlBuilder {
    /// A builder for `engine` within Polly's limits.
    #[must_use]
    pub fn new(engine: Engine) -> Self {
        Self::with_limits(engine, POLLY_MAX_TOTAL, POLLY_MAX_TEXT)
    }

    /// A builder whose whole document stays within `max_total` characters and whose spoken
    /// text stays within `max_text` characters (e.g. a Lex message's 1024).
    #[must_use]
    pub fn with_limits(engine: Engine, max_total: usize, max_text: usize) -> Self {
        Self {
            engine,
            body: String::new(),
            text_chars: 0,
            max_total: max_total.max(OPEN.len() + CLOSE.len() + 16),
            max_text: max_text.max(1),
            truncated: false,
        }
    }

    /// Whether anything was left out to respect the limits.
    #[must_use]
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    fn room(&self) -> usize {
        self.max_total
            .saturating_sub(OPEN.len() + CLOSE.len() + self.body.chars().count())
    }

    fn push(&mut self, open: &str, text: &str, close: &str) -> bool {
        let text = clean(text);
        if text.is_empty() {
            return true;
        }
        let escaped = escape_text(&text);
        let chars = text.chars().count();
        let markup = open.chars().count() + escaped.chars().count() + close.chars().count();
        if chars + self.text_chars <= self.max_text && markup <= self.room() {
            self.body.push_str(open);
            self.body.push_str(&escaped);
            self.body.push_str(close);
            self.text_chars += chars;
            return true;
        }
        self.truncated = true;
        if !self.body.is_empty() {
            return false;
        }
        // The first sentence alone is too long: keep as many whole words as fit.
        let mut kept = String::new();
        for word in text.split(' ') {
            let candidate = if kept.is_empty() {
                word.to_owned()
            } else {
                format!("{kept} {word}")
            };
            let esc = escape_text(&candidate);
            if candidate.chars().count() + 1 > self.max_text
                || open.len() + esc.chars().count() + 1 + close.len() > self.room()
            {
                break;
            }
            kept = candidate;
        }
        if !kept.is_empty() {
            kept.push('…');
            self.body.push_str(open);
            self.body.push_str(&escape_text(&kept));
            self.body.push_str(close);
            self.text_chars += kept.chars().count();
        }
        false
    }

    /// Adds one sentence (`<s>`). Returns `false` if it did not fit and was left out or cut.
    pub fn sentence(&mut self, text: &str) -> bool {
        self.push("<s>", text, "</s>")
    }

    /// Adds a sentence read with emphasis where the engine supports it, plainly elsewhere.
    pub fn emphasised_sentence(&mut self, text: &str) -> bool {
        if self.engine.supports_emphasis() {
            self.push("<s><emphasis level=\"moderate\">", text, "</emphasis></s>")
        } else {
            self.sentence(text)
        }
    }

    /// Adds a pause, clamped to Polly's 10 second maximum.
    pub fn pause(&mut self, millis: u32) {
        let tag = format!("<break time=\"{}ms\"/>", millis.min(10_000));
        if tag.len() <= self.room() {
            self.body.push_str(&tag);
        }
    }

    /// Finishes the document.
    #[must_use]
    pub fn build(self) -> Ssml {
        Ssml(format!("{OPEN}{}{CLOSE}", self.body))
    }
}

/// Removes what XML 1.0 forbids (C0 controls but tab and newlines, U+FFFE, U+FFFF) and
/// collapses runs of whitespace, so any string from AWS is safe to speak.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// Escapes text content: `&`, `<` and `>`.
#[must_use]
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_in_names_are_escaped() {
        let mut b = SsmlBuilder::new(Engine::PollyNeural);
        b.sentence("shipping carrier timeouts > 5% & \"rising\" <now>");
        assert_eq!(
            b.build().as_str(),
            "<speak><s>shipping carrier timeouts &gt; 5% &amp; \"rising\" &lt;now&gt;</s></speak>"
        );
    }

    #[test]
    fn emphasis_is_plain_text_on_neural_voices() {
        let mut neural = SsmlBuilder::new(Engine::PollyNeural);
        neural.emphasised_sentence("Checkout is down.");
        assert!(!neural.build().as_str().contains("emphasis"));
        let mut standard = SsmlBuilder::new(Engine::PollyStandard);
        standard.emphasised_sentence("Checkout is down.");
        assert!(
            standard
                .build()
                .as_str()
                .contains("<emphasis level=\"moderate\">")
        );
    }

    #[test]
    fn trailing_sentences_that_do_not_fit_are_left_out() {
        let mut b = SsmlBuilder::with_limits(Engine::PollyNeural, 200, 40);
        assert!(b.sentence("Checkout is degraded."));
        assert!(!b.sentence("Two of three tasks are running right now."));
        assert!(b.truncated());
        assert_eq!(
            b.build().as_str(),
            "<speak><s>Checkout is degraded.</s></speak>"
        );
    }

    #[test]
    fn an_overlong_first_sentence_is_cut_at_a_word() {
        let mut b = SsmlBuilder::with_limits(Engine::PollyNeural, 1000, 20);
        b.sentence("one two three four five six seven eight");
        assert_eq!(
            b.build().as_str(),
            "<speak><s>one two three four…</s></speak>"
        );
    }

    #[test]
    fn control_characters_are_dropped_and_whitespace_collapsed() {
        let mut b = SsmlBuilder::new(Engine::PollyNeural);
        b.sentence(" a\u{0}\u{7}b \n\t c\u{FFFF} ");
        assert_eq!(b.build().as_str(), "<speak><s>ab c</s></speak>");
    }
}
