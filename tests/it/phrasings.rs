//! `opsvoice ask`-style understanding of phrasings that are not sample utterances: for
//! each intent, a dozen ways people actually ask, answered end to end (NLU -> dialog ->
//! render) from the demo fleet, in plain English; and the line between asking about an
//! action and asking for one.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use opsvoice::dialog::{Intent, Slot};

/// (question, intent it must be understood as, words the text answer must contain)
const PHRASINGS: &[(&str, Intent, &[&str])] = &[
    (
        "how are things with checkout",
        Intent::ServiceHealth,
        &["checkout is degraded", "2 of 3"],
    ),
    (
        "is payments doing ok?",
        Intent::ServiceHealth,
        &["payments is healthy"],
    ),
    (
        "health check for the cart service",
        Intent::ServiceHealth,
        &["cart is healthy"],
    ),
    (
        "what's up with recommendations",
        Intent::ServiceHealth,
        &["recommendations is down", "0 of 2"],
    ),
    (
        "hows the auth service doing today",
        Intent::ServiceHealth,
        &["auth is healthy"],
    ),
    (
        "is search healthy right now?",
        Intent::ServiceHealth,
        &["search is healthy"],
    ),
    (
        "Is the payments API up?",
        Intent::ServiceHealth,
        &["payments-api is deploying"],
    ),
    (
        "checkout status please",
        Intent::ServiceHealth,
        &["checkout is degraded"],
    ),
    (
        "how is the gateway holding up",
        Intent::ServiceHealth,
        &["gateway is healthy"],
    ),
    (
        "tell me how inventory is doing",
        Intent::ServiceHealth,
        &["inventory is healthy"],
    ),
    (
        "is kafka connect ok",
        Intent::ServiceHealth,
        &["kafka-connect is degraded"],
    ),
    (
        "is ml scoring healthy",
        Intent::ServiceHealth,
        &["ml-scoring is degraded", "1 alarm firing"],
    ),
    (
        "did the pricing deploy go through",
        Intent::DeploymentStatus,
        &["pricing", "rolled back"],
    ),
    (
        "has payments api finished deploying",
        Intent::DeploymentStatus,
        &["payments-api is still deploying", "4 of 6"],
    ),
    (
        "was the checkout release successful",
        Intent::DeploymentStatus,
        &["checkout's last deploy", "finished"],
    ),
    (
        "is the payments-api rollout still going",
        Intent::DeploymentStatus,
        &["still deploying"],
    ),
    (
        "did pricing get rolled back?",
        Intent::DeploymentStatus,
        &["rolled back"],
    ),
    (
        "which version of cart is live",
        Intent::DeploymentStatus,
        &["cart:57"],
    ),
    (
        "when did web frontend last deploy",
        Intent::DeploymentStatus,
        &["web-frontend's last deploy", "2 hours ago"],
    ),
    (
        "deploy status for etl ingest",
        Intent::DeploymentStatus,
        &["etl-ingest's last deploy", "20 minutes ago"],
    ),
    (
        "is the orders deployment complete",
        Intent::DeploymentStatus,
        &["orders' last deploy"],
    ),
    (
        "did the auth release finish ok",
        Intent::DeploymentStatus,
        &["auth's last deploy"],
    ),
    (
        "has the deploy of payments api completed yet",
        Intent::DeploymentStatus,
        &["still deploying"],
    ),
    (
        "did the shipping deployment fail",
        Intent::DeploymentStatus,
        &["shipping's last deploy"],
    ),
    (
        "are any alarms going off right now",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "what alerts are active",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "is anything on fire in prod?",
        Intent::ActiveAlarms,
        &["alarms are firing in prod"],
    ),
    (
        "anything alarming in data",
        Intent::ActiveAlarms,
        &["in data"],
    ),
    (
        "which alarms are in alarm state",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "show me the alarms",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "any active alerts?",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "is something paging us",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "what's firing",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "list alarms for platform",
        Intent::ActiveAlarms,
        &["No alarms are firing in platform"],
    ),
    (
        "are there alarms firing in the prod cluster",
        Intent::ActiveAlarms,
        &["in prod"],
    ),
    (
        "do we have any alarms",
        Intent::ActiveAlarms,
        &["alarms are firing"],
    ),
    (
        "why is the checkout latency alarm firing",
        Intent::AlarmDetail,
        &["checkout-p99-latency-high has been firing for 12 minutes"],
    ),
    (
        "what's the reason the ml scoring cpu alarm went off",
        Intent::AlarmDetail,
        &["ml-scoring-cpu-high has been firing"],
    ),
    (
        "explain the kafka connect consumer lag alarm",
        Intent::AlarmDetail,
        &["kafka-connect-consumer-lag has been firing"],
    ),
    (
        "why did prod customer impact fire",
        Intent::AlarmDetail,
        &["prod-customer-impact has been firing"],
    ),
    (
        "what set off the recommendations running tasks alarm",
        Intent::AlarmDetail,
        &["recommendations-running-tasks-low"],
    ),
    (
        "why is ml scoring alarming",
        Intent::AlarmDetail,
        &["ml-scoring-cpu-high"],
    ),
    (
        "what triggered the checkout p99 alarm",
        Intent::AlarmDetail,
        &["checkout-p99-latency-high"],
    ),
    (
        "details about the pricing 5xx alarm",
        Intent::AlarmDetail,
        &["pricing-5xx-rate-high is not firing"],
    ),
    (
        "why is kafka connect alarming",
        Intent::AlarmDetail,
        &["kafka-connect-consumer-lag"],
    ),
    (
        "how long has the checkout latency alarm been going off",
        Intent::AlarmDetail,
        &["12 minutes"],
    ),
    (
        "what caused the ml scoring cpu high alarm",
        Intent::AlarmDetail,
        &["92 percent"],
    ),
    (
        "reason for the prod customer impact alarm",
        Intent::AlarmDetail,
        &["composite", "ALARM(checkout-p99-latency-high)"],
    ),
    (
        "how much cpu is checkout using",
        Intent::MetricQuery,
        &["CPU for checkout is"],
    ),
    (
        "memory usage of payments",
        Intent::MetricQuery,
        &["memory for payments is"],
    ),
    (
        "what's the p99 latency for checkout",
        Intent::MetricQuery,
        &["p99 latency for checkout is", "ms"],
    ),
    (
        "how many 5xx is recommendations throwing",
        Intent::MetricQuery,
        &["5xx errors for recommendations"],
    ),
    (
        "request rate on the gateway",
        Intent::MetricQuery,
        &["request rate for gateway"],
    ),
    (
        "cpu of ml scoring over the last 30 minutes",
        Intent::MetricQuery,
        &["CPU for ml-scoring", "30 minutes"],
    ),
    (
        "what's search's memory like",
        Intent::MetricQuery,
        &["memory for search"],
    ),
    (
        "latency of payments api in the past hour",
        Intent::MetricQuery,
        &["p99 latency for payments-api", "hour"],
    ),
    (
        "show me the error rate for checkout",
        Intent::MetricQuery,
        &["5xx errors for checkout"],
    ),
    (
        "how much traffic is cart getting",
        Intent::MetricQuery,
        &["request rate for cart"],
    ),
    (
        "what does cpu look like on etl ingest",
        Intent::MetricQuery,
        &["CPU for etl-ingest"],
    ),
    (
        "errors for etl ingest",
        Intent::MetricQuery,
        &["etl-ingest has no 5xx errors data"],
    ),
    (
        "how's prod looking",
        Intent::FleetSummary,
        &["prod:", "services healthy"],
    ),
    (
        "is anything broken",
        Intent::FleetSummary,
        &["services healthy"],
    ),
    (
        "give me an overview of the platform cluster",
        Intent::FleetSummary,
        &["platform: all 10 services are healthy"],
    ),
    // ("how is everything" became a sample with train3.)
    (
        "how's everything holding up",
        Intent::FleetSummary,
        &["The fleet:"],
    ),
    (
        "are any services unhealthy",
        Intent::FleetSummary,
        &["services healthy"],
    ),
    (
        "status of the data cluster",
        Intent::FleetSummary,
        &["data:"],
    ),
    ("summary of prod please", Intent::FleetSummary, &["prod:"]),
    (
        "how's the fleet doing",
        Intent::FleetSummary,
        &["The fleet:"],
    ),
    (
        "what's down right now",
        Intent::FleetSummary,
        &["services healthy"],
    ),
    (
        "anything degraded in prod",
        Intent::FleetSummary,
        &["prod:"],
    ),
    (
        "is everything healthy in platform",
        Intent::FleetSummary,
        &["platform: all"],
    ),
    (
        "overall fleet health",
        Intent::FleetSummary,
        &["The fleet:"],
    ),
    (
        "what changed in the past hour",
        Intent::WhatChanged,
        &["deployments in the last hour"],
    ),
    (
        "what's been deployed in the last 2 hours",
        Intent::WhatChanged,
        &["in the last 2 hours"],
    ),
    (
        "recent changes in prod",
        Intent::WhatChanged,
        &["in the last hour"],
    ),
    (
        "anything shipped in the last 30 minutes",
        Intent::WhatChanged,
        &["30 minutes"],
    ),
    (
        "what got deployed today",
        Intent::WhatChanged,
        &["in the last 24 hours"],
    ),
    (
        "what went out recently",
        Intent::WhatChanged,
        &["in the last hour"],
    ),
    (
        "any deployments lately",
        Intent::WhatChanged,
        &["deployments in the last hour"],
    ),
    (
        "what's new in the data cluster",
        Intent::WhatChanged,
        &["in the last hour"],
    ),
    (
        "show me changes from the last day",
        Intent::WhatChanged,
        &["24 hours"],
    ),
    (
        "what releases happened in the last hour",
        Intent::WhatChanged,
        &["in the last hour"],
    ),
    (
        "list recent deploys",
        Intent::WhatChanged,
        &["deployments in the last hour"],
    ),
    (
        "who changed what in the past 2 hours",
        Intent::WhatChanged,
        &["2 hours"],
    ),
    // UnsupportedAction: an action opsvoice cannot take, never another intent's answer.
    (
        "restart every service in prod",
        Intent::UnsupportedAction,
        &["can't restart more than one service"],
    ),
    (
        "roll back everything in platform",
        Intent::UnsupportedAction,
        &["can't roll back more than one service"],
    ),
    (
        "scale up the prod cluster",
        Intent::UnsupportedAction,
        &["can't scale more than one service"],
    ),
    (
        "silence all the alarms in data",
        Intent::UnsupportedAction,
        &["can't silence more than one alarm"],
    ),
    (
        "unmute every alarm",
        Intent::UnsupportedAction,
        &["can't turn more than one alarm back on"],
    ),
    (
        "deploy the new build of cart",
        Intent::UnsupportedAction,
        &["can't deploy", "cart"],
    ),
    (
        "open a ticket for the pricing errors",
        Intent::UnsupportedAction,
        &["can't open incidents"],
    ),
    (
        "page whoever is on call",
        Intent::UnsupportedAction,
        &["can't page"],
    ),
    (
        "wake up the on call person",
        Intent::UnsupportedAction,
        &["can't page"],
    ),
    (
        "acknowledge that alarm",
        Intent::UnsupportedAction,
        &["can't acknowledge"],
    ),
    (
        "mute the checkout alarms for an hour",
        Intent::UnsupportedAction,
        &["can't silence more than one alarm"],
    ),
    (
        "kill the search tasks",
        Intent::UnsupportedAction,
        &["can't stop"],
    ),
    // The actions, each on one service or alarm. What the answer says is the acting flow's
    // (read back, confirmed, approved where the policy says): here, the intent.
    ("restart the checkout service", Intent::RestartService, &[]),
    ("could you reboot payments", Intent::RestartService, &[]),
    (
        "redeploy the inventory service",
        Intent::RestartService,
        &[],
    ),
    (
        "please bounce the cart service",
        Intent::RestartService,
        &[],
    ),
    (
        "can you restart search in prod",
        Intent::RestartService,
        &[],
    ),
    (
        "give payments api a quick restart",
        Intent::RestartService,
        &[],
    ),
    (
        "recycle the orders tasks please",
        Intent::RestartService,
        &[],
    ),
    ("bounce shipping", Intent::RestartService, &[]),
    ("we should restart auth", Intent::RestartService, &[]),
    (
        "force a fresh deployment of gateway",
        Intent::RestartService,
        &[],
    ),
    ("kick the pricing service", Intent::RestartService, &[]),
    ("restart web frontend on prod", Intent::RestartService, &[]),
    (
        "roll back the cart deploy please",
        Intent::RollbackService,
        &[],
    ),
    ("rollback search", Intent::RollbackService, &[]),
    (
        "revert pricing to the last version",
        Intent::RollbackService,
        &[],
    ),
    ("undo the checkout release", Intent::RollbackService, &[]),
    (
        "can you roll payments api back",
        Intent::RollbackService,
        &[],
    ),
    ("roll back orders in prod", Intent::RollbackService, &[]),
    (
        "take auth back to its previous task definition",
        Intent::RollbackService,
        &[],
    ),
    (
        "revert the gateway deployment",
        Intent::RollbackService,
        &[],
    ),
    ("please roll back shipping", Intent::RollbackService, &[]),
    (
        "back out the inventory release",
        Intent::RollbackService,
        &[],
    ),
    (
        "roll web frontend back one release",
        Intent::RollbackService,
        &[],
    ),
    (
        "go back to the old version of catalog",
        Intent::RollbackService,
        &[],
    ),
    ("scale payments up to ten tasks", Intent::ScaleService, &[]),
    ("please scale down pricing", Intent::ScaleService, &[]),
    ("scale checkout to 5", Intent::ScaleService, &[]),
    (
        "set cart's desired count to twelve",
        Intent::ScaleService,
        &[],
    ),
    ("scale search to a dozen tasks", Intent::ScaleService, &[]),
    ("bump orders to six tasks", Intent::ScaleService, &[]),
    ("give shipping eight tasks", Intent::ScaleService, &[]),
    ("scale auth down to two", Intent::ScaleService, &[]),
    (
        "set the gateway to 4 tasks in prod",
        Intent::ScaleService,
        &[],
    ),
    ("scale inventory out", Intent::ScaleService, &[]),
    ("i need 3 pricing tasks", Intent::ScaleService, &[]),
    ("scale web frontend to zero", Intent::ScaleService, &[]),
    (
        "silence the checkout latency alarm",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "mute ml scoring cpu high for an hour",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "snooze kafka connect consumer lag for 30 minutes",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "silence prod customer impact for two hours",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "please mute the recommendations 5xx alarm",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "silence that alarm for 45 minutes",
        Intent::SilenceAlarm,
        &[],
    ),
    ("snooze it for an hour", Intent::SilenceAlarm, &[]),
    ("mute checkout p99 latency high", Intent::SilenceAlarm, &[]),
    (
        "hush the kafka connect lag alarm",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "silence search indexer queue depth for half an hour",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "mute the pricing 5xx alarm until tomorrow",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "quiet the ml scoring cpu alarm for 90m",
        Intent::SilenceAlarm,
        &[],
    ),
    (
        "unmute the checkout latency alarm",
        Intent::UnsilenceAlarm,
        &[],
    ),
    ("unsilence ml scoring cpu high", Intent::UnsilenceAlarm, &[]),
    (
        "turn kafka connect consumer lag back on",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "end the silence on prod customer impact",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "unsnooze the recommendations 5xx alarm",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "stop muting checkout p99 latency high",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "lift the silence on search indexer queue depth",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "re-enable notifications for the pricing 5xx alarm",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "take ml scoring cpu high off mute",
        Intent::UnsilenceAlarm,
        &[],
    ),
    ("ok unmute that alarm now", Intent::UnsilenceAlarm, &[]),
    (
        "turn notifications back on for the kafka connect lag alarm",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "cancel the snooze on checkout p99 latency high",
        Intent::UnsilenceAlarm,
        &[],
    ),
    (
        "what did i miss overnight",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "so what have i missed",
        Intent::WhatHappened,
        &["in the last"],
    ),
    ("catch me up please", Intent::WhatHappened, &["in the last"]),
    (
        "can you catch me up on the last hour",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "anything fire while i was at lunch",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "what's happened in the past hour",
        Intent::WhatHappened,
        &["in the last"],
    ),
    // With nothing before it, "the rundown" is what is happening or what happened: either
    // reading is fair, and it has gone back and forth as the samples grew (WhatHappened, then
    // FleetSummary, and WhatHappened again with the acting samples).
    (
        "give me the rundown",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "what fired recently",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "what went off while i was gone",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "i just got back, what happened",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "fill me in on the last two hours",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "anything i should know about from the last hour",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "recap of the last thirty minutes",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "what alarms went off since this morning",
        Intent::WhatHappened,
        &["in the last"],
    ),
    (
        "what is checkout logging right now",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "any exceptions in payments since the deploy",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "what errors are in the recommendations logs",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "show me the error logs for pricing",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "what are the checkout logs saying",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "top errors for recommendations",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "what exceptions is checkout throwing",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "search the pricing logs for errors",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "is payments api logging any errors",
        Intent::LogErrors,
        &["logged"],
    ),
    (
        "what error messages is checkout logging in the last 2 hours",
        Intent::LogErrors,
        &["in the last 2 hours"],
    ),
    (
        "most common error in the checkout logs",
        Intent::LogErrors,
        &["connection refused"],
    ),
    (
        "check the logs of recommendations for exceptions",
        Intent::LogErrors,
        &["logged"],
    ),
];

