//! Answering: who asks (their account link, or the demo's anonymous caller), the answer
//! to a question or a verb of the slash command, and posting it where it goes.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{MAX_QUESTION, MUTE_FOR, Outgoing, Place, Slack, THREAD_MEMORY, blocks};
use crate::auth::Caller;
use crate::auth::link::SlackUser;
use crate::config::Secret;
use crate::dialog::{Mode, Phase, SessionContext, Surface, Turn};
use crate::store::Key;
use crate::store::epoch;

/// Which way a verb of the slash command goes.
enum Command<'a> {
    Link,
    Unlink,
    Help,
    Ask(&'a str),
}

fn command(text: &str) -> Command<'_> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    match lower.trim_end_matches(['.', '!']) {
        "" | "help" | "?" => Command::Help,
        "link" | "sign in" | "signin" | "log in" | "login" => Command::Link,
        "unlink" | "sign out" | "signout" | "log out" | "logout" => Command::Unlink,
        _ => Command::Ask(t),
    }
}

/// `text` without user, channel and group mentions (`<@U123>`, `<!here>`, `<#C1|name>`).
pub(super) fn without_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match tail.find('>') {
            Some(end) if matches!(tail.as_bytes().get(1), Some(b'@' | b'!' | b'#')) => {
                rest = &tail[end + 1..];
            }
            _ => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    // Slack sends &, < and > escaped.
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Slack {
    fn memory_key(user: &SlackUser, place: &Place) -> Key {
        match &place.thread_ts {
            Some(thread) => Key::slack_thread(&user.team, &place.channel, thread),
            None => Key::slack_conversation(&user.team, &place.channel, &user.user),
        }
    }

    async fn context(&self, key: &Key) -> SessionContext {
        match self.store.get(key).await {
            Ok(Some(json)) => SessionContext::decode(&json),
            Ok(None) => SessionContext::default(),
            Err(error) => {
                tracing::warn!(%error, "thread context unavailable; answering without it");
                SessionContext::default()
            }
        }
    }

    /// Who `user` is: their link's principal, or an anonymous caller on the demo fleet;
    /// otherwise the private answer to give instead.
    pub(super) async fn caller(
        &self,
        user: &SlackUser,
        place: &Place,
    ) -> Result<(Caller, Option<Secret>), Outgoing> {
        let identity = &self.assistant.identity;
        if let Some(links) = &self.links {
            match links.principal(user).await {
                Ok(Some(linked)) => {
                    return Ok((
                        identity.caller_for(linked.principal),
                        Some(linked.access_token),
                    ));
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "a Slack user's link could not be checked");
                    if identity.anonymous().is_none() {
                        return Err(Outgoing::Private(blocks::notice(
                            "I can't check your sign-in right now. Try again in a minute.",
                        )));
                    }
                }
            }
        }
        if let Some(anonymous) = identity.anonymous() {
            return Ok((anonymous, None));
        }
        Err(self
            .offer(
                user,
                place,
                "I answer from live data only for people I know.",
            )
            .await)
    }

    /// The link button for `user`, or why there is none.
    pub(super) async fn offer(&self, user: &SlackUser, place: &Place, why: &str) -> Outgoing {
        let Some(links) = &self.links else {
            return Outgoing::Private(blocks::notice(
                "Account linking is not set up on this opsvoice, so I can't answer you here. \
                 Whoever runs it can set OPSVOICE_PUBLIC_URL, OPSVOICE_COGNITO_DOMAIN and \
                 OPSVOICE_COGNITO_LINK_CLIENT_ID.",
            ));
        };
        match links.offer(user, Some(&place.channel)).await {
            Ok(url) => Outgoing::Private(blocks::link_prompt(&url, why)),
            Err(error) => {
                tracing::warn!(%error, "no link state could be made");
                Outgoing::Private(blocks::notice(
                    "I can't make a sign-in link right now. Try again in a minute.",
                ))
            }
        }
    }

    /// The answer to `text` from `user` at `place`.
    pub async fn reply(&self, user: &SlackUser, text: &str, place: &Place) -> Outgoing {
        self.reply_charted(user, text, place).await.0
    }

    /// The answer to `text` from `user` at `place`, and the chart that should follow it in
    /// its thread, if any (see [`super::chart::for_answer`]).
    pub async fn reply_charted(
        &self,
        user: &SlackUser,
        text: &str,
        place: &Place,
    ) -> (Outgoing, Option<super::chart::Subject>) {
        let outgoing = |out| (out, None);
        let text: String = text.chars().take(MAX_QUESTION).collect();
        let question = match command(&text) {
            Command::Link => {
                return outgoing(
                    self.offer(
                        user,
                        place,
                        "Link your Slack account to your sign-in, once.",
                    )
                    .await,
                );
            }
            Command::Unlink => {
                let words = match &self.links {
                    Some(links) => match links.unlink(user).await {
                        Ok(true) => {
                            "Unlinked. I won't answer you from live data until you link again."
                        }
                        Ok(false) => "You weren't linked.",
                        Err(error) => {
                            tracing::warn!(%error, "unlink failed");
                            "I couldn't unlink you just now. Try again in a minute."
                        }
                    },
                    None => "Account linking is not set up here, so there is nothing to unlink.",
                };
                return outgoing(Outgoing::Private(blocks::notice(words)));
            }
            Command::Help => "help".to_owned(),
            Command::Ask(q) => q.to_owned(),
        };
        let (caller, token) = match self.caller(user, place).await {
            Ok(found) => found,
            Err(refusal) => return outgoing(refusal),
        };
        let key = Self::memory_key(user, place);
        if let Some(bot) = &self.assistant.lex {
            let session = lex_session(key.as_str());
            let token = token.as_ref().map(Secret::expose_str);
            match bot.recognize(&question, &session, token).await {
                Ok(recognized) => {
                    return outgoing(Outgoing::Public(blocks::notice(
                        &recognized.plain.join("\n"),
                    )));
                }
                Err(error) => tracing::warn!(
                    error = %crate::error::ErrorChain(&error),
                    "Lex RecognizeText failed; answering with the local matcher"
                ),
            }
        }
        let context = self.context(&key).await;
        let understood = self
            .assistant
            .understand_text(&question, &context, &caller.grants)
            .await;
        let turn = Turn {
            intent: understood.intent,
            slots: understood.slots,
            confirmation: crate::dialog::Confirmation::None,
            context,
            surface: Surface {
                mode: Mode::Text,
                platform: Some("Slack".to_owned()),
            },
            phase: Phase::Fulfil,
            transcript: Some(question.clone()),
            locale: "en-US".to_owned(),
            detail: false,
            principal: caller.principal,
            grants: caller.grants,
            session: Some(super::acting::session(user)),
            origin: place
                .thread_ts
                .as_ref()
                .map(|ts| crate::act::record::Place {
                    channel: place.channel.clone(),
                    ts: ts.clone(),
                }),
        };
        let exchange = self
            .assistant
            .converse(turn, crate::speech::Forms::Text)
            .await;
        let expires = self.clock.now() + THREAD_MEMORY;
        if let Err(error) = self
            .store
            .put(&key, &exchange.answer.context.encode(), expires)
            .await
        {
            tracing::warn!(%error, "thread context not saved");
        }
        (
            Outgoing::Public(blocks::answer(&exchange, epoch(self.clock.now()))),
            super::chart::for_answer(&exchange.answer),
        )
    }

    /// Shares the chart of `subject` in `place`'s thread, after its answer was posted:
    /// bounded by the chart's deadline, and whatever happens to it, the answer stands.
    pub async fn follow_with_chart(&self, place: &Place, subject: &super::chart::Subject) {
        let Some(thread) = &place.thread_ts else {
            return;
        };
        let say = self.assistant.renderer.say(
            crate::speech::render::DEFAULT_LOCALE,
            crate::dialog::Mode::Text,
        );
        let _ = super::chart::share(
            &self.api,
            self.assistant.dialog.ops().as_ref(),
            &say,
            subject,
            &place.channel,
            thread,
            self.clock.now(),
        )
        .await;
    }

    /// Posts `out` at `place` (an ephemeral for `user` when private); whether Slack took it.
    pub async fn deliver(&self, user: &SlackUser, place: &Place, out: &Outgoing) -> bool {
        let mut body = out.message().fields();
        body.insert("channel".to_owned(), json!(place.channel));
        if let Some(thread) = &place.thread_ts {
            body.insert("thread_ts".to_owned(), json!(thread));
        }
        let method = match out {
            Outgoing::Public(_) => "chat.postMessage",
            Outgoing::Private(_) => {
                body.insert("user".to_owned(), json!(user.user));
                "chat.postEphemeral"
            }
        };
        match self.api.call(method, &Value::Object(body)).await {
            Ok(_) => {
                metrics::counter!("opsvoice_slack_posts_total", "outcome" => "posted").increment(1);
                true
            }
            Err(error) => {
                metrics::counter!("opsvoice_slack_posts_total", "outcome" => "failed").increment(1);
                tracing::warn!(%error, method, "a Slack answer could not be posted");
                false
            }
        }
    }

    /// Runs `work` now (Lambda) or in the background (`serve`).
    pub(super) async fn run(
        self: &Arc<Self>,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        if self.inline {
            work.await;
        } else {
            tokio::spawn(work);
        }
    }
}

