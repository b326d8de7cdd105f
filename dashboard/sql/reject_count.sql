-- How many records were rejected at ingest, in every run. Grain: one row.
SELECT count(*) AS rejects
FROM rejects
