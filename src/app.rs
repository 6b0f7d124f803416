//! Building the app from its configuration, once, whole: the data source (demo, or AWS
//! behind the cache), who may ask what, the store, Slack, the notifier and the Alexa
//! verifier ([`builder`]), and what runs beside it ([`Background`]). `serve`, the Lambda
//! function, `ask`/`chat` and the tests all start here; the tests pass in moto, stand-ins
//! or a fake clock through the same builder.

mod accounts;
mod source;

pub use accounts::{Accounts, accounts_source, check_live};
use source::{configured_source, demo_logs};

use std::sync::Arc;

use crate::assistant::Assistant;
use crate::channel;
use crate::clock::{self, Clock};
use crate::config::{self, Backend, Config};
use crate::dialog;
use crate::{auth, aws, error, ops, server, speech, telemetry};

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Every error of [`Config::problems`].
    #[error("{}", config::lines(.0))]
    Config(Vec<String>),
    #[error(transparent)]
    Build(#[from] crate::assistant::BuildError),
    #[error("Alexa verification: {0}")]
    Alexa(#[from] channel::alexa::verify::SetupError),
    #[error(
        "OPSVOICE_BACKEND=aws serves live data, which must only reach verified Cognito users: \
         set OPSVOICE_COGNITO_USER_POOL_ID, OPSVOICE_COGNITO_CLIENT_IDS and a region \
         (OPSVOICE_COGNITO_REGION or AWS_REGION)"
    )]
    NoVerifiedCallers,
    #[error("cannot read OPSVOICE_POLICY_FILE {path}: {source}")]
    PolicyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("OPSVOICE_POLICY_FILE: {0}")]
    Policy(#[from] auth::policy::PolicyError),
    #[error("Cognito: {0}")]
    Cognito(#[from] auth::cognito::AuthError),
    #[error("Slack: {0}")]
    Slack(String),
    #[error("the store: {0}")]
    Store(#[from] crate::store::OpenError),
    #[error("notifications: {0}")]
    Notify(String),
    #[error("OPSVOICE_ACCOUNTS_FILE {0}")]
    Accounts(#[from] config::accounts::AccountsError),
}

/// Builds the app. Every part is given before anything is shared: the data source, the
/// identity (who may ask what), the store, the Lex bot and the voice either come from the
/// configuration or are passed in (the tests put moto, a stand-in or a fake clock there),
/// and [`Builder::build`] returns the finished, immutable state `serve`, the Lambda
/// function and the tests answer with. Nothing is patched into a shared value afterwards.
#[must_use = "a builder does nothing until it is built"]
pub struct Builder<'a> {
    config: &'a Config,
    clock: Arc<dyn Clock>,
    ops: Option<Arc<dyn ops::OpsSource>>,
    identity: Option<auth::Identity>,
    store: Option<Arc<dyn crate::store::Store>>,
    lex: Option<Option<Arc<dyn channel::ask::Recognizer>>>,
    voice: Option<speech::polly::Voice>,
    deadline: Option<std::time::Duration>,
    assistant: Option<Arc<Assistant>>,
    alexa: Option<channel::alexa::verify::Verifier>,
    slack: Option<Arc<channel::slack::Slack>>,
    events: Option<crate::notify::http::EventsState>,
    effector: Option<Arc<dyn crate::act::effect::Effector>>,
    logs: Option<Arc<dyn ops::logs::LogSource>>,
}

/// The app `config` describes, on the system clock.
pub fn builder(config: &Config) -> Builder<'_> {
    Builder {
        config,
        clock: Arc::new(clock::SystemClock),
        ops: None,
        identity: None,
        store: None,
        lex: None,
        voice: None,
        deadline: None,
        assistant: None,
        alexa: None,
        slack: None,
        events: None,
        effector: None,
        logs: None,
    }
}

impl Builder<'_> {
    /// Makes actions' reads and writes through `effector` instead of the configured one
    /// (tests: the real AWS effector pointed at moto).
    pub fn effector(mut self, effector: Arc<dyn crate::act::effect::Effector>) -> Self {
        self.effector = Some(effector);
        self
    }

    /// Reads services' logs from `logs` instead of the configured source (tests: the real
    /// CloudWatch Logs source pointed at moto).
    pub fn logs(mut self, logs: Arc<dyn ops::logs::LogSource>) -> Self {
        self.logs = Some(logs);
        self
    }

    /// Measures time with `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The app for the local operator (`opsvoice ask` and `chat` in-process): their own
    /// AWS credentials are the authorization, so no sign-in is asked for and questions are
    /// understood here, not through Lex.
    pub fn local_operator(mut self) -> Self {
        self.identity = Some(auth::Identity::open());
        self.lex = Some(None);
        self
    }

    /// Answers from `ops` instead of the configured backend (already cached, if it should be).
    pub fn ops(mut self, ops: Arc<dyn ops::OpsSource>) -> Self {
        self.ops = Some(ops);
        self
    }

    /// Lets in whom `identity` lets in, instead of the configured pool and policy.
    pub fn identity(mut self, identity: auth::Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// Keeps links, Slack events, the notification queue and the event log in `store`
    /// instead of the configured one.
    pub fn store(mut self, store: Arc<dyn crate::store::Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Sends `/v1/ask` through `bot` (or through no bot) instead of the configured one.
    pub fn lex(mut self, bot: Option<Arc<dyn channel::ask::Recognizer>>) -> Self {
        self.lex = Some(bot);
        self
    }

    /// Speaks with `voice` instead of the configured Polly voice.
    pub fn voice(mut self, voice: speech::polly::Voice) -> Self {
        self.voice = Some(voice);
        self
    }

    /// Answers with `assistant`, already built (with its own identity: see
    /// [`Assistant::builder`]), instead of one from the configuration.
    pub fn with_assistant(mut self, assistant: Arc<Assistant>) -> Self {
        self.assistant = Some(assistant);
        self
    }

    /// Verifies Alexa requests with `verifier` instead of the configured one.
    pub fn alexa(mut self, verifier: channel::alexa::verify::Verifier) -> Self {
        self.alexa = Some(verifier);
        self
    }

    /// Serves this Slack app instead of the configured one.
    pub fn slack(mut self, slack: Arc<channel::slack::Slack>) -> Self {
        self.slack = Some(slack);
        self
    }

    /// Takes SNS deliveries and notifications with `events` instead of the configured ones.
    pub fn events(mut self, events: crate::notify::http::EventsState) -> Self {
        self.events = Some(events);
        self
    }

    /// Answers within `deadline` instead of the configured one.
    pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The assistant alone, with the event log when a store was given (what `opsvoice ask`
    /// and `chat` answer with in-process, and the tests that need no routes).
    ///
    /// # Errors
    /// `aws` without a Cognito pool (unless an identity was given), a bad policy file, or
    /// invalid embedded prompts or model.
    pub async fn assistant(self) -> Result<Arc<Assistant>, StartError> {
        let config = self.config;
        let identity = match self.identity {
            Some(identity) => identity,
            None => identity(config, self.clock.clone())?,
        };
        let (ops, configured_effector, configured_logs) = match self.ops {
            // Given data, and no logs: the demo's logs on the demo, none on `aws`.
            Some(ops) => (ops, None, demo_logs(config)),
            None => configured_source(config, self.clock.clone()).await?,
        };
        let logs = self.logs.or(configured_logs);
        let effector = self.effector.or(configured_effector);
        let answers_from = ops.clone();
        let lex = match self.lex {
            Some(bot) => bot,
            None => channel::ask::LexBot::from_config(&config.lex)
                .await
                .map(|bot| Arc::new(bot) as Arc<dyn channel::ask::Recognizer>),
        };
        let mut assistant = Assistant::builder(ops, self.clock.clone(), identity)
            .region(config.aws.region.clone())
            .deadline(self.deadline.unwrap_or(config.server.answer_deadline))
            .voice(
                self.voice
                    .unwrap_or_else(|| speech::polly::Voice::new(config.polly.clone())),
            )
            .lex(lex);
        if let Some(logs) = logs {
            assistant = assistant.logs(logs);
        }
        if let Some(key) = &config.server.session_key {
            assistant = assistant.sealer(dialog::context::Sealer::new(key.expose()));
        }
        // Acting needs somewhere to keep its records: the store, or (on the demo fleet,
        // where nothing is real) a database file of its own.
        let act_store = match (&self.store, config.aws.backend) {
            (Some(store), _) => Some(store.clone()),
            (None, Backend::Demo) => demo_store(self.clock.clone()),
            (None, Backend::Aws) => None,
        };
        if let (Some(store), Some(effector)) = (act_store.clone(), effector) {
            let announcer = announcer(config);
            assistant = assistant.desk(Arc::new(
                crate::act::desk::Desk::new(
                    store,
                    self.clock.clone(),
                    crate::act::Gate::from_config(config),
                    effector,
                    announcer,
                )
                .answering_from(answers_from),
            ));
        }
        // "What did I miss?" reads the event log: the store's, or on the demo the acting
        // store's own (where ended actions are logged).
        if let Some(store) = self.store.or(act_store) {
            assistant = assistant.event_log(store);
        }
        Ok(assistant.build()?)
    }

    /// Everything `serve` and the Lambda function answer with: the assistant, the store
    /// (when the configuration wants one), the Slack app, the notifier and `/events`, the
    /// Alexa verifier and the metrics recorder.
    ///
    /// # Errors
    /// As [`Builder::assistant`], an unopenable store, Slack or notification settings that
    /// cannot work, or bad Alexa or SNS test settings.
    pub async fn build(mut self) -> Result<server::AppState, StartError> {
        let config = self.config;
        let clock = self.clock.clone();
        if self.store.is_none() && config.wants_store() {
            self.store = Some(crate::store::open(config, clock.clone()).await?);
        }
        let store = self.store.clone();
        let (given_slack, given_events, given_alexa) =
            (self.slack.take(), self.events.take(), self.alexa.take());
        let assistant = match self.assistant.take() {
            Some(assistant) => assistant,
            None => self.assistant().await?,
        };
        let events = match (given_events, &store) {
            (Some(given), _) => given,
            (None, Some(store)) => {
                events(config, assistant.clone(), store.clone(), clock.clone()).await?
            }
            (None, None) => crate::notify::http::EventsState::default(),
        };
        // The notifier's cards are acknowledged through the Slack app.
        let slack = match (given_slack, &config.slack.signing_secret, &store) {
            (Some(given), _, _) => Some(given),
            (None, Some(_), Some(store)) => Some(slack(
                config,
                assistant.clone(),
                store.clone(),
                clock.clone(),
                events
                    .notifier
                    .clone()
                    .map(|n| n as Arc<dyn channel::slack::ack::Acknowledge>),
            )?),
            _ => None,
        };
        let alexa = match given_alexa {
            Some(given) => given,
            None => alexa_verifier(config, clock)?,
        };
        Ok(server::AppState {
            assistant,
            metrics: telemetry::metrics(),
            alexa: Arc::new(alexa),
            herald: channel::alexa::progress::Herald::new(config.alexa.api_base_url.clone()),
            slack,
            events,
            _built: server::Built::new(),
        })
    }
}

/// How often `serve` looks at open actions and running silences.
pub const ACT_TICK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Ticks the acting desk every `every` until `stop` (a restart in between loses nothing:
/// everything the tick needs is in the store).
async fn keep_acting(
    desk: Arc<crate::act::desk::Desk>,
    every: std::time::Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let ticking = async {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let ticked = desk.tick().await;
            if ticked != crate::act::desk::Ticked::default() {
                tracing::info!(?ticked, "actions ticked");
            }
        }
    };
    tokio::select! {
        () = ticking => {}
        () = stop => {}
    }
}

/// What runs beside the app while it serves: the session key made off the request path,
/// the background refresh, and (for `serve`) the notification delivery loop. `serve` and
/// the Lambda function start it the same way; the Lambda's never stops (the environment is
/// frozen between invocations, the refresh with it).
pub struct Background {
    stop: tokio::sync::watch::Sender<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    /// Starts the background work for `state`; with `deliver`, the loop that posts queued
    /// notification cards (the Lambda posts them inline instead).
    #[must_use]
    pub fn start(state: &server::AppState, deliver: bool) -> Self {
        telemetry::spawn_upkeep(state.metrics.clone());
        // The per-process session key (without OPSVOICE_SESSION_KEY) costs ~25 ms of
        // entropy seeding: made in the background, not before listening nor on the first
        // answer.
        let sealer = state.assistant.sealer().clone();
        tokio::task::spawn_blocking(move || sealer.warm());
        let (stop, stopped) = tokio::sync::watch::channel(());
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<()>| async move {
            let _ = stopped.changed().await;
        };
        let mut tasks = Vec::new();
        if deliver && let Some(notifier) = state.events.notifier.clone() {
            tracing::info!(
                routes = notifier.routes.0.len(),
                "delivering notifications to Slack"
            );
            tasks.push(tokio::spawn(notifier.keep_delivering(
                std::time::Duration::from_secs(1),
                until_stopped(stopped.clone()),
            )));
        }
        // Actions: expiries, follow-ups and silences that end on time.
        if let Some(desk) = state.assistant.dialog().desk().cloned() {
            tasks.push(tokio::spawn(keep_acting(
                desk,
                ACT_TICK_EVERY,
                until_stopped(stopped.clone()),
            )));
        }
        // The catalog, the firing alarms, the service statuses and the index of alarm
        // names are kept warm, so a question (the first included) finds them cached: it
        // joins a fetch already under way (single-flight) instead of starting its own.
        tasks.push(tokio::spawn(keep_warm(
            state.assistant.dialog().ops().clone(),
            WARM_EVERY,
            until_stopped(stopped),
        )));
        Self { stop, tasks }
    }

    /// Stops the background work and waits for it to finish.
    pub async fn stop(self) {
        drop(self.stop);
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::warn!(error = %error, "a background task ended abnormally");
            }
        }
    }
}

/// The notification routes in `config`'s file, checked against the policy and the accounts
/// file (a route's `accounts` must name some configured account).
///
/// # Errors
/// An unreadable or invalid file, naming the bad entry.
pub fn notify_routes(
    config: &Config,
    policy: &auth::policy::Policy,
) -> Result<Option<crate::notify::routes::Routes>, StartError> {
    let Some(path) = &config.notify.file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        StartError::Notify(format!(
            "cannot read OPSVOICE_NOTIFY_FILE {}: {e}",
            path.display()
        ))
    })?;
    let groups = policy.group_names();
    let accounts = crate::notify::routes::account_names(config).map_err(StartError::Notify)?;
    crate::notify::routes::Routes::from_toml(&text, groups.as_deref())
        .and_then(|routes| routes.check_accounts(accounts.as_deref()).map(|()| routes))
        .map(Some)
        .map_err(|e| StartError::Notify(format!("OPSVOICE_NOTIFY_FILE {}: {e}", path.display())))
}

