# LogErrors: what a service's error lines say (log text arrives as $top, $gist and $pattern,
# escaped wherever it goes by the SSML builder and the Slack blocks)

logs-since-deploy = since the { $time } deploy
logs-in-last = in the last { $window }
logs-errors = { $service } logged { $count ->
    [one] one error
   *[other] { $count } errors
} { $when }; most say { $top }.
logs-errors-capped = { $service } logged at least { $count } errors { $when }; most say { $top }.
logs-none = { $service } logged no errors { $when }.
logs-so-far = The query is still running; so far, { $found }
logs-top-new = { $new ->
    [yes] That's new since the deploy.
   *[no] It was logged before the deploy too.
}
logs-also = Also: { $items }.
logs-item = { $count } say { $gist }
logs-item-new = { $count } say { $gist }, new since the deploy
# The count comes last, so a line is never read as a "Label: https://…" link, whatever the
# log text ends with.
logs-line = “{ $pattern }”: { $count } times
logs-line-new = “{ $pattern }”: { $count } times, new since the deploy
logs-line-old = “{ $pattern }”: { $count } times, also before the deploy
logs-no-groups = { $service } doesn't log to CloudWatch Logs: its task definition names no awslogs log group, so I have no logs to search.
console-logs = Logs Insights: { $url }
say-logs = what errors is { $service } logging
