package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableUserChangeTests = []durableTest{
	{"User/Update", durTestUserUpdate},
	{"User/UpdateEmailTaken", durTestUserUpdateEmailTaken},
	{"User/UpdateMissing", durTestUserUpdateMissing},
	{"User/Delete", durTestUserDelete},
	{"User/DeleteMissing", durTestUserDeleteMissing},
	{"User/DeleteTenantIsolation", durTestUserDeleteTenantIsolation},
	{"User/Organizations", durTestUserOrganizations},
	{"User/OrganizationsTenantIsolation", durTestUserOrganizationsTenantIsolation},
	{"User/TenantRoles", durTestUserTenantRoles},
	{"User/Search", durTestUserSearch},
}

// Tenant roles are read with the user wherever a user is read, and only
// SetUserTenantRoles writes them.
func durTestUserTenantRoles(t *testing.T, s storage.Store) {
	ctx := t.Context()
	durTenant(t, s, "acme")
	u := durUser(t, s, "acme", "u1", "alice@example.test")
	durMust(t, s.SetUserTenantRoles(ctx, "acme", "u1", []string{storage.TenantRoleAdmin}))
	u.TenantRoles = []string{storage.TenantRoleAdmin}
	got, err := s.GetUser(ctx, "acme", "u1")
	durMust(t, err)
	durSame(t, "user after SetUserTenantRoles", got, u)
	got, err = s.GetUserByEmail(ctx, "acme", "alice@example.test")
	durMust(t, err)
	durSame(t, "user by email", got, u)

	// UpdateUser leaves them alone.
	changed := u
	changed.Name, changed.TenantRoles = "Alice", nil
	durMust(t, s.UpdateUser(ctx, changed))
	got, err = s.GetUser(ctx, "acme", "u1")
	durMust(t, err)
	changed.TenantRoles = u.TenantRoles
	durSame(t, "user after UpdateUser", got, changed)

	rt := durToken("acme", "h1", "g1")
	rt.Grant.UserID = "u1"
	durMust(t, s.CreateRefreshToken(ctx, rt))
	gotRT, err := s.GetRefreshToken(ctx, "acme", "g1")
	durMust(t, err)
	durSame(t, "refresh token's user tenant roles", gotRT.User.TenantRoles, u.TenantRoles)

	durMust(t, s.SetUserTenantRoles(ctx, "acme", "u1", nil))
	got, err = s.GetUser(ctx, "acme", "u1")
	durMust(t, err)
	durSame(t, "tenant roles after clearing", got.TenantRoles, []string(nil))
	durWantErr(t, "tenant roles of a missing user", s.SetUserTenantRoles(ctx, "acme", "nobody", nil), storage.ErrNotFound)
	durTenant(t, s, "other")
	durWantErr(t, "tenant roles of another tenant's user", s.SetUserTenantRoles(ctx, "other", "u1", nil), storage.ErrNotFound)
}

// A search matches email or name, case-insensitively, anywhere in them;
// LIKE's wildcards and escape are plain characters; other tenants'
// users never match.
func durTestUserSearch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	at := durT0
	user := func(tenant, id, email, name string) storage.User {
		at = at.Add(time.Minute)
		u := storage.User{TenantID: tenant, ID: id, Email: email, Name: name, CreatedAt: at, UpdatedAt: at}
		durMust(t, s.CreateUser(ctx, u))
		return u
	}
	alice := user("acme", "u1", "Alice@Acme.test", "Alice Liddell")
	bob := user("acme", "u2", "bob@example.test", "Bob ACME-Smith")
	pct := user("acme", "u3", "percent%under_back\\slash@example.test", "")
	noEmail := user("acme", "u4", "", "Carol")
	user("other", "u1", "alice@acme.test", "Alice")
	for _, c := range []struct {
		q    string
		want []storage.User
	}{
		{"", []storage.User{alice, bob, pct, noEmail}},
		{"acme", []storage.User{alice, bob}},
		{"ALICE@", []storage.User{alice}},
		{"liddell", []storage.User{alice}},
		{"carol", []storage.User{noEmail}},
		{"%", []storage.User{pct}},
		{"_back", []storage.User{pct}},
		{"x_back", nil},
		{"\\", []storage.User{pct}},
		{"a%e", nil},
		{"nobody", nil},
	} {
		got, next, err := s.SearchUsers(ctx, "acme", c.q, storage.Page{})
		durMust(t, err)
		if next != "" {
			t.Errorf("search %q: next = %q after the only page", c.q, next)
		}
		durSame(t, fmt.Sprintf("users matching %q", c.q), got, c.want)
	}
}

