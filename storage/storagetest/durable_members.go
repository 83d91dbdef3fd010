package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableMemberTests = []durableTest{
	{"Member/Get", durTestMemberGet},
	{"Member/List", durTestMemberList},
	{"Member/SetRoles", durTestMemberSetRoles},
	{"Member/SetRolesNotMember", durTestMemberSetRolesNotMember},
	{"Member/SetRolesConcurrent", durTestMemberSetRolesConcurrent},
	{"Member/LastOwnerTakesTurns", durTestMemberLastOwnerTakesTurns},
	{"Member/Remove", durTestMemberRemove},
	{"Member/CountWithRole", durTestMemberCount},
	{"Member/Access", durTestMemberAccess},
	{"Member/AccessNotFound", durTestMemberAccessNotFound},
	{"Member/TenantIsolation", durTestMemberTenantIsolation},
}

func durGetMembership(t *testing.T, s storage.Store, tenantID, orgID, userID string) storage.Membership {
	t.Helper()
	m, err := s.GetMembership(t.Context(), tenantID, orgID, userID)
	durMust(t, err)
	return m
}

func durCount(t *testing.T, s storage.Store, tenantID, orgID, role string) int {
	t.Helper()
	n, err := s.CountMembersWithRole(t.Context(), tenantID, orgID, role)
	durMust(t, err)
	return n
}

func durTestMemberGet(t *testing.T, s storage.Store) {
	durMembers(t, s)
	m := storage.Membership{
		TenantID: "acme", OrganizationID: "o1", UserID: "u1",
		Roles: []string{storage.RoleMember, storage.RoleAdmin, "custom"}, JoinedAt: durT0.Add(time.Minute),
	}
	durMust(t, s.AddMembership(t.Context(), m))
	bare := storage.Membership{TenantID: "acme", OrganizationID: "o2", UserID: "u1", JoinedAt: durT0}
	durMust(t, s.AddMembership(t.Context(), bare))

	want := m
	want.Roles = []string{storage.RoleAdmin, "custom", storage.RoleMember}
	durSame(t, "membership", durGetMembership(t, s, "acme", "o1", "u1"), want)
	got := durGetMembership(t, s, "acme", "o2", "u1")
	durSame(t, "membership without roles", got, bare)
	if len(got.Roles) != 0 {
		t.Errorf("roles = %v, want none", got.Roles)
	}

	for _, c := range [][2]string{{"o1", "u2"}, {"o3", "u1"}, {"ghost", "u1"}, {"o1", "ghost"}} {
		_, err := s.GetMembership(t.Context(), "acme", c[0], c[1])
		durWantErr(t, fmt.Sprintf("GetMembership(%s, %s)", c[0], c[1]), err, storage.ErrNotFound)
	}
}

// ListMembers shows each member's email, name and sorted roles, oldest
// first, and only the organization's own members.
func durTestMemberList(t *testing.T, s storage.Store) {
	durMembers(t, s) // acme: u1, u2; o1, o2, o3
	durUser(t, s, "acme", "u3", "u3@example.test")
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u2", Roles: []string{storage.RoleOwner, storage.RoleAdmin}, JoinedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", JoinedAt: durT0.Add(time.Hour)}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o2", UserID: "u3", Roles: []string{storage.RoleMember}, JoinedAt: durT0}))

	// The list shows the user as they are now.
	u1 := durGetUser(t, s, "acme", "u1")
	u1.Name, u1.Email, u1.UpdatedAt = "Ada Lovelace", "ada@example.test", durT0.Add(2*time.Hour)
	durMust(t, s.UpdateUser(t.Context(), u1))

	ms, next, err := s.ListMembers(t.Context(), "acme", "o1", storage.Page{})
	durMust(t, err)
	durSame(t, "members of o1", ms, []storage.Member{
		{
			Membership: storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u2", Roles: []string{storage.RoleAdmin, storage.RoleOwner}, JoinedAt: durT0},
			Email:      "u2@example.test", Name: "User u2",
		},
		{
			Membership: storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", JoinedAt: durT0.Add(time.Hour)},
			Email:      "ada@example.test", Name: "Ada Lovelace",
		},
	})
	if next != "" {
		t.Errorf("next = %q after the only page", next)
	}

	// A page boundary falls between members, never among one member's
	// roles.
	ms, next, err = s.ListMembers(t.Context(), "acme", "o1", storage.Page{Size: 1})
	durMust(t, err)
	if len(ms) != 1 || ms[0].UserID != "u2" || len(ms[0].Roles) != 2 || next == "" {
		t.Fatalf("first page of one: %+v, next %q; want u2 with both roles and a next page", ms, next)
	}
	ms, next, err = s.ListMembers(t.Context(), "acme", "o1", storage.Page{Size: 1, After: next})
	durMust(t, err)
	if len(ms) != 1 || ms[0].UserID != "u1" || next != "" {
		t.Errorf("second page of one: %+v, next %q; want u1 and no next page", ms, next)
	}
}

