# ServiceHealth

health-verdict = { $verdict ->
    [healthy] { $desired ->
        [one] { $service } is healthy: its one task is running
       *[other] { $service } is healthy: all { $desired } tasks running
    }
    [degraded] { $service } is degraded: { $running } of { $desired } tasks running
    [degraded-alarms] { $service } is degraded: all { $desired } tasks running
    [down] { $service } is down: { $running } of { $desired } tasks running
    [deploying] { $service } is deploying: { $new } of { $desired } new tasks up after { $age }
   *[scaled-to-zero] { $service } is scaled to zero, with no tasks meant to run
}

health-alarms = { $count ->
    [0] no alarms firing
    [one] 1 alarm firing for { $age }
   *[other] { $count } alarms firing, the oldest for { $age }
}

health-summary = { $verdict }, { $alarms }.
health-summary-no-alarms = { $verdict }. I couldn't reach CloudWatch, so alarms aren't included.
health-summary-alarms-slow = { $verdict }. CloudWatch is slow right now, so alarms aren't included.
health-alarm-names = { $count ->
    [one] The alarm is { $names }.
   *[other] The alarms are { $names }.
}
health-pending = { $count ->
    [one] 1 task is starting.
   *[other] { $count } tasks are starting.
}
health-usage = CPU is at { $cpu } and memory at { $memory }.
health-last-event = Latest event, { $age } ago: { $event }.