func durGetUser(t *testing.T, s storage.Store, tenantID, id string) storage.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), tenantID, id)
	durMust(t, err)
	return u
}

// durUserToken stores a refresh token of grant grantID for user and client.
func durUserToken(t *testing.T, s storage.Store, tenantID, grantID, userID, clientID string) {
	t.Helper()
	rt := durToken(tenantID, grantID, grantID)
	rt.Grant.UserID, rt.Grant.ClientID = userID, clientID
	durMust(t, s.CreateRefreshToken(t.Context(), rt))
}

// UpdateUser replaces email, email_verified, name, password hash and
// updated_at, and nothing else; the new email is the one looked up.
func durTestUserUpdate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	old := durUser(t, s, "acme", "u1", "alice@example.test")
	want := storage.User{
		TenantID:      "acme",
		ID:            "u1",
		Email:         "Alice.Smith@Example.test",
		EmailVerified: false,
		Name:          "Alice Smith",
		PasswordHash:  "$argon2id$v=19$m=19456,t=2,p=1$bmV3$bmV3aGFzaA",
		CreatedAt:     old.CreatedAt,
		UpdatedAt:     durT0.Add(time.Hour),
	}
	upd := want
	upd.CreatedAt = durT0.Add(99 * time.Hour) // not the store's to change
	durMust(t, s.UpdateUser(t.Context(), upd))
	durSame(t, "updated user", durGetUser(t, s, "acme", "u1"), want)

	got, err := s.GetUserByEmail(t.Context(), "acme", "alice.smith@example.TEST")
	durMust(t, err)
	durSame(t, "user by new email", got, want)
	_, err = s.GetUserByEmail(t.Context(), "acme", "alice@example.test")
	durWantErr(t, "user by old email", err, storage.ErrNotFound)
	// The old email is free for someone else.
	durUser(t, s, "acme", "u2", "ALICE@example.test")

	// A user may change the case of their own email, or drop it.
	want.Email = "alice.smith@example.test"
	durMust(t, s.UpdateUser(t.Context(), want))
	durSame(t, "user after a case change", durGetUser(t, s, "acme", "u1"), want)
	want.Email = ""
	durMust(t, s.UpdateUser(t.Context(), want))
	durSame(t, "user without email", durGetUser(t, s, "acme", "u1"), want)
	_, err = s.GetUserByEmail(t.Context(), "acme", "alice.smith@example.test")
	durWantErr(t, "user by dropped email", err, storage.ErrNotFound)
}

func durTestUserUpdateEmailTaken(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durUser(t, s, "acme", "u1", "alice@example.test")
	bob := durUser(t, s, "acme", "u2", "bob@example.test")
	durUser(t, s, "other", "x", "carol@example.test")

	upd := bob
	upd.Email, upd.Name = "ALICE@Example.Test", "Bob the impostor"
	durWantErr(t, "UpdateUser to another user's email in other case", s.UpdateUser(t.Context(), upd), storage.ErrAlreadyExists)
	// Nothing of the refused update was written.
	durSame(t, "user after refused update", durGetUser(t, s, "acme", "u2"), bob)

	// Another tenant's user's email is no clash.
	upd = bob
	upd.Email = "carol@example.test"
	durMust(t, s.UpdateUser(t.Context(), upd))
	durSame(t, "user with an email taken only in another tenant", durGetUser(t, s, "acme", "u2"), upd)
}

func durTestUserUpdateMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	ua := durUser(t, s, "a", "u1", "alice@example.test")
	upd := storage.User{TenantID: "b", ID: "u1", Email: "mallory@example.test", Name: "M", UpdatedAt: durT0}
	durWantErr(t, "UpdateUser of a's user in b", s.UpdateUser(t.Context(), upd), storage.ErrNotFound)
	durSame(t, "a's user after an update in b", durGetUser(t, s, "a", "u1"), ua)
	_, err := s.GetUser(t.Context(), "b", "u1")
	durWantErr(t, "user the refused update would have made", err, storage.ErrNotFound)
	upd.TenantID, upd.ID = "a", "ghost"
	durWantErr(t, "UpdateUser(ghost)", s.UpdateUser(t.Context(), upd), storage.ErrNotFound)
}

// DeleteUser takes the user's memberships (with roles) and refresh tokens
// along, and nobody else's.
func durTestUserDelete(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "alice@example.test")
	durUser(t, s, "acme", "u2", "bob@example.test")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	for _, m := range []storage.Membership{
		{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner, storage.RoleAdmin}, JoinedAt: durT0},
		{TenantID: "acme", OrganizationID: "o2", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0},
		{TenantID: "acme", OrganizationID: "o1", UserID: "u2", Roles: []string{storage.RoleOwner}, JoinedAt: durT0},
	} {
		durMust(t, s.AddMembership(t.Context(), m))
	}
	durUserToken(t, s, "acme", "g1", "u1", "c1")
	durUserToken(t, s, "acme", "g2", "u1", "c2")
	durUserToken(t, s, "acme", "g3", "u2", "c1")

	durMust(t, s.DeleteUser(t.Context(), "acme", "u1"))

	_, err := s.GetUser(t.Context(), "acme", "u1")
	durWantErr(t, "deleted user", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(t.Context(), "acme", "alice@example.test")
	durWantErr(t, "deleted user by email", err, storage.ErrNotFound)
	if ms := durListMemberships(t, s, "acme", "u1"); len(ms) != 0 {
		t.Errorf("deleted user's memberships: %+v", ms)
	}
	orgs, err := s.ListUserOrganizations(t.Context(), "acme", "u1")
	durMust(t, err)
	if len(orgs) != 0 {
		t.Errorf("deleted user's organizations: %+v", orgs)
	}
	_, err = s.GetMembership(t.Context(), "acme", "o1", "u1")
	durWantErr(t, "deleted user's membership", err, storage.ErrNotFound)
	_, err = s.GetMemberAccess(t.Context(), "acme", "o1", "u1")
	durWantErr(t, "deleted user's access", err, storage.ErrNotFound)
	n, err := s.CountMembersWithRole(t.Context(), "acme", "o1", storage.RoleOwner)
	durMust(t, err)
	if n != 1 {
		t.Errorf("owners of o1 after deleting one of two: %d, want 1", n)
	}
	durNoToken(t, s, "acme", "g1")
	durNoToken(t, s, "acme", "g2")

	// The other user keeps everything.
	durGetToken(t, s, "acme", "g3")
	m, err := s.GetMembership(t.Context(), "acme", "o1", "u2")
	durMust(t, err)
	durSame(t, "other member's roles", m.Roles, []string{storage.RoleOwner})
	// The email is free again.
	durUser(t, s, "acme", "u3", "Alice@example.test")
}

func durTestUserDeleteMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durWantErr(t, "DeleteUser(ghost)", s.DeleteUser(t.Context(), "acme", "ghost"), storage.ErrNotFound)
	durUser(t, s, "acme", "u1", "alice@example.test")
	durMust(t, s.DeleteUser(t.Context(), "acme", "u1"))
	durWantErr(t, "second DeleteUser(u1)", s.DeleteUser(t.Context(), "acme", "u1"), storage.ErrNotFound)
}

func durTestUserDeleteTenantIsolation(t *testing.T, s storage.Store) {
	for _, tn := range []string{"a", "b"} {
		durTenant(t, s, tn)
		durUser(t, s, tn, "u1", "alice@example.test")
		durOrg(t, s, tn, "o1", "one")
		durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: tn, OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner}, JoinedAt: durT0}))
		durUserToken(t, s, tn, "g1", "u1", "c1")
	}
	durUser(t, s, "a", "only-a", "solo@example.test")
	durWantErr(t, "DeleteUser of a's user in b", s.DeleteUser(t.Context(), "b", "only-a"), storage.ErrNotFound)

	durMust(t, s.DeleteUser(t.Context(), "b", "u1"))
	durGetUser(t, s, "a", "u1")
	durGetUser(t, s, "a", "only-a")
	durGetToken(t, s, "a", "g1")
	if ms := durListMemberships(t, s, "a", "u1"); len(ms) != 1 {
		t.Errorf("a's u1 has memberships %+v after b's u1 was deleted, want 1", ms)
	}
	durNoToken(t, s, "b", "g1")
}