func durTestMemberSetRoles(t *testing.T, s storage.Store) {
	durMembers(t, s)
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner, storage.RoleMember}, JoinedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o2", UserID: "u1", Roles: []string{storage.RoleOwner}, JoinedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u2", Roles: []string{storage.RoleOwner}, JoinedAt: durT0}))

	// Replaced, not merged; repeats collapse; the join time stays.
	durMust(t, s.SetMemberRoles(t.Context(), "acme", "o1", "u1", []string{"auditor", storage.RoleAdmin, "auditor"}))
	durSame(t, "replaced roles", durGetMembership(t, s, "acme", "o1", "u1"), storage.Membership{
		TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleAdmin, "auditor"}, JoinedAt: durT0,
	})
	// The member's other membership and the other member are untouched.
	durSame(t, "u1 in o2", durGetMembership(t, s, "acme", "o2", "u1").Roles, []string{storage.RoleOwner})
	durSame(t, "u2 in o1", durGetMembership(t, s, "acme", "o1", "u2").Roles, []string{storage.RoleOwner})

	// No roles at all is a membership still.
	durMust(t, s.SetMemberRoles(t.Context(), "acme", "o1", "u1", nil))
	m := durGetMembership(t, s, "acme", "o1", "u1")
	if len(m.Roles) != 0 {
		t.Errorf("roles after SetMemberRoles(nil) = %v, want none", m.Roles)
	}
	durMust(t, s.SetMemberRoles(t.Context(), "acme", "o1", "u1", []string{storage.RoleMember}))
	durSame(t, "roles after none", durGetMembership(t, s, "acme", "o1", "u1").Roles, []string{storage.RoleMember})
}

func durTestMemberSetRolesNotMember(t *testing.T, s storage.Store) {
	durMembers(t, s)
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o2", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0}))
	for _, c := range [][2]string{{"o1", "u1"}, {"ghost", "u1"}, {"o1", "ghost"}} {
		err := s.SetMemberRoles(t.Context(), "acme", c[0], c[1], []string{storage.RoleOwner})
		durWantErr(t, fmt.Sprintf("SetMemberRoles(%s, %s)", c[0], c[1]), err, storage.ErrNotFound)
	}
	// Nothing was written: no membership, no stray role.
	_, err := s.GetMembership(t.Context(), "acme", "o1", "u1")
	durWantErr(t, "membership after refused SetMemberRoles", err, storage.ErrNotFound)
	if n := durCount(t, s, "acme", "o1", storage.RoleOwner); n != 0 {
		t.Errorf("owners of o1 after refused SetMemberRoles: %d", n)
	}
	durSame(t, "u1's memberships", durListMemberships(t, s, "acme", "u1"), []storage.Membership{
		{TenantID: "acme", OrganizationID: "o2", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0},
	})
}

// Concurrent replacements of one member's roles: each succeeds, and the
// roles end up as exactly one of them, never a mix.
func durTestMemberSetRolesConcurrent(t *testing.T, s storage.Store) {
	durMembers(t, s)
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner}, JoinedAt: durT0}))
	sets := make([][]string, durRacers)
	for i := range sets {
		sets[i] = []string{"common", fmt.Sprintf("role-%d", i)}
	}
	for i, err := range durRace(func(i int) error {
		return s.SetMemberRoles(t.Context(), "acme", "o1", "u1", sets[i])
	}) {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	got := durGetMembership(t, s, "acme", "o1", "u1").Roles
	if !slices.ContainsFunc(sets, func(set []string) bool { return slices.Equal(set, got) }) {
		t.Errorf("roles after concurrent replacements: %v, want exactly one racer's set", got)
	}
}

