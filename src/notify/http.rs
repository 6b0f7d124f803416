//! `POST /events`: SNS HTTPS deliveries. Verified first ([`super::sns`]); a confirmation is
//! confirmed with the SNS `ConfirmSubscription` API (never by fetching the URL in the
//! message); a notification's `Message` (EventBridge JSON, or CloudWatch's alarm JSON)
//! goes to the notifier. An event we cannot use is logged and counted, and answered 200
//! so SNS does not retry it forever; only our own outage (the store, the certificate
//! download) is a 503, which SNS retries.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::sns::{SnsError, SnsVerifier};
use super::{Notifier, event};
use crate::http::{Body, HttpError};

/// The route.
pub const EVENTS: &str = "/events";

/// What `/events` needs: the verifier, the notifier and the SNS client (for confirming).
#[derive(Clone, Default)]
pub struct EventsState {
    pub verifier: Option<Arc<SnsVerifier>>,
    pub notifier: Option<Arc<Notifier>>,
    pub sns: Option<aws_sdk_sns::Client>,
}

impl std::fmt::Debug for EventsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventsState")
            .field("verifier", &self.verifier.is_some())
            .field("notifier", &self.notifier.is_some())
            .finish_non_exhaustive()
    }
}

/// The `/events` router over `state`.
pub fn router<S: Clone + Send + Sync + 'static>(state: EventsState) -> axum::Router<S> {
    axum::Router::new()
        .route(EVENTS, axum::routing::post(events))
        .with_state(state)
}

fn answer(
    status: StatusCode,
    code: &'static str,
    message: impl Into<std::borrow::Cow<'static, str>>,
) -> Response {
    HttpError::new(status, code, message).into_response()
}

fn refused(error: &SnsError) -> Response {
    metrics::counter!("opsvoice_events_total", "source" => "sns", "kind" => "delivery", "outcome" => "refused")
        .increment(1);
    tracing::info!(%error, "SNS delivery refused");
    match error {
        SnsError::CertUnavailable => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the signing certificate could not be fetched; retry",
        ),
        SnsError::UnknownTopic => answer(StatusCode::FORBIDDEN, "unknown_topic", error.to_string()),
        SnsError::Malformed | SnsError::UnknownType | SnsError::Stale => {
            answer(StatusCode::BAD_REQUEST, "bad_request", error.to_string())
        }
        _ => answer(StatusCode::UNAUTHORIZED, "unverified", error.to_string()),
    }
}

async fn events(
    State(state): State<EventsState>,
    headers: HeaderMap,
    body: Result<Body, HttpError>,
) -> Response {
    tracing::Span::current().record("channel", "sns");
    let body = match body {
        Ok(Body(bytes)) => bytes,
        Err(error) => return error.into_response(),
    };
    let (Some(verifier), Some(notifier)) = (&state.verifier, &state.notifier) else {
        return answer(
            StatusCode::FORBIDDEN,
            "not_configured",
            "SNS deliveries are not accepted here (set OPSVOICE_SNS_TOPIC_ARNS and OPSVOICE_NOTIFY_FILE)",
        );
    };
    let delivery = match verifier.verify(&body).await {
        Ok(delivery) => delivery,
        Err(error) => return refused(&error),
    };
    if let Some(header) = headers
        .get("x-amz-sns-message-type")
        .and_then(|v| v.to_str().ok())
        && header != delivery.kind
    {
        return refused(&SnsError::UnknownType);
    }
    match delivery.kind.as_str() {
        "SubscriptionConfirmation" => {
            let Some(sns) = &state.sns else {
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "no SNS client to confirm with",
                );
            };
            let token = delivery.token.clone().unwrap_or_default();
            let confirmed = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                sns.confirm_subscription()
                    .topic_arn(&delivery.topic_arn)
                    .token(token)
                    .send(),
            )
            .await;
            match confirmed {
                Ok(Ok(_)) => {
                    tracing::info!(topic = %delivery.topic_arn, "SNS subscription confirmed");
                    metrics::counter!("opsvoice_events_total", "source" => "sns", "kind" => "subscription", "outcome" => "confirmed").increment(1);
                    StatusCode::OK.into_response()
                }
                Ok(Err(error)) => {
                    tracing::warn!(error = %crate::error::ErrorChain(&error), "ConfirmSubscription failed");
                    answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the subscription could not be confirmed; retry",
                    )
                }
                Err(_) => answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "ConfirmSubscription timed out; retry",
                ),
            }
        }
        "UnsubscribeConfirmation" => {
            tracing::warn!(topic = %delivery.topic_arn, "this endpoint was unsubscribed from an SNS topic");
            StatusCode::OK.into_response()
        }
        _ => match event::from_sns_message(&delivery.message, &delivery.message_id) {
            Ok(event) => match notifier.accept("sns", event).await {
                Ok(super::Outcome::Busy) => answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "this event is being recorded by another delivery; retry",
                ),
                Ok(_) => {
                    notifier.deliver_soon().await;
                    StatusCode::OK.into_response()
                }
                Err(error) => {
                    tracing::warn!(%error, "an event could not be recorded; SNS will retry");
                    answer(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the event could not be recorded; retry",
                    )
                }
            },
            Err(unusable) => {
                super::unusable(&unusable);
                StatusCode::OK.into_response()
            }
        },
    }
}
