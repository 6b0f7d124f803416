//! Acting through AWS: [`AwsEffector`], the [`Effector`] that reads a target fresh with the
//! read credentials, and writes each change with credentials of its own: `sts:AssumeRole`
//! on the actions role, with the requester as `SourceIdentity` (so CloudTrail names the
//! person on the write), then exactly one write call, made once.
//!
//! With accounts (`OPSVOICE_ACCOUNTS_FILE`), every target is read and written in its own
//! account and region, and nowhere else: read with that account's read credentials (the
//! ones its questions are read with), written through that account's `actions_role` in
//! that region. An account without one is read only ([`Refusal::NoActionsRole`]).
//!
//! Why once: `UpdateService` takes no client token, so a retried call is a second change
//! (two forced deployments), and a call that timed out may still have been applied. The
//! write clients therefore run with retries off and a deadline, and every failure is
//! sorted into "certainly nothing written" ([`EffectError::Refused`], [`EffectError::Role`])
//! or "may have been written" ([`EffectError::Unknown`]), which the caller says out loud
//! rather than guesses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_ecs::config::Credentials;
use aws_sdk_ecs::operation::RequestId;
use aws_sdk_ecs::types::Service;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{AlarmNow, Applied, EffectError, Effector, Previous, ServiceNow};
use crate::act::record::{Change, Person};
use crate::act::{Refusal, Subject, Target};
use crate::aws::{ATTEMPT_TIMEOUT, OPERATION_TIMEOUT};
use crate::config::Config;
use crate::ops::aws::{
    CallCounts, classify as read_error, is_throttle, observed, service_status, task_definition_name,
};
use crate::ops::{DeploymentRole, OpsError, Place, ServiceRef};

/// The most the `sts:AssumeRole` before a write may take, its own retry included (an
/// `AssumeRole` changes nothing, so retrying it is safe).
pub const ROLE_TIMEOUT: Duration = OPERATION_TIMEOUT;
/// The most the one write call may take. Past it the outcome is
/// [`EffectError::Unknown`]: the request may have reached AWS. A claim on an action must
/// outlast [`ROLE_TIMEOUT`] plus this.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// What every role session name starts with: `opsvoice-<user>`.
pub const SESSION_PREFIX: &str = "opsvoice-";
/// The least STS allows: the credentials serve one call.
const SESSION_SECONDS: i32 = 900;
/// `RoleSessionName` and `SourceIdentity` are both at most 64 characters.
const STS_NAME_MAX: usize = 64;
const STS_NAME_MIN: usize = 2;

/// The names an action's role session carries: `RoleSessionName` = `opsvoice-<user>` and
/// `SourceIdentity` = `<user>`, where `<user>` is chosen from the requester thus:
///
/// 1. their **username**, as it is, when it is 2 to 55 characters, each an ASCII letter
///    or digit or one of `_ + = , . @ -` (STS's alphabet for both names, `[\w+=,.@-]`;
///    55 so that `opsvoice-` plus it fits the 64 characters of a session name);
/// 2. else their **`sub`**, with every character outside that alphabet replaced by `-`
///    and cut to its first 55 characters (a Cognito `sub` is a UUID, 36 characters, so
///    in practice it is the `sub` as it is);
/// 3. else (a `sub` shorter than 2 characters) no name at all: the action is not made,
///    since a write CloudTrail could not tie to a person is not one opsvoice makes.
///
/// `SourceIdentity` cannot be changed later in a role chain, which is why it is the
/// person and not opsvoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIdentity(String);

impl SessionIdentity {
    /// The most characters `<user>` may have.
    pub const MAX: usize = STS_NAME_MAX - SESSION_PREFIX.len();

    /// The identity `person`'s actions carry, by the rule above; `None` when neither name
    /// gives one.
    #[must_use]
    pub fn for_person(person: &Person) -> Option<Self> {
        if fits(&person.username) {
            return Some(Self(person.username.clone()));
        }
        let sub: String = person
            .sub
            .chars()
            .map(|c| if allowed(c) { c } else { '-' })
            .take(Self::MAX)
            .collect();
        (sub.len() >= STS_NAME_MIN).then_some(Self(sub))
    }

    /// `SourceIdentity`: `<user>`.
    #[must_use]
    pub fn source_identity(&self) -> &str {
        &self.0
    }

    /// `RoleSessionName`: `opsvoice-<user>`.
    #[must_use]
    pub fn session_name(&self) -> String {
        format!("{SESSION_PREFIX}{}", self.0)
    }
}

/// STS's alphabet for session names and source identities: `[\w+=,.@-]`, ASCII.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn fits(name: &str) -> bool {
    (STS_NAME_MIN..=SessionIdentity::MAX).contains(&name.len()) && name.chars().all(allowed)
}

/// Which role writes where: the home account's (`OPSVOICE_ACTIONS_ROLE_ARN`) and each
/// configured account's `actions_role`, by the account's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionRoles {
    home: Option<String>,
    accounts: BTreeMap<String, String>,
    /// Configured accounts read with the default credentials (no read role): the home
    /// account under its spoken name, acted in through the home actions role.
    home_names: std::collections::BTreeSet<String>,
}

impl ActionRoles {
    /// The home account's actions role (`None`: no action can be made there).
    #[must_use]
    pub fn home(role_arn: Option<String>) -> Self {
        Self {
            home: role_arn,
            accounts: BTreeMap::new(),
            home_names: std::collections::BTreeSet::new(),
        }
    }

    /// Names a configured account that is the home one (listed without a read role).
    #[must_use]
    pub fn home_account(mut self, name: impl Into<String>) -> Self {
        self.home_names.insert(name.into());
        self
    }

    /// Whether `account` (a configured account's name; `None` without accounts) is the
    /// home account.
    #[must_use]
    pub fn is_home(&self, account: Option<&str>) -> bool {
        account.is_none_or(|a| self.home_names.contains(a))
    }

    /// The roles the configuration names.
    #[must_use]
    pub fn from_config(config: &Config) -> Self {
        Self::home(config.actions.role_arn.clone())
    }

