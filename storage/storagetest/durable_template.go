package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableTemplateTests = []durableTest{
	{"Permission/CreateList", durTestPermissionCreateList},
	{"Permission/Duplicate", durTestPermissionDuplicate},
	{"Permission/TenantIsolation", durTestPermissionTenantIsolation},
	{"Role/Template", durTestRoleTemplate},
	{"Role/Custom", durTestRoleCustom},
	{"Role/Builtin", durTestRoleBuiltin},
	{"Role/NameTaken", durTestRoleNameTaken},
	{"Role/NameRace", durTestRoleNameRace},
	{"Role/UnknownPermission", durTestRoleUnknownPermission},
	{"Role/MissingOrganization", durTestRoleMissingOrganization},
	{"Role/TenantIsolation", durTestRoleTenantIsolation},
}

func durListRoles(t *testing.T, s storage.Store, tenantID, orgID string) []storage.Role {
	t.Helper()
	rs, err := s.ListRoles(t.Context(), tenantID, orgID)
	durMust(t, err)
	return rs
}

func durListPermissions(t *testing.T, s storage.Store, tenantID string) []storage.Permission {
	t.Helper()
	ps, err := s.ListPermissions(t.Context(), tenantID)
	durMust(t, err)
	return ps
}

func durTestPermissionCreateList(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	var want []storage.Permission
	for i, name := range []string{"write:invoices", "read:invoices", "admin", "read:billing"} {
		p := storage.Permission{TenantID: "acme", Name: name, Description: "may " + name, CreatedAt: durT0.Add(time.Duration(i) * time.Minute)}
		durMust(t, s.CreatePermission(t.Context(), p))
		want = append(want, p)
	}
	// By name.
	want = []storage.Permission{want[2], want[3], want[1], want[0]}
	durSame(t, "permissions", durListPermissions(t, s, "acme"), want)

	bare := storage.Permission{TenantID: "acme", Name: "zzz", CreatedAt: durT0}
	durMust(t, s.CreatePermission(t.Context(), bare))
	got := durListPermissions(t, s, "acme")
	durSame(t, "permission without description", got[len(got)-1], bare)
}

func durTestPermissionDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	p := storage.Permission{TenantID: "acme", Name: "read:invoices", Description: "first", CreatedAt: durT0}
	durMust(t, s.CreatePermission(t.Context(), p))
	dup := storage.Permission{TenantID: "acme", Name: "read:invoices", Description: "second", CreatedAt: durT0.Add(time.Hour)}
	durWantErr(t, "second permission read:invoices", s.CreatePermission(t.Context(), dup), storage.ErrAlreadyExists)
	durSame(t, "permissions after refused duplicate", durListPermissions(t, s, "acme"), []storage.Permission{p})
}

func durTestPermissionTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	pa := storage.Permission{TenantID: "a", Name: "read:invoices", Description: "a's", CreatedAt: durT0}
	pb := storage.Permission{TenantID: "b", Name: "read:invoices", Description: "b's", CreatedAt: durT0}
	durMust(t, s.CreatePermission(t.Context(), pa))
	durMust(t, s.CreatePermission(t.Context(), pb))
	durMust(t, s.CreatePermission(t.Context(), storage.Permission{TenantID: "a", Name: "only-a", CreatedAt: durT0}))
	durSame(t, "b's permissions", durListPermissions(t, s, "b"), []storage.Permission{pb})
	if ps := durListPermissions(t, s, "nobody"); len(ps) != 0 {
		t.Errorf("permissions of a missing tenant: %+v", ps)
	}
}

// A template role reads back with its fields and its permissions sorted
// and without repeats; a role may grant nothing.
func durTestRoleTemplate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durRoleSetup(t, s, "acme") // p:a..p:d, template viewer (p:a, p:b)
	r := storage.Role{
		TenantID: "acme", ID: "r-editor", Name: "editor", Description: "edits things",
		Permissions: []string{"p:d", "p:a", "p:c", "p:a"}, CreatedAt: durT0.Add(time.Minute),
	}
	durMust(t, s.CreateRole(t.Context(), r))
	empty := storage.Role{TenantID: "acme", ID: "r-nobody", Name: "nobody", CreatedAt: durT0}
	durMust(t, s.CreateRole(t.Context(), empty))

	r.Permissions = []string{"p:a", "p:c", "p:d"}
	viewer := storage.Role{TenantID: "acme", ID: "viewer", Name: "viewer", Description: "sees", Permissions: []string{"p:a", "p:b"}, CreatedAt: durT0}
	want := []storage.Role{r, empty, viewer} // by name
	durSame(t, "template roles", durListRoles(t, s, "acme", ""), want)
	// An organization sees the template too (it has no custom roles).
	durOrg(t, s, "acme", "o1", "one")
	durSame(t, "roles of o1", durListRoles(t, s, "acme", "o1"), want)
	// So does an organization that does not exist: ListRoles does not check.
	durSame(t, "roles of a missing organization", durListRoles(t, s, "acme", "ghost"), want)
}

