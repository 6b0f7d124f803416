# Shared pieces: durations, windows, lists, units and metric names.
# Messages whose id ends in -text are the chat variant of the message without it.

clock = { $time } UTC
duration = { $unit ->
    [seconds] less than a minute
    [minutes] { $n ->
        [one] a minute
       *[other] { $n } minutes
    }
    [hours] { $n ->
        [one] an hour
       *[other] { $n } hours
    }
   *[days] { $n ->
        [one] a day
       *[other] { $n } days
    }
}

# "over the last { window }"
window = { $unit ->
    [minutes] { $n ->
        [one] minute
       *[other] { $n } minutes
    }
    [hours] { $n ->
        [one] hour
       *[other] { $n } hours
    }
   *[days] { $n ->
        [one] day
       *[other] { $n } days
    }
}

list-two = { $first } and { $last }
list-many = { $first }, and { $last }
list-more = { $count } more

value-percent = { $value } percent
value-percent-text = { $value }%
value-ms = { $value } milliseconds
value-ms-text = { $value } ms
value-per-minute = { $value } a minute
value-per-minute-text = { $value }/min

metric-name = { $metric ->
    [cpu] CPU
    [memory] memory
    [errors] 5xx errors
    [latency] p99 latency
   *[requests] request rate
}

task-definition = revision { $revision }