    /// Adds a configured account's actions role, by the account's spoken name.
    #[must_use]
    pub fn account(mut self, name: impl Into<String>, role_arn: impl Into<String>) -> Self {
        self.accounts.insert(name.into(), role_arn.into());
        self
    }

    /// The roles of the configured `accounts`: each one's `actions_role`, and the home
    /// role (`home`, `OPSVOICE_ACTIONS_ROLE_ARN`) for those read with the default
    /// credentials (no read role: the home account under its spoken name) and no
    /// `actions_role` of their own.
    #[must_use]
    pub fn of_accounts(
        home: Option<String>,
        accounts: &[crate::config::accounts::Account],
    ) -> Self {
        let mut roles = Self::home(home);
        for account in accounts {
            if account.role.is_none() {
                roles = roles.home_account(account.name.clone());
            }
            if let Some(arn) = &account.actions_role {
                roles = roles.account(account.name.clone(), arn.clone());
            }
        }
        roles
    }

    /// Whether any role writes anywhere (else acting cannot be set up at all).
    #[must_use]
    pub fn any(&self) -> bool {
        self.home.is_some() || !self.accounts.is_empty()
    }

    /// The role that writes to `target`: its account's own `actions_role`; else, for the
    /// home account (no accounts, or one read with the default credentials), the home
    /// role.
    ///
    /// # Errors
    /// No role is configured for the target's account.
    pub fn for_target(&self, target: &Target) -> Result<&str, RoleError> {
        if let Some(name) = &target.account
            && let Some(arn) = self.accounts.get(name)
        {
            return Ok(arn);
        }
        match &target.account {
            Some(name) if !self.is_home(Some(name)) => Err(RoleError::NoAccountRole(name.clone())),
            _ => self.home.as_deref().ok_or(RoleError::NotConfigured),
        }
    }
}

/// Why the actions role was not assumed (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("no actions role is configured (OPSVOICE_ACTIONS_ROLE_ARN)")]
    NotConfigured,
    #[error("no actions role is configured for account {0}")]
    NoAccountRole(String),
    #[error("neither the username nor the sub can name an STS session")]
    NoIdentity,
    #[error("sts:AssumeRole returned no credentials")]
    NoCredentials,
    #[error("sts:AssumeRole failed")]
    Sts(
        #[source] Box<SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError, HttpResponse>>,
    ),
}

/// A target outside what this effector reads and writes: another account or region than
/// the configured ones (without accounts, the home account in the home region).
#[derive(Debug, thiserror::Error)]
#[error("{0} is not an account and region opsvoice is set up to act in")]
pub struct NotHere(String);

/// One account in one region, as the effector reads and writes it: the read clients (the
/// account's read credentials, shared with the data source's members, so reading here
/// assumes no role of its own) and what the write clients are built from (the region;
/// their credentials are the actions role's, assumed per action).
#[derive(Debug, Clone)]
struct At {
    ecs: aws_sdk_ecs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    /// The home configuration (endpoint, HTTP client) in this region.
    write: SdkConfig,
}

impl At {
    fn new(read: &SdkConfig, home: &SdkConfig) -> Self {
        let mut write = home.to_builder();
        write.set_region(read.region().cloned());
        Self {
            ecs: aws_sdk_ecs::Client::new(read),
            cloudwatch: aws_sdk_cloudwatch::Client::new(read),
            write: write.build(),
        }
    }
}

/// The [`Effector`] over AWS. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AwsEffector {
    /// Without accounts: the home account in the home region, read with the default
    /// credentials.
    home: At,
    /// With accounts: every configured account in each of its regions, by place. A
    /// target is read and written in its own place only.
    places: Arc<BTreeMap<Place, At>>,
    /// Assumes the actions roles, with the default credentials (the function's role:
    /// the only principal the actions roles trust).
    sts: aws_sdk_sts::Client,
    /// The home configuration (its region is the home region).
    sdk: SdkConfig,
    roles: ActionRoles,
    write_timeout: Duration,
    /// Every call, reads and writes, counted by API as every other AWS call is.
    calls: Arc<CallCounts>,
}

