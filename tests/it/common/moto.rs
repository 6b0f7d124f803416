//! moto server on a loopback port, for tests that drive the real AWS SDK clients.
//!
//! `scripts/test.sh` installs `moto[server]` into `.venv`; `OPSVOICE_MOTO_SERVER` may point
//! elsewhere. A missing moto is a test failure naming the setup command, never a skip.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StandardUnit, StateValue, Statistic,
};
use aws_sdk_ecs::types::{ContainerDefinition, LoadBalancer};

/// Where the moto server executable is, or why not.
pub fn moto_server_path() -> Result<PathBuf, String> {
    let path = std::env::var_os("OPSVOICE_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"));
    moto_server_path_at(&path)
}

/// `path` if it is a file, else the error that tells how to install moto.
pub fn moto_server_path_at(path: &std::path::Path) -> Result<PathBuf, String> {
    let path = path.to_path_buf();
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "moto server not found at {}. Run `scripts/test.sh`, which installs moto[server] into .venv \
             (or set OPSVOICE_MOTO_SERVER to a moto_server executable).",
            path.display()
        ))
    }
}

/// A running moto server; killed when dropped.
pub struct Moto {
    pub port: u16,
    child: Option<Child>,
    /// The one account it serves every request as (`MOTO_ACCOUNT_ID`), if set.
    account: Option<String>,
}

impl Moto {
    /// Starts moto. New ECS services start with 2 running tasks, so a service that wants 2
    /// is healthy and one that wants more is mid-rollout.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port, None)
    }

    /// `n` distinct free ports, for servers started at once (each picked while the others
    /// are still held, so no two are the same).
    pub fn free_ports(n: usize) -> Vec<u16> {
        let held: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        held.iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect()
    }

    /// Starts moto on `port` serving every request as the account `id` (when given),
    /// whatever key signed it (`MOTO_ACCOUNT_ID`, which moto 5 reads before the request's
    /// own key; see `moto/core/responses.py`, `get_current_account`): one shard of a fleet
    /// of accounts.
    pub fn start_on(port: u16, account: Option<&str>) -> Self {
        let account = account.map(str::to_owned);
        let mut moto = Self {
            port,
            child: None,
            account,
        };
        moto.spawn();
        moto
    }

    fn spawn(&mut self) {
        let path = moto_server_path().unwrap_or_else(|e| panic!("{e}"));
        let mut command = Command::new(path);
        command
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .env("MOTO_ECS_SERVICE_RUNNING", "2");
        if let Some(id) = &self.account {
            command.env("MOTO_ACCOUNT_ID", id);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the server is still running (one that could not listen has exited).
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The opsvoice binary with `args`, on the `aws` backend against this moto through the
    /// standard AWS environment (endpoint, static test keys, region, no IMDS or profile).
    pub fn opsvoice(&self, args: &[&str]) -> std::process::Command {
        // Cargo names the binary for tests; the examples that share this file (which never
        // run it) get the debug build's path.
        let binary = option_env!("CARGO_BIN_EXE_opsvoice").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/debug/opsvoice"),
            PathBuf::from,
        );
        let mut command = std::process::Command::new(binary);
        command
            .args(args)
            .env("OPSVOICE_BACKEND", "aws")
            .env("AWS_ENDPOINT_URL", self.url())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE");
        command
    }

    /// Kills moto (its state goes with it).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts moto again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// SDK configuration pointing at this moto, with the production timeouts.
    pub async fn sdk(&self) -> SdkConfig {
        sdk_for(&self.url()).await
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SDK configuration for any endpoint, with test credentials and the production timeouts
/// and retry policy.
pub async fn sdk_for(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .timeout_config(opsvoice::ops::aws::timeouts())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// Timeouts for clients that set tests up: setup is not what is tested, and a freshly
/// started moto takes seconds to load a service's backend on its first call.
pub fn patient() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(30))
        .operation_attempt_timeout(Duration::from_secs(30))
        .build()
}

/// Seeds moto through the SDK.
pub struct Seed {
    pub ecs: aws_sdk_ecs::Client,
    pub cw: aws_sdk_cloudwatch::Client,
}

impl Seed {
    /// Seeding clients, with [`patient`] timeouts.
    pub async fn new(sdk: &SdkConfig) -> Self {
        let patient = patient();
        Self {
            ecs: aws_sdk_ecs::Client::from_conf(
                aws_sdk_ecs::config::Builder::from(sdk)
                    .timeout_config(patient.clone())
                    .build(),
            ),
            cw: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(sdk)
                    .timeout_config(patient)
                    .build(),
            ),
        }
    }

    pub async fn cluster(&self, name: &str) {
        self.ecs
            .create_cluster()
            .cluster_name(name)
            .send()
            .await
            .unwrap();
    }

    /// A service wanting `desired` tasks (moto runs 2 of them), optionally behind a target group.
    pub async fn service(
        &self,
        cluster: &str,
        name: &str,
        desired: i32,
        target_group: Option<&str>,
    ) {
        let td = self
            .ecs
            .register_task_definition()
            .family(name)
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image("app:1")
                    .memory(256)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let arn = td
            .task_definition()
            .unwrap()
            .task_definition_arn()
            .unwrap()
            .to_owned();
        let mut create = self
            .ecs
            .create_service()
            .cluster(cluster)
            .service_name(name)
            .task_definition(arn)
            .desired_count(desired);
        if let Some(tg) = target_group {
            create = create.load_balancers(
                LoadBalancer::builder()
                    .target_group_arn(tg)
                    .container_name("app")
                    .container_port(8080)
                    .build(),
            );
        }
        create.send().await.unwrap();
    }

    /// A metric alarm on an ECS service's CPU, forced into `state` with `reason`.
    pub async fn service_alarm(
        &self,
        name: &str,
        cluster: &str,
        service: &str,
        state: StateValue,
        reason: &str,
    ) {
        self.cw
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/ECS")
            .metric_name("CPUUtilization")
            .dimensions(
                Dimension::builder()
                    .name("ClusterName")
                    .value(cluster)
                    .build(),
            )
            .dimensions(
                Dimension::builder()
                    .name("ServiceName")
                    .value(service)
                    .build(),
            )
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(80.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .send()
            .await
            .unwrap();
        self.set_state(name, state, reason).await;
    }

    pub async fn set_state(&self, name: &str, state: StateValue, reason: &str) {
        self.cw
            .set_alarm_state()
            .alarm_name(name)
            .state_value(state)
            .state_reason(reason)
            .send()
            .await
            .unwrap();
    }

    /// Data points for an ECS service metric, `(minutes ago, value)`.
    pub async fn ecs_metric(
        &self,
        cluster: &str,
        service: &str,
        metric: &str,
        points: &[(u64, f64)],
    ) {
        let dims = [("ClusterName", cluster), ("ServiceName", service)];
        self.put_points("AWS/ECS", metric, &dims, StandardUnit::Percent, points)
            .await;
    }

    /// 5xx counts for a target group behind `load_balancer`, `(minutes ago, value)`.
    pub async fn alb_5xx(&self, load_balancer: &str, target_group: &str, points: &[(u64, f64)]) {
        let dims = [
            ("LoadBalancer", load_balancer),
            ("TargetGroup", target_group),
        ];
        self.put_points(
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            &dims,
            StandardUnit::Count,
            points,
        )
        .await;
    }

    /// PutMetricData, one point per `(minutes ago, value)`, each half a minute into its minute.
    async fn put_points(
        &self,
        namespace: &str,
        metric: &str,
        dimensions: &[(&str, &str)],
        unit: StandardUnit,
        points: &[(u64, f64)],
    ) {
        let now = std::time::SystemTime::now();
        let data: Vec<MetricDatum> = points
            .iter()
            .map(|(ago, value)| {
                let mut datum = MetricDatum::builder()
                    .metric_name(metric)
                    .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from(
                        now - Duration::from_secs(ago * 60 + 30),
                    ))
                    .value(*value)
                    .unit(unit.clone());
                for (name, value) in dimensions {
                    datum =
                        datum.dimensions(Dimension::builder().name(*name).value(*value).build());
                }
                datum.build()
            })
            .collect();
        self.cw
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .unwrap();
    }
}