/// The notifier and the `/events` verifier the configuration describes.
///
/// # Errors
/// Bad routes, notifications without a Slack bot token, or bad SNS test settings.
pub async fn events(
    config: &Config,
    assistant: Arc<Assistant>,
    store: Arc<dyn crate::store::Store>,
    clock: Arc<dyn Clock>,
) -> Result<crate::notify::http::EventsState, StartError> {
    let routes = notify_routes(config, assistant.identity.policy())?;
    let notifier = match routes {
        Some(routes) => {
            if config.slack.bot_token.is_none() {
                return Err(StartError::Notify(
                    "OPSVOICE_NOTIFY_FILE needs OPSVOICE_SLACK_BOT_TOKEN to post".to_owned(),
                ));
            }
            let mut notifier = crate::notify::Notifier::new(
                routes,
                store,
                channel::slack::api::WebApi::new(
                    config.slack.api_url.as_deref(),
                    config.slack.bot_token.clone(),
                ),
                assistant,
                clock.clone(),
            );
            notifier.inline = config::in_lambda();
            if let Some(accounts) =
                crate::notify::origin::Accounts::load(config, &aws::sdk_config().await)
                    .await
                    .map_err(StartError::Notify)?
            {
                notifier = notifier.with_accounts(accounts);
            }
            Some(Arc::new(notifier))
        }
        None => None,
    };
    let verifier = if config.notify.sns_topic_arns.is_empty() {
        None
    } else {
        let roots = match &config.notify.sns_trust_roots {
            Some(path) => Some((
                path.display().to_string(),
                std::fs::read(path).map_err(|e| {
                    StartError::Notify(format!(
                        "cannot read OPSVOICE_SNS_TRUST_ROOTS {}: {e}",
                        path.display()
                    ))
                })?,
            )),
            None => None,
        };
        Some(Arc::new(
            crate::notify::sns::SnsVerifier::new(
                config.notify.sns_topic_arns.clone(),
                roots.as_ref().map(|(p, pem)| (p.as_str(), pem.as_slice())),
                config.notify.sns_cert_base_url.as_deref(),
                clock,
            )
            .map_err(|e| StartError::Notify(e.to_string()))?,
        ))
    };
    let sns = match &verifier {
        Some(_) => Some(aws_sdk_sns::Client::new(&aws::sdk_config().await)),
        None => None,
    };
    Ok(crate::notify::http::EventsState {
        verifier,
        notifier,
        sns,
    })
}

