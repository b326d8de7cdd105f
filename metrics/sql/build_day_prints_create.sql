-- build_day_prints_create: the table where a build records a fingerprint of the facts the period
-- metrics read, per UTC day (build_scope_prints), so the next build can tell which days changed and
-- recompute only their periods (metrics.build, "period-scoped"). Grain: (input, day). Created empty in
-- a warehouse that predates it, which makes the next build a full one.
CREATE TABLE IF NOT EXISTS build_day_prints (
    input  VARCHAR,  -- the fact table (or 'fct_coverage': one row per covered day)
    day    BIGINT,   -- utc_day of the row's period anchor
    print  HUGEINT   -- the sum of the day's rows' hashes: any added, removed or changed row changes it
)
