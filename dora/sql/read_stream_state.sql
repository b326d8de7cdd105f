-- read_stream_state: the watermark and resume point of one incremental stream (no row: never read).
-- Grain: at most one row, for ($source, $stream).
SELECT watermark_at, pass_state, pass_floor_at, pass_high_at, pass_cursor, etag, etag_url
FROM ingest_watermarks
WHERE source = $source AND stream = $stream