func durTestMemberRemove(t *testing.T, s storage.Store) {
	durMembers(t, s)
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner, storage.RoleAdmin}, JoinedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o2", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u2", Roles: []string{storage.RoleMember}, JoinedAt: durT0}))

	durMust(t, s.RemoveMembership(t.Context(), "acme", "o1", "u1"))
	_, err := s.GetMembership(t.Context(), "acme", "o1", "u1")
	durWantErr(t, "removed membership", err, storage.ErrNotFound)
	if n := durCount(t, s, "acme", "o1", storage.RoleOwner); n != 0 {
		t.Errorf("owners after the only owner left: %d", n)
	}
	durWantErr(t, "second RemoveMembership", s.RemoveMembership(t.Context(), "acme", "o1", "u1"), storage.ErrNotFound)
	for _, c := range [][2]string{{"o3", "u1"}, {"ghost", "u1"}, {"o1", "ghost"}} {
		err := s.RemoveMembership(t.Context(), "acme", c[0], c[1])
		durWantErr(t, fmt.Sprintf("RemoveMembership(%s, %s)", c[0], c[1]), err, storage.ErrNotFound)
	}
	// The user, the organization and the other memberships stay.
	durGetUser(t, s, "acme", "u1")
	durGetOrg(t, s, "acme", "o1")
	durSame(t, "u1 in o2", durGetMembership(t, s, "acme", "o2", "u1").Roles, []string{storage.RoleMember})
	durSame(t, "u2 in o1", durGetMembership(t, s, "acme", "o1", "u2").Roles, []string{storage.RoleMember})

	// Joining again starts afresh: the old roles do not come back.
	again := storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0.Add(time.Hour)}
	durMust(t, s.AddMembership(t.Context(), again))
	durSame(t, "membership after rejoining", durGetMembership(t, s, "acme", "o1", "u1"), again)
}

func durTestMemberCount(t *testing.T, s storage.Store) {
	durMembers(t, s)
	durUser(t, s, "acme", "u3", "u3@example.test")
	for _, m := range []storage.Membership{
		{OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner, storage.RoleAdmin}},
		{OrganizationID: "o1", UserID: "u2", Roles: []string{storage.RoleOwner}},
		{OrganizationID: "o1", UserID: "u3", Roles: []string{storage.RoleMember}},
		{OrganizationID: "o2", UserID: "u3", Roles: []string{storage.RoleOwner}},
	} {
		m.TenantID, m.JoinedAt = "acme", durT0
		durMust(t, s.AddMembership(t.Context(), m))
	}
	for _, c := range []struct {
		org, role string
		want      int
	}{
		{"o1", storage.RoleOwner, 2},
		{"o1", storage.RoleAdmin, 1},
		{"o1", storage.RoleMember, 1},
		{"o1", storage.RoleBillingManager, 0},
		{"o2", storage.RoleOwner, 1},
		{"o3", storage.RoleOwner, 0},
		{"ghost", storage.RoleOwner, 0},
	} {
		if n := durCount(t, s, "acme", c.org, c.role); n != c.want {
			t.Errorf("CountMembersWithRole(%s, %s) = %d, want %d", c.org, c.role, n, c.want)
		}
	}
	durMust(t, s.SetMemberRoles(t.Context(), "acme", "o1", "u2", []string{storage.RoleAdmin}))
	if n := durCount(t, s, "acme", "o1", storage.RoleOwner); n != 1 {
		t.Errorf("owners after one was demoted: %d, want 1", n)
	}
	if n := durCount(t, s, "acme", "o1", storage.RoleAdmin); n != 2 {
		t.Errorf("admins after one was made admin: %d, want 2", n)
	}
	durTenant(t, s, "other")
	if n := durCount(t, s, "other", "o1", storage.RoleOwner); n != 0 {
		t.Errorf("owners of o1 in another tenant: %d, want 0", n)
	}
}

