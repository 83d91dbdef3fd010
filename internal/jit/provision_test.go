package jit_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/jit"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// t0 is the tests' "now", with the microsecond precision the store keeps.
var t0 = time.Date(2025, 6, 7, 8, 9, 10, 123456000, time.UTC)

// onStores runs fn against a fresh SQLite store and, when
// ORGID_TEST_DATABASE_URL is set, a fresh PostgreSQL one.
func onStores(t *testing.T, fn func(t *testing.T, s storage.Store)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, sqltest.SQLite(t)) })
	t.Run("Postgres", func(t *testing.T) { fn(t, sqltest.Postgres(t)) })
}

// setup makes tenant acme with the built-in roles and two organizations:
// o1 lists acme.test and never set its roles, o2 lists beta.test and
// xn--bcher-kva.example with roles admin and billing_manager. o3 lists
// none.test with its roles set to none.
func setup(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := t.Context()
	must(t, s.CreateTenant(ctx, storage.Tenant{ID: "acme", Name: "Acme", Settings: storage.DefaultTenantSettings(), CreatedAt: t0}))
	// The built-in template, as internal/server's EnsureTemplate makes
	// it (memberships need no role rows, but a real tenant has them).
	for _, p := range storage.BuiltinPermissions {
		p.TenantID, p.CreatedAt = "acme", t0
		must(t, s.CreatePermission(ctx, p))
	}
	for _, r := range storage.BuiltinRoles {
		r.TenantID, r.ID, r.CreatedAt = "acme", "rol_acme_"+r.Name, t0
		must(t, s.CreateRole(ctx, r))
	}
	for _, o := range []struct {
		id      string
		domains []string
		roles   []string
	}{
		{"o1", []string{"acme.test"}, nil},
		{"o2", []string{"beta.test", "xn--bcher-kva.example"}, []string{"billing_manager", "admin"}},
		{"o3", []string{"none.test"}, []string{}},
	} {
		must(t, s.CreateOrganization(ctx, storage.Organization{TenantID: "acme", ID: o.id, Name: "Org " + o.id, Slug: o.id, CreatedAt: t0}))
		must(t, s.SetJITEmailDomains(ctx, "acme", o.id, o.domains))
		if o.roles != nil {
			must(t, s.SetJITRoles(ctx, "acme", o.id, o.roles))
		}
	}
}

// newUser creates a user and returns it as stored.
func newUser(t *testing.T, s storage.Store, id, email string, verified bool) storage.User {
	t.Helper()
	must(t, s.CreateUser(t.Context(), storage.User{
		TenantID: "acme", ID: id, Email: email, EmailVerified: verified, Name: "User " + id,
		CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour),
	}))
	return getUser(t, s, id)
}

func getUser(t *testing.T, s storage.Store, id string) storage.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), "acme", id)
	must(t, err)
	return u
}

// provision runs jit.Provision in a transaction, as its callers do.
func provision(t *testing.T, s storage.Store, u storage.User, at time.Time) string {
	t.Helper()
	var org string
	must(t, s.WithTx(t.Context(), func(tx storage.Store) error {
		var err error
		org, err = jit.Provision(t.Context(), tx, u, at)
		return err
	}))
	return org
}

// orgsOf returns "org:role,role" for each of the user's memberships.
func orgsOf(t *testing.T, s storage.Store, userID string) []string {
	t.Helper()
	orgs, err := s.ListUserOrganizations(t.Context(), "acme", userID)
	must(t, err)
	var out []string
	for _, o := range orgs {
		out = append(out, o.ID+":"+strings.Join(o.Roles, ","))
	}
	return out
}

// audit returns the tenant's audit entries by provisioning.
func audit(t *testing.T, s storage.Store) []storage.AuditEntry {
	t.Helper()
	entries, _, err := s.ListAudit(t.Context(), "acme", storage.AuditFilter{}, storage.Page{})
	must(t, err)
	var out []storage.AuditEntry
	for _, e := range entries {
		if e.Actor == jit.Actor {
			out = append(out, e)
		}
	}
	return out
}

func wantProvisionedAt(t *testing.T, s storage.Store, userID string, want time.Time) {
	t.Helper()
	got := getUser(t, s, userID).ProvisionedAt
	if !got.Equal(want) {
		t.Errorf("%s: ProvisionedAt = %v, want %v", userID, got, want)
	}
}

