# FleetSummary

fleet-scope-all = The fleet
fleet-healthy = { $scope }: { $healthy } of { $total } services healthy.
fleet-all-healthy = { $scope }: all { $total } services are healthy.
fleet-group = { $verdict ->
    [down] { $count ->
        [one] { $names } is down.
       *[other] { $names } are down.
    }
    [degraded] { $count ->
        [one] { $names } is degraded.
       *[other] { $names } are degraded.
    }
   *[deploying] { $count ->
        [one] { $names } is deploying.
       *[other] { $names } are deploying.
    }
}
fleet-alarms = { $count ->
    [0] No alarms firing.
    [one] One alarm firing.
   *[other] { $count } alarms firing.
}
fleet-alarms-unknown = I couldn't reach CloudWatch, so alarms aren't included.
fleet-alarms-slow = CloudWatch is slow right now, so alarms aren't included.
fleet-problem-text = { $service }: { $verdict }, { $running } of { $desired } tasks running{ $firing ->
    [0] {""}
    [one] , 1 alarm firing
   *[other] , { $firing } alarms firing
}