// GetMemberAccess: the organization, the member's roles, and the union of
// the permissions their template and custom roles grant — not those of
// another organization's custom role of the same name.
func durTestMemberAccess(t *testing.T, s storage.Store) {
	durMembers(t, s) // acme: u1, u2; o1, o2, o3
	durRoleSetup(t, s, "acme", "o1")
	// o2's auditor grants p:d; it must not leak into o1.
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "acme", ID: "auditor-o2", OrganizationID: "o2", Name: "auditor", Permissions: []string{"p:d"}, CreatedAt: durT0}))
	// A role with no permissions.
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "acme", ID: "empty", Name: "empty", CreatedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{
		TenantID: "acme", OrganizationID: "o1", UserID: "u1",
		// "retired" names no role: it is held and grants nothing.
		Roles: []string{"viewer", "auditor", "empty", "retired"}, JoinedAt: durT0,
	}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u2", JoinedAt: durT0}))
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o2", UserID: "u1", Roles: []string{"auditor", "viewer"}, JoinedAt: durT0}))

	o1 := durGetOrg(t, s, "acme", "o1")
	a, err := s.GetMemberAccess(t.Context(), "acme", "o1", "u1")
	durMust(t, err)
	durSame(t, "u1's access to o1", a, storage.MemberAccess{
		Organization: o1,
		Roles:        []string{"auditor", "empty", "retired", "viewer"},
		Permissions:  []string{"p:a", "p:b", "p:c"}, // p:b from both roles, once
	})

	a, err = s.GetMemberAccess(t.Context(), "acme", "o2", "u1")
	durMust(t, err)
	durSame(t, "u1's access to o2", a, storage.MemberAccess{
		Organization: durGetOrg(t, s, "acme", "o2"),
		Roles:        []string{"auditor", "viewer"},
		Permissions:  []string{"p:a", "p:b", "p:d"},
	})

	// A member without roles: the organization, nothing else.
	a, err = s.GetMemberAccess(t.Context(), "acme", "o1", "u2")
	durMust(t, err)
	durSame(t, "u2's access to o1", a, storage.MemberAccess{Organization: o1})
	if len(a.Roles) != 0 || len(a.Permissions) != 0 {
		t.Errorf("member without roles: roles %v, permissions %v", a.Roles, a.Permissions)
	}

	// A change of roles shows at once.
	durMust(t, s.SetMemberRoles(t.Context(), "acme", "o1", "u2", []string{"auditor"}))
	a, err = s.GetMemberAccess(t.Context(), "acme", "o1", "u2")
	durMust(t, err)
	durSame(t, "u2's permissions after SetMemberRoles", a.Permissions, []string{"p:b", "p:c"})
}

// A missing organization and a non-member are both ErrNotFound, so that a
// caller cannot tell them apart.
func durTestMemberAccessNotFound(t *testing.T, s storage.Store) {
	durMembers(t, s)
	durRoleSetup(t, s, "acme", "o1")
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{"viewer"}, JoinedAt: durT0}))
	durTenant(t, s, "other")
	for _, c := range []struct{ tenant, org, user, what string }{
		{"acme", "ghost", "u1", "missing organization"},
		{"acme", "o2", "u1", "not a member"},
		{"acme", "o1", "u2", "another user, not a member"},
		{"acme", "o1", "ghost", "missing user"},
		{"other", "o1", "u1", "another tenant"},
		{"acme", "", "u1", "the template's empty organization ID"},
	} {
		_, err := s.GetMemberAccess(t.Context(), c.tenant, c.org, c.user)
		durWantErr(t, "GetMemberAccess: "+c.what, err, storage.ErrNotFound)
	}
}

