-- phoenix-server schema, version 2: load simulation jobs (opamp-server/internal/loadsim): the job is the JSON
-- record; revision is compared and set by every write.
CREATE TABLE loadsim_jobs (
    id          TEXT PRIMARY KEY,
    target_host TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    active      INTEGER NOT NULL,
    revision    BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    record      TEXT    NOT NULL
);
CREATE INDEX loadsim_jobs_active ON loadsim_jobs (active, created_at);
