package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// planSeed fills two tenants with 3,000 users and 3,000 organizations each,
// every user a member of three organizations (18,000 memberships),
// with roles, the built-in template and two custom roles per organization,
// 3,000 m2m applications each, half of them owned by an organization,
// every one linked to two organizations with roles, a refresh token per
// user and a TOTP factor for a third of them, an authentication key per
// organization and an external identity per user, then ANALYZEs, as a
// running deployment's statistics would be. Bulk SQL, not the store: this
// is about the shape of the data, and it is quick.
func planSeed(t *testing.T, dsn string, s *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	for _, tn := range []string{"t1", "t2"} {
		if err := s.CreateTenant(ctx, storage.Tenant{ID: tn, Name: tn, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		for _, p := range storage.BuiltinPermissions {
			p.TenantID, p.CreatedAt = tn, time.Now()
			if err := s.CreatePermission(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range storage.BuiltinRoles {
			r.TenantID, r.ID, r.CreatedAt = tn, "builtin-"+r.Name, time.Now()
			if err := s.CreateRole(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	db := rawDB(t, sqlstore.DialectPostgres, dsn)
	for _, q := range []string{
		`INSERT INTO users (tenant_id, id, email, email_norm, name, created_at, updated_at)
			SELECT t.id, 'u' || g, 'u' || g || '@example.test', 'u' || g || '@example.test', 'User ' || g, g, g
			FROM tenants t, generate_series(1, 3000) g`,
		`INSERT INTO organizations (tenant_id, id, name, slug, created_at)
			SELECT t.id, 'o' || g, 'Org ' || g, 'org-' || g, g FROM tenants t, generate_series(1, 3000) g`,
		`INSERT INTO organization_members (tenant_id, organization_id, user_id, joined_at)
			SELECT t.id, 'o' || ((g * k) % 3000 + 1), 'u' || g, g * 10 + k
			FROM tenants t, generate_series(1, 3000) g, (VALUES (1), (7), (13)) ks (k)
			ON CONFLICT DO NOTHING`,
		`INSERT INTO organization_member_roles (tenant_id, organization_id, user_id, role)
			SELECT tenant_id, organization_id, user_id, 'member' FROM organization_members`,
		`INSERT INTO organization_member_roles (tenant_id, organization_id, user_id, role)
			SELECT tenant_id, organization_id, user_id, 'custom-1' FROM organization_members WHERE joined_at % 10 = 1`,
		`INSERT INTO organization_roles (tenant_id, id, organization_id, name, created_at)
			SELECT t.id, 'c' || g || '-' || k, 'o' || g, 'custom-' || k, 0
			FROM tenants t, generate_series(1, 3000) g, (VALUES (1), (2)) ks (k)`,
		`INSERT INTO organization_role_permissions (tenant_id, role_id, permission)
			SELECT tenant_id, id, 'read:billing' FROM organization_roles WHERE organization_id <> ''`,
		`INSERT INTO applications (tenant_id, client_id, name, type, organization_id, created_at)
			SELECT t.id, 'a' || g, 'App ' || g, 'm2m', CASE WHEN g % 2 = 0 THEN 'o' || g END, g
			FROM tenants t, generate_series(1, 3000) g`,
		`INSERT INTO application_links (tenant_id, organization_id, client_id, created_at)
			SELECT t.id, 'o' || ((g * k) % 3000 + 1), 'a' || g, g * 10 + k
			FROM tenants t, generate_series(1, 3000) g, (VALUES (1), (7)) ks (k)
			ON CONFLICT DO NOTHING`,
		`INSERT INTO application_link_roles (tenant_id, organization_id, client_id, role)
			SELECT tenant_id, organization_id, client_id, 'member' FROM application_links`,
		`INSERT INTO application_link_roles (tenant_id, organization_id, client_id, role)
			SELECT tenant_id, organization_id, client_id, 'custom-1' FROM application_links WHERE created_at % 10 = 1`,
		// Every third user has a confirmed TOTP factor, every seventh a
		// pending one; every user has a refresh token.
		`INSERT INTO user_totp (tenant_id, user_id, secret_sealed, confirmed_at, last_step, created_at)
			SELECT tenant_id, id, 'sealed', CASE WHEN created_at % 3 = 0 THEN created_at ELSE 0 END, 0, created_at
			FROM users WHERE created_at % 3 = 0 OR created_at % 7 = 0`,
		`INSERT INTO refresh_tokens (tenant_id, grant_id, token_hash, previous_hashes, client_id, user_id, created_at, expires_at)
			SELECT tenant_id, 'g' || created_at, 'h', '', 'a1', id, created_at, created_at + 1000
			FROM users`,
		// An authentication key per organization and an external
		// identity per user.
		`INSERT INTO organization_auth_keys (tenant_id, kid, organization_id, alg, public_jwk, status, created_at)
			SELECT tenant_id, 'k' || created_at, id, 'ES256', '{}', 'active', created_at FROM organizations`,
		`INSERT INTO external_identities (tenant_id, provider_id, subject, user_id, created_at)
			SELECT tenant_id, 'prov', 's' || created_at, id, created_at FROM users`,
		`ANALYZE`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
}

// The reads on every token request use indexes, never a sequential scan of
// the organization, user, TOTP or refresh-token tables, in both the custom
// and the generic plan.
func TestPostgresPlans(t *testing.T) {
	dsn := sqltest.PostgresURL(t)
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	planSeed(t, dsn, s)

	// The plans are for this data: u1 is a member of o2, o8 and o14, with
	// custom-1 besides member in o2 (joined at 11); a1 is linked to o2 and
	// o8, with the same roles in o2; u3 has a confirmed TOTP factor and
	// holds grant g3; o2 owns key k2 and u3 is subject s3 of provider prov.
	ctx := context.Background()
	orgs, err := s.ListUserOrganizations(ctx, "t1", "u1")
	if err != nil || len(orgs) != 3 {
		t.Fatalf("ListUserOrganizations(u1) = %+v, %v; want 3 organizations", orgs, err)
	}
	a, err := s.GetMemberAccess(ctx, "t1", "o2", "u1")
	if err != nil || !slices.Equal(a.Roles, []string{"custom-1", "member"}) ||
		!slices.Equal(a.Permissions, []string{"read:billing", "read:members", "read:organization", "read:roles"}) {
		t.Fatalf("GetMemberAccess(o2, u1) = %+v, %v", a, err)
	}
	aa, err := s.GetApplicationAccess(ctx, "t1", "o2", "a1")
	if err != nil || aa.Application.ClientID != "a1" || !slices.Equal(aa.Roles, a.Roles) || !slices.Equal(aa.Permissions, a.Permissions) {
		t.Fatalf("GetApplicationAccess(o2, a1) = %+v, %v", aa, err)
	}

	rt, err := s.GetRefreshToken(ctx, "t1", "g3")
	if err != nil || rt.User.ID != "u3" || !rt.User.MFAEnabled {
		t.Fatalf("GetRefreshToken(g3) = user %+v, %v; want u3 with MFA", rt.User, err)
	}
	if k, o, err := s.GetAuthKey(ctx, "t1", "k2"); err != nil || k.OrganizationID != "o2" || o.ID != "o2" {
		t.Fatalf("GetAuthKey(k2) = %+v, %+v, %v; want o2's key", k, o, err)
	}
	if x, err := s.GetExternalIdentity(ctx, "t1", "prov", "s3"); err != nil || x.UserID != "u3" {
		t.Fatalf("GetExternalIdentity(prov, s3) = %+v, %v; want u3", x, err)
	}

	indexedTables := []string{"organizations", "organization_members", "organization_member_roles", "organization_roles", "organization_role_permissions",
		"applications", "application_links", "application_link_roles", "users", "user_totp", "refresh_tokens",
		"organization_auth_keys", "external_identities"}
	hot := sqlstore.HotQueries()
	for _, c := range []struct {
		method string
		args   []any
		// indexed are the table the query starts from and the ones it
		// looks up by key, which must be read through an index.
		indexed []string
	}{
		{"ListUserOrganizations", []any{"t1", "u1"}, []string{"organization_members"}},
		{"GetMemberAccess", []any{"t1", "o2", "u1"}, []string{"organization_members", "user_totp"}},
		{"GetApplicationAccess", []any{"t1", "o2", "a1"}, []string{"application_links"}},
		{"GetRefreshToken", []any{"t1", "g3"}, []string{"refresh_tokens", "users", "user_totp"}},
		{"GetAuthKey", []any{"t1", "k2"}, []string{"organization_auth_keys", "organizations"}},
		{"GetExternalIdentity", []any{"t1", "prov", "s3"}, []string{"external_identities"}},
	} {
		for _, generic := range []bool{false, true} {
			name := c.method + "/custom"
			explain := sqltest.Explain
			if generic {
				name, explain = c.method+"/generic", sqltest.ExplainGeneric
			}
			t.Run(name, func(t *testing.T) {
				p := explain(t, dsn, hot[c.method], c.args...)
				t.Logf("plan:\n%s", p)
				for _, rel := range p.SeqScans() {
					if slices.Contains(indexedTables, rel) {
						t.Errorf("sequential scan on %s", rel)
					}
				}
				for _, table := range c.indexed {
					if len(p.IndexScans(table)) == 0 {
						t.Errorf("%s is not read through an index", table)
					}
				}
			})
		}
	}
}
