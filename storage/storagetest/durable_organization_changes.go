package storagetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableOrganizationChangeTests = []durableTest{
	{"Organization/BySlug", durTestOrgBySlug},
	{"Organization/Update", durTestOrgUpdate},
	{"Organization/UpdateSlugTaken", durTestOrgUpdateSlugTaken},
	{"Organization/UpdateMissing", durTestOrgUpdateMissing},
	{"Organization/Delete", durTestOrgDelete},
	{"Organization/DeleteMissing", durTestOrgDeleteMissing},
	{"Organization/DeleteTenantIsolation", durTestOrgDeleteTenantIsolation},
	{"Organization/DeleteRacesCreateRole", durTestOrgDeleteRacesCreateRole},
	{"Organization/FormerSlug", durTestOrgFormerSlug},
	{"Organization/FormerSlugRefusedRename", durTestOrgFormerSlugRefusedRename},
}

// A slug given up leads to the organization that gave it up, through any
// number of renames; given up again by another organization, it leads
// there; it goes with its organization.
func durTestOrgFormerSlug(t *testing.T, s storage.Store) {
	ctx := t.Context()
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	o := durOrg(t, s, "acme", "o1", "first")
	durOrg(t, s, "other", "x1", "elsewhere")
	_, err := s.GetOrganizationByFormerSlug(ctx, "acme", "first")
	durWantErr(t, "former slug before any rename", err, storage.ErrNotFound)

	rename := func(o storage.Organization, slug string) storage.Organization {
		t.Helper()
		o.Slug = slug
		durMust(t, s.UpdateOrganization(ctx, o))
		return o
	}
	o = rename(o, "second")
	o = rename(o, "third")
	o = rename(o, "third") // unchanged: nothing given up
	for _, slug := range []string{"first", "second"} {
		got, err := s.GetOrganizationByFormerSlug(ctx, "acme", slug)
		durMust(t, err)
		durSame(t, "organization by former slug "+slug, got, o)
	}
	_, err = s.GetOrganizationByFormerSlug(ctx, "acme", "third")
	durWantErr(t, "former slug that is the current one", err, storage.ErrNotFound)
	_, err = s.GetOrganizationByFormerSlug(ctx, "other", "first")
	durWantErr(t, "former slug of another tenant", err, storage.ErrNotFound)

	// Another organization takes "first", then gives it up too.
	o2 := durOrg(t, s, "acme", "o2", "first")
	o2 = rename(o2, "fourth")
	got, err := s.GetOrganizationByFormerSlug(ctx, "acme", "first")
	durMust(t, err)
	durSame(t, "organization by a slug given up twice", got, o2)

	durMust(t, s.DeleteOrganization(ctx, "acme", "o1"))
	_, err = s.GetOrganizationByFormerSlug(ctx, "acme", "second")
	durWantErr(t, "former slug of a deleted organization", err, storage.ErrNotFound)
}

// A rename refused because the slug is taken remembers nothing.
func durTestOrgFormerSlugRefusedRename(t *testing.T, s storage.Store) {
	ctx := t.Context()
	durTenant(t, s, "acme")
	o := durOrg(t, s, "acme", "o1", "mine")
	durOrg(t, s, "acme", "o2", "taken")
	o.Slug = "taken"
	durWantErr(t, "rename to a taken slug", s.UpdateOrganization(ctx, o), storage.ErrAlreadyExists)
	_, err := s.GetOrganizationByFormerSlug(ctx, "acme", "mine")
	durWantErr(t, "former slug after a refused rename", err, storage.ErrNotFound)
}

func durGetOrg(t *testing.T, s storage.Store, tenantID, id string) storage.Organization {
	t.Helper()
	o, err := s.GetOrganization(t.Context(), tenantID, id)
	durMust(t, err)
	return o
}

