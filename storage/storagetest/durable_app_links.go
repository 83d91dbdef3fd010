package storagetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// m2m applications linked to organizations with roles (DESIGN §3,
// organization token way 4), the applications an organization owns, and
// application secrets and key sets.
var durableAppLinkTests = slices.Concat([]durableTest{
	{"AppLink/LinkList", durTestLinkList},
	{"AppLink/Pages", durTestLinkPages},
	{"AppLink/Duplicate", durTestLinkDuplicate},
	{"AppLink/Missing", durTestLinkMissing},
	{"AppLink/SetRoles", durTestLinkSetRoles},
	{"AppLink/SetRolesNotLinked", durTestLinkSetRolesNotLinked},
	{"AppLink/SetRolesConcurrent", durTestLinkSetRolesConcurrent},
	{"AppLink/Unlink", durTestLinkUnlink},
	{"AppLink/Access", durTestLinkAccess},
	{"AppLink/AccessNotFound", durTestLinkAccessNotFound},
	{"AppLink/DeleteApplication", durTestLinkDeleteApp},
	{"AppLink/DeleteOrganization", durTestLinkDeleteOrg},
	{"AppLink/TenantIsolation", durTestLinkTenantIsolation},
	{"Application/SetSecret", durTestAppSetSecret},
	{"Application/JWKS", durTestAppJWKS},
	{"Application/ListOrganization", durTestAppListOrg},
},
	durPagedList[storage.Application]{
		name: "OrganizationApplications",
		setup: func(t *testing.T, s storage.Store, tenant string) {
			// Another organization's and a tenant-wide application are
			// not listed.
			durM2M(t, s, tenant, "elsewhere", "o2", durT0)
			durM2M(t, s, tenant, "tenant-wide", "", durT0)
		},
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			durM2M(t, s, tenant, id, "o1", at)
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.Application, string, error) {
			return s.ListOrganizationApplications(t.Context(), tenant, "o1", p)
		},
		key: func(a storage.Application) string { return a.ClientID },
	}.tests(),
	durPagedList[storage.ApplicationLink]{
		name: "ApplicationLinks",
		setup: func(t *testing.T, s storage.Store, tenant string) {
			durOrg(t, s, tenant, "o1", "o1")
			durOrg(t, s, tenant, "o2", "o2")
			// A link to another organization is not listed.
			durM2M(t, s, tenant, "elsewhere", "", durT0)
			durMust(t, s.LinkApplication(t.Context(), storage.ApplicationLink{TenantID: tenant, OrganizationID: "o2", ClientID: "elsewhere", CreatedAt: durT0}))
		},
		add: func(t *testing.T, s storage.Store, tenant, id string, at time.Time) {
			durM2M(t, s, tenant, id, "", durT0)
			durMust(t, s.LinkApplication(t.Context(), storage.ApplicationLink{
				TenantID: tenant, OrganizationID: "o1", ClientID: id, Roles: []string{storage.RoleMember, storage.RoleAdmin}, CreatedAt: at,
			}))
		},
		list: func(t *testing.T, s storage.Store, tenant string, p storage.Page) ([]storage.ApplicationLink, string, error) {
			return s.ListApplicationLinks(t.Context(), tenant, "o1", p)
		},
		key: func(l storage.ApplicationLink) string { return l.ClientID },
	}.tests(),
)

// durM2M stores an m2m application owned by owner ("" for tenant-wide).
func durM2M(t *testing.T, s storage.Store, tenantID, clientID, owner string, created time.Time) storage.Application {
	t.Helper()
	a := storage.Application{
		TenantID: tenantID, ClientID: clientID, Name: "M2M " + clientID, Type: storage.AppM2M,
		SecretHash: bytes.Repeat([]byte{0xcd}, 32), OrganizationID: owner, CreatedAt: created,
	}
	durMust(t, s.CreateApplication(t.Context(), a))
	return a
}

