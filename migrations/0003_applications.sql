-- 0003_applications: m2m applications linked to organizations with roles
-- (DESIGN §3, organization token way 4), the public keys of clients that
-- authenticate with private_key_jwt, and the index that lists an
-- organization's own applications.
--
-- Same conventions as 0001: one text for SQLite and PostgreSQL, times as
-- unix microseconds, tenant_id first in every key.

-- The client's public JSON Web Key Set document (RFC 7517 §5) for
-- private_key_jwt (RFC 7523); NULL when it uses a secret or none. JSON in
-- TEXT, like custom_data.
ALTER TABLE applications ADD COLUMN jwks TEXT;

-- An application linked to an organization: it gets organization tokens
-- for it by client credentials, holding the link's roles. Both foreign keys
-- cascade, so deleting the application or the organization takes its links
-- (and their roles) along.
CREATE TABLE application_links (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, client_id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, client_id)
        REFERENCES applications (tenant_id, client_id) ON DELETE CASCADE
);

-- Keyset paging of an organization's links, oldest first.
CREATE INDEX application_links_created ON application_links (tenant_id, organization_id, created_at, client_id);
-- Deleting an application finds its links (the cascade) without a scan.
CREATE INDEX application_links_client ON application_links (tenant_id, client_id);

-- A link's roles, by name (template or the organization's custom role),
-- as organization_member_roles holds a member's.
CREATE TABLE application_link_roles (
    tenant_id       TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    role            TEXT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, client_id, role),
    FOREIGN KEY (tenant_id, organization_id, client_id)
        REFERENCES application_links (tenant_id, organization_id, client_id) ON DELETE CASCADE
);

-- ListOrganizationApplications pages by this, and DeleteOrganization finds
-- the organization's own applications with it.
CREATE INDEX applications_organization ON applications (tenant_id, organization_id, created_at, client_id);
