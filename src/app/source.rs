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
            let role = config.actions.role_arn.clone();
            match &config.accounts.file {
                Some(path) => {
                    let region = sdk.region().map_or("us-east-1", |r| r.as_ref());
                    let accounts = config::accounts::load(path, region)?;
                    let read = accounts_source(&sdk, &accounts, clock, config).await;
                    // Each account acts through its own actions role, in the place it is
                    // read; the one read with the default credentials (the home account)
                    // through OPSVOICE_ACTIONS_ROLE_ARN. An account without one is
                    // refused with the reason, before any call.
                    let effector = read.effector(&sdk, role, &accounts);
                    (
                        Arc::new(read.ops) as Arc<dyn ops::OpsSource>,
                        effector,
                        Some(Arc::new(read.logs) as Arc<dyn ops::logs::LogSource>),
                    )
                }
                None => {
                    let live = live_source(
                        aws_sdk_ecs::Client::new(&sdk),
                        aws_sdk_cloudwatch::Client::new(&sdk),
                        clock,
                        config,
                    )
                    .0;
                    let logs = ops::logs::aws::AwsLogs::new(
                        aws_sdk_ecs::Client::new(&sdk),
                        aws_sdk_cloudwatchlogs::Client::new(&sdk),
                    );
                    let effector = role.is_some().then(|| {
                        crate::act::effect::aws::effector_with(
                            &sdk,
                            crate::act::effect::aws::ActionRoles::home(role),
                        )
                    });
                    (
                        Arc::new(live) as Arc<dyn ops::OpsSource>,
                        effector,
                        Some(Arc::new(logs) as Arc<dyn ops::logs::LogSource>),
                    )
                }
            }
        }
    })
}

/// The demo fleet's simulated effects (actions on the demo change only the demo).
fn demo_effector(fleet: &ops::demo::DemoFleet) -> Option<Arc<dyn crate::act::effect::Effector>> {
    Some(fleet.effector())
}