impl AwsEffector {
    /// An effector over the home account alone: reads and `sts:AssumeRole` use `sdk`'s
    /// credentials, and writes the role `roles` names for the target.
    #[must_use]
    pub fn new(sdk: &SdkConfig, roles: ActionRoles) -> Self {
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(sdk)
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(Duration::from_millis(500))
                        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                        .operation_timeout(ROLE_TIMEOUT)
                        .build(),
                )
                .build(),
        );
        Self {
            home: At::new(sdk, sdk),
            places: Arc::default(),
            sts,
            sdk: sdk.clone(),
            roles,
            write_timeout: WRITE_TIMEOUT,
            calls: Arc::default(),
        }
    }

    /// An effector over configured accounts: each place read with its own configuration
    /// (`places`: the account's read credentials in that region, as the data source reads
    /// it) and written in its region through its account's actions role, assumed with
    /// `home`'s (the default) credentials. Only these places are acted in.
    #[must_use]
    pub fn with_places(
        home: &SdkConfig,
        roles: ActionRoles,
        places: impl IntoIterator<Item = (Place, SdkConfig)>,
    ) -> Self {
        let mut effector = Self::new(home, roles);
        effector.places = Arc::new(
            places
                .into_iter()
                .map(|(place, read)| (place, At::new(&read, home)))
                .collect(),
        );
        effector
    }

    /// The same effector with another write deadline (tests of the timeout).
    #[must_use]
    pub fn write_timeout(mut self, deadline: Duration) -> Self {
        self.write_timeout = deadline;
        self
    }

    /// Every call made, reads and writes, by API name (`ecs:UpdateService`).
    #[must_use]
    pub fn calls(&self) -> Arc<CallCounts> {
        self.calls.clone()
    }

    /// One read: counted, timed, traced, its error an [`OpsError`].
    async fn read<T, O>(
        &self,
        api: &'static str,
        request: impl std::future::Future<Output = Result<T, SdkError<O, HttpResponse>>>,
    ) -> Result<T, OpsError>
    where
        O: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let started = Instant::now();
        observed(&self.calls, api, request)
            .await
            .map_err(|e| read_error(api, e, started.elapsed()))
    }

    /// Where `target` is read and written: its place among the configured ones, or
    /// without accounts the home account in the home region. Anything else is refused.
    fn at(&self, target: &Target) -> Result<&At, NotHere> {
        let not_here = || {
            NotHere(format!(
                "{}/{}",
                target.account.as_deref().unwrap_or("home"),
                target.region.as_deref().unwrap_or("-")
            ))
        };
        if self.places.is_empty() {
            let home_region = self.sdk.region().map(ToString::to_string);
            let region_ok = target.region.is_none() || target.region == home_region;
            return if self.roles.is_home(target.account.as_deref()) && region_ok {
                Ok(&self.home)
            } else {
                Err(not_here())
            };
        }
        match (&target.account, &target.region) {
            (Some(account), Some(region)) => self
                .places
                .get(&Place::new(account.clone(), region.clone()))
                .ok_or_else(not_here),
            _ => Err(not_here()),
        }
    }

    /// Credentials of a fresh session on the target's actions role, named for `actor`.
    async fn assume(&self, actor: &Person, target: &Target) -> Result<Credentials, EffectError> {
        let role = |e: RoleError| EffectError::Role(Box::new(e));
        let arn = self.roles.for_target(target).map_err(role)?;
        let who = SessionIdentity::for_person(actor)
            .ok_or(RoleError::NoIdentity)
            .map_err(role)?;
        let out = observed(
            &self.calls,
            "sts:AssumeRole",
            self.sts
                .assume_role()
                .role_arn(arn)
                .role_session_name(who.session_name())
                .source_identity(who.source_identity())
                .duration_seconds(SESSION_SECONDS)
                .send(),
        )
        .await
        .map_err(|e| role(RoleError::Sts(Box::new(e))))?;
        let c = out
            .credentials()
            .ok_or(RoleError::NoCredentials)
            .map_err(role)?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            SystemTime::try_from(*c.expiration()).ok(),
            "opsvoice-actions",
        ))
    }

    /// One attempt, bounded by the write deadline.
    fn write_timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(500).min(self.write_timeout))
            .operation_attempt_timeout(self.write_timeout)
            .operation_timeout(self.write_timeout)
            .build()
    }

    fn ecs_writer(&self, at: &At, credentials: Credentials) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::from_conf(
            aws_sdk_ecs::config::Builder::from(&at.write)
                .credentials_provider(credentials)
                .identity_cache(IdentityCache::no_cache())
                .retry_config(RetryConfig::disabled())
                .timeout_config(self.write_timeouts())
                .build(),
        )
    }

    fn cloudwatch_writer(&self, at: &At, credentials: Credentials) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::from_conf(
            aws_sdk_cloudwatch::config::Builder::from(&at.write)
                .credentials_provider(credentials)
                .identity_cache(IdentityCache::no_cache())
                .retry_config(RetryConfig::disabled())
                .timeout_config(self.write_timeouts())
                .build(),
        )
    }

    /// The one write call, at `at` with `credentials`.
    async fn write(
        &self,
        at: &At,
        credentials: Credentials,
        target: &Target,
        write: Write,
    ) -> Result<Applied, EffectError> {
        let started = Instant::now();
        let (api, result) = match write {
            Write::Service { service, update } => {
                let ecs = self.ecs_writer(at, credentials);
                let call = ecs
                    .update_service()
                    .cluster(&service.cluster)
                    .service(&service.name);
                let call = match update {
                    Update::ForceNewDeployment => call.force_new_deployment(true),
                    Update::TaskDefinition(td) => call.task_definition(td),
                    Update::DesiredCount(n) => call.desired_count(n),
                };
                let api = "ecs:UpdateService";
                let out = observed(&self.calls, api, call.send()).await;
                (api, request_id(out).map_err(|e| classify(SYSTEM_ECS, e)))
            }
            Write::Alarm { alarm, enable } => {
                let cloudwatch = self.cloudwatch_writer(at, credentials);
                if enable {
                    let api = "cloudwatch:EnableAlarmActions";
                    let call = cloudwatch.enable_alarm_actions().alarm_names(alarm);
                    let out = observed(&self.calls, api, call.send()).await;
                    (
                        api,
                        request_id(out).map_err(|e| classify(SYSTEM_CLOUDWATCH, e)),
                    )
                } else {
                    let api = "cloudwatch:DisableAlarmActions";
                    let call = cloudwatch.disable_alarm_actions().alarm_names(alarm);
                    let out = observed(&self.calls, api, call.send()).await;
                    (
                        api,
                        request_id(out).map_err(|e| classify(SYSTEM_CLOUDWATCH, e)),
                    )
                }
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        // The failure's cause is already logged, once, with the call.
        match &result {
            Ok(applied) => {
                tracing::info!(api, %target, request_id = %applied.request_id, elapsed_ms, "write made");
            }
            Err(EffectError::Unknown { .. }) => {
                tracing::warn!(api, %target, elapsed_ms, outcome = "unknown", "write may or may not have been made");
            }
            Err(_) => {
                tracing::warn!(api, %target, elapsed_ms, outcome = "refused", "write refused: nothing changed");
            }
        }
        result
    }
}

const SYSTEM_ECS: &str = "ECS";
const SYSTEM_CLOUDWATCH: &str = "CloudWatch";
const SYSTEM_OPSVOICE: &str = "opsvoice";

/// The write a change is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Write {
    Service { service: ServiceRef, update: Update },
    Alarm { alarm: String, enable: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Update {
    ForceNewDeployment,
    TaskDefinition(String),
    DesiredCount(i32),
}

impl Write {
    /// The write `change` to `target` is.
    ///
    /// # Errors
    /// [`EffectError::Refused`] for a change that does not apply to the target (a scale of
    /// an alarm) or a count ECS cannot take: nothing is sent.
    fn of(target: &Target, change: &Change) -> Result<Self, EffectError> {
        let mismatch = |what: &str| EffectError::Refused {
            system: SYSTEM_OPSVOICE,
            message: format!("a {what} does not apply to {target}"),
        };
        match (&target.subject, change) {
            (Subject::Service { service }, Change::Restart { .. }) => Ok(Write::Service {
                service: service.clone(),
                update: Update::ForceNewDeployment,
            }),
            (Subject::Service { service }, Change::Rollback { to, .. }) => Ok(Write::Service {
                service: service.clone(),
                update: Update::TaskDefinition(to.clone()),
            }),
            (Subject::Service { service }, Change::Scale { to, .. }) => {
                let count = i32::try_from(*to).map_err(|_| EffectError::Refused {
                    system: SYSTEM_OPSVOICE,
                    message: format!("{to} tasks is more than ECS takes"),
                })?;
                Ok(Write::Service {
                    service: service.clone(),
                    update: Update::DesiredCount(count),
                })
            }
            (Subject::Alarm { alarm, .. }, Change::Silence { .. }) => Ok(Write::Alarm {
                alarm: alarm.clone(),
                enable: false,
            }),
            (Subject::Alarm { alarm, .. }, Change::Unsilence) => Ok(Write::Alarm {
                alarm: alarm.clone(),
                enable: true,
            }),
            (Subject::Alarm { .. }, _) => Err(mismatch(change.verb().spoken())),
            (Subject::Service { .. }, _) => Err(mismatch("silence")),
        }
    }
}

/// The request id of a write that succeeded (`-` if AWS sent none).
fn request_id<T: RequestId, E>(result: Result<T, E>) -> Result<Applied, E> {
    result.map(|out| Applied {
        request_id: out.request_id().unwrap_or("-").to_owned(),
    })
}

/// Sorts a failed write into refused (certainly not written) and unknown.
///
/// - AWS answered with a 4xx: refused, unless it was throttling (said as unknown: the
///   brief answer is the same, "it may not have happened", and throttling codes are not
///   all 4xx-shaped across services).
/// - AWS answered with anything else (5xx), or an answer that could not be read: unknown.
/// - No connection could be made, or the request could not be built: refused, since
///   nothing left this process.
/// - A timeout, or a connection lost once the request may have gone out: unknown.
fn classify<E>(system: &'static str, error: SdkError<E, HttpResponse>) -> EffectError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    let refused = |message: String| EffectError::Refused { system, message };
    let unknown = |error: SdkError<E, HttpResponse>| EffectError::Unknown {
        system,
        source: Box::new(error),
    };
    match &error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            if (400..500).contains(&status) && !is_throttle(error.code()) {
                refused(format!(
                    "{}: {}",
                    error.code().unwrap_or("HTTP 4xx"),
                    error.message().unwrap_or("no message")
                ))
            } else {
                unknown(error)
            }
        }
        SdkError::ConstructionFailure(_) => refused(format!(
            "the request could not be built: {}",
            crate::error::ErrorChain(&error)
        )),
        SdkError::DispatchFailure(failure) if never_connected(failure.as_connector_error()) => {
            refused(format!(
                "no connection could be made: {}",
                crate::error::ErrorChain(&error)
            ))
        }
        _ => unknown(error),
    }
}

