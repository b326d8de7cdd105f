-- local_day(ts, tz): the calendar day an instant falls on in the time zone `tz` (a DATE).
-- The one home of "which local day is this": every period, window and span starts from it.
-- A scalar macro: DuckDB inlines it, so it costs what the expression costs. Stored in the database,
-- so read-only readers of the snapshot can call it too.
CREATE OR REPLACE MACRO local_day(ts, tz) AS (ts AT TIME ZONE tz)::DATE
