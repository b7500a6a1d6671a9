-- phoenix-server schema, version 1 (SQLite).
CREATE TABLE deployments (
    name       TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE deployment_versions (
    deployment  TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    spec        TEXT    NOT NULL,
    rollback_of INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (deployment, version)
);

CREATE TABLE agents (
    instance_uid     TEXT PRIMARY KEY,
    host_name        TEXT    NOT NULL DEFAULT '',
    server_id        TEXT    NOT NULL DEFAULT '',
    connected        INTEGER NOT NULL DEFAULT 0,
    last_seen        INTEGER NOT NULL DEFAULT 0,
    record           TEXT    NOT NULL,
    effective_config TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX agents_host_name ON agents (host_name);
CREATE INDEX agents_server_id ON agents (server_id);

CREATE TABLE metric_buckets (
    agent_uid TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    pipeline  TEXT    NOT NULL,
    stage     TEXT    NOT NULL,
    variant   TEXT    NOT NULL,
    step      INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    last      REAL    NOT NULL,
    last_ts   INTEGER NOT NULL,
    min       REAL    NOT NULL,
    max       REAL    NOT NULL,
    sum       REAL    NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (agent_uid, name, pipeline, stage, variant, step, bucket)
);
CREATE INDEX metric_buckets_prune ON metric_buckets (step, bucket);