// ListUserOrganizations: oldest membership first, each organization's
// name and slug, the user's roles there sorted; none for a user without
// memberships.
func durTestUserOrganizations(t *testing.T, s storage.Store) {
	durMembers(t, s) // acme: u1, u2; o1, o2, o3
	o4 := storage.Organization{TenantID: "acme", ID: "o4", Name: "Zeta Corp", Slug: "zeta", CreatedAt: durT0}
	durMust(t, s.CreateOrganization(t.Context(), o4))
	for _, m := range []storage.Membership{
		{OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleMember, storage.RoleBillingManager, storage.RoleAdmin}, JoinedAt: durT0.Add(3 * time.Hour)},
		{OrganizationID: "o3", UserID: "u1", Roles: []string{storage.RoleOwner}, JoinedAt: durT0.Add(time.Hour)},
		{OrganizationID: "o4", UserID: "u1", JoinedAt: durT0.Add(2 * time.Hour)}, // no roles
		{OrganizationID: "o2", UserID: "u2", Roles: []string{storage.RoleMember}, JoinedAt: durT0},
	} {
		m.TenantID = "acme"
		durMust(t, s.AddMembership(t.Context(), m))
	}
	got, err := s.ListUserOrganizations(t.Context(), "acme", "u1")
	durMust(t, err)
	durSame(t, "u1's organizations", got, []storage.UserOrganization{
		{ID: "o3", Name: "Org o3", Slug: "slug-o3", Roles: []string{storage.RoleOwner}},
		{ID: "o4", Name: "Zeta Corp", Slug: "zeta"},
		{ID: "o1", Name: "Org o1", Slug: "slug-o1", Roles: []string{storage.RoleAdmin, storage.RoleBillingManager, storage.RoleMember}},
	})
	if len(got) == 3 && len(got[1].Roles) != 0 {
		t.Errorf("roles in o4 = %v, want none", got[1].Roles)
	}

	// A change of roles shows at once.
	durMust(t, s.SetMemberRoles(t.Context(), "acme", "o1", "u1", []string{"viewer", storage.RoleAdmin}))
	got, err = s.ListUserOrganizations(t.Context(), "acme", "u1")
	durMust(t, err)
	if len(got) != 3 {
		t.Fatalf("u1 has %d organizations, want 3", len(got))
	}
	durSame(t, "u1's roles in o1 after SetMemberRoles", got[2].Roles, []string{storage.RoleAdmin, "viewer"})

	for _, user := range []string{"ghost", "nobody"} {
		got, err := s.ListUserOrganizations(t.Context(), "acme", user)
		durMust(t, err)
		if len(got) != 0 {
			t.Errorf("organizations of %s: %+v, want none", user, got)
		}
	}
}

func durTestUserOrganizationsTenantIsolation(t *testing.T, s storage.Store) {
	for _, tn := range []string{"a", "b"} {
		durTenant(t, s, tn)
		durUser(t, s, tn, "u1", "alice@example.test")
		durOrg(t, s, tn, "o1", "one")
	}
	durOrg(t, s, "b", "o2", "two")
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "a", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner}, JoinedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "b", OrganizationID: "o2", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0}))
	got, err := s.ListUserOrganizations(t.Context(), "a", "u1")
	durMust(t, err)
	durSame(t, "a's u1", got, []storage.UserOrganization{{ID: "o1", Name: "Org o1", Slug: "one", Roles: []string{storage.RoleOwner}}})
	got, err = s.ListUserOrganizations(t.Context(), "b", "u1")
	durMust(t, err)
	durSame(t, "b's u1", got, []storage.UserOrganization{{ID: "o2", Name: "Org o2", Slug: "two", Roles: []string{storage.RoleMember}}})
}
