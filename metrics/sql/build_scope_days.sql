-- build_scope_days: the UTC days whose facts the metric models read in a period-scoped build: every
-- day of every period to recompute (build_scope_periods), and one either side (a local day is within
-- one day of the UTC day). The rows of other periods these days also reach are computed from part of
-- their facts and left out when the rows are merged. Grain: (day).
CREATE TABLE build_scope.days AS
SELECT DISTINCT utc_day(d.day) + s.shift AS day
FROM (SELECT unnest(range(period_start::TIMESTAMP, (period_start + period_interval(grain))::TIMESTAMP,
                          INTERVAL 1 DAY)) AS day
      FROM build_scope.periods) d
CROSS JOIN (VALUES (-1), (0), (1)) s(shift)