/// The Slack app the configuration describes, over `assistant`, keeping its state in
/// `store`: account linking when it is set up, answering in the background unless this
/// is a Lambda function, and passing presses of Acknowledge on to `cards` (the notifier).
///
/// # Errors
/// Settings that cannot work together ([`Config::slack_problems`]), or a bad store key.
pub fn slack(
    config: &Config,
    assistant: Arc<Assistant>,
    store: Arc<dyn crate::store::Store>,
    clock: Arc<dyn Clock>,
    cards: Option<Arc<dyn channel::slack::ack::Acknowledge>>,
) -> Result<Arc<channel::slack::Slack>, StartError> {
    let problems = config.slack_problems();
    if !problems.is_empty() {
        return Err(StartError::Slack(problems.join("; ")));
    }
    let links = match (
        &config.link.public_url,
        &config.link.cognito_domain,
        &config.link.client_id,
    ) {
        (Some(public), Some(domain), Some(client)) => {
            let key = config
                .store
                .key
                .as_ref()
                .ok_or_else(|| StartError::Slack("OPSVOICE_STORE_KEY is not set".to_owned()))?;
            let cipher = crate::store::cipher::Cipher::new(key.expose())
                .map_err(|e| StartError::Slack(format!("OPSVOICE_STORE_KEY: {e}")))?;
            let region = config
                .cognito
                .region
                .clone()
                .or_else(|| config.aws.region.clone())
                .ok_or(StartError::NoVerifiedCallers)?;
            let pool = config
                .cognito
                .user_pool_id
                .clone()
                .ok_or(StartError::NoVerifiedCallers)?;
            let verifier = auth::cognito::Verifier::new(
                auth::cognito::Settings {
                    region,
                    user_pool_id: pool,
                    client_ids: vec![client.clone()],
                    token_use: auth::cognito::TokenUse::Access,
                    leeway: config.cognito.leeway,
                    jwks_url: config.cognito.jwks_url.clone(),
                },
                clock.clone(),
            )?;
            Some(Arc::new(auth::link::Links::new(
                store.clone(),
                cipher,
                auth::link::HostedUi {
                    domain: domain.clone(),
                    client_id: client.clone(),
                    client_secret: config.link.client_secret.clone(),
                    redirect_uri: format!("{public}/link/callback"),
                },
                public,
                Arc::new(verifier),
                config.link.ttl,
                clock.clone(),
            )))
        }
        _ => None,
    };
    Ok(Arc::new(channel::slack::Slack {
        verifier: channel::slack::verify::SlackVerifier::new(
            config.slack.signing_secret.as_ref(),
            clock.clone(),
        ),
        api: channel::slack::api::WebApi::new(
            config.slack.api_url.as_deref(),
            config.slack.bot_token.clone(),
        ),
        links,
        store,
        assistant,
        inline: config::in_lambda(),
        clock,
        cards,
    }))
}