// Custom roles show only for their own organization, beside the template.
func durTestRoleCustom(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durRoleSetup(t, s, "acme", "o1", "o2") // viewer; auditor-o1, auditor-o2
	extra := storage.Role{TenantID: "acme", ID: "r-a", OrganizationID: "o1", Name: "accountant", Permissions: []string{"p:d"}, CreatedAt: durT0}
	durMust(t, s.CreateRole(t.Context(), extra))

	viewer := storage.Role{TenantID: "acme", ID: "viewer", Name: "viewer", Description: "sees", Permissions: []string{"p:a", "p:b"}, CreatedAt: durT0}
	auditor := func(org string) storage.Role {
		return storage.Role{TenantID: "acme", ID: "auditor-" + org, OrganizationID: org, Name: "auditor", Description: "audits " + org, Permissions: []string{"p:b", "p:c"}, CreatedAt: durT0}
	}
	durSame(t, "roles of o1", durListRoles(t, s, "acme", "o1"), []storage.Role{extra, auditor("o1"), viewer})
	durSame(t, "roles of o2", durListRoles(t, s, "acme", "o2"), []storage.Role{auditor("o2"), viewer})
	durSame(t, "template roles", durListRoles(t, s, "acme", ""), []storage.Role{viewer})
}

// The built-in template, as a tenant's set-up stores it, reads back as
// storage.BuiltinRoles says.
func durTestRoleBuiltin(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	for _, p := range storage.BuiltinPermissions {
		p.TenantID, p.CreatedAt = "acme", durT0
		durMust(t, s.CreatePermission(t.Context(), p))
	}
	var want []storage.Role
	for _, r := range storage.BuiltinRoles {
		r.TenantID, r.ID, r.CreatedAt = "acme", "builtin-"+r.Name, durT0
		durMust(t, s.CreateRole(t.Context(), r))
		want = append(want, r)
	}
	got := durListRoles(t, s, "acme", "")
	byName := map[string]storage.Role{}
	for _, r := range got {
		byName[r.Name] = r
	}
	if len(got) != len(want) {
		t.Errorf("%d template roles, want %d", len(got), len(want))
	}
	for _, r := range want {
		durSame(t, "built-in role "+r.Name, byName[r.Name], r)
	}
}

// Names are unique in the template and in each organization, and a custom
// role never shares a template role's name, whichever came first. A
// refused role writes nothing.
func durTestRoleNameTaken(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durRoleSetup(t, s, "acme", "o1") // template viewer; o1's auditor
	before := map[string][]storage.Role{"": durListRoles(t, s, "acme", ""), "o1": durListRoles(t, s, "acme", "o1"), "o2": durListRoles(t, s, "acme", "o2")}

	for _, c := range []struct {
		what string
		role storage.Role
	}{
		{"second template role viewer", storage.Role{ID: "x1", Name: "viewer"}},
		{"custom role named like the template role viewer", storage.Role{ID: "x2", OrganizationID: "o1", Name: "viewer"}},
		{"custom role viewer of another organization", storage.Role{ID: "x3", OrganizationID: "o2", Name: "viewer"}},
		{"second custom role auditor of o1", storage.Role{ID: "x4", OrganizationID: "o1", Name: "auditor"}},
		{"template role named like o1's custom role auditor", storage.Role{ID: "x5", Name: "auditor"}},
		{"role with a taken ID", storage.Role{ID: "viewer", Name: "fresh"}},
		{"custom role with a taken ID", storage.Role{ID: "auditor-o1", OrganizationID: "o2", Name: "fresh"}},
	} {
		r := c.role
		r.TenantID, r.Permissions, r.CreatedAt = "acme", []string{"p:a"}, durT0
		durWantErr(t, c.what, s.CreateRole(t.Context(), r), storage.ErrAlreadyExists)
	}
	for org, want := range before {
		durSame(t, "roles of "+org+" after refused creations", durListRoles(t, s, "acme", org), want)
	}

	// Another organization may have a custom role of the same name.
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "acme", ID: "auditor-o2", OrganizationID: "o2", Name: "auditor", CreatedAt: durT0}))
}

