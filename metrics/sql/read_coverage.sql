-- read_coverage: the first and last day the warehouse covers (fct_coverage), in the configured time
-- zone. Grain: one row; none when no event is stored.
SELECT first_day, last_day FROM fct_coverage