/// A database file of the demo's own for its action records: one per app, so two demo
/// apps (two tests) never share rate limits or silences.
fn demo_store(clock: Arc<dyn Clock>) -> Option<Arc<dyn crate::store::Store>> {
    let path = std::env::temp_dir().join(format!(
        "opsvoice-demo-{}-{}.db",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    match crate::store::file::FileStore::open(&path, clock) {
        Ok(store) => Some(Arc::new(store)),
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "the demo's action store could not be opened; actions are off");
            None
        }
    }
}

/// Approval cards and action outcomes go to Slack when a bot token is set.
fn announcer(config: &Config) -> Option<Arc<dyn crate::act::desk::Announcer>> {
    let token = config.slack.bot_token.clone()?;
    let renderer = speech::Renderer::embedded(config.aws.region.clone()).ok()?;
    Some(Arc::new(channel::slack::acting::SlackAnnouncer::new(
        channel::slack::api::WebApi::new(config.slack.api_url.as_deref(), Some(token)),
        renderer,
    )))
}

/// The `aws` data source as `serve` builds it: ECS and CloudWatch read through [`ops::aws::AwsOps`]
/// (with the configured clusters and alarm association) behind the cache; and the count of
/// calls made to AWS (what the tests and `scripts/bigfleet.sh` report).
#[must_use]
pub fn live_source(
    ecs: aws_sdk_ecs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    clock: Arc<dyn Clock>,
    config: &Config,
) -> (ops::cache::CachedOps, Arc<ops::aws::CallCounts>) {
    let aws = ops::aws::AwsOps::new(
        ecs,
        cloudwatch,
        config.aws.clusters.clone(),
        ops::aws::Association {
            by_name_prefix: config.aws.alarm_name_match,
        },
        clock.clone(),
    );
    let calls = aws.calls();
    (cached(Arc::new(aws), clock, config), calls)
}

