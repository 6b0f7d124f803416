//! Answers as Slack messages: Block Kit with a plain `text` fallback, always within Block
//! Kit's limits (REFERENCE.md), by shortening, never by failing. All our text goes in as
//! `mrkdwn` escaped (`&`, `<`, `>`), so a service, alarm or user word can never become a
//! mention, a link or markup; button labels are `plain_text`.

use serde_json::{Value, json};

use crate::channel::Exchange;

/// Block Kit's limits.
pub const MAX_BLOCKS: usize = 50;
pub const MAX_SECTION_TEXT: usize = 3000;
pub const MAX_BUTTON_TEXT: usize = 75;
pub const MAX_BUTTON_VALUE: usize = 2000;
pub const MAX_ACTION_ID: usize = 255;
pub const MAX_ACTIONS: usize = 25;
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
/// The `text` fallback is kept under Slack's 4000 characters.
pub const MAX_FALLBACK: usize = 3900;
/// Follow-up buttons shown under an answer.
const FOLLOW_UPS: usize = 5;

/// The action id prefix of a follow-up question button; the button's value is the question.
pub const ASK_ACTION: &str = "ask";
/// The action id of the link button (a URL button: Slack opens it and tells us).
pub const LINK_ACTION: &str = "link";

/// A message to post: the fallback text and the blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

impl Message {
    /// The fields `chat.postMessage` and a `response_url` take.
    #[must_use]
    pub fn fields(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("text".to_owned(), Value::String(self.text.clone()));
        m.insert("blocks".to_owned(), Value::Array(self.blocks.clone()));
        m
    }
}

/// `text` with Slack's control characters escaped.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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

