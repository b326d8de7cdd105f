-- period_days(period_start, grain): the calendar days in the period starting on `period_start`
-- (deploys per day divides by these). Python's metrics.filters.period_days is the same rule.
CREATE OR REPLACE MACRO period_days(period_start, grain) AS
    date_diff('day', period_start, period_start + period_interval(grain))