/// What a test's moto holds, written down once and planted with [`Seed::plant`]: clusters
/// and services, metric alarms on service CPU in a given state, and CPU data points.
#[derive(Default, Clone)]
pub struct Fleet {
    services: Vec<(String, String, i32, Option<String>)>,
    alarms: Vec<(String, String, String, StateValue, String)>,
    cpu: Vec<(String, String, Points)>,
}

/// Data points, `(minutes ago, value)`.
type Points = Vec<(u64, f64)>;

impl Fleet {
    pub fn new() -> Self {
        Self::default()
    }

    /// A service wanting `desired` tasks in `cluster` (created on first mention).
    pub fn service(mut self, cluster: &str, name: &str, desired: i32) -> Self {
        self.services
            .push((cluster.into(), name.into(), desired, None));
        self
    }

    /// A service behind a target group.
    pub fn service_behind(mut self, cluster: &str, name: &str, desired: i32, tg: &str) -> Self {
        self.services
            .push((cluster.into(), name.into(), desired, Some(tg.into())));
        self
    }

    /// A CPU alarm `name` on `cluster`/`service`, in `state` for `reason`.
    pub fn alarm(
        mut self,
        name: &str,
        cluster: &str,
        service: &str,
        state: StateValue,
        reason: &str,
    ) -> Self {
        self.alarms.push((
            name.into(),
            cluster.into(),
            service.into(),
            state,
            reason.into(),
        ));
        self
    }

    /// CPU data points for a service, `(minutes ago, percent)`.
    pub fn cpu(mut self, cluster: &str, service: &str, points: &[(u64, f64)]) -> Self {
        self.cpu
            .push((cluster.into(), service.into(), points.to_vec()));
        self
    }
}

