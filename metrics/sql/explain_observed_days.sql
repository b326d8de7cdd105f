-- explain_observed_days: the days of one period inside the warehouse's coverage (fct_coverage), which
-- its per-day figures divide by. Parameters: $grain, $period_start (first day of the period).
-- Grain: one row; none when no event is stored.
SELECT observed_days($period_start::DATE, $grain, first_day, last_day) AS observed_days FROM fct_coverage
