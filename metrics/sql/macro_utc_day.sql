-- utc_day: the UTC calendar day of a timestamp, as days since 1970-01-01. Arithmetic only (no time
-- zone conversion), so cheap over millions of rows: a period-scoped build (metrics.build) fingerprints
-- and filters the facts by it. A day in any time zone is within one day of it.
CREATE OR REPLACE MACRO utc_day(ts) AS CAST(floor(epoch(ts) / 86400) AS BIGINT)
