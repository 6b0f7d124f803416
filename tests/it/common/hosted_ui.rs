//! A loopback stand-in for the Cognito hosted UI's OAuth 2.0 endpoints, as Cognito
//! documents them, handing out real tokens from moto's user pool:
//!
//! - `GET /oauth2/authorize`: the registered `client_id` and exactly the registered
//!   `redirect_uri`, `response_type=code`, and a PKCE `code_challenge` with method `S256`;
//!   the user "signs in" as whoever the test says is at the browser, and is sent back to
//!   `redirect_uri?code=…&state=…`. Anything else is an error page, as Cognito shows.
//! - `POST /oauth2/token`: form-encoded; HTTP Basic `client_id:client_secret` when the
//!   client has a secret (else `401 invalid_client`); a code works once, only with the
//!   same `redirect_uri` and a `code_verifier` whose S256 is the challenge (else `400
//!   invalid_grant`). `grant_type=refresh_token` renews through moto's REFRESH_TOKEN_AUTH,
//!   or answers `400 invalid_grant` once refresh is revoked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::json;

/// How long the access tokens handed out are said to last (`expires_in`).
pub const EXPIRES_IN: u64 = 120;

struct Grant {
    user: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Default)]
struct Inner {
    at_browser: Option<String>,
    codes: HashMap<String, Grant>,
    refresh_revoked: bool,
    refreshes: u32,
    next: u32,
}

#[derive(Clone)]
struct Shared {
    cognito: aws_sdk_cognitoidentityprovider::Client,
    client_id: String,
    client_secret: Option<String>,
    redirect_uri: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct HostedUi {
    pub base: String,
    shared: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(json!({ "error": error }))).into_response()
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    if get("client_id") != s.client_id {
        return (StatusCode::BAD_REQUEST, "error=invalid_client").into_response();
    }
    if get("redirect_uri") != s.redirect_uri {
        return (StatusCode::BAD_REQUEST, "error=redirect_mismatch").into_response();
    }
    if get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || get("code_challenge").len() != 43
        || !get("scope").split(' ').any(|x| x == "openid")
    {
        return (StatusCode::BAD_REQUEST, "error=invalid_request").into_response();
    }
    let mut inner = s.inner.lock().unwrap();
    let Some(user) = inner.at_browser.clone() else {
        return (StatusCode::OK, "the sign-in form").into_response();
    };
    inner.next += 1;
    let code = format!("code-{}-{}", inner.next, uuid::Uuid::new_v4());
    inner.codes.insert(
        code.clone(),
        Grant {
            user,
            challenge: get("code_challenge").to_owned(),
            redirect_uri: get("redirect_uri").to_owned(),
        },
    );
    let mut back = url::Url::parse(get("redirect_uri")).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", get("state"));
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

async fn token(State(s): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if let Some(secret) = &s.client_secret {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{secret}", s.client_id))
        );
        if headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            != Some(&expected)
        {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        }
    }
    if get("client_id") != s.client_id {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client");
    }
    match get("grant_type") {
        "authorization_code" => {
            let Some(grant) = s.inner.lock().unwrap().codes.remove(get("code")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if get("redirect_uri") != grant.redirect_uri {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let digest = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                get("code_verifier").as_bytes(),
            );
            let challenge =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
            if challenge != grant.challenge {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let auth = s
                .cognito
                .initiate_auth()
                .client_id(&s.client_id)
                .auth_flow(AuthFlowType::UserPasswordAuth)
                .auth_parameters("USERNAME", &grant.user)
                .auth_parameters("PASSWORD", "Correct-Horse-9")
                .send()
                .await
                .unwrap();
            let r = auth.authentication_result().unwrap();
            axum::Json(json!({
                "access_token": r.access_token(),
                "id_token": r.id_token(),
                "refresh_token": r.refresh_token(),
                "expires_in": EXPIRES_IN,
                "token_type": "Bearer",
            }))
            .into_response()
        }
        "refresh_token" => {
            {
                let mut inner = s.inner.lock().unwrap();
                if inner.refresh_revoked {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
                }
                inner.refreshes += 1;
            }
            let Ok(auth) = s
                .cognito
                .initiate_auth()
                .client_id(&s.client_id)
                .auth_flow(AuthFlowType::RefreshTokenAuth)
                .auth_parameters("REFRESH_TOKEN", get("refresh_token"))
                .send()
                .await
            else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let r = auth.authentication_result().unwrap();
            axum::Json(json!({
                "access_token": r.access_token(),
                "id_token": r.id_token(),
                "expires_in": EXPIRES_IN,
                "token_type": "Bearer",
            }))
            .into_response()
        }
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

impl HostedUi {
    /// The hosted UI for `client_id` (with `client_secret`, if any), whose one registered
    /// callback is `redirect_uri`.
    pub async fn start(
        cognito: aws_sdk_cognitoidentityprovider::Client,
        client_id: &str,
        client_secret: Option<&str>,
        redirect_uri: &str,
    ) -> Self {
        let shared = Shared {
            cognito,
            client_id: client_id.to_owned(),
            client_secret: client_secret.map(str::to_owned),
            redirect_uri: redirect_uri.to_owned(),
            inner: Arc::default(),
        };
        let router = axum::Router::new()
            .route("/oauth2/authorize", get(authorize))
            .route("/oauth2/token", post(token))
            .with_state(shared.clone());
        let (addr, stop) = super::serve_on_loopback(router).await;
        Self {
            base: format!("http://{addr}"),
            shared,
            _stop: stop,
        }
    }

    /// Who signs in at the browser next.
    pub fn at_browser(&self, user: &str) {
        self.shared.inner.lock().unwrap().at_browser = Some(user.to_owned());
    }

    /// From now on, refresh tokens are refused (`invalid_grant`).
    pub fn revoke_refresh(&self) {
        self.shared.inner.lock().unwrap().refresh_revoked = true;
    }

    pub fn refreshes(&self) -> u32 {
        self.shared.inner.lock().unwrap().refreshes
    }
}
