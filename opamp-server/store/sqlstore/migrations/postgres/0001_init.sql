-- phoenix-server schema, version 1 (PostgreSQL).
CREATE TABLE deployments (
    name       TEXT PRIMARY KEY,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE deployment_versions (
    deployment  TEXT    NOT NULL,
    version     BIGINT NOT NULL,
    spec        TEXT    NOT NULL,
    rollback_of BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (deployment, version)
);

CREATE TABLE agents (
    instance_uid     TEXT PRIMARY KEY,
    host_name        TEXT    NOT NULL DEFAULT '',
    server_id        TEXT    NOT NULL DEFAULT '',
    connected        BIGINT NOT NULL DEFAULT 0,
    last_seen        BIGINT NOT NULL DEFAULT 0,
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
    step      BIGINT NOT NULL,
    bucket    BIGINT NOT NULL,
    last      DOUBLE PRECISION    NOT NULL,
    last_ts   BIGINT NOT NULL,
    min       DOUBLE PRECISION    NOT NULL,
    max       DOUBLE PRECISION    NOT NULL,
    sum       DOUBLE PRECISION    NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (agent_uid, name, pipeline, stage, variant, step, bucket)
);
CREATE INDEX metric_buckets_prune ON metric_buckets (step, bucket);
