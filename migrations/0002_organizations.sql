-- 0002_organizations: the organization template (permissions and roles),
-- organizations' custom roles, the audit log, the organization a grant is
-- bound to, and the indexes that paged lists and deletes need.
--
-- Same conventions as 0001: one text for SQLite and PostgreSQL, times as
-- unix microseconds, tenant_id first in every key.

-- The tenant's organization permissions, such as read:invoices.
CREATE TABLE organization_permissions (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Template roles (organization_id '') that every organization has, and
-- custom roles of one organization. There is no foreign key to
-- organizations, since '' names none: CreateRole checks (and locks) the
-- organization in its transaction, and DeleteOrganization deletes the
-- organization's roles in its own. CreateRole also keeps a custom role from
-- taking a template role's name, and the reverse.
CREATE TABLE organization_roles (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    organization_id TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, organization_id, name)
);

-- Members hold roles by name: this finds the role (template or custom) a
-- name stands for, and whether a name is taken anywhere in the tenant.
CREATE INDEX organization_roles_name ON organization_roles (tenant_id, name);

CREATE TABLE organization_role_permissions (
    tenant_id  TEXT NOT NULL,
    role_id    TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (tenant_id, role_id, permission),
    FOREIGN KEY (tenant_id, role_id)
        REFERENCES organization_roles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, permission)
        REFERENCES organization_permissions (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE audit_log (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    target     TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    details    TEXT NOT NULL DEFAULT '{}', -- JSON object
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Newest-first keyset paging: (created_at, id) < the cursor, descending.
CREATE INDEX audit_log_created ON audit_log (tenant_id, created_at, id);

-- The organization a grant is bound to (a sign-in with organization=); ''
-- for none. The new indexes let DeleteUser and DeleteApplication find
-- their tokens; a rotation still changes no indexed column.
ALTER TABLE refresh_tokens ADD COLUMN organization_id TEXT NOT NULL DEFAULT '';
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (tenant_id, client_id);

-- Keyset paging, oldest first.
CREATE INDEX organizations_created ON organizations (tenant_id, created_at, id);
CREATE INDEX applications_created ON applications (tenant_id, created_at, client_id);
CREATE INDEX organization_members_joined ON organization_members (tenant_id, organization_id, joined_at, user_id);

-- CountMembersWithRole (the "last owner" check) without reading every
-- member's roles.
CREATE INDEX organization_member_roles_role ON organization_member_roles (tenant_id, organization_id, role);