// durLinks sets up tenant acme with organizations o1, o2, o3 and m2m
// applications m1, m2, m3 (tenant-wide).
func durLinks(t *testing.T, s storage.Store) {
	t.Helper()
	durTenant(t, s, "acme")
	for _, id := range []string{"o1", "o2", "o3"} {
		durOrg(t, s, "acme", id, "slug-"+id)
	}
	for _, id := range []string{"m1", "m2", "m3"} {
		durM2M(t, s, "acme", id, "", durT0)
	}
}

func durLink(t *testing.T, s storage.Store, tenantID, orgID, clientID string, at time.Time, roles ...string) storage.ApplicationLink {
	t.Helper()
	l := storage.ApplicationLink{TenantID: tenantID, OrganizationID: orgID, ClientID: clientID, Roles: roles, CreatedAt: at}
	durMust(t, s.LinkApplication(t.Context(), l))
	return l
}

func durListLinks(t *testing.T, s storage.Store, tenantID, orgID string) []storage.ApplicationLink {
	t.Helper()
	ls, next, err := s.ListApplicationLinks(t.Context(), tenantID, orgID, storage.Page{})
	durMust(t, err)
	if next != "" {
		t.Errorf("ListApplicationLinks(%s): next %q after the only page", orgID, next)
	}
	return ls
}

func durAccess(t *testing.T, s storage.Store, tenantID, orgID, clientID string) storage.ApplicationAccess {
	t.Helper()
	a, err := s.GetApplicationAccess(t.Context(), tenantID, orgID, clientID)
	durMust(t, err)
	return a
}

// Links list oldest first (ties by client ID), each with its roles sorted
// and without repeats, and only the organization's own.
func durTestLinkList(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durLink(t, s, "acme", "o1", "m3", durT0.Add(time.Hour), storage.RoleAdmin)
	durLink(t, s, "acme", "o1", "m1", durT0.Add(time.Hour), "viewer", storage.RoleMember, "viewer")
	durLink(t, s, "acme", "o1", "m2", durT0)
	durLink(t, s, "acme", "o2", "m1", durT0, storage.RoleOwner)

	durSame(t, "links of o1", durListLinks(t, s, "acme", "o1"), []storage.ApplicationLink{
		{TenantID: "acme", OrganizationID: "o1", ClientID: "m2", CreatedAt: durT0},
		{TenantID: "acme", OrganizationID: "o1", ClientID: "m1", Roles: []string{storage.RoleMember, "viewer"}, CreatedAt: durT0.Add(time.Hour)},
		{TenantID: "acme", OrganizationID: "o1", ClientID: "m3", Roles: []string{storage.RoleAdmin}, CreatedAt: durT0.Add(time.Hour)},
	})
	durSame(t, "links of o2", durListLinks(t, s, "acme", "o2"), []storage.ApplicationLink{
		{TenantID: "acme", OrganizationID: "o2", ClientID: "m1", Roles: []string{storage.RoleOwner}, CreatedAt: durT0},
	})
	for _, org := range []string{"o3", "ghost", ""} {
		if ls := durListLinks(t, s, "acme", org); len(ls) != 0 {
			t.Errorf("links of %q: %+v, want none", org, ls)
		}
	}
}

// Three pages of one link each: a page boundary falls between links, never
// among one link's roles.
func durTestLinkPages(t *testing.T, s storage.Store) {
	durLinks(t, s)
	for i, id := range []string{"m1", "m2", "m3"} {
		durLink(t, s, "acme", "o1", id, durT0.Add(time.Duration(i)*time.Minute), "r1", "r2", "r3")
	}
	var (
		got  []string
		next string
	)
	for page := 1; ; page++ {
		ls, n, err := s.ListApplicationLinks(t.Context(), "acme", "o1", storage.Page{Size: 1, After: next})
		durMust(t, err)
		if len(ls) != 1 || len(ls[0].Roles) != 3 {
			t.Fatalf("page %d: %+v, want one link with its three roles", page, ls)
		}
		got = append(got, ls[0].ClientID)
		if next = n; next == "" {
			break
		}
		if page == 3 {
			t.Fatalf("a fourth page after %v", got)
		}
	}
	durSame(t, "links across pages", got, []string{"m1", "m2", "m3"})
}

