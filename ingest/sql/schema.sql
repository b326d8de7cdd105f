-- Warehouse schema: everything an ingest writes. Created idempotently on every connect.
-- Grain: raw_events one row per (source, event_id); stg_events one row per raw event the metrics use;
-- rejects one row per rejected record; ingest_runs one row per run of any ingestor.

CREATE SEQUENCE IF NOT EXISTS ingest_run_ids START 1;

CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id        BIGINT PRIMARY KEY,
    origin        VARCHAR NOT NULL,     -- 'eventlog', 'github', 'survey', ...
    target        VARCHAR,              -- what was read: file names, repository, ...
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    records       BIGINT DEFAULT 0,     -- records read (non-blank lines for the event log)
    loaded        BIGINT DEFAULT 0,     -- new raw events stored
    duplicates    BIGINT DEFAULT 0,     -- already stored, or repeated within the run: ignored
    rejected      BIGINT DEFAULT 0,
    unknown_types BIGINT DEFAULT 0,     -- stored raw, ignored by the metrics
    outcome       VARCHAR NOT NULL,     -- 'ok', 'rejects', 'failed'
    message       VARCHAR
);

-- Raw payloads exactly as received, keyed like CloudEvents: (source, event_id).
CREATE TABLE IF NOT EXISTS raw_events (
    origin        VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,     -- context.source for CDEvents
    event_id      VARCHAR NOT NULL,     -- context.id for CDEvents
    event_type    VARCHAR,
    occurred_at   TIMESTAMPTZ,
    payload       VARCHAR NOT NULL,     -- the record's text, unchanged
    ingest_run_id BIGINT NOT NULL,
    file          VARCHAR,
    line_no       BIGINT
);

CREATE TABLE IF NOT EXISTS rejects (
    ingest_run_id BIGINT NOT NULL,
    origin        VARCHAR NOT NULL,
    file          VARCHAR,
    line_no       BIGINT,
    raw           VARCHAR,              -- the record's text, unchanged
    reason        VARCHAR NOT NULL
);

-- Typed, source-neutral rows: every ingestor writes these; facts read only these.
CREATE TABLE IF NOT EXISTS stg_events (
    origin                 VARCHAR NOT NULL,
    source                 VARCHAR NOT NULL,
    event_id               VARCHAR NOT NULL,
    ingest_run_id          BIGINT NOT NULL,
    kind                   VARCHAR NOT NULL,  -- deployment, rollback, change_merged, incident_started,
                                              -- incident_resolved, pipelinerun, taskrun
    predicate              VARCHAR,           -- the CDEvents predicate: deployed, upgraded, started, ...
    occurred_at            TIMESTAMPTZ NOT NULL,
    subject_id             VARCHAR NOT NULL,
    service                VARCHAR,
    environment            VARCHAR,
    deployment_id          VARCHAR,
    commit_sha             VARCHAR,
    repository             VARCHAR,
    change_ids             VARCHAR[],         -- explicit list of changes a deployment shipped
    shipped_commits        VARCHAR[],         -- commits between this and the previous deployment, when known
    started_at             TIMESTAMPTZ,
    unplanned              BOOLEAN,
    rolled_back_deployment VARCHAR,
    first_commit_at        TIMESTAMPTZ,
    opened_at              TIMESTAMPTZ,
    first_review_at        TIMESTAMPTZ,
    merged_at              TIMESTAMPTZ,
    additions              BIGINT,
    deletions              BIGINT,
    author                 VARCHAR,
    title                  VARCHAR,
    severity               VARCHAR,
    caused_by_deployment   VARCHAR,
    caused_by_commit       VARCHAR,
    pipeline_name          VARCHAR,
    task_name              VARCHAR,
    pipeline_run_id        VARCHAR,
    outcome                VARCHAR,
    traffic_percent        DOUBLE,            -- deployments: share of traffic served after this event,
                                              -- 0..100; NULL = 100 (the whole environment)
    caused_by_change       VARCHAR,           -- incident starts: the change named as the cause
    cause_rule             VARCHAR            -- incident starts: the rule that read the explicit cause
                                              -- ('event field' for the event log); NULL = none named
);
-- Warehouses made before definitions version 2 get the new columns in place (NULL until their rows
-- are staged again: the event log's by its next ingest run, GitHub's by its next sync).
ALTER TABLE stg_events ADD COLUMN IF NOT EXISTS traffic_percent DOUBLE;
ALTER TABLE stg_events ADD COLUMN IF NOT EXISTS caused_by_change VARCHAR;
ALTER TABLE stg_events ADD COLUMN IF NOT EXISTS cause_rule VARCHAR;
-- customData is not staged: nothing read it, and raw_events.payload holds it as received. The copy
-- was an eighth of the warehouse at 1M deployments (docs/performance.md, "What the load costs").
ALTER TABLE stg_events DROP COLUMN IF EXISTS custom_data;

