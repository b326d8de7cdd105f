-- build_scope_periods: the periods a period-scoped build recomputes: every period, of every grain,
-- holding a day within one day of a UTC day whose fingerprint changed since the last build (differs,
-- or is on one side only: build_scope_prints against build_day_prints). Local days in any time zone
-- are within one day of the UTC day. Grain: (grain, period_start).
CREATE TABLE build_scope.periods AS
WITH changed AS (
    SELECT day FROM (SELECT input, day, print FROM build_scope.prints
                     EXCEPT SELECT input, day, print FROM main.build_day_prints)
    UNION
    SELECT day FROM (SELECT input, day, print FROM main.build_day_prints
                     EXCEPT SELECT input, day, print FROM build_scope.prints)
),
days AS (
    SELECT DISTINCT DATE '1970-01-01' + CAST(c.day + s.shift AS INTEGER) AS day
    FROM changed c CROSS JOIN (VALUES (-1), (0), (1)) s(shift)
    WHERE c.day IS NOT NULL  -- a row without its timestamp has no period (an incident without a start)
)
SELECT DISTINCT g.grain, period_start_of(d.day, g.grain) AS period_start
FROM days d CROSS JOIN (SELECT unnest($grains::VARCHAR[]) AS grain) g
