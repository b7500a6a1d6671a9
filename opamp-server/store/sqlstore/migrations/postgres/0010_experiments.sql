-- phoenix-server schema, version 10: experiments (opamp-server/experiment): the experiment is the JSON
-- record, its revision compared and set by every write; samples are one row per (interval, host, variant, KPI);
-- the lease row says which replica analyses the experiment.
CREATE TABLE experiments (
    name        TEXT PRIMARY KEY,
    status      TEXT    NOT NULL,
    active      INTEGER NOT NULL,
    revision    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    record      TEXT    NOT NULL,
    lease_holder TEXT   NOT NULL DEFAULT '',
    lease_until BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX experiments_active ON experiments (active, created_at);
CREATE TABLE experiment_samples (
    experiment  TEXT    NOT NULL,
    interval_no BIGINT  NOT NULL,
    host        TEXT    NOT NULL,
    variant     TEXT    NOT NULL,
    kpi         TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (experiment, interval_no, host, variant, kpi)
);
