package storagetest

import (
	"encoding/json"
	"testing"

	"github.com/orgid/orgid/storage"
)

var durableOrganizationTests = []durableTest{
	{"Organization/CreateGet", durTestOrgCreateGet},
	{"Organization/Defaults", durTestOrgDefaults},
	{"Organization/DuplicateID", durTestOrgDuplicateID},
	{"Organization/DuplicateSlug", durTestOrgDuplicateSlug},
	{"Organization/DuplicateProviderID", durTestOrgDuplicateProvider},
	{"Organization/Missing", durTestOrgMissing},
	{"Organization/TenantIsolation", durTestOrgTenantIsolation},
}

func durTestOrgCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durOrg(t, s, "acme", "o1", "rocket")
	got, err := s.GetOrganization(t.Context(), "acme", "o1")
	durMust(t, err)
	durSame(t, "organization", got, want)
}

// A nil CustomData reads back as the empty object and an empty MFAPolicy
// as "configured", as storage.Organization documents.
func durTestOrgDefaults(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	o := storage.Organization{TenantID: "acme", ID: "o1", Name: "Rocket", Slug: "rocket", CreatedAt: durT0}
	durMust(t, s.CreateOrganization(t.Context(), o))
	got, err := s.GetOrganization(t.Context(), "acme", "o1")
	durMust(t, err)
	var custom map[string]any
	if err := json.Unmarshal(got.CustomData, &custom); err != nil || custom == nil || len(custom) != 0 {
		t.Errorf("custom_data = %q, want {}", got.CustomData)
	}
	if got.MFAPolicy != "configured" {
		t.Errorf("mfa_policy = %q, want configured", got.MFAPolicy)
	}
	want := o
	want.MFAPolicy = "configured"
	got.CustomData = nil
	durSame(t, "organization with defaults", got, want)
}

func durTestOrgDuplicateID(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durOrg(t, s, "acme", "o1", "rocket")
	err := s.CreateOrganization(t.Context(), storage.Organization{TenantID: "acme", ID: "o1", Name: "X", Slug: "other", CreatedAt: durT0})
	durWantErr(t, "second organization o1", err, storage.ErrAlreadyExists)
	got, err := s.GetOrganization(t.Context(), "acme", "o1")
	durMust(t, err)
	durSame(t, "organization after refused duplicate", got, want)
}

func durTestOrgDuplicateSlug(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "rocket")
	err := s.CreateOrganization(t.Context(), storage.Organization{TenantID: "acme", ID: "o2", Name: "X", Slug: "rocket", CreatedAt: durT0})
	durWantErr(t, "second organization with slug rocket", err, storage.ErrAlreadyExists)
	_, err = s.GetOrganization(t.Context(), "acme", "o2")
	durWantErr(t, "refused organization", err, storage.ErrNotFound)
}

func durTestOrgDuplicateProvider(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "rocket") // provider ID prov-o1
	err := s.CreateOrganization(t.Context(), storage.Organization{TenantID: "acme", ID: "o2", Name: "X", Slug: "x", ProviderID: "prov-o1", CreatedAt: durT0})
	durWantErr(t, "second organization with provider ID prov-o1", err, storage.ErrAlreadyExists)
	// Organizations without a provider ID do not collide with each other.
	for _, id := range []string{"o3", "o4"} {
		durMust(t, s.CreateOrganization(t.Context(), storage.Organization{TenantID: "acme", ID: id, Name: id, Slug: id, CreatedAt: durT0}))
	}
	got, err := s.GetOrganization(t.Context(), "acme", "o4")
	durMust(t, err)
	if got.ProviderID != "" {
		t.Errorf("provider_id = %q, want empty", got.ProviderID)
	}
}

func durTestOrgMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	_, err := s.GetOrganization(t.Context(), "acme", "nope")
	durWantErr(t, "GetOrganization(nope)", err, storage.ErrNotFound)
}

func durTestOrgTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	oa := durOrg(t, s, "a", "o1", "rocket")
	// Same ID, slug and provider ID in another tenant.
	ob := durOrg(t, s, "b", "o1", "rocket")
	durOrg(t, s, "a", "only-a", "solo")

	got, err := s.GetOrganization(t.Context(), "a", "o1")
	durMust(t, err)
	durSame(t, "a's o1", got, oa)
	got, err = s.GetOrganization(t.Context(), "b", "o1")
	durMust(t, err)
	durSame(t, "b's o1", got, ob)
	_, err = s.GetOrganization(t.Context(), "b", "only-a")
	durWantErr(t, "a's organization looked up in b", err, storage.ErrNotFound)
}
