-- 0001_init: the first durable schema.
--
-- One text for SQLite and PostgreSQL: only TEXT, BIGINT, BOOLEAN and BYTEA
-- columns, times as unix microseconds (0 = unset), lists as JSON arrays in
-- TEXT. Every tenant-owned table starts its primary key with tenant_id and
-- cascades from tenants, so a tenant is one prefix of every index.

-- Deployment-wide values (the master-key check and the like).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}', -- JSON object (storage.TenantSettings)
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    email          TEXT NOT NULL DEFAULT '',
    -- Lowercased email, the case-insensitive identity of a user in a tenant.
    -- NULL when the user has no email (e.g. linked from an identity service
    -- that asserted none), so such users never collide with each other.
    email_norm     TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '', -- PHC argon2id; '' = no password
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email_norm)
);

CREATE TABLE organizations (
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    slug          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    logo_url      TEXT NOT NULL DEFAULT '',
    logo_dark_url TEXT NOT NULL DEFAULT '',
    custom_data   TEXT NOT NULL DEFAULT '{}', -- JSON object
    mfa_required  BOOLEAN NOT NULL DEFAULT FALSE,
    mfa_policy    TEXT NOT NULL DEFAULT 'configured'
                  CHECK (mfa_policy IN ('configured', 'verified')),
    -- NULL until assigned; unique among the organizations that have one.
    provider_id   TEXT,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, slug),
    UNIQUE (tenant_id, provider_id)
);

CREATE TABLE organization_members (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    joined_at       BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, user_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- A user's organizations are read on every sign-in and token.
CREATE INDEX organization_members_user ON organization_members (tenant_id, user_id);

CREATE TABLE organization_member_roles (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, user_id, role),
    FOREIGN KEY (tenant_id, organization_id, user_id)
        REFERENCES organization_members (tenant_id, organization_id, user_id) ON DELETE CASCADE
);

CREATE TABLE applications (
    tenant_id                 TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id                 TEXT NOT NULL,
    name                      TEXT NOT NULL,
    type                      TEXT NOT NULL CHECK (type IN ('web', 'spa', 'native', 'm2m')),
    secret_hash               BYTEA, -- SHA-256 of the secret; NULL for public clients
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    organization_id           TEXT, -- NULL for a tenant-wide application
    tenant_roles              TEXT NOT NULL DEFAULT '[]',
    id_token_alg              TEXT NOT NULL DEFAULT '',
    created_at                BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, client_id)
);

CREATE TABLE signing_keys (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    private_key BYTEA NOT NULL, -- sealed under the master key
    public_jwk  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
);

-- At most one active and one next key per tenant and algorithm, enforced by
-- the database so that two replicas rotating at once cannot both win.
CREATE UNIQUE INDEX signing_keys_one_per_state ON signing_keys (tenant_id, algorithm, state)
    WHERE state IN ('active', 'next');

-- One row per grant that has a refresh token: the grant, the SHA-256 of
-- its current token and those of the last few it replaced (32 bytes each,
-- concatenated, newest first). A refresh reads the row by primary key and
-- rotates it with one compare-and-set UPDATE on token_hash; no column that
-- a rotation changes is indexed, so the update writes a single row (a HOT
-- update on PostgreSQL) and the table does not grow with refreshes.
-- Expired rows are removed by a periodic scan (DeleteExpired).
CREATE TABLE refresh_tokens (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    grant_id        TEXT NOT NULL,
    token_hash      BYTEA NOT NULL,
    previous_hashes BYTEA NOT NULL,
    client_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    scopes          TEXT NOT NULL DEFAULT '[]',
    audience        TEXT NOT NULL DEFAULT '[]',
    auth_time       BIGINT NOT NULL DEFAULT 0,
    amr             TEXT NOT NULL DEFAULT '[]',
    acr             TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, grant_id)
);

-- Revoked grant IDs and revoked access-token jtis (a jti starts with its
-- grant ID, so the two never collide), each kept until the last token it
-- covers has expired.
CREATE TABLE revocations (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX revocations_expires ON revocations (expires_at);
