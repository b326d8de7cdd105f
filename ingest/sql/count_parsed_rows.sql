-- count_parsed_rows: how many rows one parsed chunk or file has (the view parsed_rows, registered by
-- the caller; reason NULL for a valid row). Grain: one row: records, rejected, valid.
SELECT
    count(*)                                     AS records,
    count(*) FILTER (WHERE reason IS NOT NULL)   AS rejected,
    count(*) FILTER (WHERE reason IS NULL)       AS valid
FROM parsed_rows
