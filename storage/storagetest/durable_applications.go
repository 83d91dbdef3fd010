package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

var durableApplicationTests = []durableTest{
	{"Application/CreateGet", durTestAppCreateGet},
	{"Application/Public", durTestAppPublic},
	{"Application/Duplicate", durTestAppDuplicate},
	{"Application/Missing", durTestAppMissing},
	{"Application/ListOldestFirst", durTestAppList},
	{"Application/TenantIsolation", durTestAppTenantIsolation},
}

func durTestAppCreateGet(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durApp(t, s, "acme", "c1", durT0)
	got, err := s.GetApplication(t.Context(), "acme", "c1")
	durMust(t, err)
	durSame(t, "application", got, want)
}

// A public client has no secret, owner or roles: the empty values read back.
func durTestAppPublic(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := storage.Application{
		TenantID: "acme", ClientID: "spa", Name: "SPA", Type: storage.AppSPA,
		RedirectURIs: []string{"https://spa.example.test/cb"}, CreatedAt: durT0,
	}
	durMust(t, s.CreateApplication(t.Context(), want))
	got, err := s.GetApplication(t.Context(), "acme", "spa")
	durMust(t, err)
	durSame(t, "public application", got, want)
	if len(got.SecretHash) != 0 {
		t.Errorf("secret hash = %x, want none", got.SecretHash)
	}
}

func durTestAppDuplicate(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	want := durApp(t, s, "acme", "c1", durT0)
	err := s.CreateApplication(t.Context(), storage.Application{TenantID: "acme", ClientID: "c1", Name: "Impostor", Type: storage.AppM2M, CreatedAt: durT0})
	durWantErr(t, "second application c1", err, storage.ErrAlreadyExists)
	got, err := s.GetApplication(t.Context(), "acme", "c1")
	durMust(t, err)
	durSame(t, "application after refused duplicate", got, want)
}

func durTestAppMissing(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	_, err := s.GetApplication(t.Context(), "acme", "nope")
	durWantErr(t, "GetApplication(nope)", err, storage.ErrNotFound)
}

func durTestAppList(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	c2 := durApp(t, s, "acme", "c2", durT0.Add(2*time.Hour))
	c1 := durApp(t, s, "acme", "c1", durT0.Add(time.Hour))
	c3 := durApp(t, s, "acme", "c3", durT0.Add(3*time.Hour))
	durApp(t, s, "other", "c0", durT0)
	got, next, err := s.ListApplications(t.Context(), "acme", storage.Page{})
	durMust(t, err)
	durSame(t, "applications", got, []storage.Application{c1, c2, c3})
	if next != "" {
		t.Errorf("next page token %q after the only page, want none", next)
	}
}

func durTestAppTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durApp(t, s, "a", "shared", durT0)
	mine := storage.Application{TenantID: "b", ClientID: "shared", Name: "B's", Type: storage.AppNative, CreatedAt: durT0}
	durMust(t, s.CreateApplication(t.Context(), mine))
	durApp(t, s, "a", "only-a", durT0)

	got, err := s.GetApplication(t.Context(), "b", "shared")
	durMust(t, err)
	durSame(t, "b's shared client", got, mine)
	_, err = s.GetApplication(t.Context(), "b", "only-a")
	durWantErr(t, "a's client looked up in b", err, storage.ErrNotFound)
	list, _, err := s.ListApplications(t.Context(), "b", storage.Page{})
	durMust(t, err)
	durSame(t, "b's applications", list, []storage.Application{mine})
}
