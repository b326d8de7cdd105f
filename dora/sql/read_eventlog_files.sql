-- read_eventlog_files: where the nightly job stopped reading each event-log file it has read, under
-- the name it was read by (a file renamed, copied or compressed since is found by its inode or its
-- first and last lines read: dora.nightly).
-- Grain: one row per file path read.
SELECT path, inode, size_bytes, mtime_ns, offset_bytes, line_no, first_line_sha, last_line_sha
FROM eventlog_files
ORDER BY path
