-- 0004_mfa: users' second factors (DESIGN §3, MFA): one authenticator-app
-- factor per user (TOTP, RFC 6238) and that user's one-time recovery codes.
--
-- Same conventions as 0001: one text for SQLite and PostgreSQL, times as
-- unix microseconds (0 = unset), binary values as BYTEA, tenant_id first in
-- every key. Both tables go with their user by foreign key.

-- confirmed_at is 0 while enrolment waits for the first code. last_step is
-- the last time step a code was accepted for; a sign-in advances it with
-- one compare-and-set UPDATE (last_step < the new step), so that a code is
-- never accepted twice, not even by two replicas at once. No column a
-- sign-in changes is indexed. The user reads (GetUser, GetRefreshToken,
-- GetMemberAccess) look the row up by primary key for User.MFAEnabled.
CREATE TABLE user_totp (
    tenant_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL, -- sealed under the master key
    confirmed_at  BIGINT NOT NULL DEFAULT 0,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- The SHA-256 of each recovery code; used_at is 0 while the code is
-- unused. A code is spent by one UPDATE ... WHERE used_at = 0, so of two
-- concurrent uses exactly one succeeds. The primary key's (tenant_id,
-- user_id) prefix serves counting and replacing a user's codes.
CREATE TABLE user_recovery_codes (
    tenant_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    code_hash BYTEA NOT NULL,
    used_at   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, user_id, code_hash),
    FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