func durTestMemberTenantIsolation(t *testing.T, s storage.Store) {
	// The same IDs in two tenants; only a has the viewer role.
	for _, tn := range []string{"a", "b"} {
		durTenant(t, s, tn)
		durUser(t, s, tn, "u1", "alice@example.test")
		durOrg(t, s, tn, "o1", "one")
		durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: tn, OrganizationID: "o1", UserID: "u1", Roles: []string{"viewer", storage.RoleOwner}, JoinedAt: durT0}))
	}
	durRoleSetup(t, s, "a")
	durUser(t, s, "a", "only-a", "solo@example.test")
	durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "a", OrganizationID: "o1", UserID: "only-a", JoinedAt: durT0}))

	// a's template grants nothing in b.
	ab, err := s.GetMemberAccess(t.Context(), "b", "o1", "u1")
	durMust(t, err)
	durSame(t, "b's u1 access", ab, storage.MemberAccess{Organization: durGetOrg(t, s, "b", "o1"), Roles: []string{storage.RoleOwner, "viewer"}})
	aa, err := s.GetMemberAccess(t.Context(), "a", "o1", "u1")
	durMust(t, err)
	durSame(t, "a's u1 permissions", aa.Permissions, []string{"p:a", "p:b"})

	// Changes in b leave a alone.
	durMust(t, s.SetMemberRoles(t.Context(), "b", "o1", "u1", []string{storage.RoleMember}))
	durSame(t, "a's u1 roles", durGetMembership(t, s, "a", "o1", "u1").Roles, []string{storage.RoleOwner, "viewer"})
	durWantErr(t, "SetMemberRoles of a's member in b", s.SetMemberRoles(t.Context(), "b", "o1", "only-a", nil), storage.ErrNotFound)
	durWantErr(t, "RemoveMembership of a's member in b", s.RemoveMembership(t.Context(), "b", "o1", "only-a"), storage.ErrNotFound)
	_, err = s.GetMembership(t.Context(), "b", "o1", "only-a")
	durWantErr(t, "GetMembership of a's member in b", err, storage.ErrNotFound)
	if n := durCount(t, s, "a", "o1", storage.RoleOwner); n != 1 {
		t.Errorf("a's owners: %d, want 1", n)
	}
	if n := durCount(t, s, "b", "o1", storage.RoleOwner); n != 0 {
		t.Errorf("b's owners after the change: %d, want 0", n)
	}
	durMust(t, s.RemoveMembership(t.Context(), "b", "o1", "u1"))
	durGetMembership(t, s, "a", "o1", "u1")
	ms, _, err := s.ListMembers(t.Context(), "a", "o1", storage.Page{})
	durMust(t, err)
	if len(ms) != 2 {
		t.Errorf("a's o1 has %d members, want 2", len(ms))
	}
	ms, _, err = s.ListMembers(t.Context(), "b", "o1", storage.Page{})
	durMust(t, err)
	if len(ms) != 0 {
		t.Errorf("b's o1 has members %+v, want none", ms)
	}
}

// durTestMemberLastOwnerTakesTurns: two owners step down at once, each in a
// transaction that refuses to leave the organization without an owner (as
// the management service does). Changes to one organization's members take
// turns, so the second sees the first and is refused: an owner remains,
// whether they step down by losing the role, by leaving, or by being
// deleted.
func durTestMemberLastOwnerTakesTurns(t *testing.T, s storage.Store) {
	durMembers(t, s)
	errLast := errors.New("last owner")
	ways := map[string]func(tx storage.Store, userID string) error{
		"demote": func(tx storage.Store, userID string) error {
			return tx.SetMemberRoles(t.Context(), "acme", "o1", userID, []string{storage.RoleMember})
		},
		"leave": func(tx storage.Store, userID string) error {
			return tx.RemoveMembership(t.Context(), "acme", "o1", userID)
		},
		"delete": func(tx storage.Store, userID string) error {
			return tx.DeleteUser(t.Context(), "acme", userID)
		},
	}
	for _, way := range []string{"demote", "leave", "delete", "demote", "leave", "delete"} {
		for _, u := range []string{"u1", "u2"} {
			if _, err := s.GetUser(t.Context(), "acme", u); errors.Is(err, storage.ErrNotFound) {
				durUser(t, s, "acme", u, u+"@example.test")
			}
			_ = s.RemoveMembership(t.Context(), "acme", "o1", u)
			durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: u, Roles: []string{storage.RoleOwner}, JoinedAt: durT0}))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, u := range []string{"u1", "u2"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.WithTx(t.Context(), func(tx storage.Store) error {
					if err := ways[way](tx, u); err != nil {
						return err
					}
					n, err := tx.CountMembersWithRole(t.Context(), "acme", "o1", storage.RoleOwner)
					if err != nil {
						return err
					}
					if n == 0 {
						return errLast
					}
					return nil
				})
			}()
		}
		close(start)
		wg.Wait()
		durOneWinner(t, errs, errLast)
		if n := durCount(t, s, "acme", "o1", storage.RoleOwner); n != 1 {
			t.Fatalf("%s: %d owners after two stepped down at once, want 1", way, n)
		}
	}
}
