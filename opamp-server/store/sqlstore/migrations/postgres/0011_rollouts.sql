-- phoenix-server schema, version 11: staged rollouts (opamp-server/rollout): one row per deployment, its
-- newest rollout as a JSON record whose revision every write compares and sets; the lease says which replica
-- drives it.
CREATE TABLE rollouts (
    deployment   TEXT PRIMARY KEY,
    version      BIGINT  NOT NULL,
    state        TEXT    NOT NULL,
    revision     BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    record       TEXT    NOT NULL,
    lease_holder TEXT    NOT NULL DEFAULT '',
    lease_until  BIGINT  NOT NULL DEFAULT 0
);