// Linking twice is ErrAlreadyExists and changes nothing.
func durTestLinkDuplicate(t *testing.T, s storage.Store) {
	durLinks(t, s)
	want := durLink(t, s, "acme", "o1", "m1", durT0, storage.RoleAdmin)
	err := s.LinkApplication(t.Context(), storage.ApplicationLink{
		TenantID: "acme", OrganizationID: "o1", ClientID: "m1", Roles: []string{storage.RoleOwner}, CreatedAt: durT0.Add(time.Hour),
	})
	durWantErr(t, "second LinkApplication(o1, m1)", err, storage.ErrAlreadyExists)
	durSame(t, "link after refused duplicate", durListLinks(t, s, "acme", "o1"), []storage.ApplicationLink{want})
}

// A missing application or organization is ErrNotFound, and nothing is
// written.
func durTestLinkMissing(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durTenant(t, s, "other")
	durOrg(t, s, "other", "theirs", "theirs")
	for _, c := range []struct{ tenant, org, client, what string }{
		{"acme", "o1", "ghost", "missing application"},
		{"acme", "ghost", "m1", "missing organization"},
		{"acme", "", "m1", "empty organization ID"},
		{"acme", "theirs", "m1", "another tenant's organization"},
		{"other", "theirs", "m1", "another tenant's application"},
	} {
		err := s.LinkApplication(t.Context(), storage.ApplicationLink{
			TenantID: c.tenant, OrganizationID: c.org, ClientID: c.client, Roles: []string{storage.RoleMember}, CreatedAt: durT0,
		})
		durWantErr(t, "LinkApplication: "+c.what, err, storage.ErrNotFound)
	}
	for _, c := range [][2]string{{"acme", "o1"}, {"acme", "ghost"}, {"other", "theirs"}} {
		if ls := durListLinks(t, s, c[0], c[1]); len(ls) != 0 {
			t.Errorf("links of %s/%s after refused links: %+v", c[0], c[1], ls)
		}
	}
}

func durTestLinkSetRoles(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durLink(t, s, "acme", "o1", "m1", durT0, storage.RoleOwner, storage.RoleMember)
	durLink(t, s, "acme", "o2", "m1", durT0, storage.RoleOwner)
	durLink(t, s, "acme", "o1", "m2", durT0, storage.RoleOwner)

	// Replaced, not merged; repeats collapse; the link time stays.
	durMust(t, s.SetApplicationLinkRoles(t.Context(), "acme", "o1", "m1", []string{"auditor", storage.RoleAdmin, "auditor"}))
	durSame(t, "links of o1", durListLinks(t, s, "acme", "o1"), []storage.ApplicationLink{
		{TenantID: "acme", OrganizationID: "o1", ClientID: "m1", Roles: []string{storage.RoleAdmin, "auditor"}, CreatedAt: durT0},
		{TenantID: "acme", OrganizationID: "o1", ClientID: "m2", Roles: []string{storage.RoleOwner}, CreatedAt: durT0},
	})
	// The application's other link is untouched.
	durSame(t, "m1 in o2", durAccess(t, s, "acme", "o2", "m1").Roles, []string{storage.RoleOwner})

	// No roles at all is a link still.
	durMust(t, s.SetApplicationLinkRoles(t.Context(), "acme", "o1", "m1", nil))
	if a := durAccess(t, s, "acme", "o1", "m1"); len(a.Roles) != 0 {
		t.Errorf("roles after SetApplicationLinkRoles(nil) = %v, want none", a.Roles)
	}
	durMust(t, s.SetApplicationLinkRoles(t.Context(), "acme", "o1", "m1", []string{storage.RoleMember}))
	durSame(t, "roles after none", durAccess(t, s, "acme", "o1", "m1").Roles, []string{storage.RoleMember})
}