func durTestOrgBySlug(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	want := durOrg(t, s, "a", "o1", "rocket")
	durOrg(t, s, "a", "o2", "other")
	theirs := durOrg(t, s, "b", "o9", "rocket")
	got, err := s.GetOrganizationBySlug(t.Context(), "a", "rocket")
	durMust(t, err)
	durSame(t, "a's rocket", got, want)
	got, err = s.GetOrganizationBySlug(t.Context(), "b", "rocket")
	durMust(t, err)
	durSame(t, "b's rocket", got, theirs)
	_, err = s.GetOrganizationBySlug(t.Context(), "a", "nope")
	durWantErr(t, "GetOrganizationBySlug(nope)", err, storage.ErrNotFound)
	_, err = s.GetOrganizationBySlug(t.Context(), "b", "other")
	durWantErr(t, "a's slug looked up in b", err, storage.ErrNotFound)
	_, err = s.GetOrganizationBySlug(t.Context(), "a", "o1")
	durWantErr(t, "an ID looked up as a slug", err, storage.ErrNotFound)
}

// UpdateOrganization replaces every field but ID, TenantID, ProviderID and
// CreatedAt.
func durTestOrgUpdate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	old := durOrg(t, s, "acme", "o1", "rocket")
	want := storage.Organization{
		TenantID:    "acme",
		ID:          "o1",
		Name:        "Rocket Science",
		Slug:        "rocket-science",
		Description: "now with more rockets",
		LogoURL:     "https://cdn.example.test/new.png",
		LogoDarkURL: "",
		CustomData:  json.RawMessage(`{"plan":"enterprise","limits":{"seats":100}}`),
		MFARequired: false,
		MFAPolicy:   "configured",
		ProviderID:  old.ProviderID,
		CreatedAt:   old.CreatedAt,
	}
	upd := want
	upd.ProviderID, upd.CreatedAt = "prov-stolen", durT0.Add(time.Hour) // not the store's to change
	durMust(t, s.UpdateOrganization(t.Context(), upd))
	durSame(t, "updated organization", durGetOrg(t, s, "acme", "o1"), want)

	got, err := s.GetOrganizationBySlug(t.Context(), "acme", "rocket-science")
	durMust(t, err)
	durSame(t, "organization by new slug", got, want)
	_, err = s.GetOrganizationBySlug(t.Context(), "acme", "rocket")
	durWantErr(t, "organization by old slug", err, storage.ErrNotFound)
	// The old slug is free again.
	durOrg(t, s, "acme", "o2", "rocket")

	// Empty custom data and MFA policy take their defaults, as on create.
	upd = want
	upd.CustomData, upd.MFAPolicy, upd.MFARequired = nil, "", true
	durMust(t, s.UpdateOrganization(t.Context(), upd))
	want.CustomData, want.MFARequired = json.RawMessage(`{}`), true
	durSame(t, "organization with defaults", durGetOrg(t, s, "acme", "o1"), want)
}

func durTestOrgUpdateSlugTaken(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durOrg(t, s, "acme", "o1", "rocket")
	o2 := durOrg(t, s, "acme", "o2", "jet")
	durOrg(t, s, "other", "x", "glider")

	upd := o2
	upd.Slug, upd.Name, upd.Description = "rocket", "Renamed", "changed"
	durWantErr(t, "UpdateOrganization to a taken slug", s.UpdateOrganization(t.Context(), upd), storage.ErrAlreadyExists)
	// Nothing of the refused update was written.
	durSame(t, "organization after refused update", durGetOrg(t, s, "acme", "o2"), o2)

	// A slug taken only in another tenant is free here.
	upd = o2
	upd.Slug = "glider"
	durMust(t, s.UpdateOrganization(t.Context(), upd))
	durSame(t, "organization with another tenant's slug", durGetOrg(t, s, "acme", "o2"), upd)
}

func durTestOrgUpdateMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	oa := durOrg(t, s, "a", "o1", "rocket")
	upd := oa
	upd.TenantID, upd.Name = "b", "Hijacked"
	durWantErr(t, "UpdateOrganization of a's organization in b", s.UpdateOrganization(t.Context(), upd), storage.ErrNotFound)
	durSame(t, "a's organization after an update in b", durGetOrg(t, s, "a", "o1"), oa)
	_, err := s.GetOrganization(t.Context(), "b", "o1")
	durWantErr(t, "organization the refused update would have made", err, storage.ErrNotFound)
}

