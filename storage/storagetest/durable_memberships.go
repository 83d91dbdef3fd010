package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableMembershipTests = []durableTest{
	{"Membership/Roles", durTestMembershipRoles},
	{"Membership/NoRoles", durTestMembershipNoRoles},
	{"Membership/OldestFirst", durTestMembershipOrder},
	{"Membership/Duplicate", durTestMembershipDuplicate},
	{"Membership/MissingUserOrOrganization", durTestMembershipMissing},
	{"Membership/TenantIsolation", durTestMembershipTenantIsolation},
}

// durMembers sets up tenant acme with users u1, u2 and organizations o1..o3.
func durMembers(t *testing.T, s storage.Store) {
	t.Helper()
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	for _, id := range []string{"o1", "o2", "o3"} {
		durOrg(t, s, "acme", id, "slug-"+id)
	}
}

func durListMemberships(t *testing.T, s storage.Store, tenantID, userID string) []storage.Membership {
	t.Helper()
	ms, err := s.ListUserMemberships(t.Context(), tenantID, userID)
	durMust(t, err)
	return ms
}

func durTestMembershipRoles(t *testing.T, s storage.Store) {
	durMembers(t, s)
	m := storage.Membership{
		TenantID: "acme", OrganizationID: "o1", UserID: "u1",
		Roles:    []string{storage.RoleMember, storage.RoleAdmin, storage.RoleBillingManager, "custom:auditor"},
		JoinedAt: durT0,
	}
	durMust(t, s.AddMembership(t.Context(), m))
	want := m
	want.Roles = []string{storage.RoleAdmin, storage.RoleBillingManager, "custom:auditor", storage.RoleMember} // sorted
	durSame(t, "memberships", durListMemberships(t, s, "acme", "u1"), []storage.Membership{want})
	if ms := durListMemberships(t, s, "acme", "u2"); len(ms) != 0 {
		t.Errorf("u2 has memberships %+v, want none", ms)
	}
}

func durTestMembershipNoRoles(t *testing.T, s storage.Store) {
	durMembers(t, s)
	m := storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", JoinedAt: durT0}
	durMust(t, s.AddMembership(t.Context(), m))
	ms := durListMemberships(t, s, "acme", "u1")
	durSame(t, "memberships", ms, []storage.Membership{m})
	if len(ms) == 1 && len(ms[0].Roles) != 0 {
		t.Errorf("roles = %v, want none", ms[0].Roles)
	}
}

func durTestMembershipOrder(t *testing.T, s storage.Store) {
	durMembers(t, s)
	joined := map[string]time.Duration{"o1": 2 * time.Hour, "o2": time.Hour, "o3": 3 * time.Hour}
	for _, org := range []string{"o1", "o2", "o3"} {
		durMust(t, s.AddMembership(t.Context(), storage.Membership{
			TenantID: "acme", OrganizationID: org, UserID: "u1",
			Roles: []string{storage.RoleMember}, JoinedAt: durT0.Add(joined[org]),
		}))
	}
	ms := durListMemberships(t, s, "acme", "u1")
	var got []string
	for _, m := range ms {
		got = append(got, m.OrganizationID)
		if !m.JoinedAt.Equal(durT0.Add(joined[m.OrganizationID])) {
			t.Errorf("%s joined at %v, want %v", m.OrganizationID, m.JoinedAt, durT0.Add(joined[m.OrganizationID]))
		}
	}
	durSame(t, "organizations, oldest membership first", got, []string{"o2", "o1", "o3"})
}

func durTestMembershipDuplicate(t *testing.T, s storage.Store) {
	durMembers(t, s)
	m := storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleOwner}, JoinedAt: durT0}
	durMust(t, s.AddMembership(t.Context(), m))
	again := m
	again.Roles = []string{storage.RoleMember}
	again.JoinedAt = durT0.Add(time.Hour)
	durWantErr(t, "second membership", s.AddMembership(t.Context(), again), storage.ErrAlreadyExists)
	// Nothing of the refused membership was written.
	durSame(t, "memberships", durListMemberships(t, s, "acme", "u1"), []storage.Membership{m})
}

func durTestMembershipMissing(t *testing.T, s storage.Store) {
	durMembers(t, s)
	err := s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "ghost", Roles: []string{storage.RoleMember}, JoinedAt: durT0})
	durWantErr(t, "membership of a missing user", err, storage.ErrNotFound)
	err = s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "ghost", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0})
	durWantErr(t, "membership in a missing organization", err, storage.ErrNotFound)
	if ms := durListMemberships(t, s, "acme", "u1"); len(ms) != 0 {
		t.Errorf("refused memberships were written: %+v", ms)
	}
	if ms := durListMemberships(t, s, "acme", "ghost"); len(ms) != 0 {
		t.Errorf("memberships of a missing user: %+v", ms)
	}
}

func durTestMembershipTenantIsolation(t *testing.T, s storage.Store) {
	durMembers(t, s) // tenant acme
	durTenant(t, s, "other")
	durUser(t, s, "other", "u1", "u1@example.test")
	durOrg(t, s, "other", "theirs", "theirs")

	// acme's user in other's organization, and the reverse: neither exists
	// from the point of view of the tenant asked.
	err := s.AddMembership(t.Context(), storage.Membership{TenantID: "acme", OrganizationID: "theirs", UserID: "u1", JoinedAt: durT0})
	durWantErr(t, "membership in another tenant's organization", err, storage.ErrNotFound)
	err = s.AddMembership(t.Context(), storage.Membership{TenantID: "other", OrganizationID: "o1", UserID: "u1", JoinedAt: durT0})
	durWantErr(t, "membership in another tenant's organization", err, storage.ErrNotFound)

	mine := storage.Membership{TenantID: "acme", OrganizationID: "o1", UserID: "u1", Roles: []string{storage.RoleAdmin}, JoinedAt: durT0}
	durMust(t, s.AddMembership(t.Context(), mine))
	theirs := storage.Membership{TenantID: "other", OrganizationID: "theirs", UserID: "u1", Roles: []string{storage.RoleMember}, JoinedAt: durT0}
	durMust(t, s.AddMembership(t.Context(), theirs))
	durSame(t, "acme's u1", durListMemberships(t, s, "acme", "u1"), []storage.Membership{mine})
	durSame(t, "other's u1", durListMemberships(t, s, "other", "u1"), []storage.Membership{theirs})
}
