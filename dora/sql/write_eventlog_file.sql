-- write_eventlog_file: where the nightly job stopped reading one event-log file, written in the
-- transaction of the lines it loaded. Grain: one row per file (absolute path), replaced.
INSERT OR REPLACE INTO eventlog_files
    (path, inode, size_bytes, mtime_ns, offset_bytes, line_no, first_line_sha, last_line_sha, ingest_run_id,
     updated_at)
VALUES ($path, $inode, $size_bytes, $mtime_ns, $offset_bytes, $line_no, $first_line_sha, $last_line_sha, $ingest_run_id,
        $updated_at)
