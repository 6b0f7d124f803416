# ActiveAlarms and AlarmDetail

alarms-none = No alarms are firing.
alarms-none-in = No alarms are firing in { $scope }.
alarms-count = { $count ->
    [one] One alarm is firing:
   *[other] { $count } alarms are firing. Newest first:
}
alarms-count-in = { $count ->
    [one] One alarm is firing in { $scope }:
   *[other] { $count } alarms are firing in { $scope }. Newest first:
}
alarms-item = { $name }, for { $age }.
alarms-item-composite = { $name }, a composite alarm, for { $age }.
alarms-and-more = And { $count } more.

alarm-state = { $state ->
    [alarm] { $name } has been firing for { $age }.
    [ok] { $name } is not firing; it has been OK for { $age }.
   *[insufficient-data] { $name } has had insufficient data for { $age }.
}
alarm-reason = { $reason }
alarm-changes = { $count ->
    [0] It hasn't changed state in the last day.
    [one] It changed state once in the last day.
   *[other] It changed state { $count } times in the last day.
}
alarm-service = It belongs to { $service }.
alarm-composite = It's a composite alarm.
# A running silence (SilenceAlarm): $who a username, $until a clock time ("15:00 UTC").
alarm-silenced = Its notifications are silenced by { $who } until { $until }.
no-firing-alarm = { $service } has no alarm firing right now.