// Template roles and custom roles of one name created at once: exactly
// one of them is stored. A few rounds, each with a name of its own, give
// the losers' checks a fair chance to overlap the winner's insert.
func durTestRoleNameRace(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	for round := range 5 {
		name := fmt.Sprint("contested-", round)
		errs := durRace(func(i int) error {
			r := storage.Role{TenantID: "acme", ID: fmt.Sprint(name, "-", i), Name: name, CreatedAt: durT0}
			if i%2 == 1 {
				r.OrganizationID = "o1"
			}
			return s.CreateRole(t.Context(), r)
		})
		durOneWinner(t, errs, storage.ErrAlreadyExists)
		n := 0
		for _, r := range durListRoles(t, s, "acme", "o1") {
			if r.Name == name {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d roles named %s seen from o1, want 1", n, name)
		}
	}
}

func durTestRoleUnknownPermission(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durRoleSetup(t, s, "acme")
	for _, org := range []string{"", "o1"} {
		r := storage.Role{TenantID: "acme", ID: "r1", OrganizationID: org, Name: "writer", Permissions: []string{"p:a", "p:nope", "p:b"}, CreatedAt: durT0}
		durWantErr(t, "role with an unknown permission in "+org, s.CreateRole(t.Context(), r), storage.ErrNotFound)
	}
	durSame(t, "roles after refused creations", durRoleIDs(t, s, "acme", "o1"), []string{"viewer"})
	// Nothing was written: the ID and the name are free.
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "acme", ID: "r1", Name: "writer", Permissions: []string{"p:a"}, CreatedAt: durT0}))
	got := durListRoles(t, s, "acme", "")
	durSame(t, "roles", durRoleIDs(t, s, "acme", ""), []string{"viewer", "r1"})
	if len(got) == 2 {
		durSame(t, "permissions of the role made again", got[1].Permissions, []string{"p:a"})
	}
}

func durTestRoleMissingOrganization(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durOrg(t, s, "b", "theirs", "theirs")
	durRoleSetup(t, s, "a")
	for _, org := range []string{"ghost", "theirs"} {
		r := storage.Role{TenantID: "a", ID: "r-" + org, OrganizationID: org, Name: "custom", Permissions: []string{"p:a"}, CreatedAt: durT0}
		durWantErr(t, "custom role of missing organization "+org, s.CreateRole(t.Context(), r), storage.ErrNotFound)
		durSame(t, "roles of "+org, durRoleIDs(t, s, "a", org), []string{"viewer"})
	}
}

func durTestRoleTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durOrg(t, s, "a", "o1", "one")
	durOrg(t, s, "b", "o1", "one")
	durRoleSetup(t, s, "a", "o1")

	if rs := durListRoles(t, s, "b", "o1"); len(rs) != 0 {
		t.Errorf("b sees roles %+v, want none", rs)
	}
	// a's permissions do not exist in b; a's role names and IDs are free there.
	r := storage.Role{TenantID: "b", ID: "viewer", Name: "viewer", Permissions: []string{"p:a"}, CreatedAt: durT0}
	durWantErr(t, "role in b with a's permission", s.CreateRole(t.Context(), r), storage.ErrNotFound)
	durMust(t, s.CreatePermission(t.Context(), storage.Permission{TenantID: "b", Name: "p:a", CreatedAt: durT0}))
	durMust(t, s.CreateRole(t.Context(), r))
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "b", ID: "auditor-o1", OrganizationID: "o1", Name: "auditor", CreatedAt: durT0}))
	durSame(t, "b's roles of o1", durRoleIDs(t, s, "b", "o1"), []string{"auditor-o1", "viewer"})
	durSame(t, "a's roles of o1", durListRoles(t, s, "a", "o1"), []storage.Role{
		{TenantID: "a", ID: "auditor-o1", OrganizationID: "o1", Name: "auditor", Description: "audits o1", Permissions: []string{"p:b", "p:c"}, CreatedAt: durT0},
		{TenantID: "a", ID: "viewer", Name: "viewer", Description: "sees", Permissions: []string{"p:a", "p:b"}, CreatedAt: durT0},
	})
}
