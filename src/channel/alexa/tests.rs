//! Unit tests of the Alexa response shapes and limits.

use super::*;

#[test]
fn resolved_values_win_over_what_was_heard() {
    let slot: AlexaSlot = serde_json::from_value(json!({
        "name": "service", "value": "check out",
        "resolutions": {"resolutionsPerAuthority": [
            {"authority": "a", "status": {"code": "ER_SUCCESS_NO_MATCH"}},
            {"authority": "b", "status": {"code": "ER_SUCCESS_MATCH"}, "values": [{"value": {"name": "checkout", "id": "checkout"}}]}
        ]}
    }))
    .unwrap();
    assert_eq!(slot.text().as_deref(), Some("checkout"));
    let heard: AlexaSlot =
        serde_json::from_value(json!({"name": "service", "value": "payments"})).unwrap();
    assert_eq!(heard.text().as_deref(), Some("payments"));
    let empty: AlexaSlot = serde_json::from_value(json!({"name": "service"})).unwrap();
    assert_eq!(empty.text(), None);
}

#[test]
fn each_response_shape_serialises_as_alexa_expects() {
    let wire = |r: &AlexaResponse| serde_json::to_value(r).unwrap();
    assert_eq!(
        wire(&AlexaResponse::empty()),
        json!({"version": "1.0", "response": {}})
    );
    let full = AlexaResponse {
        version: "1.0",
        session_attributes: HashMap::from([("k".to_owned(), json!("v"))]),
        response: Body {
            output_speech: Some(speech([&"a".to_owned()])),
            reprompt: Some(Reprompt {
                output_speech: speech([&"b".to_owned()]),
            }),
            card: Some(Card {
                kind: "Simple",
                title: Some("t".to_owned()),
                content: Some("c".to_owned()),
            }),
            directives: vec![json!({"type": "Dialog.Delegate"})],
            can_fulfill_intent: None,
            should_end_session: Some(false),
        },
    };
    assert_eq!(
        wire(&full),
        json!({
            "version": "1.0",
            "sessionAttributes": {"k": "v"},
            "response": {
                "outputSpeech": {"type": "SSML", "ssml": "<speak><s>a</s></speak>"},
                "reprompt": {"outputSpeech": {"type": "SSML", "ssml": "<speak><s>b</s></speak>"}},
                "card": {"type": "Simple", "title": "t", "content": "c"},
                "directives": [{"type": "Dialog.Delegate"}],
                "shouldEndSession": false
            }
        })
    );
    let link = Body {
        card: Some(Card {
            kind: "LinkAccount",
            title: None,
            content: None,
        }),
        ..Body::default()
    };
    assert_eq!(
        serde_json::to_value(&link).unwrap(),
        json!({"card": {"type": "LinkAccount"}})
    );
}

#[test]
fn an_oversized_answer_is_cut_to_24_kb_card_first() {
    let sentence = "checkout is degraded: 2 of 3 tasks running. ".repeat(20);
    let spoken: Vec<String> = (0..20).map(|_| sentence.clone()).collect();
    let exchange = Exchange {
        answer: crate::dialog::Answer {
            intent: Intent::ServiceHealth,
            slots: crate::dialog::Slots::default(),
            reply: Reply::Goodbye,
            next: Move::Close,
            context: SessionContext::default(),
            detail: false,
            stale: None,
            left: Vec::new(),
        },
        rendered: crate::speech::Rendered {
            spoken: spoken.clone(),
            // Control characters: six bytes each once escaped in JSON.
            text: "\u{1}".repeat(3000),
            text_sentences: Vec::new(),
            extras: Vec::new(),
            card: None,
            reprompt: None,
        },
        owner: None,
    };
    let mut out = AlexaResponse {
        version: "1.0",
        session_attributes: HashMap::new(),
        response: Body {
            output_speech: Some(speech(&exchange.rendered.spoken)),
            card: Some(Card {
                kind: "Simple",
                title: Some("Service health".to_owned()),
                content: Some(exchange.rendered.text.clone()),
            }),
            should_end_session: Some(true),
            ..Body::default()
        },
    };
    // Long enough to need cutting: about 8 KB of speech and 18 KB of escaped card text.
    assert!(serde_json::to_vec(&out).unwrap().len() > MAX_RESPONSE_BYTES);
    fit(
        &mut out,
        &exchange,
        &crate::dialog::context::Sealer::random(),
    );
    let bytes = serde_json::to_vec(&out).unwrap();
    assert!(bytes.len() <= MAX_RESPONSE_BYTES, "{} bytes", bytes.len());
    let card = out.response.card.as_ref().unwrap();
    assert!(card.content.as_ref().unwrap().chars().count() <= 1000);
    let ssml = &out.response.output_speech.as_ref().unwrap().ssml;
    assert!(
        ssml.starts_with("<speak>") && ssml.ends_with("</speak>"),
        "{ssml}"
    );
}

#[test]
fn cutting_keeps_words_whole() {
    assert_eq!(cut("one two three", 100), "one two three");
    assert_eq!(cut("one two three four", 12), "one two…");
}

#[test]
fn the_alexa_api_token_never_shows_in_debug_output() {
    let envelope: Envelope = serde_json::from_value(json!({
        "context": {"System": {"apiEndpoint": "https://api.amazonalexa.com", "apiAccessToken": "secret-token-value"}},
        "request": {"type": "LaunchRequest", "requestId": "r", "timestamp": "2026-11-22T10:00:00Z"}
    }))
    .unwrap();
    let shown = format!("{envelope:?}");
    assert!(!shown.contains("secret-token-value"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert_eq!(envelope.heard().unwrap().token, "secret-token-value");
}
