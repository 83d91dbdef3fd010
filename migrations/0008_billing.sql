-- 0008_billing: organizations' plans, their billing requests and the
-- usage their bills are based on (DESIGN §1 "billing (plan, usage)", §5
-- "Billing").
--
-- Same conventions as 0001: one text for SQLite and PostgreSQL, times as
-- unix microseconds (0 = never), tenant_id first in every key. The
-- tenant settings support_email and billing_portal_url need no column:
-- they live in tenants.settings (JSON).

-- An organization's plan and whether it has a payment method ("live").
-- No row: the defaults (plan development, not live), so that creating an
-- organization writes nothing here. Goes with its organization.
CREATE TABLE organization_billing (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    plan            TEXT NOT NULL,
    live            BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);

-- Requests to go live or change plan, resolved by a tenant administrator
-- with a compare-and-set UPDATE ... WHERE status = 'open'. requested_by
-- and resolved_by have no foreign key: the record of who asked outlives
-- them. Goes with its organization.
CREATE TABLE billing_requests (
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('go_live', 'change_plan')),
    plan            TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('open', 'approved', 'declined')),
    requested_by    TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    resolved_by     TEXT NOT NULL DEFAULT '',
    resolved_at     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);

-- At most one open request per organization. CreateBillingRequest names
-- this index in its ON CONFLICT ... DO NOTHING, so that a second open
-- request is told apart from a taken ID without a failed statement
-- (which would abort a PostgreSQL transaction).
CREATE UNIQUE INDEX billing_requests_one_open ON billing_requests (tenant_id, organization_id) WHERE status = 'open';

-- ListBillingRequests newest first, of the tenant and of one
-- organization (keyset on (created_at, id)); also the cascade from
-- organizations.
CREATE INDEX billing_requests_created ON billing_requests (tenant_id, created_at, id);
CREATE INDEX billing_requests_org ON billing_requests (tenant_id, organization_id, created_at, id);

-- Tokens issued per (organization, application, month). organization_id
-- '' is the tenant level, so there is no foreign key: DeleteOrganization
-- deletes an organization's rows itself. month is UTC 'YYYY-MM', which
-- sorts as text. Batchers on every replica add to a row with INSERT ...
-- ON CONFLICT DO UPDATE SET tokens = tokens + excluded.tokens. client_id
-- has no foreign key either: a deleted application's usage still counts.
CREATE TABLE usage_tokens (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    month           TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    tokens          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, month, client_id)
);

-- Monthly active users: one row per (organization, month, user), written
-- with ON CONFLICT DO NOTHING; counted per month along the primary key.
-- No foreign key to users: a deleted user was active all the same.
CREATE TABLE usage_active_users (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    month           TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, month, user_id)
);
