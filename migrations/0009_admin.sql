-- 0009_admin: what the portal's tenant administrators need (issue 10):
-- tenant roles for users, a users list to search, a filterable audit log,
-- and the slugs organizations gave up, so that old links still lead to
-- them.
--
-- Same conventions as 0001: one text for SQLite and PostgreSQL, times as
-- unix microseconds, string lists as JSON arrays, tenant_id first in
-- every key.

-- A user's roles in the tenant itself; ["admin"] makes a tenant
-- administrator (the portal's admin pages, every organization).
ALTER TABLE users ADD COLUMN tenant_roles TEXT NOT NULL DEFAULT '[]';

-- The users list pages oldest first by (created_at, id), as every list.
CREATE INDEX users_created ON users (tenant_id, created_at, id);

-- The audit log filtered by who acted or what was acted on, newest first.
CREATE INDEX audit_log_actor ON audit_log (tenant_id, actor, created_at, id);
CREATE INDEX audit_log_target ON audit_log (tenant_id, target, created_at, id);

-- Slugs an organization gave up by renaming itself, read only when no
-- organization has the slug now. A slug given up by two organizations in
-- turn leads to the later one. Goes with its organization.
CREATE TABLE organization_slugs (
    tenant_id       TEXT NOT NULL,
    slug            TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, slug),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_slugs_organization ON organization_slugs (tenant_id, organization_id);