func durTestLinkSetRolesNotLinked(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durLink(t, s, "acme", "o2", "m1", durT0, storage.RoleMember)
	for _, c := range [][2]string{{"o1", "m1"}, {"ghost", "m1"}, {"o1", "ghost"}, {"", "m1"}} {
		err := s.SetApplicationLinkRoles(t.Context(), "acme", c[0], c[1], []string{storage.RoleOwner})
		durWantErr(t, fmt.Sprintf("SetApplicationLinkRoles(%s, %s)", c[0], c[1]), err, storage.ErrNotFound)
	}
	// Nothing was written: no link, no stray role.
	if ls := durListLinks(t, s, "acme", "o1"); len(ls) != 0 {
		t.Errorf("links of o1 after refused SetApplicationLinkRoles: %+v", ls)
	}
	_, err := s.GetApplicationAccess(t.Context(), "acme", "o1", "m1")
	durWantErr(t, "access after refused SetApplicationLinkRoles", err, storage.ErrNotFound)
	durSame(t, "m1 in o2", durAccess(t, s, "acme", "o2", "m1").Roles, []string{storage.RoleMember})
}

// Concurrent replacements of one link's roles: each succeeds, and the
// roles end up as exactly one of them, never a mix.
func durTestLinkSetRolesConcurrent(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durLink(t, s, "acme", "o1", "m1", durT0, storage.RoleOwner)
	sets := make([][]string, durRacers)
	for i := range sets {
		sets[i] = []string{"common", fmt.Sprintf("role-%d", i)}
	}
	for i, err := range durRace(func(i int) error {
		return s.SetApplicationLinkRoles(t.Context(), "acme", "o1", "m1", sets[i])
	}) {
		if err != nil {
			t.Errorf("racer %d: %v", i, err)
		}
	}
	got := durAccess(t, s, "acme", "o1", "m1").Roles
	if !slices.ContainsFunc(sets, func(set []string) bool { return slices.Equal(set, got) }) {
		t.Errorf("roles after concurrent replacements: %v, want exactly one racer's set", got)
	}
}

func durTestLinkUnlink(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durLink(t, s, "acme", "o1", "m1", durT0, storage.RoleOwner, storage.RoleAdmin)
	durLink(t, s, "acme", "o2", "m1", durT0, storage.RoleMember)
	m2 := durLink(t, s, "acme", "o1", "m2", durT0, storage.RoleMember)

	durMust(t, s.UnlinkApplication(t.Context(), "acme", "o1", "m1"))
	_, err := s.GetApplicationAccess(t.Context(), "acme", "o1", "m1")
	durWantErr(t, "access after unlink", err, storage.ErrNotFound)
	durSame(t, "links of o1 after unlink", durListLinks(t, s, "acme", "o1"), []storage.ApplicationLink{m2})
	durWantErr(t, "second UnlinkApplication", s.UnlinkApplication(t.Context(), "acme", "o1", "m1"), storage.ErrNotFound)
	for _, c := range [][2]string{{"o3", "m1"}, {"ghost", "m1"}, {"o1", "ghost"}, {"", "m1"}} {
		err := s.UnlinkApplication(t.Context(), "acme", c[0], c[1])
		durWantErr(t, fmt.Sprintf("UnlinkApplication(%s, %s)", c[0], c[1]), err, storage.ErrNotFound)
	}
	// The application, the organization and the other links stay.
	if _, err := s.GetApplication(t.Context(), "acme", "m1"); err != nil {
		t.Errorf("application after unlink: %v", err)
	}
	durGetOrg(t, s, "acme", "o1")
	durSame(t, "m1 in o2", durAccess(t, s, "acme", "o2", "m1").Roles, []string{storage.RoleMember})

	// Linking again starts afresh: the old roles do not come back.
	again := durLink(t, s, "acme", "o1", "m1", durT0.Add(time.Hour), storage.RoleMember)
	durSame(t, "links after relinking", durListLinks(t, s, "acme", "o1"), []storage.ApplicationLink{m2, again})
}

