# Charts in Slack: the alt text of a chart (src/chart.rs), the same as the picture in words.

chart-alt-series = Chart of { $metric } for { $subject } over the last { $window }: now { $latest }, peak { $peak } at { $peak-at }.
chart-alt-no-data = Chart of { $metric } for { $subject } over the last { $window }: no data.
chart-alt-threshold = The red line is the alarm threshold, { $threshold }.
chart-alt-span = { $has-until ->
    [yes] from { $from } to { $until }
   *[no] since { $from }
}
chart-alt-alarm = Shaded: in ALARM { $spans }.
chart-alt-deployment = The purple line is the last deployment, { $what }, at { $at }.
# The file's title in Slack.
chart-title = { $subject }: { $metric }
