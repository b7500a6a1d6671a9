-- phoenix-server schema, version 4: agent identity (opamp-server/identity).
-- An enrolled agent's credential is kept as the sha256 of its token only;
-- a host name is bound to the one instance uid allowed to claim it.
CREATE TABLE agent_credentials (
    instance_uid TEXT PRIMARY KEY,
    token_hash   TEXT   NOT NULL,
    claimed_host TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX agent_credentials_token_hash ON agent_credentials (token_hash);

CREATE TABLE host_bindings (
    host_name    TEXT PRIMARY KEY,
    instance_uid TEXT   NOT NULL,
    bound_at     BIGINT NOT NULL
);
CREATE INDEX host_bindings_uid ON host_bindings (instance_uid);
