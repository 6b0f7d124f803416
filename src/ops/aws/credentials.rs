//! Reading another account: one credentials provider per account (the SDK's
//! `AssumeRoleProvider`, with the external id when one is set) behind ONE identity cache
//! that every client of that account shares, in every region. So an account's role is
//! assumed once per credential lifetime (renewed a few minutes before it expires), never
//! once per question, per client or per region. An account with no role reads with the
//! default credentials.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_ecs::config::Region;

use super::CallCounts;
use crate::config::accounts::Account;

/// Renew assumed credentials this long before they expire, so a question never waits on
/// an AssumeRole that the background refresh could have made.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The session name the read role is assumed with (CloudTrail shows it).
const SESSION_NAME: &str = "opsvoice-read";

/// The account's provider, counting each AssumeRole it makes (`sts:AssumeRole`, in
/// `calls` and in `/metrics` with the account's name).
#[derive(Debug)]
struct Counted {
    inner: aws_config::sts::AssumeRoleProvider,
    calls: Arc<CallCounts>,
    account: String,
}

impl ProvideCredentials for Counted {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.calls.add("sts:AssumeRole");
        future::ProvideCredentials::new(async move {
            let started = std::time::Instant::now();
            let result = self.inner.provide_credentials().await;
            let outcome = if result.is_ok() { "ok" } else { "error" };
            super::record_call(
                "sts:AssumeRole",
                outcome,
                Some(&self.account),
                started.elapsed(),
            );
            result
        })
    }
}

/// The SDK configuration for each of `account`'s regions, built on `home` (the default
/// chain's configuration: endpoint, timeouts, retries): the account's role assumed with
/// `home`'s credentials, through one provider and one identity cache for all its regions.
/// AssumeRole calls are counted in `calls`.
pub async fn account_configs(
    home: &SdkConfig,
    account: &Account,
    calls: Arc<CallCounts>,
) -> Vec<(String, SdkConfig)> {
    let credentials = match &account.role {
        Some(role) => {
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name(SESSION_NAME)
                .configure(home);
            if let Some(id) = &account.external_id {
                builder = builder.external_id(id);
            }
            let provider = Counted {
                inner: builder.build().await,
                calls,
                account: account.name.clone(),
            };
            Some(SharedCredentialsProvider::new(provider))
        }
        None => None,
    };
    // One cache for the account: the provider's partition in it is shared by every client
    // built below, whatever its region.
    let cache = IdentityCache::lazy().buffer_time(RENEW_BEFORE).build();
    account
        .regions
        .iter()
        .map(|region| {
            let mut b = home.to_builder().region(Region::new(region.clone()));
            if let Some(credentials) = &credentials {
                b = b
                    .credentials_provider(credentials.clone())
                    .identity_cache(cache.clone());
            }
            (region.clone(), b.build())
        })
        .collect()
}