/// Who may ask what, from the configuration: a Cognito verifier when a pool is set, the
/// policy file (or, without one, everything on the demo and nothing on `aws`), and
/// anonymous callers only on the demo.
///
/// # Errors
/// `aws` without a Cognito pool, or an unreadable or invalid policy file.
pub fn identity(config: &Config, clock: Arc<dyn Clock>) -> Result<auth::Identity, StartError> {
    let region = config
        .cognito
        .region
        .clone()
        .or_else(|| config.aws.region.clone());
    let verifier = match (&config.cognito.user_pool_id, region) {
        (Some(pool), Some(region)) if !config.cognito.client_ids.is_empty() => {
            Some(Arc::new(auth::cognito::Verifier::new(
                auth::cognito::Settings {
                    region,
                    user_pool_id: pool.clone(),
                    client_ids: accepted_clients(config),
                    token_use: if config.cognito.id_tokens {
                        auth::cognito::TokenUse::Id
                    } else {
                        auth::cognito::TokenUse::Access
                    },
                    leeway: config.cognito.leeway,
                    jwks_url: config.cognito.jwks_url.clone(),
                },
                clock,
            )?))
        }
        _ => None,
    };
    let live = config.aws.backend == Backend::Aws;
    if live && verifier.is_none() {
        return Err(StartError::NoVerifiedCallers);
    }
    let policy = policy(config)?;
    let anonymous = (!live).then(auth::policy::Grants::all);
    Ok(auth::Identity::new(verifier, policy, anonymous))
}

