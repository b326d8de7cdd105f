-- sync_state: where each incremental source stopped, so the next run reads only what is new.
-- Created idempotently by the jobs that read these sources (GitHub ingest, the nightly job).
-- Every row is written in the same transaction as the data it describes.

-- Grain: one row per (source, stream), e.g. ('github:acme/payments', 'pulls').
CREATE TABLE IF NOT EXISTS ingest_watermarks (
    source         VARCHAR NOT NULL,     -- 'github:owner/name'
    stream         VARCHAR NOT NULL,     -- pulls, commits, deployments, releases, workflow_runs:<file>, issues:<label>
    watermark_at   TIMESTAMPTZ,          -- highest order key (updated/created time) of the last completed pass
    pass_state     VARCHAR NOT NULL,     -- 'idle', or 'running': a pass was interrupted and resumes at pass_cursor
    pass_floor_at  TIMESTAMPTZ,          -- the running pass reads back to here (NULL: from the beginning)
    pass_high_at   TIMESTAMPTZ,          -- highest order key the running pass has seen
    pass_cursor    VARCHAR,              -- where the running pass resumes (a GraphQL cursor or a timestamp)
    etag           VARCHAR,              -- ETag of a one-page answer, for a conditional request next time
    etag_url       VARCHAR,              -- the request that ETag belongs to
    ingest_run_id  BIGINT,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, stream)
);

-- Grain: one row per event-log file the nightly job reads (absolute path).
CREATE TABLE IF NOT EXISTS eventlog_files (
    path           VARCHAR PRIMARY KEY,
    inode          BIGINT,
    size_bytes     BIGINT,               -- file size when last read
    mtime_ns       BIGINT,
    offset_bytes   BIGINT NOT NULL,      -- everything before this byte (whole lines only) is loaded
    line_no        BIGINT NOT NULL,      -- physical lines before offset_bytes
    first_line_sha VARCHAR,              -- sha256 of the first line: a different one means a new file
    ingest_run_id  BIGINT,
    updated_at     TIMESTAMPTZ NOT NULL,
    last_line_sha  VARCHAR               -- sha256 of the last line read (a plain file): with the first line,
                                         -- tells a copy of this file read later (dora.nightly)
);
-- Made before copies were told: NULL until the file is next read (a copy of it is then read whole).
ALTER TABLE eventlog_files ADD COLUMN IF NOT EXISTS last_line_sha VARCHAR;
