# Alexa on a screen (Echo Show, APL) and while Alexa waits for an answer.

# The status word beside the coloured dot.
apl-status = { $status ->
    [healthy] Healthy
    [degraded] Degraded
    [down] Down
    [deploying] Deploying
    [scaled-to-zero] Scaled to zero
    [alarm] Alarms firing
   *[unknown] Unknown
}
# The heading of the list under the headline.
apl-list-title = { $kind ->
    [alarms] Firing alarms
   *[services] Services needing attention
}
apl-alarm = { $name }, firing for { $age }
apl-problem = { $service }: { $status }, { $running } of { $desired } tasks running
apl-more = and { $count } more
# Above the sparkline: "CPU of prod/checkout, the last hour".
apl-sparkline = { $metric } of { $service }, the last hour

# Said (a progressive response) when an answer takes more than about a second.
# looking-<intent in kebab case> takes the service; without one, or for an intent
# without its own, the generic message is said.
looking = One moment, I'm looking…
looking-service-health = Looking at { $service }…
looking-deployment-status = Looking at { $service }'s deployments…
looking-metric-query = Looking at { $service }'s metrics…
looking-active-alarms = Looking at { $service }'s alarms…
looking-log-errors = Looking at { $service }'s logs…
