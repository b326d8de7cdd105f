-- read_eventlog_file: where the nightly job stopped reading one event-log file (no row: never read).
-- Grain: at most one row, for $path (absolute).
SELECT inode, size_bytes, mtime_ns, offset_bytes, line_no, first_line_sha
FROM eventlog_files
WHERE path = $path
