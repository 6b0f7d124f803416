//! The data source the configuration describes, with its effector and its logs: the demo
//! fleet, one account (the default credentials), or every account of the accounts file.

use std::sync::Arc;

use super::{StartError, accounts_source, live_source};
use crate::clock::Clock;
use crate::config::{self, Backend, Config};
use crate::{aws, ops};

/// The demo fleet's logs, on the demo backend.
pub(super) fn demo_logs(config: &Config) -> Option<Arc<dyn ops::logs::LogSource>> {
    (config.aws.backend == Backend::Demo)
        .then(|| Arc::new(ops::logs::demo::DemoLogs::new()) as Arc<dyn ops::logs::LogSource>)
}

/// The data source, its effector and where logs are read.
type Configured = (
    Arc<dyn ops::OpsSource>,
    Option<Arc<dyn crate::act::effect::Effector>>,
    Option<Arc<dyn ops::logs::LogSource>>,
);

/// The data source the configuration describes: the embedded demo fleet, or ECS and
/// CloudWatch through the AWS SDK behind the cache; its effector; and where services' logs
/// are read (the demo's, or CloudWatch Logs).
///
/// # Errors
/// An accounts file that cannot be read or is wrong.
pub(super) async fn configured_source(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Configured, StartError> {
    Ok(match config.aws.backend {
        Backend::Demo => {
            let fleet = ops::demo::DemoFleet::new(clock);
            let effector = demo_effector(&fleet);
            (Arc::new(fleet), effector, demo_logs(config))
        }
        Backend::Aws => {
            let sdk = aws::sdk_config().await;
            let mut roles = crate::act::effect::aws::ActionRoles::from_config(config);
            let (live, logs): (Arc<dyn ops::OpsSource>, Arc<dyn ops::logs::LogSource>) =
                match &config.accounts.file {
                    Some(path) => {
                        let region = sdk.region().map_or("us-east-1", |r| r.as_ref());
                        let accounts = config::accounts::load(path, region)?;
                        // The account read with the default credentials is the home one:
                        // acted in through OPSVOICE_ACTIONS_ROLE_ARN. Others are refused
                        // with the reason, before any call.
                        for account in accounts.iter().filter(|a| a.role.is_none()) {
                            roles = roles.home_account(account.name.clone());
                        }
                        let read = accounts_source(&sdk, &accounts, clock, config).await;
                        (Arc::new(read.ops), Arc::new(read.logs))
                    }
                    None => (
                        Arc::new(
                            live_source(
                                aws_sdk_ecs::Client::new(&sdk),
                                aws_sdk_cloudwatch::Client::new(&sdk),
                                clock,
                                config,
                            )
                            .0,
                        ),
                        Arc::new(ops::logs::aws::AwsLogs::new(
                            aws_sdk_ecs::Client::new(&sdk),
                            aws_sdk_cloudwatchlogs::Client::new(&sdk),
                        )),
                    ),
                };
            let effector = config
                .actions
                .role_arn
                .is_some()
                .then(|| crate::act::effect::aws::effector_with(&sdk, roles));
            (live, effector, Some(logs))
        }
    })
}

/// The demo fleet's simulated effects (actions on the demo change only the demo).
fn demo_effector(fleet: &ops::demo::DemoFleet) -> Option<Arc<dyn crate::act::effect::Effector>> {
    Some(fleet.effector())
}
