-- observed_days(period_start, grain, first_day, last_day): the calendar days of the period of `grain`
-- starting on `period_start` that lie inside the coverage first_day..last_day (both included;
-- fct_coverage), 0 for a period outside it or without coverage (greatest ignores a NULL). Rates per
-- day divide by these, so the current, unfinished period and the first, partly covered one are not
-- diluted (contract §2).
CREATE OR REPLACE MACRO observed_days(period_start, grain, first_day, last_day) AS
    greatest(0, date_diff('day', greatest(period_start, first_day)::TIMESTAMP,
                          least(period_start + period_interval(grain), last_day + INTERVAL 1 DAY)))
