# Questions back, built-ins and failures.

ask-service = Which service?
ask-cluster = Which cluster?
ask-alarm = Which alarm?
ask-metric = Which metric: CPU, memory, errors, latency or requests?
ask-window = Over what time: the last hour, or the last day?
ask-count = To how many tasks?
ask-duration = For how long: thirty minutes, or an hour?
ask-account = Which account?
ask-region = Which region?
which-service = Did you mean { $options }?
which-cluster = { $service } runs in { $clusters }. Which cluster?
which-alarm = Which alarm: { $options }?
which-account = { $service } runs in the { $accounts } accounts. Which one?
which-region = { $service } runs in { $regions }. Which region?
which-account-alarm = There is a { $service } alarm in the { $accounts } accounts. Which one?
which-region-alarm = There is a { $service } alarm in { $regions }. Which region?
# A thing named with its account, where the answer spans more than one.
in-account = { $name } in { $account }
# One place's answer to a question about a name in two or three places (joined with "; "
# into one sentence). `account` is empty when the places are all in one account, `region`
# when the account has only this place.
in-each-place = in { $has-account ->
    [yes] { $account }{ $has-region ->
        [yes] {" "}({ $region })
       *[no] {""}
    }
   *[no] { $region }
}, { $answer }
did-you-mean = Did you mean { $service }?
unknown-service = I don't know a service called { $spoken }. Which service?
unknown-cluster = I don't know a cluster called { $spoken }. Which cluster?
unknown-alarm = I can't find an alarm called { $spoken }. Which alarm?
unknown-metric = I can't report { $spoken }. Which metric: CPU, memory, errors, latency or requests?
welcome = Ops desk here. Ask how a service is doing, whether a deploy finished, or whether any alarms are firing.
help = You can ask how checkout is doing, whether the payments deploy finished, whether any alarms are firing, what the CPU of search is, or what changed in the last hour.
goodbye = Okay, goodbye.
fallback = Sorry, I didn't get that. You can ask how a service is doing, or whether any alarms are firing.
nothing-to-repeat = I haven't said anything yet. Ask me how a service is doing.
unavailable = I can't reach { $system } right now, so I can't answer that. Please try again in a moment.
slow = { $system } is slow right now, so I can't answer that. Please try again in a moment.
too-slow = That took too long to look up. Please ask again.
internal-error = Sorry, something went wrong on my side. Please ask again.
reprompt = What else would you like to know?
denied = You don't have access to that.
sign-in = Please sign in to ops desk first; I can only answer signed-in users.
sign-in-unavailable = I can't check your sign-in right now. Please try again in a minute.
link-account = Please link your ops desk account in the Alexa app, then ask me again.
stale = I can't reach { $system } right now, so this is from { $age } ago.
stale-slow = { $system } { $count ->
    [one] is
   *[other] are
} slow right now, so this is from { $age } ago.
or = { $first } or { $last }
# An answer made without some accounts (or regions of one), which did not answer in time.
left-account = The { $accounts } { $count ->
    [one] account
   *[other] accounts
} didn't answer; this is without { $count ->
    [one] it
   *[other] them
}.
left-region = The { $account } account didn't answer in { $regions }; this is without { $count ->
    [one] that region
   *[other] those regions
}.

# Slack card titles and buttons. A button's value is what the user "says" by pressing it.
card-title = { $kind ->
    [health] Service health
    [deploy] Deployment
    [alarms] Alarms
    [alarm] Alarm
    [metric] Metrics
    [fleet] Fleet summary
    [changes] What changed
   *[other] { card-title-default }
}
# The title of a card about nothing in particular (an Alexa card for a built-in).
card-title-default = Ops desk
button-health = Health
button-deploy = Deploy status
button-alarms = Alarms
button-more = Tell me more
button-cpu = CPU
button-memory = Memory
button-errors = Errors
button-latency = Latency
button-fleet = Fleet summary
button-changes = What changed
button-yes = Yes
button-no = No
say-health = how is { $service } doing
say-deploy = did { $service } deploy finish
say-service-alarms = any alarms on { $service }
say-alarms = any alarms firing
say-metric = what's the { $metric } of { $service }
say-why = why is { $alarm } firing
say-fleet = how's the fleet
say-changes = what changed in the last hour
say-more = tell me more
say-yes = yes
say-no = no
console-service = ECS console: { $url }
console-alarm = CloudWatch console: { $url }
console-alarms = CloudWatch alarms: { $url }

# opsvoice chat: what an interactive start and /help print.
chat-help = Ask about your services, e.g. "how is checkout doing" or "any alarms firing".
    Commands: /new (a new conversation), /help, /quit (or Ctrl-D).
