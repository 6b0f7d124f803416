# Notification cards and their threads (Slack). In the card-* messages that end up in
# Block Kit mrkdwn, the arguments arrive escaped and the marks (*bold*, :emoji:) are ours;
# the *-fallback messages are the plain text Slack shows in notifications.

notify-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}

# An alarm episode's card.
card-firing = :red_circle: *{ $alarm }* is firing
card-firing-again = :red_circle: *{ $alarm }* is firing (fired { $fires } times)
card-resolved = :white_check_mark: *{ $alarm }* resolved after { $minutes }
card-late = :hourglass: Posted { $minutes } late: Slack could not be reached until now.
card-suppressed = :zipper_mouth_face: Its actions are suppressed by { $suppressor } { $by ->
    [WaitPeriod] while it waits to see whether { $suppressor } fires.
    [ExtensionPeriod] for a little longer, as { $suppressor } has just resolved.
   *[Alarm] while { $suppressor } is firing.
}
card-firing-fallback = { $alarm } is firing: { $what }.
card-resolved-fallback = { $alarm } resolved after { $minutes }.
# What fired, from the alarm's reason: "checkout's CPU is 91, over 80 for 3 of 3 periods".
card-in-words = { $subject }'s { $metric } is { $latest }, { $direction ->
    [under] under
   *[over] over
} { $threshold } for { $count } of { $of } periods
# A CloudWatch metric name as people say it.
card-metric = { $name ->
    [CPUUtilization] CPU
    [MemoryUtilization] memory
    [TargetResponseTime] latency
    [HTTPCode_Target_5XX_Count] 5xx errors
    [HTTPCode_ELB_5XX_Count] 5xx errors
    [RequestCount] request count
    [none] metric
   *[other] { $name }
}
card-button-why = Why is it firing?
card-button-changed = What changed?
card-button-usage = CPU and memory
card-button-ack = Acknowledge
# Who took the alarm ($who: a Slack mention, made by us).
card-acked = Acknowledged by { $who }
card-acked-fallback = Acknowledged by { $who }.
# Its actions silenced (SilenceAlarm): $who a username (escaped by us where it is mrkdwn),
# $until a clock time ("14:02 UTC").
card-silenced = Silenced by { $who } until { $until }
card-silenced-fallback = Silenced by { $who } until { $until }.
# Said privately to whoever presses Acknowledge when it cannot be done.
ack-already = Already acknowledged by { $who }.
ack-already-someone = Already acknowledged.
ack-denied = You can't acknowledge this alarm: your groups don't cover it.
ack-over = There is nothing to acknowledge: this card's alarm has resolved or moved on to a newer card.
ack-link-first = Link your Slack account to your sign-in first: an acknowledgement says who took the alarm.
ack-not-set-up = Acknowledging needs account linking, which is not set up on this opsvoice.
ack-failed = I couldn't record that just now. Try again in a minute.
card-button-mute = Mute for 1 hour
card-button-alarms = Any alarms firing?
card-button-deploy = Deploy status
card-button-health = How is it doing?
card-say-usage = what's the cpu and memory of { $service } in { $cluster }
card-say-deploy = did { $service } in { $cluster } roll back
card-say-health = how is { $service } in { $cluster } doing

# The alarm's health and change lines.
card-no-changes = No deployments in the last hour.
card-last-change = Last hour: { $taskdef } deployed { $age } ago, { $outcome ->
    [in-progress] still rolling out
    [completed] completed
    [failed] failed
   *[rolled-back] rolled back
}{ $count ->
    [1] {""}
   *[other] {" "}({ $count } deployments in all)
}.

# Replies in an episode's thread.
thread-still-firing = Still firing: { $reason }
thread-firing-again = Firing again ({ $fires } times in this episode): { $reason }
thread-resolved = Resolved after { $minutes }.
thread-also-firing = Also firing: { $alarm }. { $reason }
thread-late = { $text } (posted { $minutes } late)

# A burst of alarms, as one card.
card-burst = :rotating_light: *{ $count } alarms fired within a minute*
card-burst-more = …and { $count } more
card-burst-thread = Each alarm's updates follow in this thread.
card-burst-fallback = { $count } alarms fired within a minute: { $alarms }.

# A deployment's card.
card-deployment = { $what ->
    [rolling-back] :leftwards_arrow_with_hook: *{ $service }* is rolling back ({ $cluster })
    [rolled-back] :leftwards_arrow_with_hook: *{ $service }* rolled back ({ $cluster })
   *[failed] :x: *{ $service }*'s deployment failed ({ $cluster })
}
card-deployment-fallback = { $what ->
    [rolling-back] { $service } is rolling back in { $cluster }.
    [rolled-back] { $service } rolled back in { $cluster }.
   *[failed] { $service }'s deployment failed in { $cluster }.
}
card-deployment-id = Deployment { $deployment }
card-rolling-back-to = Back to deployment { $target }.
card-rolled-back-to = Now serving { $taskdef }.

# Where an event happened, when accounts are configured (OPSVOICE_ACCOUNTS_FILE):
# $account is the account's spoken name, $region a region code or "none".
card-where = { $region ->
    [none] the { $account } account
   *[other] the { $account } account, { $region }
}
card-where-line = In { $where }
card-where-fallback = In { $where }.
# A burst card's list item for an alarm in an account.
card-burst-item = { $alarm } in { $where }
