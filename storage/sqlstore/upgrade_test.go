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
			dsn := d.dsn(t)
			db := rawDB(t, d.dialect, dsn)
			if err := sqlstore.MigrateTo(ctx, db, 1); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 1)`,
				`INSERT INTO users (tenant_id, id, email, email_norm, created_at, updated_at)
					VALUES ('acme', 'u1', 'a@example.test', 'a@example.test', 1, 1)`,
				`INSERT INTO organizations (tenant_id, id, name, slug, created_at) VALUES ('acme', 'o1', 'O', 'o', 1)`,
				`INSERT INTO organization_members (tenant_id, organization_id, user_id, joined_at) VALUES ('acme', 'o1', 'u1', 1)`,
				`INSERT INTO organization_member_roles (tenant_id, organization_id, user_id, role) VALUES ('acme', 'o1', 'u1', 'owner')`,
				`INSERT INTO refresh_tokens (tenant_id, grant_id, token_hash, previous_hashes, client_id, user_id, created_at, expires_at)
					VALUES ('acme', 'g1', 'h', '', 'c1', 'u1', 1, 2)`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatalf("%v\n%s", err, q)
				}
			}
			db.Close()

			s, err := sqlstore.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
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
