-- period_start_of(day, grain): the first day of the period of `grain` (day / week / month / quarter)
-- that holds the DATE `day`; weeks are ISO weeks and start on Monday. The period of an instant is
-- period_start_of(local_day(ts, tz), grain). Python's metrics.filters.period_start_of is the same rule.
CREATE OR REPLACE MACRO period_start_of(day, grain) AS date_trunc(grain, day)::DATE
