# WhatHappened

happened-none = Nothing fired and no deployment failed in the last { $window }.
happened-count = { $count ->
    [one] One thing happened in the last { $window }.
   *[other] { $count } things happened in the last { $window }.
}
happened-firing = { $alarm } fired { $age } ago and is still firing.
happened-resolved = { $alarm } fired { $age } ago and resolved after { $lasted }.
# The same, once someone took the alarm with its card's Acknowledge button ($who: their
# username).
happened-firing-acked = { $alarm } fired { $age } ago and is still firing; { $who } acknowledged it.
happened-resolved-acked = { $alarm } fired { $age } ago and resolved after { $lasted }; { $who } acknowledged it.
happened-rolled-back = { $service } rolled back { $age } ago.
happened-failed = { $service }'s deployment failed { $age } ago.
happened-more = { $count ->
    [one] One more; say tell me more.
   *[other] { $count } more; say tell me more.
}
# An ECS service action at WARN or ERROR, by its event name ("Amazon ECS service action
# events", ECS Developer Guide).
happened-service-action = { $event ->
    [SERVICE_TASK_START_IMPAIRED] { $service } could not start tasks consistently { $age } ago.
    [SERVICE_TASK_PLACEMENT_FAILURE] { $service } could not place tasks { $age } ago.
    [SERVICE_TASK_CONFIGURATION_FAILURE] { $service } could not start tasks for a configuration problem { $age } ago.
    [SERVICE_DISCOVERY_INSTANCE_UNHEALTHY] { $service } had an unhealthy task in service discovery { $age } ago.
    [SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED] { $service } had a daemon task break its placement constraint { $age } ago.
    [ECS_OPERATION_THROTTLED] { $service }'s scheduler was throttled by the ECS API { $age } ago.
    [SERVICE_DISCOVERY_OPERATION_THROTTLED] { $service }'s scheduler was throttled by Cloud Map { $age } ago.
   *[other] { $service } reported a problem { $age } ago.
}
# An action of ours ended. `verb` is restart, rollback, scale, silence or unsilence;
# `approver` is empty when nobody had to approve; `outcome` is done, failed or unknown.
happened-acted = At { $asked } { $by } { $verb ->
    [restart] restarted
    [rollback] rolled back
    [scale] scaled
    [silence] silenced
    [unsilence] unsilenced
   *[other] changed
} { $target }{ $has-cluster ->
    [no] {""}
   *[yes] {" "}in { $cluster }
}{ $has-approver ->
    [no] {""}
   *[yes] , approved by { $approver }
}; { $outcome ->
    [done] it finished at { $ended }.
    [failed] it failed at { $ended }.
   *[other] whether it took effect is unknown.
}
