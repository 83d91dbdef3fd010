-- 0005_identity: identity tokens (DESIGN §3, "Identity tokens"): the
-- public keys organizations' identity services sign with, and the users
-- those services sign in, linked by (provider_id, subject).
--
-- Same conventions as 0001: one text for SQLite and PostgreSQL, times as
-- unix microseconds (0 = never), binary values as BYTEA, tenant_id first in
-- every key. Both tables go with their owner by foreign key.

-- An identity token's kid names its key, and through it the organization,
-- so the kid is unique per tenant, not per organization: GetAuthKey finds
-- the key by primary key and joins its organization by primary key.
-- public_jwk is the public JWK (JSON) as bytes, like signing_keys'. A
-- sign-in advances last_used_at with one UPDATE ... WHERE last_used_at <
-- the new time, and changes no indexed column.
CREATE TABLE organization_auth_keys (
    tenant_id       TEXT NOT NULL,
    kid             TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    alg             TEXT NOT NULL,
    public_jwk      BYTEA NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT NOT NULL DEFAULT 0,
    revoked_at      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, kid),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);

-- ListAuthKeys, oldest first; also what the cascade from organizations uses.
CREATE INDEX organization_auth_keys_org ON organization_auth_keys (tenant_id, organization_id, created_at, kid);

-- provider_id is the organization's (the identity token's iss) and
-- subject the identity service's user ID (sub). A link belongs to its user
-- and goes with them; it has no foreign key to the organization, whose
-- deletion leaves its users in place. The first sign-in of a subject
-- inserts the link; of two racing, the primary key lets exactly one win.
CREATE TABLE external_identities (
    tenant_id   TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, provider_id, subject),
    FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- The cascade from users, and a user's links.
CREATE INDEX external_identities_user ON external_identities (tenant_id, user_id);
