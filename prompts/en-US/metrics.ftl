# MetricQuery

metric-value = { $metric } for { $service } is { $latest } now, averaging { $mean } over the last { $window }, with a peak of { $peak }.
metric-no-data = { $service } has no { $metric } data for the last { $window }.