// GetApplicationAccess: the application, the organization, the link's
// roles, and the union of the permissions their template and custom roles
// grant — not those of another organization's custom role of the same
// name.
func durTestLinkAccess(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durRoleSetup(t, s, "acme", "o1")
	// o2's auditor grants p:d; it must not leak into o1.
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "acme", ID: "auditor-o2", OrganizationID: "o2", Name: "auditor", Permissions: []string{"p:d"}, CreatedAt: durT0}))
	durMust(t, s.CreateRole(t.Context(), storage.Role{TenantID: "acme", ID: "empty", Name: "empty", CreatedAt: durT0}))
	// "retired" names no role: it is held and grants nothing.
	durLink(t, s, "acme", "o1", "m1", durT0, "viewer", "auditor", "empty", "retired")
	durLink(t, s, "acme", "o1", "m2", durT0)
	durLink(t, s, "acme", "o2", "m1", durT0, "auditor", "viewer")
	m1, err := s.GetApplication(t.Context(), "acme", "m1")
	durMust(t, err)
	o1 := durGetOrg(t, s, "acme", "o1")

	durSame(t, "m1's access to o1", durAccess(t, s, "acme", "o1", "m1"), storage.ApplicationAccess{
		Application:  m1,
		Organization: o1,
		Roles:        []string{"auditor", "empty", "retired", "viewer"},
		Permissions:  []string{"p:a", "p:b", "p:c"}, // p:b from both roles, once
	})
	durSame(t, "m1's access to o2", durAccess(t, s, "acme", "o2", "m1"), storage.ApplicationAccess{
		Application:  m1,
		Organization: durGetOrg(t, s, "acme", "o2"),
		Roles:        []string{"auditor", "viewer"},
		Permissions:  []string{"p:a", "p:b", "p:d"},
	})

	// A link without roles: the application and the organization, nothing
	// else.
	m2, err := s.GetApplication(t.Context(), "acme", "m2")
	durMust(t, err)
	a := durAccess(t, s, "acme", "o1", "m2")
	durSame(t, "m2's access to o1", a, storage.ApplicationAccess{Application: m2, Organization: o1})
	if len(a.Roles) != 0 || len(a.Permissions) != 0 {
		t.Errorf("link without roles: roles %v, permissions %v", a.Roles, a.Permissions)
	}

	// Changes of roles, of a role's permissions and of the secret show at
	// once.
	durMust(t, s.SetApplicationLinkRoles(t.Context(), "acme", "o1", "m2", []string{"auditor"}))
	durSame(t, "m2's permissions after SetApplicationLinkRoles", durAccess(t, s, "acme", "o1", "m2").Permissions, []string{"p:b", "p:c"})
	durMust(t, s.SetApplicationSecret(t.Context(), "acme", "m2", []byte("new secret hash")))
	durSame(t, "secret seen by GetApplicationAccess", durAccess(t, s, "acme", "o1", "m2").Application.SecretHash, []byte("new secret hash"))
}

// A missing organization, a missing application and a missing link are all
// ErrNotFound, so that a caller cannot tell them apart.
func durTestLinkAccessNotFound(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durRoleSetup(t, s, "acme", "o1")
	durLink(t, s, "acme", "o1", "m1", durT0, "viewer")
	durTenant(t, s, "other")
	durOrg(t, s, "other", "o1", "o1")
	durM2M(t, s, "other", "m1", "", durT0)
	for _, c := range []struct{ tenant, org, client, what string }{
		{"acme", "ghost", "m1", "missing organization"},
		{"acme", "o1", "ghost", "missing application"},
		{"acme", "o2", "m1", "not linked"},
		{"acme", "o1", "m2", "another application, not linked"},
		{"other", "o1", "m1", "another tenant, same IDs, not linked there"},
		{"missing", "o1", "m1", "missing tenant"},
		{"acme", "", "m1", "the template's empty organization ID"},
	} {
		_, err := s.GetApplicationAccess(t.Context(), c.tenant, c.org, c.client)
		durWantErr(t, "GetApplicationAccess: "+c.what, err, storage.ErrNotFound)
	}
}

