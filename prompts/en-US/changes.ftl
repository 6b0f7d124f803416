# WhatChanged

changes-none = Nothing was deployed in the last { $window }.
changes-count = { $count ->
    [one] One deployment in the last { $window }.
   *[other] { $count } deployments in the last { $window }.
}
changes-item = { $outcome ->
    [in-progress] { $service } is rolling out { $taskdef }, started { $age } ago.
    [succeeded] { $service } deployed { $taskdef } { $age } ago.
    [failed] { $service } failed to deploy { $taskdef } { $age } ago.
   *[rolled-back] { $service } rolled back { $taskdef } { $age } ago.
}
