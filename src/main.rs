//! The `opsvoice` binary: parses the command line, loads the configuration and calls into
//! the library. Nothing else lives here.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use opsvoice::channel::ask::AskRequest;
use opsvoice::config::{Backend, Config, Severity};
use opsvoice::ops::SystemClock;

// mimalloc: under load glibc malloc and free took a fifth of the server's CPU (perf, /lex
// at 32 connections); mimalloc's thread-local free lists cut that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Voice and chat ops assistant: answers questions about ECS services and CloudWatch alarms.
#[derive(Debug, Parser)]
#[command(name = "opsvoice", version, about)]
struct Cli {
    /// A TOML config file (environment variables OPSVOICE_* override it).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (POST /lex, POST /v1/ask, /healthz, /readyz, /metrics).
    Serve {
        /// Listen address (overrides OPSVOICE_ADDR).
        #[arg(long, value_name = "ADDR")]
        addr: Option<std::net::SocketAddr>,
    },
    /// Ask one question and print the answer.
    Ask {
        /// The question, e.g. "how is checkout doing".
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
        /// Also print the SSML that a voice device would speak.
        #[arg(long)]
        ssml: bool,
        /// Print the whole JSON answer (text, ssml, intent, slots, session).
        #[arg(long, conflicts_with = "ssml")]
        json: bool,
        /// Ask a running server (e.g. http://127.0.0.1:3000) instead of answering in-process.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Continue a conversation held by the server at --url.
        #[arg(long, value_name = "ID", requires = "url")]
        session: Option<String>,
        /// A Cognito access token for the server at --url.
        #[arg(
            long,
            value_name = "JWT",
            env = "OPSVOICE_TOKEN",
            hide_env_values = true,
            requires = "url"
        )]
        token: Option<String>,
    },
    /// Talk to the assistant: one question per line, the conversation kept between lines.
    Chat {
        /// Talk to a running server (e.g. http://127.0.0.1:3000) instead of in-process.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// A Cognito access token for the server at --url.
        #[arg(
            long,
            value_name = "JWT",
            env = "OPSVOICE_TOKEN",
            hide_env_values = true,
            requires = "url"
        )]
        token: Option<String>,
        /// Save each spoken answer (MP3 from Polly) into this directory.
        #[arg(long, value_name = "DIR")]
        audio: Option<PathBuf>,
        /// Also print the SSML of each answer.
        #[arg(long)]
        ssml: bool,
    },
    /// Validate the configuration, the intents and the prompts.
    Check {
        /// Also try each account of OPSVOICE_ACCOUNTS_FILE: assume its role once and make
        /// one cheap read, and say which fail.
        #[arg(long)]
        live: bool,
    },
    /// Print every setting: its value (secrets redacted), where it came from (default, file
    /// or env) and its environment variable.
    Config {
        /// Print a JSON array, one object a setting: key, env, value, source.
        #[arg(long)]
        json: bool,
    },
    /// The Lex V2 bot and the Alexa interaction model, generated from intents/.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// The local NLU (what `ask`, `chat` and /v1/ask without Lex understand people with).
    Nlu {
        #[command(subcommand)]
        command: NluCommand,
    },
}

