//! The account-link pages: `GET /link/start` (to the hosted UI, with PKCE) and
//! `/link/callback` (the link stored, the user told in Slack).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::{Outgoing, Place, SlackState, blocks};
use crate::auth::link::{LinkError, Links};

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A plain page: a title and one paragraph, escaped.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><h1>{}</h1><p>{}</p></body></html>",
        esc(title),
        esc(title),
        esc(text)
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        "no-store".parse().expect("static header"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("static header"),
    );
    headers.insert(
        "content-security-policy",
        "default-src 'none'".parse().expect("static header"),
    );
    response
}

fn link_failure(error: &LinkError) -> Response {
    let status = if error.is_outage() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::BAD_REQUEST
    };
    tracing::info!(error = %crate::error::ErrorChain(error), "account link refused");
    // One fixed sentence per kind of failure: the cause (an upstream's words, a cipher's)
    // stays in the log; the page says what to do.
    let text = match error {
        _ if error.is_outage() => {
            "Signing in cannot be finished right now. Try again in a minute, from Slack."
        }
        LinkError::BadState => {
            "This link was not made by this service. Ask for a new one in Slack."
        }
        LinkError::StateUsed => {
            "This link has expired or was already used. Ask for a new one in Slack."
        }
        LinkError::Refused(_) | LinkError::Unverified(_) => {
            "The sign-in was not accepted. Start again from Slack."
        }
        _ => "The link could not be made. Start again from Slack.",
    };
    page(status, "Not linked", text)
}

/// A query that does not read (a parameter twice, say): the page, not axum's plain text.
fn unreadable() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Not linked",
        "This link is not one this service made. Ask for a new one in Slack.",
    )
}

/// What both pages start from: account linking set up here, and a query that reads; or
/// the page that says which is missing.
fn arrive(
    state: &SlackState,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<(Arc<Links>, LinkQuery), Box<Response>> {
    let Ok(Query(query)) = query else {
        return Err(Box::new(unreadable()));
    };
    let Some(links) = state.as_ref().and_then(|s| s.links.clone()) else {
        return Err(Box::new(page(
            StatusCode::NOT_FOUND,
            "Not linked",
            "Account linking is not set up on this server.",
        )));
    };
    Ok((links, query))
}

/// `GET /link/start?state=…`: to the hosted UI, with PKCE.
pub async fn link_start(
    State(state): State<SlackState>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let (links, query) = match arrive(&state, query) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let Some(link_state) = query.state.filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not linked",
            "The link has no state; ask for a new one in Slack.",
        );
    };
    match links.authorize_url(&link_state).await {
        Ok(url) => {
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(location) = url.parse() {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                "no-store".parse().expect("static header"),
            );
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                "no-referrer".parse().expect("static header"),
            );
            response
        }
        Err(error) => link_failure(&error),
    }
}

/// `GET /link/callback?code=…&state=…`: the link stored, the user told.
pub async fn link_callback(
    State(state): State<SlackState>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let (links, query) = match arrive(&state, query) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    if let Some(error) = query.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(40)
            .collect();
        return page(
            StatusCode::BAD_REQUEST,
            "Not linked",
            &format!("The sign-in did not finish ({error}). Start again from Slack."),
        );
    }
    let (Some(code), Some(link_state)) = (query.code, query.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not linked",
            "The sign-in came back without a code or state. Start again from Slack.",
        );
    };
    match links.complete(&code, &link_state).await {
        Ok(done) => {
            if let Some(slack) = &state {
                let said = format!(
                    "Linked as {}. Ask me anything, for example \"any alarms firing?\"",
                    done.principal.username
                );
                let out = Outgoing::Private(blocks::notice(&said));
                let place = Place {
                    channel: done
                        .channel
                        .clone()
                        .unwrap_or_else(|| done.user.user.clone()),
                    thread_ts: None,
                };
                let (slack, user) = (slack.clone(), done.user.clone());
                let worker = slack.clone();
                slack
                    .run(async move {
                        worker.deliver(&user, &place, &out).await;
                    })
                    .await;
            }
            page(
                StatusCode::OK,
                "Linked",
                &format!(
                    "Linked as {}. You can close this tab.",
                    done.principal.username
                ),
            )
        }
        Err(error) => link_failure(&error),
    }
}
