package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/orgid/orgid/storage"
)

// mfaPolicyConfigured is the default MFA policy of an organization.
const mfaPolicyConfigured = "configured"

const organizationColumns = `tenant_id, id, name, slug, description, logo_url, logo_dark_url,
	custom_data, mfa_required, mfa_policy, provider_id, created_at`

var (
	sqlCreateOrganization = query(`INSERT INTO organizations (` + organizationColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`)
	sqlGetOrganization       = query(`SELECT ` + organizationColumns + ` FROM organizations WHERE tenant_id = $1 AND id = $2`)
	sqlGetOrganizationBySlug = query(`SELECT ` + organizationColumns + ` FROM organizations WHERE tenant_id = $1 AND slug = $2`)
	sqlListOrganizations     = query(`SELECT ` + organizationColumns + ` FROM organizations
		WHERE tenant_id = $1 AND (created_at, id) > ($2, $3)
		ORDER BY created_at, id LIMIT $4`)
	// Before a rename, the slug given up is remembered for the
	// organization (a later organization to give it up takes it over).
	sqlRememberSlug = query(`INSERT INTO organization_slugs (tenant_id, slug, organization_id)
		SELECT tenant_id, slug, id FROM organizations WHERE tenant_id = $1 AND id = $2 AND slug <> $3
		ON CONFLICT (tenant_id, slug) DO UPDATE SET organization_id = excluded.organization_id`)
	sqlFormerSlugOrganization = query(`SELECT organization_id FROM organization_slugs WHERE tenant_id = $1 AND slug = $2`)
	sqlUpdateOrganization     = query(`UPDATE organizations SET name = $3, slug = $4, description = $5, logo_url = $6,
		logo_dark_url = $7, custom_data = $8, mfa_required = $9, mfa_policy = $10
		WHERE tenant_id = $1 AND id = $2`)
	sqlDeleteOrganization = query(`DELETE FROM organizations WHERE tenant_id = $1 AND id = $2`)
	// Custom roles have no foreign key to their organization (template
	// roles, organization_id '', would need one to nothing).
	sqlDeleteOrganizationRoles = query(`DELETE FROM organization_roles WHERE tenant_id = $1 AND organization_id = $2`)
	// The organization's own applications and their refresh tokens (which
	// have no foreign key to applications), found by the (tenant_id,
	// organization_id, …) index on applications. The tokens go first, while
	// the applications still say whose they are.
	sqlDeleteOrganizationAppTokens = query(`DELETE FROM refresh_tokens WHERE tenant_id = $1 AND client_id IN
		(SELECT client_id FROM applications WHERE tenant_id = $1 AND organization_id = $2)`)
	sqlDeleteOrganizationApps = query(`DELETE FROM applications WHERE tenant_id = $1 AND organization_id = $2`)
	// Usage rows have no foreign key (organization_id '' is the tenant
	// level); billing and billing requests go by cascade. They are found
	// by their primary keys' (tenant_id, organization_id) prefix.
	sqlDeleteOrganizationUsageTokens = query(`DELETE FROM usage_tokens WHERE tenant_id = $1 AND organization_id = $2`)
	sqlDeleteOrganizationActiveUsers = query(`DELETE FROM usage_active_users WHERE tenant_id = $1 AND organization_id = $2`)
)

// CreateOrganization stores a new organization; ErrAlreadyExists when the
// ID, the slug or the provider ID is taken in the tenant.
func (s *Store) CreateOrganization(ctx context.Context, o storage.Organization) error {
	const op = "create organization"
	custom, err := encodeObject(op, "custom_data", o.CustomData)
	if err != nil {
		return err
	}
	_, err = s.write().exec(ctx, sqlCreateOrganization,
		o.TenantID, o.ID, o.Name, o.Slug, o.Description, o.LogoURL, o.LogoDarkURL,
		custom, o.MFARequired, mfaPolicy(o.MFAPolicy), nullString(o.ProviderID), toMicros(o.CreatedAt))
	return wrap(op, err)
}

// GetOrganization returns the tenant's organization id, or ErrNotFound.
func (s *Store) GetOrganization(ctx context.Context, tenantID, id string) (storage.Organization, error) {
	o, err := scanOrganization(s.read().queryRow(ctx, sqlGetOrganization, tenantID, id))
	return o, wrap("get organization", err)
}

// GetOrganizationBySlug returns the tenant's organization with that slug,
// or ErrNotFound.
func (s *Store) GetOrganizationBySlug(ctx context.Context, tenantID, slug string) (storage.Organization, error) {
	o, err := scanOrganization(s.read().queryRow(ctx, sqlGetOrganizationBySlug, tenantID, slug))
	return o, wrap("get organization by slug", err)
}

// ListOrganizations pages through the tenant's organizations, oldest
// first (ties by ID).
func (s *Store) ListOrganizations(ctx context.Context, tenantID string, p storage.Page) ([]storage.Organization, string, error) {
	const op = "list organizations"
	after, err := decodeCursor(op, cursorOrganizations, p, firstAscending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, sqlListOrganizations, tenantID, after.at, after.id, limit+1)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var orgs []storage.Organization
	for rows.Next() {
		o, err := scanOrganization(rows)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		orgs = append(orgs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	orgs, next := pageEnd(cursorOrganizations, orgs, limit, func(o storage.Organization) pageKey {
		return pageKey{toMicros(o.CreatedAt), o.ID}
	})
	return orgs, next, nil
}

// UpdateOrganization replaces every field of the organization but its ID,
// tenant, provider ID and creation time. ErrNotFound when it does not
// exist; ErrAlreadyExists (nothing written) when the slug is taken.
func (s *Store) UpdateOrganization(ctx context.Context, o storage.Organization) error {
	const op = "update organization"
	custom, err := encodeObject(op, "custom_data", o.CustomData)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		if _, err := w.exec(ctx, sqlRememberSlug, o.TenantID, o.ID, o.Slug); err != nil {
			return wrap(op, err)
		}
		res, err := w.exec(ctx, sqlUpdateOrganization, o.TenantID, o.ID,
			o.Name, o.Slug, o.Description, o.LogoURL, o.LogoDarkURL, custom, o.MFARequired, mfaPolicy(o.MFAPolicy))
		return oneRow(op, "organization", res, err)
	})
}

// GetOrganizationByFormerSlug returns the organization that last gave up
// slug, or ErrNotFound.
func (s *Store) GetOrganizationByFormerSlug(ctx context.Context, tenantID, slug string) (storage.Organization, error) {
	const op = "get organization by former slug"
	r := s.read()
	var id string
	if err := r.queryRow(ctx, sqlFormerSlugOrganization, tenantID, slug).Scan(&id); err != nil {
		return storage.Organization{}, wrap(op, err)
	}
	o, err := scanOrganization(r.queryRow(ctx, sqlGetOrganization, tenantID, id))
	return o, wrap(op, err)
}

// DeleteOrganization removes the organization with its memberships, its
// application links, billing and billing requests (the foreign keys
// cascade), its custom roles, its usage counters, and
// the applications it owns with their refresh tokens and their links to
// other organizations, in one transaction. An owned application serves
// only its organization (DESIGN §1), so it has no use left; keeping it
// would leave a client that still authenticates for nothing. ErrNotFound
// when the organization does not exist.
//
// The organization row goes first: its lock makes a concurrent CreateRole
// for it (which locks the row too) either finish before, so that its role
// is deleted here, or find the organization gone.
func (s *Store) DeleteOrganization(ctx context.Context, tenantID, id string) error {
	const op = "delete organization"
	if id == "" {
		// '' is the template's organization ID: never delete those roles.
		return failf(op, storage.ErrNotFound, "empty organization ID")
	}
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlDeleteOrganization, tenantID, id)
		if err := oneRow(op, "organization", res, err); err != nil {
			return err
		}
		for _, q := range []string{sqlDeleteOrganizationRoles, sqlDeleteOrganizationAppTokens, sqlDeleteOrganizationApps,
			sqlDeleteOrganizationUsageTokens, sqlDeleteOrganizationActiveUsers} {
			if _, err := w.exec(ctx, q, tenantID, id); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

func scanOrganization(sc scanner) (storage.Organization, error) {
	var (
		o       storage.Organization
		custom  string
		prov    sql.NullString
		created int64
	)
	err := sc.Scan(&o.TenantID, &o.ID, &o.Name, &o.Slug, &o.Description, &o.LogoURL, &o.LogoDarkURL,
		&custom, &o.MFARequired, &o.MFAPolicy, &prov, &created)
	if err != nil {
		return storage.Organization{}, err
	}
	o.CustomData = json.RawMessage(custom)
	o.ProviderID = prov.String
	o.CreatedAt = fromMicros(created)
	return o, nil
}

func mfaPolicy(p string) string {
	if p == "" {
		return mfaPolicyConfigured
	}
	return p
}