/// The group policy: the policy file, or without one everything on the demo and nothing
/// on `aws`.
///
/// # Errors
/// An unreadable or invalid policy file.
pub fn policy(config: &Config) -> Result<auth::policy::Policy, StartError> {
    Ok(match &config.cognito.policy_file {
        Some(path) => {
            auth::policy::Policy::from_toml(&std::fs::read_to_string(path).map_err(|source| {
                StartError::PolicyFile {
                    path: path.display().to_string(),
                    source,
                }
            })?)?
        }
        None if config.aws.backend == Backend::Aws => auth::policy::Policy::deny_all(),
        None => auth::policy::Policy::allow_all(),
    })
}

/// The app clients whose tokens are accepted: the configured ones and the linking client
/// (a linked Slack user's access token reaches the Lex code hook as `authorization`).
fn accepted_clients(config: &Config) -> Vec<String> {
    let mut ids = config.cognito.client_ids.clone();
    if !ids.is_empty()
        && let Some(link) = &config.link.client_id
        && !ids.contains(link)
    {
        ids.push(link.clone());
    }
    ids
}

/// The cache settings for `config`: upstream fetches must give up in time for a stale
/// answer to make the answer deadline.
#[must_use]
pub fn cached(
    source: Arc<dyn ops::OpsSource>,
    clock: Arc<dyn Clock>,
    config: &Config,
) -> ops::cache::CachedOps {
    let settings = ops::cache::Settings {
        upstream_deadline: config
            .server
            .answer_deadline
            .saturating_sub(std::time::Duration::from_millis(500))
            .max(std::time::Duration::from_millis(100)),
        ..ops::cache::Settings::default()
    };
    ops::cache::CachedOps::new(source, clock, settings)
}

