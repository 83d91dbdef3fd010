package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// A user that existed before schema 0006 opens under it as provisioned
// at their creation (just-in-time provisioning never adds them), with no
// sessions ended; a user created after is not provisioned, and the new
// onboarding tables work beside the old rows and cascade with them.
func TestUpgradeFrom0005(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.dialect, func(t *testing.T) {
			ctx := context.Background()
			s := upgradeFrom(t, d, 5,
				`INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'Acme', 1)`,
				`INSERT INTO users (tenant_id, id, email, email_norm, email_verified, created_at, updated_at)
					VALUES ('acme', 'u1', 'a@example.test', 'a@example.test', TRUE, 1700000000000000, 1700000000000001)`,
				`INSERT INTO organizations (tenant_id, id, name, slug, created_at) VALUES ('acme', 'o1', 'O', 'o', 1)`,
			)
			created := time.UnixMicro(1700000000000000).UTC()
			for _, get := range []func() (storage.User, error){
				func() (storage.User, error) { return s.GetUser(ctx, "acme", "u1") },
				func() (storage.User, error) { return s.GetUserByEmail(ctx, "acme", "A@example.test") },
			} {
				u, err := get()
				if err != nil {
					t.Fatal(err)
				}
				if !u.ProvisionedAt.Equal(created) || !u.ProvisionedAt.Equal(u.CreatedAt) || !u.SessionsNotBefore.IsZero() {
					t.Errorf("old user after the upgrade: ProvisionedAt %v, SessionsNotBefore %v; want %v (CreatedAt %v) and zero",
						u.ProvisionedAt, u.SessionsNotBefore, created, u.CreatedAt)
				}
			}
			if err := s.MarkUserProvisioned(ctx, "acme", "u1", time.Now()); !errors.Is(err, storage.ErrConflict) {
				t.Errorf("MarkUserProvisioned of an old user = %v, want ErrConflict", err)
			}

			now := time.Now().UTC().Truncate(time.Microsecond)
			if err := s.CreateUser(ctx, storage.User{TenantID: "acme", ID: "u2", Email: "b@example.test", CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			if u, err := s.GetUser(ctx, "acme", "u2"); err != nil || !u.ProvisionedAt.IsZero() {
				t.Errorf("user created after the upgrade: %+v, %v; want not provisioned", u, err)
			}
			if err := s.MarkUserProvisioned(ctx, "acme", "u2", now); err != nil {
				t.Error(err)
			}

			if err := s.SetJITEmailDomains(ctx, "acme", "o1", []string{"example.test"}); err != nil {
				t.Fatal(err)
			}
			inv := storage.Invitation{TenantID: "acme", ID: "i1", OrganizationID: "o1", Email: "c@example.test",
				TokenHash: []byte("h"), Status: storage.InvitationPending, ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
			if err := s.CreateInvitation(ctx, inv); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateEmailToken(ctx, storage.EmailToken{TenantID: "acme", Hash: []byte("h"), Kind: storage.EmailTokenVerify,
				UserID: "u1", Email: "a@example.test", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteOrganization(ctx, "acme", "o1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.FindJITRule(ctx, "acme", "example.test"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("JIT rule of a deleted organization: %v, want ErrNotFound", err)
			}
			if _, _, err := s.GetInvitationByToken(ctx, "acme", []byte("h")); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("invitation of a deleted organization: %v, want ErrNotFound", err)
			}
			if err := s.DeleteUser(ctx, "acme", "u1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetEmailToken(ctx, "acme", storage.EmailTokenVerify, []byte("h")); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("email token of a deleted old user: %v, want ErrNotFound", err)
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