/// A mention of the Slack user `id` (`<@U0123>`, which Slack shows as their name), when
/// `id` looks like a Slack user id (upper-case letters and digits); anything else is only
/// escaped, so it can never become other markup.
#[must_use]
pub fn mention(id: &str) -> String {
    let looks_right = (2..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if looks_right {
        format!("<@{id}>")
    } else {
        escape(id)
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
#[must_use]
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escaped `text` cut to `max` characters after escaping, never inside an entity.
pub fn escaped_within(text: &str, max: usize) -> String {
    let escaped = escape(text);
    if escaped.chars().count() <= max {
        return escaped;
    }
    let mut out = String::new();
    let mut count = 0;
    for c in text.chars() {
        let piece = escape(c.encode_utf8(&mut [0u8; 4]));
        let n = piece.chars().count();
        if count + n > max.saturating_sub(1) {
            break;
        }
        count += n;
        out.push_str(&piece);
    }
    out.push('…');
    out
}

/// A section of `mrkdwn` (already escaped), cut to a section's limit.
pub(crate) fn section(mrkdwn: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": shorten(mrkdwn, MAX_SECTION_TEXT) } })
}

/// A context block of `elements` (mrkdwn, already escaped), within the block's limits.
pub(crate) fn context(elements: Vec<String>) -> Value {
    let elements: Vec<Value> = elements
        .into_iter()
        .take(MAX_CONTEXT_ELEMENTS)
        .map(|t| json!({ "type": "mrkdwn", "text": shorten(&t, MAX_SECTION_TEXT) }))
        .collect();
    json!({ "type": "context", "elements": elements })
}

/// A plain button (`plain_text` label) with `action_id` and `value`, or a URL button,
/// within the label, id and value limits.
pub(crate) fn button(
    label: &str,
    action_id: &str,
    value: Option<&str>,
    url: Option<&str>,
) -> Value {
    let mut b = json!({
        "type": "button",
        "text": { "type": "plain_text", "text": shorten(label, MAX_BUTTON_TEXT), "emoji": false },
        "action_id": shorten(action_id, MAX_ACTION_ID),
    });
    if let Some(value) = value {
        b["value"] = Value::String(shorten(value, MAX_BUTTON_VALUE));
    }
    if let Some(url) = url {
        b["url"] = Value::String(url.to_owned());
    }
    b
}

/// A button with a `style` (`primary` or `danger`).
fn styled(mut b: Value, style: &str) -> Value {
    b["style"] = Value::String(style.to_owned());
    b
}

/// A `Label: https://…` line as a Slack link, or the escaped line.
fn linked(line: &str) -> String {
    if let Some((label, url)) = line.rsplit_once(": ")
        && (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(char::is_whitespace)
    {
        return format!(
            "<{}|{}>",
            escape(url).replace('|', "%7C"),
            escape(label).replace('|', "/")
        );
    }
    escape(line)
}

/// How fresh the data is, as a context line.
fn freshness(exchange: &Exchange, now: i64) -> String {
    match &exchange.answer.stale {
        Some(stale) => {
            let secs = stale.age.as_secs();
            let age = if secs < 120 {
                format!("{secs} s")
            } else if secs < 7200 {
                format!("{} min", secs / 60)
            } else {
                format!("{} h", secs / 3600)
            };
            format!(
                ":warning: Stale data from {age} ago: {} {}",
                escape(&stale.systems.join(" and ")),
                if stale.slow {
                    "too slow to answer"
                } else {
                    "unreachable"
                }
            )
        }
        None => {
            let day = now.rem_euclid(86_400);
            format!(
                "Live data as of <!date^{now}^{{time_secs}}|{:02}:{:02}:{:02} UTC>",
                day / 3600,
                day % 3600 / 60,
                day % 60
            )
        }
    }
}

/// An answer: the verdict, how fresh it is, the list and console links, and buttons for
/// the natural follow-ups.
#[must_use]
pub fn answer(exchange: &Exchange, now: i64) -> Message {
    let rendered = &exchange.rendered;
    let mut blocks = Vec::new();
    let verdict = rendered.text_sentences.join(" ");
    blocks.push(section(&escaped_within(&verdict, MAX_SECTION_TEXT)));
    let data = matches!(exchange.answer.reply, crate::dialog::Reply::Report(_));
    if data {
        blocks.push(context(vec![freshness(exchange, now)]));
    }
    let extras: Vec<&str> = rendered
        .extras
        .iter()
        .flat_map(|e| e.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let (links, list): (Vec<&str>, Vec<&str>) = extras.into_iter().partition(|l| {
        l.rsplit_once(": ")
            .is_some_and(|(_, u)| u.starts_with("https://") || u.starts_with("http://"))
    });
    // The list in sections of up to 3000 characters, leaving room for the rest.
    let mut chunk = String::new();
    let room = MAX_BLOCKS - 3;
    for line in list {
        let line = escaped_within(line, MAX_SECTION_TEXT);
        if !chunk.is_empty() && chunk.chars().count() + 1 + line.chars().count() > MAX_SECTION_TEXT
        {
            if blocks.len() >= room {
                break;
            }
            blocks.push(section(&std::mem::take(&mut chunk)));
        }
        if !chunk.is_empty() {
            chunk.push('\n');
        }
        chunk.push_str(&line);
    }
    if !chunk.is_empty() && blocks.len() < room {
        blocks.push(section(&chunk));
    }
    if !links.is_empty() {
        blocks.push(context(links.iter().map(|l| linked(l)).collect()));
    }
    let buttons: Vec<Value> = rendered
        .card
        .iter()
        .flat_map(|c| c.buttons.iter())
        .filter(|b| !b.value.is_empty() && b.value.chars().count() <= MAX_BUTTON_VALUE)
        .take(FOLLOW_UPS.min(MAX_ACTIONS))
        .enumerate()
        .map(|(i, b)| button(&b.text, &format!("{ASK_ACTION}-{i}"), Some(&b.value), None))
        .collect();
    if !buttons.is_empty() {
        blocks.push(json!({ "type": "actions", "elements": buttons }));
    }
    blocks.truncate(MAX_BLOCKS - 1);
    // A read-back: Confirm and Cancel, carrying the pending action's id (the record decides
    // whether the person who presses it may).
    if let Some(crate::dialog::Pending::Action { id, .. }) = &exchange.answer.context.pending {
        blocks.push(json!({ "type": "actions", "elements": [
            styled(button("Confirm", ACT_CONFIRM, Some(id), None), "primary"),
            button("Cancel", ACT_CANCEL, Some(id), None),
        ]}));
    }
    Message {
        text: escaped_within(&rendered.text, MAX_FALLBACK),
        blocks,
    }
}

/// The requester's Confirm on a read-back (DESIGN §7).
pub const ACT_CONFIRM: &str = "act-confirm";
/// The requester's Cancel on a read-back.
pub const ACT_CANCEL: &str = "act-cancel";
/// Approve on an approval card.
pub const ACT_APPROVE: &str = "act-approve";
/// Deny on an approval card.
pub const ACT_DENY: &str = "act-deny";

/// An approval card: who asks, exactly what will change, where it stands, and (while it
/// waits) Approve and Deny. `what` and `status` are plain words, escaped here.
#[must_use]
pub fn approval_card(id: &str, what: &str, status: &str, open: bool) -> Message {
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": "Approval needed" } }),
        section(&escaped_within(what, MAX_SECTION_TEXT)),
        context(vec![escape(status)]),
    ];
    if open {
        blocks.push(json!({ "type": "actions", "elements": [
            styled(button("Approve", ACT_APPROVE, Some(id), None), "primary"),
            styled(button("Deny", ACT_DENY, Some(id), None), "danger"),
        ]}));
    }
    Message {
        text: escaped_within(&format!("{what} ({status})"), MAX_FALLBACK),
        blocks,
    }
}

/// A read-back once its requester has answered it: what was asked and where it stands,
/// without the Confirm and Cancel buttons (so nobody presses a spent one). `what` and
/// `status` are plain words, escaped here.
#[must_use]
pub fn answered_read_back(what: &str, status: &str) -> Message {
    Message {
        text: escaped_within(&format!("{what} ({status})"), MAX_FALLBACK),
        blocks: vec![
            section(&escaped_within(what, MAX_SECTION_TEXT)),
            context(vec![escape(status)]),
        ],
    }
}

/// Plain words, as one section.
#[must_use]
pub fn notice(text: &str) -> Message {
    Message {
        text: escaped_within(text, MAX_FALLBACK),
        blocks: vec![section(&escaped_within(text, MAX_SECTION_TEXT))],
    }
}

/// The link offer: why, and the button that starts linking.
#[must_use]
pub fn link_prompt(url: &str, why: &str) -> Message {
    let text = format!("{why} Link your Slack account to your sign-in: {url}");
    Message {
        text: escaped_within(&text, MAX_FALLBACK),
        blocks: vec![
            section(&escaped_within(why, MAX_SECTION_TEXT)),
            json!({
                "type": "actions",
                "elements": [button("Link your account", LINK_ACTION, None, Some(url))],
            }),
            context(vec![
                "The link is good for 10 minutes and works once.".to_owned(),
            ]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialog::{Answer, Intent, Move, Reply, Turn};
    use crate::speech::render::{Button, Card, Rendered};
    use crate::vocab::Mode;

    #[test]
    fn an_oversized_answer_is_shortened_to_block_kits_limits() {
        let turn = Turn::new(Intent::ActiveAlarms, Mode::Text);
        let list: Vec<String> = (0..400)
            .map(|i| format!("alarm-{i} <{}>", "x".repeat(90)))
            .collect();
        let exchange = Exchange {
            answer: Answer::to(&turn, Reply::Fallback, Move::Close),
            rendered: Rendered {
                spoken: Vec::new(),
                text: format!("{}\n{}", "Verdict & more. ".repeat(300), list.join("\n")),
                text_sentences: vec!["Verdict & more. ".repeat(300)],
                extras: list.clone(),
                card: Some(Card {
                    title: "t".to_owned(),
                    subtitle: None,
                    buttons: (0..9)
                        .map(|i| Button {
                            text: format!("{i} {}", "label ".repeat(30)),
                            value: if i == 0 {
                                "v".repeat(2001)
                            } else {
                                format!("question {i}")
                            },
                        })
                        .collect(),
                }),
                reprompt: None,
            },
            owner: None,
        };
        let m = answer(&exchange, 1_700_000_000);
        assert!(m.blocks.len() <= MAX_BLOCKS);
        assert!(m.text.chars().count() <= MAX_FALLBACK);
        for b in &m.blocks {
            if b["type"] == "section" {
                let t = b["text"]["text"].as_str().unwrap();
                assert!(t.chars().count() <= MAX_SECTION_TEXT, "{}", t.len());
                assert!(!t.contains('<'), "escaped");
            }
            if b["type"] == "actions" {
                let e = b["elements"].as_array().unwrap();
                assert_eq!(
                    e.len(),
                    FOLLOW_UPS,
                    "the over-long value is left out, not cut"
                );
                for button in e {
                    assert!(
                        button["text"]["text"].as_str().unwrap().chars().count() <= MAX_BUTTON_TEXT
                    );
                    assert!(button["value"].as_str().unwrap().len() <= MAX_BUTTON_VALUE);
                }
            }
        }
        assert!(
            m.blocks.len() > 10,
            "the list is there, in several sections"
        );
    }

    #[test]
    fn escaping_keeps_user_words_from_becoming_markup_and_cuts_never_split_an_entity() {
        assert_eq!(
            escape("<!channel> & <@U1>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt;"
        );
        let cut = escaped_within(&"<".repeat(2000), 3000);
        assert!(cut.chars().count() <= 3000);
        assert!(cut.ends_with("&lt;…"), "{}", &cut[cut.len() - 10..]);
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(mention("U0ANA1"), "<@U0ANA1>");
        assert_eq!(mention("<!channel>"), "&lt;!channel&gt;");
        assert_eq!(mention("u1|x"), "u1|x");
        assert_eq!(
            linked("ECS console: https://x.example/a|b"),
            "<https://x.example/a%7Cb|ECS console>"
        );
        assert_eq!(linked("not a link: here"), "not a link: here");
    }
}