// DeleteApplication takes its links (and their roles) along: its
// organizations list it no more, and a new application of the same ID is
// linked nowhere.
func durTestLinkDeleteApp(t *testing.T, s storage.Store) {
	durLinks(t, s)
	durLink(t, s, "acme", "o1", "m1", durT0, storage.RoleAdmin)
	durLink(t, s, "acme", "o2", "m1", durT0, storage.RoleOwner)
	m2 := durLink(t, s, "acme", "o1", "m2", durT0, storage.RoleMember)

	durMust(t, s.DeleteApplication(t.Context(), "acme", "m1"))
	durSame(t, "links of o1", durListLinks(t, s, "acme", "o1"), []storage.ApplicationLink{m2})
	if ls := durListLinks(t, s, "acme", "o2"); len(ls) != 0 {
		t.Errorf("links of o2 after its only application was deleted: %+v", ls)
	}
	durM2M(t, s, "acme", "m1", "", durT0)
	for _, org := range []string{"o1", "o2"} {
		_, err := s.GetApplicationAccess(t.Context(), "acme", org, "m1")
		durWantErr(t, "access of a new m1 to "+org, err, storage.ErrNotFound)
	}
	// Linking the new one starts afresh.
	again := durLink(t, s, "acme", "o2", "m1", durT0.Add(time.Hour))
	durSame(t, "links of o2 after relinking", durListLinks(t, s, "acme", "o2"), []storage.ApplicationLink{again})
}

// DeleteOrganization takes its links along, and the applications it owns
// with their refresh tokens and their links to other organizations;
// tenant-wide applications and other organizations' stay.
func durTestLinkDeleteOrg(t *testing.T, s storage.Store) {
	durLinks(t, s) // m1, m2, m3 tenant-wide
	own := durM2M(t, s, "acme", "own", "o1", durT0)
	web := storage.Application{TenantID: "acme", ClientID: "own-web", Name: "Own web", Type: storage.AppWeb,
		RedirectURIs: []string{"https://o1.example.test/cb"}, OrganizationID: "o1", CreatedAt: durT0}
	durMust(t, s.CreateApplication(t.Context(), web))
	theirs := durM2M(t, s, "acme", "theirs", "o2", durT0)
	durUserToken(t, s, "acme", "g-own", "u1", "own-web")
	durUserToken(t, s, "acme", "g-m1", "u1", "m1")
	durUserToken(t, s, "acme", "g-theirs", "u1", "theirs")
	durLink(t, s, "acme", "o1", "m1", durT0, storage.RoleAdmin)
	durLink(t, s, "acme", "o1", "own", durT0, storage.RoleAdmin)
	durLink(t, s, "acme", "o2", "own", durT0, storage.RoleMember)
	m1o2 := durLink(t, s, "acme", "o2", "m1", durT0, storage.RoleOwner)
	theirsO2 := durLink(t, s, "acme", "o2", "theirs", durT0.Add(time.Hour))

	durMust(t, s.DeleteOrganization(t.Context(), "acme", "o1"))

	for _, id := range []string{own.ClientID, web.ClientID} {
		_, err := s.GetApplication(t.Context(), "acme", id)
		durWantErr(t, "application "+id+" of the deleted organization", err, storage.ErrNotFound)
	}
	durNoToken(t, s, "acme", "g-own")
	durGetToken(t, s, "acme", "g-m1")
	durGetToken(t, s, "acme", "g-theirs")
	durSame(t, "links of o2", durListLinks(t, s, "acme", "o2"), []storage.ApplicationLink{m1o2, theirsO2})
	apps, _, err := s.ListApplications(t.Context(), "acme", storage.Page{})
	durMust(t, err)
	var ids []string
	for _, a := range apps {
		ids = append(ids, a.ClientID)
	}
	durSame(t, "applications left", ids, []string{"m1", "m2", "m3", "theirs"})
	owned, _, err := s.ListOrganizationApplications(t.Context(), "acme", "o2", storage.Page{})
	durMust(t, err)
	durSame(t, "o2's applications", owned, []storage.Application{theirs})

	// A new o1 has no links and owns nothing.
	durOrg(t, s, "acme", "o1", "slug-o1")
	if ls := durListLinks(t, s, "acme", "o1"); len(ls) != 0 {
		t.Errorf("links of a new o1: %+v", ls)
	}
	_, err = s.GetApplicationAccess(t.Context(), "acme", "o1", "m1")
	durWantErr(t, "m1's access to a new o1", err, storage.ErrNotFound)
	owned, _, err = s.ListOrganizationApplications(t.Context(), "acme", "o1", storage.Page{})
	durMust(t, err)
	if len(owned) != 0 {
		t.Errorf("applications of a new o1: %+v", owned)
	}
	// The client IDs are free again.
	durM2M(t, s, "acme", "own", "o1", durT0)
}

