package sqlstore_test

import (
	"context"
	"testing"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore"
)

// A database with data written under schema 0001 opens under 0002: its
// refresh tokens read back bound to no organization, and the new tables
// work beside the old rows.
func TestUpgradeFrom0001(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.dialect, func(t *testing.T) {
			ctx := context.Background()
			s := upgradeFrom(t, d, 1,
				`INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 1)`,
				`INSERT INTO users (tenant_id, id, email, email_norm, created_at, updated_at)
					VALUES ('acme', 'u1', 'a@example.test', 'a@example.test', 1, 1)`,
				`INSERT INTO organizations (tenant_id, id, name, slug, created_at) VALUES ('acme', 'o1', 'O', 'o', 1)`,
				`INSERT INTO organization_members (tenant_id, organization_id, user_id, joined_at) VALUES ('acme', 'o1', 'u1', 1)`,
				`INSERT INTO organization_member_roles (tenant_id, organization_id, user_id, role) VALUES ('acme', 'o1', 'u1', 'owner')`,
				`INSERT INTO refresh_tokens (tenant_id, grant_id, token_hash, previous_hashes, client_id, user_id, created_at, expires_at)
					VALUES ('acme', 'g1', 'h', '', 'c1', 'u1', 1, 2)`,
			)
			rt, err := s.GetRefreshToken(ctx, "acme", "g1")
			if err != nil || rt.Grant.OrganizationID != "" || rt.Grant.UserID != "u1" {
				t.Errorf("old refresh token after the upgrade: %+v, %v", rt.Grant, err)
			}
			orgs, err := s.ListUserOrganizations(ctx, "acme", "u1")
			if err != nil || len(orgs) != 1 || len(orgs[0].Roles) != 1 {
				t.Errorf("old membership after the upgrade: %+v, %v", orgs, err)
			}
			if err := s.DeleteUser(ctx, "acme", "u1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetRefreshToken(ctx, "acme", "g1"); err == nil {
				t.Error("old refresh token outlived its deleted user")
			}
			if err := s.CreatePermission(ctx, storage.Permission{TenantID: "acme", Name: "p", CreatedAt: rt.CreatedAt}); err != nil {
				t.Error(err)
			}
		})
	}
}

// A database with applications written under schema 0002 opens under
// 0003: they read back without a key set, and link, list by owner and
// delete with their organization.
func TestUpgradeFrom0002(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.dialect, func(t *testing.T) {
			ctx := context.Background()
			s := upgradeFrom(t, d, 2,
				`INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 1)`,
				`INSERT INTO organizations (tenant_id, id, name, slug, created_at) VALUES ('acme', 'o1', 'O', 'o', 1)`,
				`INSERT INTO applications (tenant_id, client_id, name, type, organization_id, created_at)
					VALUES ('acme', 'm1', 'M', 'm2m', 'o1', 1)`,
			)
			a, err := s.GetApplication(ctx, "acme", "m1")
			if err != nil || a.JWKS != nil || a.OrganizationID != "o1" {
				t.Fatalf("old application after the upgrade: %+v, %v", a, err)
			}
			if err := s.LinkApplication(ctx, storage.ApplicationLink{TenantID: "acme", OrganizationID: "o1", ClientID: "m1", Roles: []string{"admin"}}); err != nil {
				t.Fatal(err)
			}
			if acc, err := s.GetApplicationAccess(ctx, "acme", "o1", "m1"); err != nil || len(acc.Roles) != 1 {
				t.Errorf("access of an old application: %+v, %v", acc, err)
			}
			if apps, _, err := s.ListOrganizationApplications(ctx, "acme", "o1", storage.Page{}); err != nil || len(apps) != 1 {
				t.Errorf("o1's applications: %+v, %v", apps, err)
			}
			if err := s.DeleteOrganization(ctx, "acme", "o1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetApplication(ctx, "acme", "m1"); err == nil {
				t.Error("old application outlived its deleted organization")
			}
		})
	}
}

// upgradeFrom makes a database of dialect d at schema version, writes
// rows with stmts as an older orgid would have, and opens it with the
// store, which migrates it to the newest schema.
func upgradeFrom(t *testing.T, d dialectCase, version int64, stmts ...string) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	dsn := d.dsn(t)
	db := rawDB(t, d.dialect, dsn)
	if err := sqlstore.MigrateTo(ctx, db, version); err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	db.Close()
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
