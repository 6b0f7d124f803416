//! AWS SDK setup shared by every client (ECS, CloudWatch, Polly, Lex runtime): the standard
//! configuration chain with our timeouts and retry policy. A leaf.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// The most one SDK operation may take, retries included. Below the answer deadline (3 s),
/// so a failed call still leaves time to answer from stale data.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2000);
/// The most one attempt may take; a hung connection is abandoned and retried once.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(900);

/// Loads the standard AWS configuration (credential and region chain, `AWS_ENDPOINT_URL`,
/// profiles) with our timeouts and retry policy.
///
/// Retry mode is `standard` with 2 attempts: enough to ride over a dropped connection or a
/// single throttle, while two attempts of [`ATTEMPT_TIMEOUT`] still fit in
/// [`OPERATION_TIMEOUT`]. Adaptive mode would sleep client-side to pace requests, which a
/// voice answer with a 3 second budget cannot afford; the cache is what keeps our request
/// rate low.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// The timeouts every client uses.
#[must_use]
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(500))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}