#[derive(Debug, Subcommand)]
enum NluCommand {
    /// Run the NLU over labelled phrasings, a TSV of intent, slots (`-` or
    /// `name=value,...`) and text, with the demo fleet's names; print accuracy, per-intent
    /// precision and recall, the confusions and every miss.
    Eval {
        /// The TSV, e.g. tests/nlu/test.tsv.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Turn labelled phrasings (the same TSV) into sample utterances for `intents/`:
    /// prints `intent<TAB>sample` for each phrasing whose names the NLU finds as labelled,
    /// and names on stderr each one it skips, and why.
    Samples {
        /// The TSV of phrasings to learn from (never the test split).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ModelsCommand {
    /// Write lex/ (LexJson import layout), lex.zip and alexa/<locale>.json into --out.
    Build {
        /// Where to write the models.
        #[arg(long, value_name = "DIR", default_value = "target/models")]
        out: PathBuf,
        /// Take service, cluster and alarm names from the configured backend (ECS and
        /// CloudWatch with OPSVOICE_BACKEND=aws) instead of the demo fleet.
        #[arg(long)]
        from_backend: bool,
        /// The Lex bot's name.
        #[arg(long, value_name = "NAME", default_value = "opsvoice")]
        bot_name: String,
        /// The Alexa skill's invocation name.
        #[arg(long, value_name = "WORDS", default_value = "ops desk")]
        invocation_name: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    // In Lambda the binary is the bootstrap: no arguments, the runtime API in the env.
    let outcome = if opsvoice::config::in_lambda() {
        lambda().await
    } else {
        run(Cli::parse()).await
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let layered =
        opsvoice::config::Layered::load(cli.config.as_deref()).context("loading configuration")?;
    let mut config = Config::from_layered(&layered);
    match cli.command {
        Command::Serve { addr } => {
            if let Some(addr) = addr {
                config.server.addr = addr;
            }
            serve(config).await
        }
        Command::Ask {
            question,
            ssml,
            json,
            url,
            session,
            token,
        } => {
            let request = AskRequest {
                text: question.join(" "),
                session_id: session,
            };
            let answer = match url {
                Some(url) => {
                    opsvoice::chat::Remote::new(&url, token)?
                        .ask(&request, None)
                        .await?
                        .0
                }
                None => {
                    opsvoice::telemetry::init_with(config.server.log_format, "warn");
                    let assistant = opsvoice::builder(&config)
                        .local_operator()
                        .assistant()
                        .await?;
                    assistant.ask(request, None).await?
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&answer)?);
            } else {
                println!("{}", answer.text);
                if ssml {
                    println!("{}", answer.ssml);
                }
            }
            Ok(())
        }
        Command::Chat {
            url,
            token,
            audio,
            ssml,
        } => {
            opsvoice::telemetry::init_with(config.server.log_format, "warn");
            let target = match url {
                Some(url) => {
                    opsvoice::chat::Target::Remote(opsvoice::chat::Remote::new(&url, token)?)
                }
                None => opsvoice::chat::Target::Local(
                    opsvoice::builder(&config)
                        .local_operator()
                        .assistant()
                        .await?,
                ),
            };
            opsvoice::chat::run(
                target,
                opsvoice::chat::Options {
                    audio_dir: audio,
                    ssml,
                    history: opsvoice::chat::default_history(&config),
                    help: opsvoice::speech::Renderer::embedded(None)?
                        .render_message("chat-help", opsvoice::speech::render::DEFAULT_LOCALE),
                },
            )
            .await?;
            Ok(())
        }
        Command::Check { live } => {
            for warning in layered.unknown_variables() {
                println!("warning: {warning}");
            }
            check(&config)?;
            if live {
                check_accounts_live(&config).await?;
            }
            Ok(())
        }
        Command::Config { json } => {
            for warning in layered.unknown_variables() {
                eprintln!("warning: {warning}");
            }
            let entries = layered.report();
            let text = if json {
                serde_json::to_string_pretty(&entries)? + "\n"
            } else {
                opsvoice::config::render(&entries)
            };
            // A reader that stops early (`| head`) is not an error.
            match write!(std::io::stdout().lock(), "{text}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
        Command::Nlu {
            command: NluCommand::Eval { file },
        } => nlu_eval(&file).await,
        Command::Nlu {
            command: NluCommand::Samples { file },
        } => nlu_samples(&file).await,
        Command::Models {
            command:
                ModelsCommand::Build {
                    out,
                    from_backend,
                    bot_name,
                    invocation_name,
                },
        } => {
            let options = opsvoice::models::Options {
                bot_name,
                invocation_name,
                voice: config.polly.voice.clone(),
                engine: config.polly.engine.clone(),
            };
            models_build(&config, &out, from_backend, &options).await
        }
    }
}

fn labelled_cases(file: &std::path::Path) -> anyhow::Result<Vec<opsvoice::nlu::eval::Case>> {
    let tsv =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let cases = opsvoice::nlu::eval::parse_cases(&tsv)
        .with_context(|| format!("{} is not a labelled TSV", file.display()))?;
    anyhow::ensure!(!cases.is_empty(), "{} holds no phrasings", file.display());
    Ok(cases)
}

/// The demo fleet at one fixed moment (it changes with time), so that runs compare.
fn fixed_demo() -> opsvoice::ops::demo::DemoFleet {
    let moment = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_341_600);
    opsvoice::ops::demo::DemoFleet::new(Arc::new(opsvoice::ops::FixedClock(moment)))
}

async fn nlu_eval(file: &std::path::Path) -> anyhow::Result<()> {
    let cases = labelled_cases(file)?;
    // The names /v1/ask recognises: the catalog and the firing alarms.
    let demo = fixed_demo();
    let (catalog, alarms) = {
        use opsvoice::ops::OpsSource as _;
        let alarms = demo.firing_alarms().await?;
        (
            demo.catalog().await?,
            alarms.into_iter().map(|a| a.name).collect::<Vec<_>>(),
        )
    };
    // Every alarm, for the dialog's way of finding the one an understood alarm names.
    let all: Vec<String> = {
        use opsvoice::ops::OpsSource as _;
        demo.all_alarms()
            .await?
            .into_iter()
            .map(|a| a.name)
            .collect()
    };
    let nlu = opsvoice::nlu::Nlu::embedded()?;
    let report = opsvoice::nlu::eval::evaluate(&nlu, &catalog, &alarms, &all, &cases);
    let mut text = report.to_string();
    text.push_str(&format!(
        "\nat other confidence thresholds (this build uses {:.2}):\n\n| threshold | intent and slots | out of domain recognised |\n| --- | --- | --- |\n",
        opsvoice::nlu::THRESHOLD
    ));
    for (threshold, right, refused) in
        opsvoice::nlu::eval::sweep(&nlu, &catalog, &alarms, &all, &cases)
    {
        text.push_str(&format!(
            "| {threshold:.2} | {:.1}% | {:.1}% |\n",
            100.0 * right,
            100.0 * refused
        ));
    }
    // A reader that stops early (`| head`) is not an error.
    match write!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

async fn nlu_samples(file: &std::path::Path) -> anyhow::Result<()> {
    use opsvoice::ops::OpsSource as _;
    let cases = labelled_cases(file)?;
    // Every alarm's name, as the models are built with: a sample may name any of them.
    let demo = fixed_demo();
    let catalog = demo.catalog().await?;
    let alarms: Vec<String> = demo
        .all_alarms()
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let model = opsvoice::nlu::embedded_model()?;
    let mut out = std::io::stdout().lock();
    for case in &cases {
        let def = model.iter().find(|d| d.name == case.intent.name());
        let takes: Vec<opsvoice::dialog::Slot> = def
            .iter()
            .flat_map(|d| &d.slots)
            .filter_map(|s| opsvoice::dialog::Slot::parse(&s.name))
            .collect();
        let (sample, slots) = opsvoice::nlu::sample_form(&case.text, &catalog, &alarms, &takes);
        // An out-of-domain request has no slots, but the names in it are still names.
        let fallback = case.intent == opsvoice::dialog::Intent::Fallback;
        if !fallback && !opsvoice::nlu::eval::same_slots(&case.slots, &slots) {
            eprintln!(
                "skipped line {}: names found differ from the labels",
                case.line
            );
            continue;
        }
        let undeclared = slots
            .keys()
            .find(|s| def.is_some_and(|d| !d.slots.iter().any(|ds| ds.name == s.name())));
        if let Some(slot) = undeclared.filter(|_| !fallback) {
            eprintln!(
                "skipped line {}: {} takes no {} slot",
                case.line,
                case.intent,
                slot.name()
            );
            continue;
        }
        if let Some(bad) = sample
            .replace(['{', '}'], "")
            .chars()
            .find(|c| !(c.is_alphabetic() || *c == ' ' || *c == '\''))
        {
            eprintln!(
                "skipped line {}: `{bad}` (samples spell numbers out)",
                case.line
            );
            continue;
        }
        let written = writeln!(out, "{}\t{sample}", case.intent.name());
        match written {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other?,
        }
    }
    Ok(())
}

async fn models_build(
    config: &Config,
    out: &std::path::Path,
    from_backend: bool,
    options: &opsvoice::models::Options,
) -> anyhow::Result<()> {
    opsvoice::telemetry::init_with(config.server.log_format, "warn");
    let vocabulary = if from_backend && config.aws.backend == Backend::Aws {
        eprintln!("reading service, cluster and alarm names from ECS and CloudWatch...");
        let assistant = opsvoice::builder(config)
            .local_operator()
            .assistant()
            .await?;
        opsvoice::models::vocabulary(assistant.dialog().ops().as_ref())
            .await
            .context("listing names from the aws backend")?
    } else {
        if from_backend {
            eprintln!("OPSVOICE_BACKEND is demo: taking names from the demo fleet");
        }
        let demo = opsvoice::ops::demo::DemoFleet::new(Arc::new(SystemClock));
        opsvoice::models::vocabulary(&demo).await?
    };
    eprintln!(
        "{} services, {} clusters, {} alarms",
        vocabulary.services.len(),
        vocabulary.clusters.len(),
        vocabulary.alarms.len()
    );
    let model = opsvoice::nlu::embedded_model()?;
    let renderer = opsvoice::speech::Renderer::embedded(config.aws.region.clone())?;
    let files = opsvoice::models::build(&model, &vocabulary, &renderer, options)?;
    opsvoice::models::write(out, &files)?;
    let size = |p: &str| files.get(p).map_or(0, Vec::len);
    println!(
        "wrote {}: lex/ ({} files), lex.zip ({} bytes), alexa/{}.json ({} bytes)",
        out.display(),
        files.keys().filter(|k| k.starts_with("lex/")).count(),
        size("lex.zip"),
        opsvoice::models::LOCALE,
        size(&format!("alexa/{}.json", opsvoice::models::LOCALE)),
    );
    Ok(())
}

async fn lambda() -> anyhow::Result<()> {
    let config = Config::load(None).context("loading configuration")?;
    opsvoice::telemetry::init(config.server.log_format);
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    opsvoice::lambda::run(config).await?;
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    opsvoice::telemetry::init(config.server.log_format);
    opsvoice::check_servable(&config)?;
    match config.aws.backend {
        Backend::Demo => tracing::info!(
            "serving the embedded demo fleet: simulated data, anonymous callers allowed (set OPSVOICE_BACKEND=aws for live data)"
        ),
        Backend::Aws => tracing::info!("serving live data from ECS and CloudWatch"),
    }
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let state = opsvoice::builder(&config).build().await?;
    if config.alexa.skill_ids.is_empty() {
        tracing::info!("no OPSVOICE_ALEXA_SKILL_IDS: /alexa will refuse every request");
    }
    if state.slack.is_none() {
        tracing::info!("no OPSVOICE_SLACK_SIGNING_SECRET: /slack/* will refuse every request");
    }
    let background = opsvoice::app::Background::start(&state, true);
    let router = opsvoice::server::router(state, &config);
    let connections = opsvoice::server::Connections::for_config(&config);
    let listener = tokio::net::TcpListener::bind(config.server.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    opsvoice::server::run(
        listener,
        router,
        connections,
        opsvoice::server::shutdown_signal(),
    )
    .await?;
    background.stop().await;
    tracing::info!("stopped");
    Ok(())
}

/// `check --live`: each account's role and one read with it.
async fn check_accounts_live(config: &Config) -> anyhow::Result<()> {
    if config.accounts.file.is_none() {
        println!("accounts: none configured (OPSVOICE_ACCOUNTS_FILE is not set); nothing to try");
        return Ok(());
    }
    let results = opsvoice::app::check_live(config).await?;
    let failed: Vec<&String> = results
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(name, _)| name)
        .collect();
    for (name, result) in &results {
        match result {
            Ok(()) => println!("account {name}: ok (role assumed, ECS read)"),
            Err(why) => println!("error: account {name}: {why}"),
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} account(s) cannot be read",
            failed.len(),
            results.len()
        );
    }
    Ok(())
}

fn check(config: &Config) -> anyhow::Result<()> {
    let model = opsvoice::nlu::embedded_model()?;
    let samples: usize = model.iter().map(|d| d.samples.len()).sum();
    let renderer = opsvoice::speech::Renderer::embedded(config.aws.region.clone())?;
    // Slot types, slot prompt ids and the platforms' rules for sample utterances.
    opsvoice::models::Source::new(&model, &opsvoice::models::Vocabulary::default(), &renderer)?;
    let overlaps = opsvoice::nlu::overlaps(&model);
    for (a, sample_a, b, sample_b) in &overlaps {
        println!("warning: {a} \"{sample_a}\" and {b} \"{sample_b}\" read the same to the matcher");
    }
    let mut problems = config.problems();
    // The policy's `[actions]` may need the Slack app (approval cards).
    let policy = opsvoice::app::policy(config);
    if let Ok(policy) = &policy {
        problems.extend(config.acting_problems(
            policy.actions().enabled,
            policy.actions().approval_required(),
        ));
        problems.sort_by_key(|p| p.severity != Severity::Error);
    }
    println!(
        "ok: {} intents with {samples} samples; {} prompt messages in {} locale(s)",
        model.len(),
        renderer.message_ids().len(),
        renderer.locales().len(),
    );
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    println!(
        "config: {} (backend {:?}); {errors} error(s), {} warning(s)",
        if errors == 0 { "valid" } else { "invalid" },
        config.aws.backend,
        problems.len() - errors
    );
    for problem in &problems {
        let severity = match problem.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("{severity}: {problem}");
    }
    if config.slack.signing_secret.is_none() {
        println!(
            "slack: off: OPSVOICE_SLACK_SIGNING_SECRET is not set, so /slack/* refuse every request"
        );
    } else {
        println!(
            "slack: on; account linking {}",
            if config.link.configured() {
                "on"
            } else if config.aws.backend == Backend::Aws {
                "off: cards are pushed, and Slack questions are told linking is not set up"
            } else {
                "off (demo answers only)"
            }
        );
    }
    let routes = if config.notify.file.is_some() {
        match opsvoice::app::identity(config, std::sync::Arc::new(opsvoice::ops::SystemClock)) {
            Ok(identity) => {
                opsvoice::app::notify_routes(config, identity.policy()).map_err(|e| e.to_string())
            }
            Err(e) => Err(format!("the routes cannot be checked: {e}")),
        }
    } else {
        Ok(None)
    };
    let routes_problem = match routes {
        Ok(Some(routes)) => {
            println!(
                "notifications: {} route(s) in OPSVOICE_NOTIFY_FILE",
                routes.0.len()
            );
            None
        }
        Ok(None) => None,
        Err(e) => Some(e),
    };
    if let Some(problem) = &routes_problem {
        println!("error: {problem}");
    }
    if let Err(problem) = &policy {
        println!("error: {problem}");
    }
    if !overlaps.is_empty() {
        bail!(
            "{} sample utterances are ambiguous between intents",
            overlaps.len()
        );
    }
    if let Some(problem) = routes_problem {
        bail!("{problem}");
    }
    if let Err(problem) = policy {
        bail!("{problem}");
    }
    if errors > 0 {
        bail!("the configuration has {errors} error(s), listed above");
    }
    Ok(())
}