// durRoleSetup gives tenant permissions p:a..p:d, the template role viewer
// (p:a, p:b), and for each of orgs a custom role auditor (p:b, p:c).
func durRoleSetup(t *testing.T, s storage.Store, tenantID string, orgs ...string) {
	t.Helper()
	for _, p := range []string{"p:a", "p:b", "p:c", "p:d"} {
		durMust(t, s.CreatePermission(t.Context(), storage.Permission{TenantID: tenantID, Name: p, Description: "perm " + p, CreatedAt: durT0}))
	}
	durMust(t, s.CreateRole(t.Context(), storage.Role{
		TenantID: tenantID, ID: "viewer", Name: "viewer", Description: "sees", Permissions: []string{"p:b", "p:a"}, CreatedAt: durT0,
	}))
	for _, o := range orgs {
		durMust(t, s.CreateRole(t.Context(), storage.Role{
			TenantID: tenantID, ID: "auditor-" + o, OrganizationID: o, Name: "auditor", Description: "audits " + o,
			Permissions: []string{"p:c", "p:b"}, CreatedAt: durT0,
		}))
	}
}

// durRoleIDs lists the IDs of ListRoles(tenantID, orgID), in its order.
func durRoleIDs(t *testing.T, s storage.Store, tenantID, orgID string) []string {
	t.Helper()
	rs, err := s.ListRoles(t.Context(), tenantID, orgID)
	durMust(t, err)
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

// DeleteOrganization takes its memberships (with roles) and its custom
// roles along, and leaves users, template roles and other organizations.
func durTestOrgDelete(t *testing.T, s storage.Store) {
	durMembers(t, s) // acme: u1, u2; o1, o2, o3
	durRoleSetup(t, s, "acme", "o1", "o2")
	for _, m := range []storage.Membership{
		{OrganizationID: "o1", UserID: "u1", Roles: []string{"viewer", "auditor"}},
		{OrganizationID: "o1", UserID: "u2", Roles: []string{storage.RoleOwner}},
		{OrganizationID: "o2", UserID: "u1", Roles: []string{"auditor"}},
	} {
		m.TenantID, m.JoinedAt = "acme", durT0
		durMust(t, s.AddMembership(t.Context(), m))
	}

	durMust(t, s.DeleteOrganization(t.Context(), "acme", "o1"))

	_, err := s.GetOrganization(t.Context(), "acme", "o1")
	durWantErr(t, "deleted organization", err, storage.ErrNotFound)
	_, err = s.GetOrganizationBySlug(t.Context(), "acme", "slug-o1")
	durWantErr(t, "deleted organization by slug", err, storage.ErrNotFound)
	for _, u := range []string{"u1", "u2"} {
		_, err = s.GetMembership(t.Context(), "acme", "o1", u)
		durWantErr(t, "membership of "+u+" in the deleted organization", err, storage.ErrNotFound)
		_, err = s.GetMemberAccess(t.Context(), "acme", "o1", u)
		durWantErr(t, "access of "+u+" to the deleted organization", err, storage.ErrNotFound)
		durGetUser(t, s, "acme", u) // users stay
	}
	ms, next, err := s.ListMembers(t.Context(), "acme", "o1", storage.Page{})
	durMust(t, err)
	if len(ms) != 0 || next != "" {
		t.Errorf("members of the deleted organization: %+v %q", ms, next)
	}
	if ms := durListMemberships(t, s, "acme", "u2"); len(ms) != 0 {
		t.Errorf("u2's memberships: %+v, want none", ms)
	}
	n, err := s.CountMembersWithRole(t.Context(), "acme", "o1", storage.RoleOwner)
	durMust(t, err)
	if n != 0 {
		t.Errorf("owners of the deleted organization: %d", n)
	}

	// Its custom role is gone, the template's and o2's stay.
	durSame(t, "roles seen from o1", durRoleIDs(t, s, "acme", "o1"), []string{"viewer"})
	durSame(t, "roles seen from o2", durRoleIDs(t, s, "acme", "o2"), []string{"auditor-o2", "viewer"})
	orgs, err := s.ListUserOrganizations(t.Context(), "acme", "u1")
	durMust(t, err)
	durSame(t, "u1's organizations", orgs, []storage.UserOrganization{{ID: "o2", Name: "Org o2", Slug: "slug-o2", Roles: []string{"auditor"}}})
	a, err := s.GetMemberAccess(t.Context(), "acme", "o2", "u1")
	durMust(t, err)
	durSame(t, "u1's permissions in o2", a.Permissions, []string{"p:b", "p:c"})

	// An organization made again under the same ID starts empty: the
	// custom role was deleted, not hidden, so its ID and name are free.
	durOrg(t, s, "acme", "o1", "slug-o1")
	durSame(t, "roles of the new o1", durRoleIDs(t, s, "acme", "o1"), []string{"viewer"})
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "acme", ID: "auditor-o1", OrganizationID: "o1", Name: "auditor", CreatedAt: durT0}))
	if _, err := s.GetMembership(t.Context(), "acme", "o1", "u1"); err == nil {
		t.Error("the new o1 has the old o1's member u1")
	}
}

func durTestOrgDeleteMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durRoleSetup(t, s, "acme")
	durWantErr(t, "DeleteOrganization(ghost)", s.DeleteOrganization(t.Context(), "acme", "ghost"), storage.ErrNotFound)
	// The template is no organization: "" deletes nothing.
	durWantErr(t, `DeleteOrganization("")`, s.DeleteOrganization(t.Context(), "acme", ""), storage.ErrNotFound)
	durSame(t, "template roles", durRoleIDs(t, s, "acme", ""), []string{"viewer"})
	durOrg(t, s, "acme", "o1", "one")
	durMust(t, s.DeleteOrganization(t.Context(), "acme", "o1"))
	durWantErr(t, "second DeleteOrganization(o1)", s.DeleteOrganization(t.Context(), "acme", "o1"), storage.ErrNotFound)
}

func durTestOrgDeleteTenantIsolation(t *testing.T, s storage.Store) {
	for _, tn := range []string{"a", "b"} {
		durTenant(t, s, tn)
		durUser(t, s, tn, "u1", "alice@example.test")
		durOrg(t, s, tn, "o1", "one")
		durRoleSetup(t, s, tn, "o1")
		durMust(t, s.AddMembership(t.Context(), storage.Membership{TenantID: tn, OrganizationID: "o1", UserID: "u1", Roles: []string{"auditor"}, JoinedAt: durT0}))
	}
	durOrg(t, s, "a", "only-a", "solo")
	durWantErr(t, "DeleteOrganization of a's organization in b", s.DeleteOrganization(t.Context(), "b", "only-a"), storage.ErrNotFound)

	durMust(t, s.DeleteOrganization(t.Context(), "b", "o1"))
	durGetOrg(t, s, "a", "o1")
	durGetOrg(t, s, "a", "only-a")
	durSame(t, "a's roles of o1", durRoleIDs(t, s, "a", "o1"), []string{"auditor-o1", "viewer"})
	a, err := s.GetMemberAccess(t.Context(), "a", "o1", "u1")
	durMust(t, err)
	durSame(t, "a's u1 access", a.Permissions, []string{"p:b", "p:c"})
}

// Custom roles created while their organization is deleted either fail
// (ErrNotFound) or are deleted with it: none outlives it.
func durTestOrgDeleteRacesCreateRole(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	for round := range 5 {
		durOrg(t, s, "acme", "o1", "one")
		errs := durRace(func(i int) error {
			if i == durRacers/2 {
				return s.DeleteOrganization(t.Context(), "acme", "o1")
			}
			return s.CreateRole(t.Context(), storage.Role{
				TenantID: "acme", ID: fmt.Sprintf("r%d-%d", round, i), OrganizationID: "o1", Name: fmt.Sprint("role-", i), CreatedAt: durT0,
			})
		})
		for i, err := range errs {
			switch {
			case i == durRacers/2:
				durMust(t, err)
			case err != nil && !errors.Is(err, storage.ErrNotFound):
				t.Errorf("CreateRole racing DeleteOrganization: %v, want success or ErrNotFound", err)
			}
		}
		if rs := durListRoles(t, s, "acme", "o1"); len(rs) != 0 {
			t.Fatalf("round %d: custom roles outlived their organization: %+v", round, rs)
		}
	}
}
