-- write_stream_state: the watermark and resume point of one incremental stream, written in the
-- transaction of the data it describes. Grain: one row per (source, stream), replaced.
INSERT OR REPLACE INTO ingest_watermarks
    (source, stream, watermark_at, pass_state, pass_floor_at, pass_high_at, pass_cursor, etag,
     etag_url, ingest_run_id, updated_at)
VALUES ($source, $stream, $watermark_at, $pass_state, $pass_floor_at, $pass_high_at, $pass_cursor, $etag,
        $etag_url, $ingest_run_id, $updated_at)