-- The version of the staging rules each origin's stg_events rows were made with. When a source's
-- rules change, its rows are staged again from raw_events (payloads are kept unchanged for this).
-- Grain: one row per origin.
CREATE TABLE IF NOT EXISTS staging_versions (
    origin        VARCHAR PRIMARY KEY,
    version       INTEGER NOT NULL,
    staged_at     TIMESTAMPTZ NOT NULL
);

-- What the last build of facts and metrics was made from, so readers can tell it is current.
CREATE TABLE IF NOT EXISTS build_info (
    built_at        TIMESTAMPTZ NOT NULL,
    settings        JSON NOT NULL,
    last_run_id     BIGINT
);

-- What the read snapshot (<name>.snapshot.duckdb) stands for, so a run that changed nothing readers
-- see but its own ingest_runs row need not copy the whole file again (ingest.warehouse,
-- publish_snapshot and keep_snapshot). Grain: one row, none before the first publish.
CREATE TABLE IF NOT EXISTS snapshot_published (
    copied_run_id     BIGINT NOT NULL,      -- the newest run whose data the copied file holds
    current_run_id    BIGINT NOT NULL,      -- the newest run it stands for (later runs were no-ops)
    built_at          TIMESTAMPTZ,          -- the build (build_info) it stands for; NULL before any
    snapshot_mtime_ns BIGINT NOT NULL,      -- the file as published: another file there is not it
    snapshot_size     BIGINT NOT NULL,
    published_at      TIMESTAMPTZ NOT NULL
);

-- Annotations: dated, named process changes ("Phase 1: remove manual gates"), drawn on charts and
-- used as before/after windows. Grain: one row per (name, service); service NULL = the organisation.
-- Written by `dora annotate` (dora/jobs_context.py); a window starts at 00:00 of starts_on in the
-- configured time zone.
CREATE SEQUENCE IF NOT EXISTS annotation_ids START 1;
CREATE TABLE IF NOT EXISTS annotations (
    id            BIGINT NOT NULL DEFAULT nextval('annotation_ids'),
    name          VARCHAR NOT NULL,
    starts_on     DATE NOT NULL,
    service       VARCHAR,              -- NULL: the whole organisation
    description   VARCHAR,
    created_at    TIMESTAMPTZ NOT NULL,
    ingest_run_id BIGINT                -- the run that last wrote it
);

-- Developer-satisfaction survey responses (`dora ingest survey`). Grain: one row per
-- (response_date, team, respondent); a later import of the same key replaces the score.
CREATE TABLE IF NOT EXISTS survey_responses (
    response_date DATE NOT NULL,
    team          VARCHAR NOT NULL,     -- a team or service name; matched to services by name
    respondent    VARCHAR NOT NULL,     -- an opaque respondent id (never a name is needed)
    score         DOUBLE NOT NULL,
    scale_min     DOUBLE NOT NULL,      -- the stated scale, e.g. 1-5
    scale_max     DOUBLE NOT NULL,
    ingest_run_id BIGINT NOT NULL,
    file          VARCHAR,
    line_no       BIGINT
);
