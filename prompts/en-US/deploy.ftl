# DeploymentStatus

deploy-state = { $state ->
    [in-progress] { $service } is still deploying { $taskdef }: { $new } of { $desired } new tasks are up, { $age } in.
    [completed] { $owner } last deploy, { $taskdef }, finished { $age } ago and is fully rolled out.
    [rolled-back] { $owner } deploy of { $failed } failed and was rolled back { $age } ago; { $taskdef } is serving.
    [failed] { $owner } deploy of { $taskdef } failed { $age } ago.
   *[unknown] I can't find any deployment for { $service }.
}
deploy-reason = The reason given: { $reason }.
deploy-failed-tasks = { $count ->
    [one] 1 task failed to start.
   *[other] { $count } tasks failed to start.
}
deploy-event = { $age } ago: { $event }.
