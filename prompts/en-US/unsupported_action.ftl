# UnsupportedAction: an action opsvoice cannot take. `action` is what was asked, as a verb phrase.

unsupported-action = I can't { $action }. Ask me how a service is doing, whether a deploy finished, or which alarms are firing.
unsupported-action-service = I can't { $action }. I can tell you how { $service } is doing, or whether its deploy finished.
# What was asked, as the answer names it. Restarting, rolling back or scaling one service and
# silencing one alarm are actions of their own: what is refused here is more than one at once.
action-host = restart or change hosts and instances: I act on ECS services only
action-roll-forward = roll a service forward; I can roll one back to the version it ran before
action-restart = restart more than one service at once
action-rollback = roll back more than one service at once
action-scale-vague = choose how far to scale; say how many tasks, as in: scale it to 6
action-scale = scale more than one service at once
action-deploy = deploy
action-stop = stop tasks
action-page = page anyone
action-oncall = tell you who is on call
action-unsilence = turn more than one alarm back on at once
action-silence = silence more than one alarm at once
action-acknowledge = acknowledge alarms
action-incident = open incidents
action-other = make that change