#[tokio::test]
async fn ask_answers_a_dozen_unseen_phrasings_for_each_intent() {
    let app = common::demo_app();
    let mut failures = Vec::new();
    for intent in opsvoice::dialog::Intent::QUESTIONS {
        let count = PHRASINGS.iter().filter(|(_, i, _)| *i == intent).count();
        assert!(count >= 12, "{intent} has only {count} phrasings");
    }
    let samples: Vec<String> = opsvoice::nlu::embedded_model()
        .unwrap()
        .iter()
        .flat_map(|d| d.samples.iter().map(|s| s.to_lowercase()))
        .collect();
    for (question, intent, expected) in PHRASINGS {
        assert!(
            !samples.contains(&question.to_lowercase()),
            "`{question}` is a sample utterance"
        );
        let reply = app.ask(question).await;
        let mut problems = Vec::new();
        if reply.intent != *intent {
            problems.push(format!("understood as {}", reply.intent));
        }
        for word in *expected {
            if !reply.text.contains(word) {
                problems.push(format!("missing `{word}`"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{question:?}: {} -> {:?}",
                problems.join(", "),
                reply.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        PHRASINGS.len(),
        failures.join("\n")
    );
}

/// Questions about an action: what it did, how it is going, who did it, where things stand.
/// None may be taken for the action itself (it would offer to change what nobody asked to
/// change).
const QUESTIONS_ABOUT_ACTIONS: &[&str] = &[
    "did the restart of checkout finish",
    "how is the rollback of pricing going",
    "who restarted checkout",
    "what's checkout's desired count",
    "is payments scaled",
    "is payments scaled to five",
    "has the payments api restart completed",
    "when was cart last restarted",
    "did anyone roll back search",
    "why did orders get rolled back",
    "how many tasks is inventory scaled to",
    "who scaled down shipping",
    "is the checkout latency alarm silenced",
    "who muted the kafka connect lag alarm",
    "when does the silence on ml scoring cpu high end",
    "which alarms are muted right now",
    "did the rollback of catalog succeed",
    "is auth still restarting",
    "did restarting checkout help",
    "is web frontend back after the restart",
    "did the scale up of search finish",
    "how did the pricing rollback go",
    "was gateway redeployed today",
    "is the recommendations 5xx alarm still snoozed",
];

/// An order, the intent it must be understood as, and its slots.
type Order = (&'static str, Intent, &'static [(Slot, &'static str)]);

/// Orders opsvoice takes, with the intent and the slots they must be understood as.
const ORDERS: &[Order] = &[
    (
        "restart checkout",
        Intent::RestartService,
        &[(Slot::Service, "checkout")],
    ),
    (
        "can you bounce payments api in prod",
        Intent::RestartService,
        &[(Slot::Service, "payments-api"), (Slot::Cluster, "prod")],
    ),
    (
        "redeploy the search service",
        Intent::RestartService,
        &[(Slot::Service, "search")],
    ),
    (
        "please recycle the orders tasks",
        Intent::RestartService,
        &[(Slot::Service, "orders")],
    ),
    (
        "force a new deployment of gateway",
        Intent::RestartService,
        &[(Slot::Service, "gateway")],
    ),
    (
        "roll back pricing",
        Intent::RollbackService,
        &[(Slot::Service, "pricing")],
    ),
    (
        "revert cart in prod",
        Intent::RollbackService,
        &[(Slot::Service, "cart"), (Slot::Cluster, "prod")],
    ),
    (
        "undo the last deploy of catalog",
        Intent::RollbackService,
        &[(Slot::Service, "catalog")],
    ),
    (
        "could you roll auth back to the previous version",
        Intent::RollbackService,
        &[(Slot::Service, "auth")],
    ),
    (
        "scale checkout to 5",
        Intent::ScaleService,
        &[(Slot::Service, "checkout"), (Slot::Count, "5")],
    ),
    (
        "scale payments api to ten tasks in prod",
        Intent::ScaleService,
        &[
            (Slot::Service, "payments-api"),
            (Slot::Count, "10"),
            (Slot::Cluster, "prod"),
        ],
    ),
    (
        "set search's desired count to a dozen",
        Intent::ScaleService,
        &[(Slot::Service, "search"), (Slot::Count, "12")],
    ),
    (
        "scale inventory up to 8",
        Intent::ScaleService,
        &[(Slot::Service, "inventory"), (Slot::Count, "8")],
    ),
    // No number said: the dialog asks how many, never a guess.
    (
        "scale up shipping",
        Intent::ScaleService,
        &[(Slot::Service, "shipping")],
    ),
    (
        "silence checkout p99 latency high for 30 minutes",
        Intent::SilenceAlarm,
        &[
            (Slot::Alarm, "checkout-p99-latency-high"),
            (Slot::Duration, "1800"),
        ],
    ),
    (
        "mute the ml scoring cpu alarm for an hour",
        Intent::SilenceAlarm,
        &[
            (Slot::Alarm, "ml-scoring-cpu-high"),
            (Slot::Duration, "3600"),
        ],
    ),
    (
        "snooze kafka connect consumer lag for half an hour",
        Intent::SilenceAlarm,
        &[
            (Slot::Alarm, "kafka-connect-consumer-lag"),
            (Slot::Duration, "1800"),
        ],
    ),
    (
        "silence prod customer impact",
        Intent::SilenceAlarm,
        &[(Slot::Alarm, "prod-customer-impact")],
    ),
    (
        "mute it for 2h",
        Intent::SilenceAlarm,
        &[(Slot::Duration, "7200")],
    ),
    (
        "unmute checkout p99 latency high",
        Intent::UnsilenceAlarm,
        &[(Slot::Alarm, "checkout-p99-latency-high")],
    ),
    (
        "unsilence the recommendations running tasks low alarm",
        Intent::UnsilenceAlarm,
        &[(Slot::Alarm, "recommendations-running-tasks-low")],
    ),
    (
        "end the silence on ml scoring cpu high",
        Intent::UnsilenceAlarm,
        &[(Slot::Alarm, "ml-scoring-cpu-high")],
    ),
];

#[tokio::test]
async fn questions_about_actions_are_never_actions_and_orders_are_with_their_slots() {
    use opsvoice::ops::OpsSource as _;
    let demo = opsvoice::ops::demo::DemoFleet::new(common::clock());
    let catalog = demo.catalog().await.unwrap();
    // The names `/v1/ask` recognises: the catalog and the firing alarms.
    let alarms: Vec<String> = demo
        .firing_alarms()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    let nlu = opsvoice::nlu::Nlu::embedded().unwrap();
    assert!(QUESTIONS_ABOUT_ACTIONS.len() >= 20 && ORDERS.len() >= 20);
    let mut failures = Vec::new();
    for question in QUESTIONS_ABOUT_ACTIONS {
        let u = nlu.understand(question, &catalog, &alarms, None);
        if opsvoice::nlu::ACTION_INTENTS.contains(&u.intent) {
            failures.push(format!("{question:?} taken as {} {:?}", u.intent, u.slots));
        }
    }
    for (order, intent, slots) in ORDERS {
        let want: opsvoice::dialog::Slots =
            slots.iter().map(|(s, v)| (*s, (*v).to_owned())).collect();
        let u = nlu.understand(order, &catalog, &alarms, None);
        if u.intent != *intent || !opsvoice::nlu::eval::same_slots(&want, &u.slots) {
            failures.push(format!(
                "{order:?} understood as {} {:?}, not {intent} {want:?}",
                u.intent, u.slots
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