impl Slack {
    /// Mutes `subject` in `place` for an hour, for `user` (who must be let in: linked, or
    /// on the demo), and says so in the card's thread.
    pub(super) async fn mute(&self, user: &SlackUser, place: &Place, subject: &str) -> Outgoing {
        if let Err(refusal) = self.caller(user, place).await {
            return refusal;
        }
        let subject: String = subject.chars().take(300).collect();
        let until = self.clock.now() + MUTE_FOR;
        match self
            .store
            .put(&Key::mute(&place.channel, &subject), &user.user, until)
            .await
        {
            Ok(()) => {
                tracing::info!(target: "opsvoice::audit", slack_user = %user.user, channel = %place.channel, subject = %subject, "muted for an hour");
                let shown = subject.strip_prefix("alarm:").unwrap_or(&subject);
                Outgoing::Public(blocks::notice(&format!(
                    "Muted {shown} here for an hour: its alarms and deployments post nothing until then."
                )))
            }
            Err(error) => {
                tracing::warn!(%error, "a mute could not be saved");
                Outgoing::Private(blocks::notice(
                    "I couldn't mute that just now. Try again in a minute.",
                ))
            }
        }
    }
}

/// A Lex session id for a Slack conversation: Lex allows 2 to 100 of `[0-9a-zA-Z._:-]`.
fn lex_session(key: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    format!(
        "slack.{}",
        crate::store::cipher::b64(&digest.as_ref()[..18])
            .replace('-', ".")
            .replace('_', ":")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_taken_out_of_questions() {
        assert_eq!(
            without_mentions("<@U0LAN0Z89> how is checkout doing?"),
            "how is checkout doing?"
        );
        assert_eq!(
            without_mentions("<!here>  any alarms &gt; 3 <#C1|ops>"),
            "any alarms > 3"
        );
        assert_eq!(without_mentions("a < b"), "a < b");
    }

    #[test]
    fn command_words() {
        assert!(matches!(command(" Link "), Command::Link));
        assert!(matches!(command("sign out"), Command::Unlink));
        assert!(matches!(command(""), Command::Help));
        assert!(matches!(
            command("how is checkout"),
            Command::Ask("how is checkout")
        ));
    }

    #[test]
    fn lex_sessions_fit_lex() {
        let s = lex_session("slack-ctx#T1#C1#1700000000.000100");
        assert!(s.len() <= 100 && s.len() >= 2);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c)),
            "{s}"
        );
    }
}