func wantOrgs(t *testing.T, s storage.Store, userID string, want ...string) {
	t.Helper()
	if got := orgsOf(t, s, userID); !slices.Equal(got, want) {
		t.Errorf("%s's memberships = %q, want %q", userID, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// An unverified email proves nothing: no membership, and provisioning
// stays to run once the email is verified.
func TestProvisionUnverified(t *testing.T) {
	onStores(t, func(t *testing.T, s storage.Store) {
		setup(t, s)
		u := newUser(t, s, "u1", "ann@acme.test", false)
		if org := provision(t, s, u, t0); org != "" {
			t.Errorf("Provision of an unverified user joined %q", org)
		}
		wantProvisionedAt(t, s, "u1", time.Time{})
		wantOrgs(t, s, "u1")
		if a := audit(t, s); len(a) != 0 {
			t.Errorf("audit entries: %+v", a)
		}

		// Verified later, the user is provisioned then.
		u.EmailVerified = true
		must(t, s.UpdateUser(t.Context(), u))
		if org := provision(t, s, getUser(t, s, "u1"), t0.Add(time.Hour)); org != "o1" {
			t.Errorf("Provision once verified joined %q, want o1", org)
		}
		wantProvisionedAt(t, s, "u1", t0.Add(time.Hour))
		wantOrgs(t, s, "u1", "o1:member")
	})
}

// A new verified user whose email's domain an organization lists becomes
// a member there with the rule's roles ("member" when the rule never set
// any), audited with actor "jit"; provisioning is marked as run.
func TestProvisionNewUser(t *testing.T) {
	onStores(t, func(t *testing.T, s storage.Store) {
		setup(t, s)
		u := newUser(t, s, "u1", "Ann@ACME.Test", true)
		if org := provision(t, s, u, t0); org != "o1" {
			t.Fatalf("Provision joined %q, want o1", org)
		}
		wantProvisionedAt(t, s, "u1", t0)
		m, err := s.GetMembership(t.Context(), "acme", "o1", "u1")
		must(t, err)
		if !slices.Equal(m.Roles, jit.DefaultRoles) || !slices.Equal(m.Roles, []string{storage.RoleMember}) || !m.JoinedAt.Equal(t0) {
			t.Errorf("membership = %+v, want roles %q joined at %v", m, jit.DefaultRoles, t0)
		}
		wantOrgs(t, s, "u1", "o1:member")

		entries := audit(t, s)
		if len(entries) != 1 {
			t.Fatalf("audit entries by jit = %+v, want 1", entries)
		}
		e := entries[0]
		if e.Action != jit.AuditAction || e.Target != "o1" || !e.CreatedAt.Equal(t0) || e.ID == "" {
			t.Errorf("audit entry = %+v", e)
		}
		var details map[string]any
		must(t, json.Unmarshal(e.Details, &details))
		want := map[string]any{"user_id": "u1", "roles": []any{"member"}, "email_domain": "acme.test"}
		if !reflect.DeepEqual(details, want) {
			t.Errorf("audit details = %v, want %v", details, want)
		}

		// A rule with roles gives those, and an internationalised
		// address finds its organization by the domain's A-label form.
		u2 := newUser(t, s, "u2", "bob@Bücher.example", true)
		if org := provision(t, s, u2, t0); org != "o2" {
			t.Fatalf("Provision of u2 joined %q, want o2", org)
		}
		wantOrgs(t, s, "u2", "o2:admin,billing_manager")

		// A rule with its roles set to none makes a member without
		// roles.
		u3 := newUser(t, s, "u3", "cy@none.test", true)
		if org := provision(t, s, u3, t0); org != "o3" {
			t.Fatalf("Provision of u3 joined %q, want o3", org)
		}
		wantOrgs(t, s, "u3", "o3:")
		if n := len(audit(t, s)); n != 3 {
			t.Errorf("%d audit entries by jit, want 3", n)
		}
	})
}

// Provisioning runs once per user: a second call with the user as it
// was before the first (another path racing it) loses the mark
// (ErrConflict) and does nothing.
func TestProvisionTwice(t *testing.T) {
	onStores(t, func(t *testing.T, s storage.Store) {
		setup(t, s)
		u := newUser(t, s, "u1", "ann@acme.test", true)
		if org := provision(t, s, u, t0); org != "o1" {
			t.Fatalf("first Provision joined %q, want o1", org)
		}
		if org := provision(t, s, u, t0.Add(time.Minute)); org != "" {
			t.Errorf("second Provision joined %q", org)
		}
		wantProvisionedAt(t, s, "u1", t0)
		wantOrgs(t, s, "u1", "o1:member")
		if n := len(audit(t, s)); n != 1 {
			t.Errorf("%d audit entries by jit, want 1", n)
		}

		// Nor does a removed member come back.
		must(t, s.RemoveMembership(t.Context(), "acme", "o1", "u1"))
		if org := provision(t, s, getUser(t, s, "u1"), t0.Add(time.Hour)); org != "" {
			t.Errorf("Provision after removal joined %q", org)
		}
		wantOrgs(t, s, "u1")
	})
}

// A user already a member of the organization (an invitation got there
// first) keeps their membership as it is; that is not an error, and
// provisioning is marked as run.
func TestProvisionAlreadyMember(t *testing.T) {
	onStores(t, func(t *testing.T, s storage.Store) {
		setup(t, s)
		u := newUser(t, s, "u1", "ann@acme.test", true)
		must(t, s.AddMembership(t.Context(), storage.Membership{
			TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{"owner"}, JoinedAt: t0.Add(-time.Minute),
		}))
		if org := provision(t, s, u, t0); org != "" {
			t.Errorf("Provision of a member joined %q", org)
		}
		wantProvisionedAt(t, s, "u1", t0)
		wantOrgs(t, s, "u1", "o1:owner")
		if a := audit(t, s); len(a) != 0 {
			t.Errorf("audit entries: %+v", a)
		}
	})
}

// A domain no organization lists joins nothing, but provisioning has run:
// a rule listing it later does not add the user.
func TestProvisionDomainNotListed(t *testing.T) {
	onStores(t, func(t *testing.T, s storage.Store) {
		setup(t, s)
		u := newUser(t, s, "u1", "ann@elsewhere.test", true)
		if org := provision(t, s, u, t0); org != "" {
			t.Errorf("Provision joined %q", org)
		}
		wantProvisionedAt(t, s, "u1", t0)
		wantOrgs(t, s, "u1")

		must(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"acme.test", "elsewhere.test"}))
		if org := provision(t, s, getUser(t, s, "u1"), t0.Add(time.Hour)); org != "" {
			t.Errorf("Provision after the domain was listed joined %q", org)
		}
		wantOrgs(t, s, "u1")
		if a := audit(t, s); len(a) != 0 {
			t.Errorf("audit entries: %+v", a)
		}
	})
}

// A user provisioning ran for already (ProvisionedAt set) is left alone,
// without a write.
func TestProvisionAlreadyProvisioned(t *testing.T) {
	onStores(t, func(t *testing.T, s storage.Store) {
		setup(t, s)
		newUser(t, s, "u1", "ann@acme.test", true)
		must(t, s.MarkUserProvisioned(t.Context(), "acme", "u1", t0.Add(-time.Hour)))
		u := getUser(t, s, "u1")
		if !u.ProvisionedAt.Equal(t0.Add(-time.Hour)) {
			t.Fatalf("ProvisionedAt = %v after MarkUserProvisioned", u.ProvisionedAt)
		}
		if org := provision(t, s, u, t0); org != "" {
			t.Errorf("Provision joined %q", org)
		}
		wantProvisionedAt(t, s, "u1", t0.Add(-time.Hour))
		wantOrgs(t, s, "u1")

		// Nothing is written at all: a store that fails every write
		// is not even asked.
		if _, err := jit.Provision(t.Context(), readOnly{s}, u, t0); err != nil {
			t.Errorf("Provision of a provisioned user wrote: %v", err)
		}
	})
}

// Provision's writes are the caller's transaction's: rolled back with
// it, the user is neither a member nor marked.
func TestProvisionRolledBack(t *testing.T) {
	onStores(t, func(t *testing.T, s storage.Store) {
		setup(t, s)
		u := newUser(t, s, "u1", "ann@acme.test", true)
		errAbort := errors.New("abort")
		err := s.WithTx(t.Context(), func(tx storage.Store) error {
			org, err := jit.Provision(t.Context(), tx, u, t0)
			if err != nil || org != "o1" {
				t.Errorf("Provision = %q, %v; want o1", org, err)
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("WithTx = %v, want %v", err, errAbort)
		}
		wantProvisionedAt(t, s, "u1", time.Time{})
		wantOrgs(t, s, "u1")
		if a := audit(t, s); len(a) != 0 {
			t.Errorf("audit entries: %+v", a)
		}
	})
}

// readOnly is a Store whose writes Provision makes all fail.
type readOnly struct{ storage.Store }

var errWrite = errors.New("write to a read-only store")

func (readOnly) MarkUserProvisioned(context.Context, string, string, time.Time) error {
	return errWrite
}

func (readOnly) AddMembership(context.Context, storage.Membership) error { return errWrite }

func (readOnly) AppendAudit(context.Context, storage.AuditEntry) error { return errWrite }