/// The Alexa request verifier the configuration describes.
///
/// # Errors
/// An unreadable `OPSVOICE_ALEXA_TRUST_ROOTS` or a malformed `OPSVOICE_ALEXA_CERT_BASE_URL`.
pub fn alexa_verifier(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<channel::alexa::verify::Verifier, StartError> {
    let roots = match &config.alexa.trust_roots {
        Some(path) => Some((
            path.display().to_string(),
            std::fs::read(path).map_err(|source| channel::alexa::verify::SetupError::Roots {
                path: path.display().to_string(),
                source,
            })?,
        )),
        None => None,
    };
    Ok(channel::alexa::verify::Verifier::new(
        config.alexa.skill_ids.clone(),
        roots.as_ref().map(|(p, pem)| (p.as_str(), pem.as_slice())),
        config.alexa.cert_base_url.as_deref(),
        clock,
    )?)
}

/// Whether `serve` and the Lambda may run with this configuration: no error among
/// [`Config::problems`] (live data is never served to callers who are not verified), a
/// readable policy, and the Slack app when that policy asks for approval.
///
/// # Errors
/// [`StartError::Config`] with every error at once, or a bad policy file.
pub fn check_servable(config: &Config) -> Result<(), StartError> {
    let errors = config.errors();
    if !errors.is_empty() {
        return Err(StartError::Config(
            errors.into_iter().map(|p| p.message).collect(),
        ));
    }
    let identity = identity(config, Arc::new(clock::SystemClock))?;
    let actions = identity.policy().actions();
    let acting = config.acting_problems(actions.enabled, actions.approval_required());
    if !acting.is_empty() {
        return Err(StartError::Config(
            acting.into_iter().map(|p| p.message).collect(),
        ));
    }
    Ok(())
}

/// How often the background refresh looks at the hot data: a third of the TTL of the
/// alarms and the service statuses (15 s by default), so the firing alarms and every
/// cluster's statuses are renewed at half their TTL (every 8 to 12 s) and a question never
/// finds them expired. The catalog and the index of alarm names are renewed at half their
/// own TTL (150 s). What that costs per account and region (calls a minute, against ECS's
/// and CloudWatch's rate limits) is in the README, *Big accounts*.
pub const WARM_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps `ops` warm ([`ops::OpsSource::warm`]) now and then about every `every` (each
/// wait jittered by up to 20% either way, so instances do not refresh in step), until
/// `stop` resolves. A failed refresh keeps the last good data; it is logged once when
/// refreshing starts to fail and once when it recovers.
pub async fn keep_warm(
    ops: Arc<dyn ops::OpsSource>,
    every: std::time::Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut failing = false;
    loop {
        let started = std::time::Instant::now();
        let result = tokio::select! {
            result = ops.warm() => result,
            () = &mut stop => break,
        };
        match result {
            Ok(()) if failing => {
                failing = false;
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "background refresh recovered"
                );
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(error = %error::ErrorChain(&error), "background refresh failed; answers keep the last good data");
            }
            Err(_) => {}
        }
        tokio::select! {
            () = tokio::time::sleep(jittered(every)) => {}
            () = &mut stop => break,
        }
    }
    tracing::debug!("background refresh stopped");
}

/// `every`, scaled by a random factor between 0.8 and 1.2.
fn jittered(every: std::time::Duration) -> std::time::Duration {
    let mut byte = [0u8; 1];
    let r = aws_lc_rs::rand::fill(&mut byte).map_or(0.5, |()| f64::from(byte[0]) / 255.0);
    every.mul_f64(0.8 + 0.4 * r)
}
