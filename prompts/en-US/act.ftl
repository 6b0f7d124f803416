# Acting (restart, roll back, scale, silence): why an action was refused. `verb` is the
# verb as said ("roll back"), `target` the service or alarm as named.

act-refused-kill-switch = Actions are switched off right now, so I won't { $verb } { $target }. Nothing was changed.
act-refused-not-enabled = Actions aren't turned on in this deployment's access policy, so I won't { $verb } { $target }. Nothing was changed.
# The words every question outside the grants gets, whether or not the target exists.
act-refused-hidden = You don't have access to that. Nothing was changed.
act-refused-no-grant = You aren't allowed to { $verb } { $target }. Nothing was changed.
act-refused-mismatch = I can't { $verb } { $target }: that only works on { $verb ->
    [silence] alarms
   *[other] services
}. Nothing was changed.
act-refused-rate-limited = I won't { $verb } { $target } now: it has had too many changes in the last few minutes. Nothing was changed.
act-refused-target-changed = I didn't { $verb } { $target }: it changed since I read the change back to you. Ask again to see where it stands now.
act-refused-no-evidence = I won't roll back { $target }: I can't tell which version it ran before. Nothing was changed.
act-refused-controller = I won't { $verb } { $target }: it is deployed by CodeDeploy or another controller, not by ECS. Use that tool instead. Nothing was changed.
act-refused-elsewhere = I won't { $verb } { $target }: it is in an account or region I'm not set up to act in. Nothing was changed.
# An account listed without an actions role: read only.
act-refused-read-only = I won't { $verb } { $target }: { $has-account ->
    [yes] the { $account } account
   *[no] this account
} is read only for me, with no actions role set up there. Nothing was changed.
act-refused-alarm-scales = I won't silence { $target }: it does more than notify (it scales or stops something), and silencing it would stop that too. Nothing was changed.
act-refused-bounds = I won't { $verb } { $target } that far: it is outside what this deployment allows. Nothing was changed.
act-refused-no-change = There is nothing to { $verb } there: { $target } is already that way. Nothing was changed.

# Where an action's target is, said after it: its account, and its region when the
# account is read in more than one.
act-place = {" "}(the { $account } account{ $has-region ->
    [yes] , { $region }
   *[no] {""}
})

# The read-back, then the question. `cluster` and `place` (act-place) may be empty.
act-readback-restart = Restart { $target }{ $has-cluster ->
    [no] {""}
   *[yes] {" "}in { $cluster }
}{ $place }? It has { $running } running { $running ->
    [one] task
   *[other] tasks
}, and a new deployment will replace them.
act-readback-rollback = Roll back { $target }{ $has-cluster ->
    [no] {""}
   *[yes] {" "}in { $cluster }
}{ $place } from { $from } to { $to }{ $has-until ->
    [no] {""}
   *[yes] , which ran until { $until }
}?
act-readback-scale = Scale { $target }{ $has-cluster ->
    [no] {""}
   *[yes] {" "}in { $cluster }
}{ $place } from { $from } to { $to } { $to ->
    [one] task
   *[other] tasks
}?
act-readback-silence = Silence { $target }{ $place } until { $until }? Its notifications stop until then.
act-readback-unsilence = End the silence on { $target }{ $place } now? Its notifications start again.
act-needs-approval = A second person will have to approve it in Slack.
act-shall-i = Shall I?
act-nothing-to-confirm = There's nothing waiting for your yes, so I did nothing.
act-cancelled = OK, I won't { $verb } { $target }. Nothing was changed.
act-expired = That request expired before it was answered, so I did nothing. Ask again if you still want it.
act-awaiting-approval = I've asked for approval{ $has-channel ->
    [no] {" "}in Slack
   *[yes] {" "}in { $channel }
}. Nothing changes until someone else approves.
act-approval-unavailable = This needs a second person's approval, but I can't post the approval card, so I did nothing.
act-started = { $verb ->
    [restart] Restarting { $target }: a new deployment has started.
    [rollback] Rolling { $target } back to { $to }: the deployment has started.
    [scale] Scaling { $target } to { $to }.
   *[other] Done.
}
act-where = Ask me how { $target } is doing to follow it; the result will also be in "what did I miss?".
act-where-thread = I'll post the result in this thread.
act-done-silence = { $target } is silenced until { $until }.
act-done-unsilence = { $target }'s notifications are on again.
act-failed = AWS refused to { $verb } { $target }: { $detail }. Nothing was changed.
act-unknown = I asked AWS to { $verb } { $target }, but couldn't tell whether it took effect. I won't try again on my own: check { $target } before asking again.
act-in-progress = That is already being handled; I won't do it twice.
act-unavailable = I can't reach my action records right now, so I did nothing.

# Approval cards and the requester's thread.
act-card-what = { $who } asks: { $change }
act-status-pending = Waiting for the requester's yes.
act-status-waiting = Waiting for approval until { $until }.
act-status-approved = Approved by { $approver }.
act-status-cancelled = Cancelled by the requester. Nothing was changed.
act-status-rejected = Denied by { $approver }. Nothing was changed.
act-status-expired = Expired: nobody answered in time. Nothing was changed.
act-status-refused = Refused: { $reason }
act-status-running = { $has-approver ->
    [no] Running.
   *[yes] Approved by { $approver }. Running.
}
act-status-finished = { $outcome ->
    [done] Done at { $at }.
    [failed] Failed at { $at }: { $detail }.
   *[other] Outcome unknown ({ $detail }); not retried. Check the service before trying again.
}{ $has-approver ->
    [no] {""}
   *[yes] {" "}Approved by { $approver }.
}