/// Whether a dispatch failure happened before any connection was made (so before the
/// request went out): the HTTP client's own "connect" error somewhere in the chain.
fn never_connected(error: Option<&aws_smithy_runtime_api::client::result::ConnectorError>) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> =
        error.map(|e| e as &(dyn std::error::Error + 'static));
    while let Some(e) = next {
        if e.downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// The service as the verbs need it, from DescribeServices.
fn service_now(cluster: &str, s: &Service) -> ServiceNow {
    let status = service_status(cluster, s);
    let mut deployments = status.deployments;
    deployments.sort_by_key(|d| std::cmp::Reverse(d.created_at));
    // The service's own task definition is the one its newest (primary) deployment runs;
    // moto leaves the deployments as they were after an UpdateService, so it comes first.
    let task_definition = s.task_definition().map(task_definition_name).or_else(|| {
        deployments
            .iter()
            .find(|d| d.role == DeploymentRole::Primary)
            .map(|d| d.task_definition.clone())
    });
    let task_definition = task_definition.unwrap_or_default();
    let previous = Previous::from_deployments(&task_definition, &deployments);
    ServiceNow {
        service: status.service,
        controller: s
            .deployment_controller()
            .map_or("ECS", |c| c.r#type().as_str())
            .to_owned(),
        task_definition,
        desired: status.desired,
        running: status.running,
        deployments,
        previous,
    }
}

/// The alarm as a silence needs it, from one DescribeAlarms page.
fn alarm_now(
    name: &str,
    out: &aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput,
) -> Option<AlarmNow> {
    let all = |a: &[String], b: &[String], c: &[String]| -> Vec<String> {
        a.iter().chain(b).chain(c).cloned().collect()
    };
    // ActionsEnabled is always sent; CloudWatch's default when an alarm is made is true.
    let metric = out
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .map(|a| AlarmNow {
            name: name.to_owned(),
            actions: all(
                a.alarm_actions(),
                a.ok_actions(),
                a.insufficient_data_actions(),
            ),
            actions_enabled: a.actions_enabled().unwrap_or(true),
        });
    metric.or_else(|| {
        out.composite_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(name))
            .map(|a| AlarmNow {
                name: name.to_owned(),
                actions: all(
                    a.alarm_actions(),
                    a.ok_actions(),
                    a.insufficient_data_actions(),
                ),
                actions_enabled: a.actions_enabled().unwrap_or(true),
            })
    })
}

#[async_trait]
impl Effector for AwsEffector {
    fn acts_in(&self, target: &Target) -> Result<(), Refusal> {
        self.at(target).map_err(|_| Refusal::NotSetUpHere)?;
        self.roles
            .for_target(target)
            .map(|_| ())
            .map_err(|_| Refusal::NoActionsRole)
    }

    fn regions_of(&self, account: &str) -> usize {
        self.places.keys().filter(|p| p.account == account).count()
    }

    async fn service(&self, target: &Target) -> Result<Option<ServiceNow>, OpsError> {
        let Subject::Service { service } = &target.subject else {
            return Ok(None);
        };
        let api = "ecs:DescribeServices";
        let at = self.at(target).map_err(|e| OpsError::Unavailable {
            api,
            source: Arc::new(e),
        })?;
        let out = self
            .read(
                api,
                at.ecs
                    .describe_services()
                    .cluster(&service.cluster)
                    .services(&service.name)
                    .send(),
            )
            .await?;
        Ok(out
            .services()
            .iter()
            .find(|s| s.service_name() == Some(&service.name) && s.status() != Some("INACTIVE"))
            .map(|s| service_now(&service.cluster, s)))
    }

    async fn alarm(&self, target: &Target) -> Result<Option<AlarmNow>, OpsError> {
        let Subject::Alarm { alarm, .. } = &target.subject else {
            return Ok(None);
        };
        let api = "cloudwatch:DescribeAlarms";
        let at = self.at(target).map_err(|e| OpsError::Unavailable {
            api,
            source: Arc::new(e),
        })?;
        let out = self
            .read(
                api,
                at.cloudwatch
                    .describe_alarms()
                    .alarm_names(alarm)
                    .alarm_types(AlarmType::MetricAlarm)
                    .alarm_types(AlarmType::CompositeAlarm)
                    .send(),
            )
            .await?;
        Ok(alarm_now(alarm, &out))
    }

    async fn apply(
        &self,
        actor: &Person,
        target: &Target,
        change: &Change,
    ) -> Result<Applied, EffectError> {
        let write = Write::of(target, change)?;
        let at = self
            .at(target)
            .map_err(|e| EffectError::Role(Box::new(e)))?;
        let credentials = self.assume(actor, target).await?;
        self.write(at, credentials, target, write).await
    }

    async fn unsilence(&self, actor: &Person, target: &Target) -> Result<Applied, EffectError> {
        self.apply(actor, target, &Change::Unsilence).await
    }
}

/// The effector `serve` acts through on the `aws` backend: reads and `sts:AssumeRole`
/// with `sdk`'s (the default) credentials, writes through `OPSVOICE_ACTIONS_ROLE_ARN`.
/// Without that role every write is refused with [`EffectError::Role`] before any call.
#[must_use]
pub fn effector(config: &Config, sdk: &SdkConfig) -> Arc<dyn Effector> {
    effector_with(sdk, ActionRoles::from_config(config))
}

/// [`effector`] with the roles given (the home account named in the accounts file).
#[must_use]
pub fn effector_with(sdk: &SdkConfig, roles: ActionRoles) -> Arc<dyn Effector> {
    Arc::new(AwsEffector::new(sdk, roles))
}

/// The effector over the accounts file's `accounts`, each place read as `places` reads it
/// (the data source's configurations: the same credentials, so no extra AssumeRole) and
/// written through its account's `actions_role` (the home role, `home_role`, for the home
/// account listed without a read role); `None` when no role writes anywhere.
#[must_use]
pub fn effector_over(
    home: &SdkConfig,
    home_role: Option<String>,
    accounts: &[crate::config::accounts::Account],
    places: impl IntoIterator<Item = (Place, SdkConfig)>,
) -> Option<Arc<dyn Effector>> {
    let roles = ActionRoles::of_accounts(home_role, accounts);
    roles
        .any()
        .then(|| Arc::new(AwsEffector::with_places(home, roles, places)) as Arc<dyn Effector>)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn person(username: &str, sub: &str) -> Person {
        Person {
            sub: sub.to_owned(),
            username: username.to_owned(),
        }
    }

    const SUB: &str = "4f2c8a1e-9b7d-4e3a-8c6f-1d2e3f4a5b6c";

    #[test]
    fn the_home_account_under_its_name_acts_through_the_home_role_and_others_have_none() {
        let roles =
            ActionRoles::home(Some("arn:aws:iam::1:role/act".to_owned())).home_account("home");
        let at = |account: Option<&str>| Target {
            account: account.map(str::to_owned),
            region: None,
            subject: crate::act::Subject::Service {
                service: crate::ops::ServiceRef::new("web", "checkout"),
            },
        };
        assert_eq!(
            roles.for_target(&at(None)).unwrap(),
            "arn:aws:iam::1:role/act"
        );
        assert_eq!(
            roles.for_target(&at(Some("home"))).unwrap(),
            "arn:aws:iam::1:role/act"
        );
        assert!(matches!(
            roles.for_target(&at(Some("prod"))),
            Err(RoleError::NoAccountRole(a)) if a == "prod"
        ));
        assert!(roles.is_home(None) && roles.is_home(Some("home")) && !roles.is_home(Some("prod")));
    }

    #[test]
    fn an_account_acts_through_its_own_role_and_the_home_one_only_as_a_fallback() {
        let accounts = crate::config::accounts::parse(
            r#"
[[account]]
name = "home"
actions_role = "arn:aws:iam::123456789012:role/home-act"
[[account]]
name = "lab"
[[account]]
name = "prod"
role = "arn:aws:iam::111111111111:role/opsvoice-read"
actions_role = "arn:aws:iam::111111111111:role/opsvoice-act"
[[account]]
name = "dev"
role = "arn:aws:iam::333333333333:role/opsvoice-read"
"#,
            "us-east-1",
        )
        .unwrap();
        let roles = ActionRoles::of_accounts(Some("arn:aws:iam::1:role/act".into()), &accounts);
        let at = |account: &str| Target {
            account: Some(account.to_owned()),
            region: Some("us-east-1".to_owned()),
            subject: crate::act::Subject::Service {
                service: ServiceRef::new("web", "checkout"),
            },
        };
        // Its own actions role first, even for an account read with the default
        // credentials; the home role for one without (the home account); none else.
        assert_eq!(
            roles.for_target(&at("home")).unwrap(),
            "arn:aws:iam::123456789012:role/home-act"
        );
        assert_eq!(
            roles.for_target(&at("lab")).unwrap(),
            "arn:aws:iam::1:role/act"
        );
        assert_eq!(
            roles.for_target(&at("prod")).unwrap(),
            "arn:aws:iam::111111111111:role/opsvoice-act"
        );
        assert!(matches!(
            roles.for_target(&at("dev")),
            Err(RoleError::NoAccountRole(a)) if a == "dev"
        ));
        assert!(roles.any());
        assert!(!ActionRoles::of_accounts(None, &accounts[3..]).any());
    }

    #[tokio::test]
    async fn a_place_not_read_or_an_account_without_a_role_is_refused_before_any_call() {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
            .load()
            .await;
        let roles = ActionRoles::home(None).account("prod", "arn:aws:iam::111111111111:role/act");
        let place = |a: &str, r: &str| {
            let mut b = sdk.to_builder();
            b.set_region(Some(aws_config::Region::new(r.to_owned())));
            (Place::new(a, r), b.build())
        };
        let effector = AwsEffector::with_places(
            &sdk,
            roles,
            [
                place("prod", "us-east-1"),
                place("prod", "eu-west-1"),
                place("dev", "us-east-1"),
            ],
        );
        let at = |a: Option<&str>, r: Option<&str>| Target {
            account: a.map(str::to_owned),
            region: r.map(str::to_owned),
            subject: crate::act::Subject::Service {
                service: ServiceRef::new("web", "checkout"),
            },
        };
        assert_eq!(
            effector.acts_in(&at(Some("prod"), Some("eu-west-1"))),
            Ok(())
        );
        assert_eq!(
            effector.acts_in(&at(Some("dev"), Some("us-east-1"))),
            Err(Refusal::NoActionsRole)
        );
        for nowhere in [
            at(Some("prod"), Some("ap-south-1")),
            at(Some("qa"), Some("us-east-1")),
            at(None, None),
        ] {
            assert_eq!(
                effector.acts_in(&nowhere),
                Err(Refusal::NotSetUpHere),
                "{nowhere}"
            );
        }
        assert_eq!(effector.regions_of("prod"), 2);
        assert_eq!(effector.regions_of("dev"), 1);
        // The writers are built in the target's own region.
        let eu = effector.at(&at(Some("prod"), Some("eu-west-1"))).unwrap();
        assert_eq!(
            eu.write.region().map(ToString::to_string).as_deref(),
            Some("eu-west-1")
        );
        assert!(effector.calls().snapshot().is_empty(), "nothing was called");
    }

    #[test]
    fn a_plain_username_is_the_source_identity() {
        for name in ["alice", "al", "a.lice@example.com", "ops_bot+1=2,3-4"] {
            let id = SessionIdentity::for_person(&person(name, SUB)).unwrap();
            assert_eq!(id.source_identity(), name);
            assert_eq!(id.session_name(), format!("opsvoice-{name}"));
        }
    }

    #[test]
    fn a_username_sts_cannot_take_gives_way_to_the_sub() {
        let long = "a".repeat(56);
        for name in [
            "",
            "a",
            "José",
            "alice smith",
            "team/alice",
            "aws:alice",
            &long,
        ] {
            let id = SessionIdentity::for_person(&person(name, SUB)).unwrap();
            assert_eq!(id.source_identity(), SUB, "{name:?}");
            assert_eq!(id.session_name(), format!("opsvoice-{SUB}"));
        }
        // 55 characters still fit with the prefix: 64 in all.
        let edge = "b".repeat(55);
        let id = SessionIdentity::for_person(&person(&edge, SUB)).unwrap();
        assert_eq!(id.session_name().len(), 64);
    }

    #[test]
    fn a_sub_is_sanitised_and_cut_to_fit_and_too_short_is_no_identity() {
        let id = SessionIdentity::for_person(&person("bad name", "us-east-1:ab cd/ef")).unwrap();
        assert_eq!(id.source_identity(), "us-east-1-ab-cd-ef");
        let long_sub = "x".repeat(80);
        let id = SessionIdentity::for_person(&person("", &long_sub)).unwrap();
        assert_eq!(id.source_identity().len(), SessionIdentity::MAX);
        assert_eq!(id.session_name().len(), 64);
        assert!(SessionIdentity::for_person(&person("", "x")).is_none());
        assert!(SessionIdentity::for_person(&person("", "")).is_none());
    }

    #[test]
    fn every_name_given_is_in_sts_alphabet_and_length() {
        let cases = [
            person("alice", SUB),
            person("Ünïcødé", "émoji-😀-sub"),
            person("", &"y".repeat(200)),
        ];
        for p in &cases {
            let id = SessionIdentity::for_person(p).unwrap();
            for name in [id.source_identity().to_owned(), id.session_name()] {
                assert!((2..=64).contains(&name.len()), "{name}");
                assert!(name.chars().all(allowed), "{name}");
            }
        }
    }

    #[test]
    fn the_home_role_writes_home_and_an_account_needs_its_own() {
        let service = Target::service(ServiceRef::new("prod", "checkout"));
        let roles = ActionRoles::home(Some("arn:aws:iam::111111111111:role/act".into()))
            .account("staging", "arn:aws:iam::222222222222:role/act");
        assert_eq!(
            roles.for_target(&service).unwrap(),
            "arn:aws:iam::111111111111:role/act"
        );
        let staging = Target {
            account: Some("staging".into()),
            ..service.clone()
        };
        assert_eq!(
            roles.for_target(&staging).unwrap(),
            "arn:aws:iam::222222222222:role/act"
        );
        let other = Target {
            account: Some("dev".into()),
            ..service.clone()
        };
        assert!(matches!(
            roles.for_target(&other),
            Err(RoleError::NoAccountRole(a)) if a == "dev"
        ));
        assert!(matches!(
            ActionRoles::default().for_target(&service),
            Err(RoleError::NotConfigured)
        ));
    }

    #[test]
    fn each_change_is_its_one_write_and_a_misfit_is_refused_unsent() {
        let svc = ServiceRef::new("prod", "checkout");
        let service = Target::service(svc.clone());
        let alarm = Target::alarm("checkout-5xx", Some(svc.clone()));
        let of = |t: &Target, c: Change| Write::of(t, &c);
        assert_eq!(
            of(&service, Change::Restart { running: 3 }).unwrap(),
            Write::Service {
                service: svc.clone(),
                update: Update::ForceNewDeployment
            }
        );
        assert_eq!(
            of(
                &service,
                Change::Rollback {
                    from: "checkout:42".into(),
                    to: "checkout:41".into(),
                    ran_until: Some(1),
                }
            )
            .unwrap(),
            Write::Service {
                service: svc.clone(),
                update: Update::TaskDefinition("checkout:41".into())
            }
        );
        assert_eq!(
            of(&service, Change::Scale { from: 3, to: 5 }).unwrap(),
            Write::Service {
                service: svc.clone(),
                update: Update::DesiredCount(5)
            }
        );
        assert_eq!(
            of(
                &alarm,
                Change::Silence {
                    until: 1,
                    actions_were_enabled: true
                }
            )
            .unwrap(),
            Write::Alarm {
                alarm: "checkout-5xx".into(),
                enable: false
            }
        );
        assert_eq!(
            of(&alarm, Change::Unsilence).unwrap(),
            Write::Alarm {
                alarm: "checkout-5xx".into(),
                enable: true
            }
        );
        for (target, change) in [
            (&alarm, Change::Restart { running: 1 }),
            (&service, Change::Unsilence),
            (
                &service,
                Change::Scale {
                    from: 1,
                    to: u32::MAX,
                },
            ),
        ] {
            assert!(
                matches!(of(target, change), Err(EffectError::Refused { .. })),
                "{target}"
            );
        }
    }

    mod classify {
        use super::*;
        use aws_sdk_ecs::operation::update_service::UpdateServiceError;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        use aws_smithy_runtime_api::http::StatusCode;
        use aws_smithy_types::body::SdkBody;
        use aws_smithy_types::error::ErrorMetadata;

        fn answered(status: u16, code: &str) -> SdkError<UpdateServiceError, HttpResponse> {
            SdkError::service_error(
                UpdateServiceError::generic(
                    ErrorMetadata::builder()
                        .code(code)
                        .message("as AWS said it")
                        .build(),
                ),
                HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty()),
            )
        }

        fn kind(e: &EffectError) -> &'static str {
            match e {
                EffectError::Role(_) => "role",
                EffectError::Refused { .. } => "refused",
                EffectError::Unknown { .. } => "unknown",
            }
        }

        #[test]
        fn a_4xx_answer_is_refused_with_aws_s_words() {
            for (status, code) in [
                (400, "ClientException"),
                (400, "InvalidParameterException"),
                (400, "ServiceNotFoundException"),
                (400, "AccessDeniedException"),
                (403, "AccessDenied"),
            ] {
                let e = classify("ECS", answered(status, code));
                assert_eq!(kind(&e), "refused", "{status} {code}");
                assert_eq!(
                    e.to_string(),
                    format!("ECS refused the change: {code}: as AWS said it")
                );
            }
        }

        #[test]
        fn a_5xx_or_throttling_answer_is_unknown() {
            for (status, code) in [
                (500, "ServerException"),
                (503, "ServiceUnavailable"),
                (400, "ThrottlingException"),
                (429, "TooManyRequestsException"),
                (400, "Throttling"),
            ] {
                let e = classify("ECS", answered(status, code));
                assert_eq!(kind(&e), "unknown", "{status} {code}");
                assert_eq!(e.to_string(), "ECS did not say whether the change was made");
            }
        }

        #[test]
        fn a_timeout_or_a_lost_connection_is_unknown() {
            let timeout: SdkError<UpdateServiceError, HttpResponse> =
                SdkError::timeout_error("operation timed out");
            assert_eq!(kind(&classify("ECS", timeout)), "unknown");
            let io: SdkError<UpdateServiceError, HttpResponse> =
                SdkError::dispatch_failure(ConnectorError::io("connection reset by peer".into()));
            assert_eq!(kind(&classify("ECS", io)), "unknown");
            let slow: SdkError<UpdateServiceError, HttpResponse> =
                SdkError::dispatch_failure(ConnectorError::timeout("read timed out".into()));
            assert_eq!(kind(&classify("ECS", slow)), "unknown");
            let garbled: SdkError<UpdateServiceError, HttpResponse> = SdkError::response_error(
                "unparseable body",
                HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::empty()),
            );
            assert_eq!(kind(&classify("ECS", garbled)), "unknown");
        }

        #[test]
        fn a_request_never_built_is_refused() {
            let e: SdkError<UpdateServiceError, HttpResponse> =
                SdkError::construction_failure("missing field");
            assert_eq!(kind(&classify("ECS", e)), "refused");
        }

        #[tokio::test]
        async fn a_write_that_cannot_connect_is_refused() {
            // A port nothing listens on: the connection is refused before anything is sent.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(format!("http://127.0.0.1:{port}"))
                .region(aws_config::Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
                .load()
                .await;
            let effector = AwsEffector::new(&sdk, ActionRoles::default());
            let result = effector
                .ecs_writer(
                    &effector.home,
                    Credentials::new("k", "s", None, None, "tests"),
                )
                .update_service()
                .cluster("prod")
                .service("checkout")
                .desired_count(2)
                .send()
                .await;
            let e = classify("ECS", result.unwrap_err());
            assert_eq!(kind(&e), "refused", "{e:?}");
        }
    }

    mod mapping {
        use super::*;
        use aws_sdk_ecs::types::{
            Deployment, DeploymentController, DeploymentControllerType, DeploymentRolloutState,
        };
        use aws_smithy_types::DateTime;

        const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/checkout";

        fn deployment(
            id: &str,
            status: &str,
            rev: u32,
            rollout: DeploymentRolloutState,
            running: i32,
            created: i64,
            updated: i64,
        ) -> Deployment {
            Deployment::builder()
                .id(id)
                .status(status)
                .task_definition(format!("{TD}:{rev}"))
                .rollout_state(rollout)
                .desired_count(3)
                .running_count(running)
                .created_at(DateTime::from_secs(created))
                .updated_at(DateTime::from_secs(updated))
                .build()
        }

        fn service(deployments: Vec<Deployment>) -> aws_sdk_ecs::types::builders::ServiceBuilder {
            Service::builder()
                .service_name("checkout")
                .status("ACTIVE")
                .task_definition(format!("{TD}:42"))
                .desired_count(3)
                .running_count(3)
                .set_deployments(Some(deployments))
        }

        #[test]
        fn a_service_reads_as_family_revision_with_an_ecs_controller_by_default() {
            let s = service(vec![deployment(
                "ecs-svc/2",
                "PRIMARY",
                42,
                DeploymentRolloutState::Completed,
                3,
                1000,
                1200,
            )])
            .build();
            let now = service_now("prod", &s);
            assert_eq!(now.service, ServiceRef::new("prod", "checkout"));
            assert_eq!(now.controller, "ECS");
            assert_eq!(now.task_definition, "checkout:42");
            assert_eq!((now.desired, now.running), (3, 3));
            assert_eq!(now.deployments.len(), 1);
            // Only the current deployment listed: no evidence, and no guess at :41.
            assert_eq!(now.previous, None);
            assert!(!now.rolling());
        }

        #[test]
        fn the_controller_is_read_when_ecs_says_it() {
            let s = service(Vec::new())
                .deployment_controller(
                    DeploymentController::builder()
                        .r#type(DeploymentControllerType::CodeDeploy)
                        .build()
                        .unwrap(),
                )
                .build();
            assert_eq!(service_now("prod", &s).controller, "CODE_DEPLOY");
        }

        #[test]
        fn an_older_deployment_still_running_is_evidence_without_an_end() {
            let s = service(vec![
                deployment(
                    "ecs-svc/1",
                    "ACTIVE",
                    41,
                    DeploymentRolloutState::Completed,
                    1,
                    100,
                    900,
                ),
                deployment(
                    "ecs-svc/2",
                    "PRIMARY",
                    42,
                    DeploymentRolloutState::InProgress,
                    2,
                    1000,
                    1100,
                ),
            ])
            .build();
            let now = service_now("prod", &s);
            assert_eq!(
                now.deployments
                    .iter()
                    .map(|d| d.id.as_str())
                    .collect::<Vec<_>>(),
                ["ecs-svc/2", "ecs-svc/1"],
                "newest first"
            );
            assert!(now.rolling());
            assert_eq!(
                now.previous,
                Some(Previous {
                    task_definition: "checkout:41".into(),
                    ran_until: None,
                    evidence: crate::act::effect::Evidence::OlderDeployment,
                })
            );
        }

        #[test]
        fn a_drained_older_deployment_ran_until_ecs_last_updated_it() {
            let s = service(vec![
                deployment(
                    "ecs-svc/2",
                    "PRIMARY",
                    42,
                    DeploymentRolloutState::InProgress,
                    3,
                    1000,
                    1100,
                ),
                deployment(
                    "ecs-svc/1",
                    "DRAINING",
                    41,
                    DeploymentRolloutState::Completed,
                    0,
                    100,
                    1090,
                ),
            ])
            .build();
            let previous = service_now("prod", &s).previous.unwrap();
            assert_eq!(previous.task_definition, "checkout:41");
            assert_eq!(previous.ran_until, Some(1090));
        }

        #[test]
        fn a_failed_deployment_or_one_of_the_same_revision_is_no_evidence() {
            // The circuit breaker rolling back from :43 to :42: :43 failed, and is not
            // "the one before".
            let s = service(vec![
                deployment(
                    "ecs-svc/3",
                    "PRIMARY",
                    42,
                    DeploymentRolloutState::InProgress,
                    1,
                    2000,
                    2000,
                ),
                deployment(
                    "ecs-svc/2",
                    "ACTIVE",
                    43,
                    DeploymentRolloutState::Failed,
                    0,
                    1500,
                    1990,
                ),
                deployment(
                    "ecs-svc/1",
                    "ACTIVE",
                    42,
                    DeploymentRolloutState::Completed,
                    2,
                    100,
                    1400,
                ),
            ])
            .build();
            assert_eq!(service_now("prod", &s).previous, None);
        }

        #[test]
        fn an_alarm_s_actions_are_all_three_lists() {
            use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
            use aws_sdk_cloudwatch::types::{CompositeAlarm, MetricAlarm};
            let out = DescribeAlarmsOutput::builder()
                .metric_alarms(
                    MetricAlarm::builder()
                        .alarm_name("checkout-cpu-high-other")
                        .build(),
                )
                .metric_alarms(
                    MetricAlarm::builder()
                        .alarm_name("checkout-cpu-high")
                        .alarm_actions("arn:aws:sns:us-east-1:1:page")
                        .ok_actions("arn:aws:sns:us-east-1:1:ok")
                        .insufficient_data_actions(
                            "arn:aws:autoscaling:us-east-1:1:scalingPolicy:x",
                        )
                        .actions_enabled(false)
                        .build(),
                )
                .composite_alarms(
                    CompositeAlarm::builder()
                        .alarm_name("prod-impact")
                        .alarm_actions("arn:aws:sns:us-east-1:1:page")
                        .actions_enabled(true)
                        .build(),
                )
                .build();
            let alarm = alarm_now("checkout-cpu-high", &out).unwrap();
            assert_eq!(alarm.actions.len(), 3);
            assert!(!alarm.actions_enabled);
            assert!(!alarm.notification_only());
            let composite = alarm_now("prod-impact", &out).unwrap();
            assert!(composite.actions_enabled);
            assert!(composite.notification_only());
            assert_eq!(alarm_now("nope", &out), None);
        }
    }
}