func durTestLinkTenantIsolation(t *testing.T, s storage.Store) {
	// The same IDs in two tenants; only a has the viewer role.
	for _, tn := range []string{"a", "b"} {
		durTenant(t, s, tn)
		durOrg(t, s, tn, "o1", "one")
		durM2M(t, s, tn, "m1", "", durT0)
		durLink(t, s, tn, "o1", "m1", durT0, "viewer", storage.RoleOwner)
	}
	durRoleSetup(t, s, "a")
	durM2M(t, s, "a", "only-a", "", durT0)
	durLink(t, s, "a", "o1", "only-a", durT0)

	// a's template grants nothing in b.
	durSame(t, "b's m1 permissions", durAccess(t, s, "b", "o1", "m1").Permissions, []string(nil))
	durSame(t, "a's m1 permissions", durAccess(t, s, "a", "o1", "m1").Permissions, []string{"p:a", "p:b"})
	_, err := s.GetApplicationAccess(t.Context(), "b", "o1", "only-a")
	durWantErr(t, "GetApplicationAccess of a's link in b", err, storage.ErrNotFound)

	// Changes in b leave a alone.
	durMust(t, s.SetApplicationLinkRoles(t.Context(), "b", "o1", "m1", []string{storage.RoleMember}))
	durSame(t, "a's m1 roles", durAccess(t, s, "a", "o1", "m1").Roles, []string{storage.RoleOwner, "viewer"})
	durWantErr(t, "SetApplicationLinkRoles of a's link in b", s.SetApplicationLinkRoles(t.Context(), "b", "o1", "only-a", nil), storage.ErrNotFound)
	durWantErr(t, "UnlinkApplication of a's link in b", s.UnlinkApplication(t.Context(), "b", "o1", "only-a"), storage.ErrNotFound)
	durWantErr(t, "SetApplicationSecret of a's application in b", s.SetApplicationSecret(t.Context(), "b", "only-a", nil), storage.ErrNotFound)
	durMust(t, s.UnlinkApplication(t.Context(), "b", "o1", "m1"))
	durAccess(t, s, "a", "o1", "m1")
	if ls := durListLinks(t, s, "a", "o1"); len(ls) != 2 {
		t.Errorf("a's o1 has %d links, want 2", len(ls))
	}
	if ls := durListLinks(t, s, "b", "o1"); len(ls) != 0 {
		t.Errorf("b's o1 has links %+v, want none", ls)
	}
	// Deleting b's organization and application leaves a's links.
	durMust(t, s.DeleteApplication(t.Context(), "b", "m1"))
	durMust(t, s.DeleteOrganization(t.Context(), "b", "o1"))
	durAccess(t, s, "a", "o1", "m1")
	durAccess(t, s, "a", "o1", "only-a")
}

// SetApplicationSecret replaces the hash (nil makes the client public) and
// nothing else.
func durTestAppSetSecret(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durApp(t, s, "acme", "c1", durT0)
	other := durApp(t, s, "acme", "c2", durT0)
	want.SecretHash = bytes.Repeat([]byte{0x01}, 32)
	durMust(t, s.SetApplicationSecret(t.Context(), "acme", "c1", want.SecretHash))
	got, err := s.GetApplication(t.Context(), "acme", "c1")
	durMust(t, err)
	durSame(t, "application after SetApplicationSecret", got, want)
	got, err = s.GetApplication(t.Context(), "acme", "c2")
	durMust(t, err)
	durSame(t, "other application", got, other)

	durMust(t, s.SetApplicationSecret(t.Context(), "acme", "c1", nil))
	got, err = s.GetApplication(t.Context(), "acme", "c1")
	durMust(t, err)
	if len(got.SecretHash) != 0 {
		t.Errorf("secret hash after SetApplicationSecret(nil) = %x, want none", got.SecretHash)
	}
	durWantErr(t, "SetApplicationSecret(ghost)", s.SetApplicationSecret(t.Context(), "acme", "ghost", want.SecretHash), storage.ErrNotFound)
	durTenant(t, s, "other")
	durWantErr(t, "SetApplicationSecret in another tenant", s.SetApplicationSecret(t.Context(), "other", "c1", want.SecretHash), storage.ErrNotFound)
}

