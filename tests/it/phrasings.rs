//! `opsvoice ask`-style understanding of phrasings that are not sample utterances: for
//! each of the seven intents, a dozen ways people actually ask, answered end to end
//! (NLU -> dialog -> render) from the demo fleet, in plain English.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use opsvoice::dialog::Intent;

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
    ("how is everything", Intent::FleetSummary, &["The fleet:"]),
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
    // UnsupportedAction: asked to act, never another intent's answer.
    (
        "restart the checkout service",
        Intent::UnsupportedAction,
        &["can't restart"],
    ),
    (
        "could you reboot payments",
        Intent::UnsupportedAction,
        &["can't restart", "payments"],
    ),
    (
        "roll back the cart deploy please",
        Intent::UnsupportedAction,
        &["can't roll back"],
    ),
    (
        "rollback search",
        Intent::UnsupportedAction,
        &["can't roll back"],
    ),
    (
        "scale payments up to ten tasks",
        Intent::UnsupportedAction,
        &["can't scale"],
    ),
    (
        "please scale down pricing",
        Intent::UnsupportedAction,
        &["can't scale"],
    ),
    (
        "redeploy the inventory service",
        Intent::UnsupportedAction,
        &["can't deploy"],
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
        &["can't acknowledge"],
    ),
    (
        "kill the search tasks",
        Intent::UnsupportedAction,
        &["can't stop"],
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
    // With nothing before it, "the rundown" is the fleet's: what is happening, not what
    // happened (it was WhatHappened until the samples grew; either reading is fair).
    (
        "give me the rundown",
        Intent::FleetSummary,
        &["services healthy"],
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
