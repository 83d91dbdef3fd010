-- 0006_onboarding: sign-up and invitations (DESIGN §3, "Just-in-time
-- provisioning" and "Invitations"): when provisioning ran for a user and
-- when their sessions were ended, the durable mail outbox, single-use
-- email links, organizations' provisioning rules and invitations.
--
-- Same conventions as 0001: one text for SQLite and PostgreSQL, times as
-- unix microseconds (0 = never), string lists as JSON arrays in TEXT,
-- binary values as BYTEA, tenant_id first in every key. Every table goes
-- with its owner by foreign key, so DeleteUser and DeleteOrganization need
-- no statement of their own for them.

-- provisioned_at: when just-in-time provisioning ran for the user; it
-- runs once, set by a compare-and-set UPDATE ... WHERE provisioned_at = 0.
-- sessions_not_before: sign-in sessions that started before it are ended
-- (a password reset). Neither is indexed: both are read with the user by
-- primary key.
ALTER TABLE users ADD COLUMN provisioned_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN sessions_not_before BIGINT NOT NULL DEFAULT 0;

-- Users that exist before provisioning rules do are not new: a rule set
-- later must never add them, so provisioning counts as having run for
-- them when they were created.
UPDATE users SET provisioned_at = created_at;

-- The outbox: a message is inserted in the transaction of the change that
-- caused it and drained by senders on any replica. body_sealed is the
-- message's parts sealed under the master key (they hold live links).
-- lease_until is 0, or when the sender that claimed the message loses it;
-- a claim is a compare-and-set UPDATE ... WHERE lease_until < now. The
-- outbox is kept after sending: it is what the console shows when no SMTP
-- server is configured. No foreign key to users: a message is a record of
-- what was sent to an address, whoever held it.
CREATE TABLE mail_outbox (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL DEFAULT '',
    body_sealed     BYTEA NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sent', 'logged', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
);

-- ClaimMail: the pending messages due first, across tenants. Partial, so
-- that it holds only what still waits to be sent, however large the
-- outbox of sent messages grows; a claim (lease_until) changes no indexed
-- column.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';

-- ListMail: keyset paging newest first, (created_at, id) < the cursor,
-- descending.
CREATE INDEX mail_outbox_created ON mail_outbox (tenant_id, created_at, id);

-- Single-use email links (verification, password reset), found by the
-- SHA-256 of their secret, which is unique in the tenant whatever the
-- kind. A use is one compare-and-set UPDATE ... WHERE used_at = 0 AND
-- expires_at > now. A link goes with its user.
CREATE TABLE email_tokens (
    tenant_id  TEXT NOT NULL,
    hash       BYTEA NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hash),
    FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- The cascade from users.
CREATE INDEX email_tokens_user ON email_tokens (tenant_id, user_id);

-- The email domains whose new users an organization provisions. The
-- primary key makes a domain belong to at most one organization of the
-- tenant, and finds the rule of a user's domain (FindJITRule).
CREATE TABLE jit_email_domains (
    tenant_id       TEXT NOT NULL,
    domain          TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, domain),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);

-- An organization's domains (GetJITRule, SetJITEmailDomains), and the
-- cascade from organizations.
CREATE INDEX jit_email_domains_org ON jit_email_domains (tenant_id, organization_id, domain);

-- An organization's default roles for the users it provisions: no row
-- when never set (the caller's default applies), '[]' when set to none.
CREATE TABLE jit_roles (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    roles           TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, organization_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);

-- Invitations into an organization. token_hash is the SHA-256 of the
-- current link's secret, unique in the tenant, which is how the link finds
-- its invitation; a resend replaces it, so the old link finds nothing.
-- Expiry is not a status: a pending invitation past expires_at is
-- expired. ttl_micros is the lifetime asked for, which a resend renews the
-- expiry by. Renewal, revocation and acceptance are compare-and-set
-- UPDATEs on status (and, for acceptance, token_hash and expires_at).
-- inviter_id and accepted_by have no foreign key: the audit of who did
-- what outlives the user (or client) that did it.
CREATE TABLE invitations (
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    email           TEXT NOT NULL,
    -- Lowercased email, as users.email_norm.
    email_norm      TEXT NOT NULL,
    roles           TEXT NOT NULL DEFAULT '[]',
    token_hash      BYTEA NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'revoked')),
    inviter_id      TEXT NOT NULL DEFAULT '',
    ttl_micros      BIGINT NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    accepted_by     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);

-- ListInvitations, oldest first; also what the cascade from organizations
-- uses.
CREATE INDEX invitations_org ON invitations (tenant_id, organization_id, created_at, id);
