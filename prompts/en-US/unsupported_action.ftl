# UnsupportedAction: opsvoice only reads. `action` is what was asked, as a verb phrase.

unsupported-action = I can't { $action }; I only report how things are. Ask me how a service is doing, whether a deploy finished, or which alarms are firing.
unsupported-action-service = I can't { $action }; I only report how things are. I can tell you how { $service } is doing, or whether its deploy finished.
# What was asked, as the answer names it.
action-restart = restart services
action-rollback = roll back deploys
action-scale = scale services
action-deploy = deploy
action-stop = stop tasks
action-page = page anyone
action-oncall = tell you who is on call
action-acknowledge = acknowledge or silence alarms
action-incident = open incidents
action-other = make changes
