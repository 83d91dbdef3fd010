package storagetest

import (
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Grants bound to an organization, and refresh tokens removed with their
// application.
var durableGrantTests = []durableTest{
	{"RefreshToken/OrganizationID", durTestRTOrganization},
	{"Application/Delete", durTestAppDelete},
	{"Application/DeleteTenantIsolation", durTestAppDeleteTenantIsolation},
}

// Grant.OrganizationID round-trips through create, get and rotation; a
// grant bound to none reads back with none.
func durTestRTOrganization(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	rt := durToken("acme", "t1", "g1")
	rt.Grant.OrganizationID = "org-42"
	durMust(t, s.CreateRefreshToken(t.Context(), rt))
	got := durGetToken(t, s, "acme", "g1")
	if got.Grant.OrganizationID != "org-42" {
		t.Errorf("organization after create = %q, want org-42", got.Grant.OrganizationID)
	}
	next := durNext(got, "t2", durT0.Add(time.Hour))
	durMust(t, s.RotateRefreshToken(t.Context(), "acme", rt.TokenHash, next))
	got = durGetToken(t, s, "acme", "g1")
	durSame(t, "grant after rotation", got.Grant, rt.Grant)

	plain := durToken("acme", "t3", "g2")
	plain.Grant.OrganizationID = ""
	durMust(t, s.CreateRefreshToken(t.Context(), plain))
	if got := durGetToken(t, s, "acme", "g2"); got.Grant.OrganizationID != "" {
		t.Errorf("organization of an unbound grant = %q, want none", got.Grant.OrganizationID)
	}
}

// DeleteApplication takes the client's refresh tokens along, not other
// clients'.
func durTestAppDelete(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durApp(t, s, "acme", "c1", durT0)
	c2 := durApp(t, s, "acme", "c2", durT0)
	durUserToken(t, s, "acme", "g1", "u1", "c1")
	durUserToken(t, s, "acme", "g2", "u2", "c1")
	durUserToken(t, s, "acme", "g3", "u1", "c2")

	durMust(t, s.DeleteApplication(t.Context(), "acme", "c1"))
	_, err := s.GetApplication(t.Context(), "acme", "c1")
	durWantErr(t, "deleted application", err, storage.ErrNotFound)
	durNoToken(t, s, "acme", "g1")
	durNoToken(t, s, "acme", "g2")
	durGetToken(t, s, "acme", "g3")
	apps, _, err := s.ListApplications(t.Context(), "acme", storage.Page{})
	durMust(t, err)
	durSame(t, "applications left", apps, []storage.Application{c2})

	durWantErr(t, "second DeleteApplication(c1)", s.DeleteApplication(t.Context(), "acme", "c1"), storage.ErrNotFound)
	durWantErr(t, "DeleteApplication(ghost)", s.DeleteApplication(t.Context(), "acme", "ghost"), storage.ErrNotFound)
	// The client ID is free again.
	durApp(t, s, "acme", "c1", durT0)
}

func durTestAppDeleteTenantIsolation(t *testing.T, s storage.Store) {
	for _, tn := range []string{"a", "b"} {
		durTenant(t, s, tn)
		durApp(t, s, tn, "c1", durT0)
		durUserToken(t, s, tn, "g1", "u1", "c1")
	}
	durApp(t, s, "a", "only-a", durT0)
	durWantErr(t, "DeleteApplication of a's client in b", s.DeleteApplication(t.Context(), "b", "only-a"), storage.ErrNotFound)
	durMust(t, s.DeleteApplication(t.Context(), "b", "c1"))
	if _, err := s.GetApplication(t.Context(), "a", "c1"); err != nil {
		t.Errorf("a's c1 after b's was deleted: %v", err)
	}
	durGetToken(t, s, "a", "g1")
	durNoToken(t, s, "b", "g1")
}
