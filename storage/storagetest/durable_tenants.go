package storagetest

import (
	"testing"

	"github.com/orgid/orgid/storage"
)

var durableTenantTests = []durableTest{
	{"Tenant/CreateGet", durTestTenantCreateGet},
	{"Tenant/Duplicate", durTestTenantDuplicate},
	{"Tenant/Missing", durTestTenantMissing},
	{"Tenant/List", durTestTenantList},
}

func durTestTenantCreateGet(t *testing.T, s storage.Store) {
	want := durTenant(t, s, "acme")
	got, err := s.GetTenant(t.Context(), "acme")
	durMust(t, err)
	durSame(t, "tenant", got, want)

	// Settings round-trip both ways.
	off := storage.Tenant{ID: "plain", Name: "Plain", Settings: storage.TenantSettings{PersonalOrganization: false}, CreatedAt: durT0}
	durMust(t, s.CreateTenant(t.Context(), off))
	got, err = s.GetTenant(t.Context(), "plain")
	durMust(t, err)
	durSame(t, "tenant without personal organizations", got, off)
}

func durTestTenantDuplicate(t *testing.T, s storage.Store) {
	want := durTenant(t, s, "acme")
	err := s.CreateTenant(t.Context(), storage.Tenant{ID: "acme", Name: "Impostor", CreatedAt: durT0})
	durWantErr(t, "second tenant acme", err, storage.ErrAlreadyExists)
	got, err := s.GetTenant(t.Context(), "acme")
	durMust(t, err)
	durSame(t, "tenant after refused duplicate", got, want)
}

func durTestTenantMissing(t *testing.T, s storage.Store) {
	_, err := s.GetTenant(t.Context(), "nope")
	durWantErr(t, "GetTenant(nope)", err, storage.ErrNotFound)
}

func durTestTenantList(t *testing.T, s storage.Store) {
	a := durTenant(t, s, "a")
	b := durTenant(t, s, "b")
	ts, err := s.ListTenants(t.Context())
	durMust(t, err)
	found := map[string]storage.Tenant{}
	for _, tn := range ts {
		found[tn.ID] = tn
	}
	durSame(t, "listed a", found["a"], a)
	durSame(t, "listed b", found["b"], b)
}