impl Seed {
    /// Creates everything `fleet` describes.
    pub async fn plant(&self, fleet: &Fleet) {
        let mut clusters: Vec<&str> = Vec::new();
        for (cluster, ..) in &fleet.services {
            if !clusters.contains(&cluster.as_str()) {
                clusters.push(cluster);
            }
        }
        for cluster in clusters {
            self.cluster(cluster).await;
        }
        for (cluster, name, desired, tg) in &fleet.services {
            self.service(cluster, name, *desired, tg.as_deref()).await;
        }
        for (name, cluster, service, state, reason) in &fleet.alarms {
            self.service_alarm(name, cluster, service, state.clone(), reason)
                .await;
        }
        for (cluster, service, points) in &fleet.cpu {
            self.ecs_metric(cluster, service, "CPUUtilization", points)
                .await;
        }
    }
}

impl Moto {
    /// A moto server holding `fleet`.
    pub async fn seeded(fleet: &Fleet) -> Self {
        let moto = Self::start();
        Seed::new(&moto.sdk().await).await.plant(fleet).await;
        moto
    }
}

/// The live assistant the tests answer with, built as `serve` builds it for
/// `OPSVOICE_BACKEND=aws` ([`opsvoice::live_source`], then [`opsvoice::builder`], so the
/// identity is the configuration's), with the count of calls made to AWS.
pub struct Live {
    pub assistant: std::sync::Arc<opsvoice::channel::Assistant>,
    pub calls: std::sync::Arc<opsvoice::ops::aws::CallCounts>,
}

impl Live {
    /// On the given clients (moto, a proxy in front of it, or mocks), clock and configuration.
    pub fn with(
        ecs: aws_sdk_ecs::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        clock: std::sync::Arc<dyn opsvoice::ops::Clock>,
        config: &opsvoice::config::Config,
    ) -> Self {
        let (source, calls) = opsvoice::live_source(ecs, cloudwatch, clock.clone(), config);
        Self {
            assistant: futures_util::FutureExt::now_or_never(
                opsvoice::builder(config)
                    .clock(clock)
                    .ops(std::sync::Arc::new(source))
                    .lex(None)
                    .assistant(),
            )
            .expect("nothing to wait for: the source and the bot are given")
            .unwrap(),
            calls,
        }
    }

    /// On `sdk`'s endpoint with the default configuration.
    pub fn on(sdk: &SdkConfig, clock: std::sync::Arc<dyn opsvoice::ops::Clock>) -> Self {
        Self::with(
            aws_sdk_ecs::Client::new(sdk),
            aws_sdk_cloudwatch::Client::new(sdk),
            clock,
            &opsvoice::config::Config::default(),
        )
    }
}

/// A Cognito user pool in moto with one app client that allows USER_PASSWORD_AUTH.
pub struct UserPool {
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub pool: String,
    pub client: String,
}

/// A signed-in user's tokens.
pub struct SignedIn {
    pub access: String,
    pub id: String,
}

impl UserPool {
    pub async fn create(sdk: &SdkConfig) -> Self {
        use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;
        let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
            aws_sdk_cognitoidentityprovider::config::Builder::from(sdk)
                .timeout_config(patient())
                .build(),
        );
        let pool = cognito
            .create_user_pool()
            .pool_name("ops")
            .send()
            .await
            .unwrap();
        let pool = pool.user_pool().unwrap().id().unwrap().to_owned();
        let client = cognito
            .create_user_pool_client()
            .user_pool_id(&pool)
            .client_name("opsvoice")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .unwrap();
        let client = client
            .user_pool_client()
            .unwrap()
            .client_id()
            .unwrap()
            .to_owned();
        Self {
            cognito,
            pool,
            client,
        }
    }

    pub async fn group(&self, name: &str) {
        self.cognito
            .create_group()
            .user_pool_id(&self.pool)
            .group_name(name)
            .send()
            .await
            .unwrap();
    }

    /// Creates `user` (in `group`, if any) and signs in with USER_PASSWORD_AUTH.
    pub async fn sign_in(&self, user: &str, group: Option<&str>) -> SignedIn {
        use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
        let c = &self.cognito;
        c.admin_create_user()
            .user_pool_id(&self.pool)
            .username(user)
            .send()
            .await
            .unwrap();
        c.admin_set_user_password()
            .user_pool_id(&self.pool)
            .username(user)
            .password("Correct-Horse-9")
            .permanent(true)
            .send()
            .await
            .unwrap();
        if let Some(group) = group {
            c.admin_add_user_to_group()
                .user_pool_id(&self.pool)
                .username(user)
                .group_name(group)
                .send()
                .await
                .unwrap();
        }
        let auth = c
            .initiate_auth()
            .client_id(&self.client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", "Correct-Horse-9")
            .send()
            .await
            .unwrap();
        let result = auth.authentication_result().unwrap();
        SignedIn {
            access: result.access_token().unwrap().to_owned(),
            id: result.id_token().unwrap().to_owned(),
        }
    }
}

/// A table shaped as the store expects (`pk` string key), on demand.
pub async fn store_table(sdk: &aws_config::SdkConfig, name: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}
