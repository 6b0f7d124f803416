# WhatHappened

happened-none = Nothing fired and no deployment failed in the last { $window }.
happened-count = { $count ->
    [one] One thing happened in the last { $window }.
   *[other] { $count } things happened in the last { $window }.
}
happened-firing = { $alarm } fired { $age } ago and is still firing.
happened-resolved = { $alarm } fired { $age } ago and resolved after { $lasted }.
happened-rolled-back = { $service } rolled back { $age } ago.
happened-failed = { $service }'s deployment failed { $age } ago.
happened-more = { $count ->
    [one] One more; say tell me more.
   *[other] { $count } more; say tell me more.
}