// The public key set round-trips byte for byte through every read; an
// application without one reads back nil.
func durTestAppJWKS(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "o1")
	jwks := []byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)
	want := storage.Application{
		TenantID: "acme", ClientID: "jwt", Name: "JWT client", Type: storage.AppM2M,
		OrganizationID: "o1", JWKS: jwks, CreatedAt: durT0,
	}
	durMust(t, s.CreateApplication(t.Context(), want))
	plain := durM2M(t, s, "acme", "plain", "o1", durT0.Add(time.Hour))
	durLink(t, s, "acme", "o1", "jwt", durT0)

	got, err := s.GetApplication(t.Context(), "acme", "jwt")
	durMust(t, err)
	durSame(t, "application with a key set", got, want)
	if !bytes.Equal(got.JWKS, jwks) {
		t.Errorf("JWKS = %s, want %s", got.JWKS, jwks)
	}
	got, err = s.GetApplication(t.Context(), "acme", "plain")
	durMust(t, err)
	if got.JWKS != nil {
		t.Errorf("JWKS of an application without one = %q, want nil", got.JWKS)
	}
	apps, _, err := s.ListApplications(t.Context(), "acme", storage.Page{})
	durMust(t, err)
	durSame(t, "ListApplications", apps, []storage.Application{want, plain})
	apps, _, err = s.ListOrganizationApplications(t.Context(), "acme", "o1", storage.Page{})
	durMust(t, err)
	durSame(t, "ListOrganizationApplications", apps, []storage.Application{want, plain})
	durSame(t, "GetApplicationAccess", durAccess(t, s, "acme", "o1", "jwt").Application, want)
}

// ListOrganizationApplications lists the applications one organization
// owns, oldest first (ties by client ID): not tenant-wide ones, not other
// organizations' or tenants'.
func durTestAppListOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	c2 := durM2M(t, s, "acme", "c2", "o1", durT0.Add(time.Hour))
	c1 := durM2M(t, s, "acme", "c1", "o1", durT0.Add(time.Hour))
	c3 := durM2M(t, s, "acme", "c3", "o1", durT0)
	x := durM2M(t, s, "acme", "x", "o2", durT0)
	durM2M(t, s, "acme", "wide", "", durT0)
	durM2M(t, s, "other", "c0", "o1", durT0)

	apps, next, err := s.ListOrganizationApplications(t.Context(), "acme", "o1", storage.Page{})
	durMust(t, err)
	durSame(t, "o1's applications", apps, []storage.Application{c3, c1, c2})
	if next != "" {
		t.Errorf("next page token %q after the only page, want none", next)
	}
	apps, next, err = s.ListOrganizationApplications(t.Context(), "acme", "o1", storage.Page{Size: 2})
	durMust(t, err)
	if len(apps) != 2 || next == "" {
		t.Fatalf("first page of two: %d applications, next %q", len(apps), next)
	}
	apps, next, err = s.ListOrganizationApplications(t.Context(), "acme", "o1", storage.Page{Size: 2, After: next})
	durMust(t, err)
	durSame(t, "second page", apps, []storage.Application{c2})
	if next != "" {
		t.Errorf("next page token %q after the last page", next)
	}
	apps, _, err = s.ListOrganizationApplications(t.Context(), "acme", "o2", storage.Page{})
	durMust(t, err)
	durSame(t, "o2's applications", apps, []storage.Application{x})
	for _, org := range []string{"ghost", ""} {
		apps, next, err := s.ListOrganizationApplications(t.Context(), "acme", org, storage.Page{})
		durMust(t, err)
		if len(apps) != 0 || next != "" {
			t.Errorf("applications of %q: %+v, next %q; want none", org, apps, next)
		}
	}
}
