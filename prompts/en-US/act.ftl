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
