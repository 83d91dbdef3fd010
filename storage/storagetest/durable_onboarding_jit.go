package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/orgid/orgid/storage"
)

// Just-in-time provisioning (DESIGN §3): organizations' rules (email
// domains, each listed by at most one organization of a tenant, and
// default roles), and the once-per-user mark that provisioning ran.
var durableJITTests = []durableTest{
	{"JIT/RuleUnset", durTestJITRuleUnset},
	{"JIT/SetDomains", durTestJITSetDomains},
	{"JIT/DomainTaken", durTestJITDomainTaken},
	{"JIT/DomainTakenInTx", durTestJITDomainTakenInTx},
	{"JIT/DomainTakenConcurrent", durTestJITDomainConcurrent},
	{"JIT/Roles", durTestJITRoles},
	{"JIT/MissingOrganization", durTestJITMissingOrg},
	{"JIT/DeleteOrgCascades", durTestJITDeleteOrg},
	{"JIT/TenantIsolation", durTestJITTenantIsolation},
	{"User/MarkProvisioned", durTestUserMarkProvisioned},
	{"User/MarkProvisionedConcurrent", durTestUserMarkProvisionedConcurrent},
}

func durGetJITRule(t *testing.T, s storage.Store, tenantID, orgID string) storage.JITRule {
	t.Helper()
	r, err := s.GetJITRule(t.Context(), tenantID, orgID)
	durMust(t, err)
	return r
}

func durFindJITRule(t *testing.T, s storage.Store, tenantID, domain string) storage.JITRule {
	t.Helper()
	r, err := s.FindJITRule(t.Context(), tenantID, domain)
	durMust(t, err)
	return r
}

func durNoJITRule(t *testing.T, s storage.Store, tenantID, domain string) {
	t.Helper()
	_, err := s.FindJITRule(t.Context(), tenantID, domain)
	durWantErr(t, "FindJITRule("+domain+")", err, storage.ErrNotFound)
}

// An organization without a rule has no domains and nil roles.
func durTestJITRuleUnset(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	r := durGetJITRule(t, s, "acme", "o1")
	durSame(t, "unset rule", r, storage.JITRule{TenantID: "acme", OrganizationID: "o1"})
	if r.Roles != nil {
		t.Errorf("roles of an unset rule = %#v, want nil", r.Roles)
	}
	durNoJITRule(t, s, "acme", "example.test")
}

// SetJITEmailDomains replaces the organization's domains: they read back
// sorted, each finds the rule, and a dropped one finds nothing.
func durTestJITSetDomains(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"b.example", "a.example", "xn--bcher-kva.example"}))
	want := storage.JITRule{TenantID: "acme", OrganizationID: "o1",
		EmailDomains: []string{"a.example", "b.example", "xn--bcher-kva.example"}}
	durSame(t, "o1's rule", durGetJITRule(t, s, "acme", "o1"), want)
	for _, d := range want.EmailDomains {
		durSame(t, "rule of "+d, durFindJITRule(t, s, "acme", d), want)
	}
	durNoJITRule(t, s, "acme", "c.example")
	durNoJITRule(t, s, "acme", "example")
	durSame(t, "o2's rule", durGetJITRule(t, s, "acme", "o2"), storage.JITRule{TenantID: "acme", OrganizationID: "o2"})

	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"c.example", "b.example"}))
	want.EmailDomains = []string{"b.example", "c.example"}
	durSame(t, "o1's replaced rule", durGetJITRule(t, s, "acme", "o1"), want)
	durSame(t, "rule of c.example", durFindJITRule(t, s, "acme", "c.example"), want)
	durNoJITRule(t, s, "acme", "a.example")

	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", nil))
	durSame(t, "o1's rule without domains", durGetJITRule(t, s, "acme", "o1"), storage.JITRule{TenantID: "acme", OrganizationID: "o1"})
	durNoJITRule(t, s, "acme", "b.example")
}

// A domain another organization lists is ErrAlreadyExists and nothing is
// written; once that organization drops it, it is free.
func durTestJITDomainTaken(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"a.example", "shared.example"}))
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o2", []string{"b.example"}))

	err := s.SetJITEmailDomains(t.Context(), "acme", "o2", []string{"c.example", "shared.example"})
	durWantErr(t, "o2 lists o1's domain", err, storage.ErrAlreadyExists)
	durSame(t, "o2's rule after the refusal", durGetJITRule(t, s, "acme", "o2"),
		storage.JITRule{TenantID: "acme", OrganizationID: "o2", EmailDomains: []string{"b.example"}})
	durNoJITRule(t, s, "acme", "c.example")
	if r := durFindJITRule(t, s, "acme", "shared.example"); r.OrganizationID != "o1" {
		t.Errorf("shared.example belongs to %q, want o1", r.OrganizationID)
	}

	// Listing its own domains again is no conflict.
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"shared.example", "a.example"}))
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"a.example"}))
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o2", []string{"b.example", "shared.example"}))
	if r := durFindJITRule(t, s, "acme", "shared.example"); r.OrganizationID != "o2" {
		t.Errorf("shared.example belongs to %q, want o2", r.OrganizationID)
	}
}

// Inside a transaction, a refused domain is ErrAlreadyExists too, and the
// transaction goes on: what it writes after commits.
func durTestJITDomainTakenInTx(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"a.example"}))
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o2", []string{"b.example"}))
	durMust(t, s.WithTx(t.Context(), func(tx storage.Store) error {
		err := tx.SetJITEmailDomains(t.Context(), "acme", "o2", []string{"a.example", "c.example"})
		if !errors.Is(err, storage.ErrAlreadyExists) {
			t.Errorf("o2 lists o1's domain in a transaction: got %v, want %v", err, storage.ErrAlreadyExists)
		}
		r, err := tx.GetJITRule(t.Context(), "acme", "o2")
		if err != nil {
			return err
		}
		durSame(t, "o2's rule in the transaction", r.EmailDomains, []string{"b.example"})
		return tx.SetJITRoles(t.Context(), "acme", "o2", []string{"member"})
	}))
	durSame(t, "o2's rule", durGetJITRule(t, s, "acme", "o2"), storage.JITRule{
		TenantID: "acme", OrganizationID: "o2", EmailDomains: []string{"b.example"}, Roles: []string{"member"}})
	durNoJITRule(t, s, "acme", "c.example")
}

// Of organizations concurrently listing one domain exactly one gets it.
func durTestJITDomainConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	orgs := make([]string, durRacers)
	for i := range orgs {
		orgs[i] = "o" + string(rune('a'+i))
		durOrg(t, s, "acme", orgs[i], "slug-"+orgs[i])
	}
	errs := durRace(func(i int) error {
		return s.SetJITEmailDomains(t.Context(), "acme", orgs[i], []string{"contested.example", orgs[i] + ".example"})
	})
	durOneWinner(t, errs, storage.ErrAlreadyExists)
	winner := durFindJITRule(t, s, "acme", "contested.example").OrganizationID
	for i, o := range orgs {
		r := durGetJITRule(t, s, "acme", o)
		switch {
		case errs[i] == nil && o != winner:
			t.Errorf("%s won, but contested.example belongs to %s", o, winner)
		case errs[i] == nil:
			durSame(t, "winner's domains", r.EmailDomains, []string{"contested.example", o + ".example"})
		case len(r.EmailDomains) != 0:
			t.Errorf("loser %s has domains %v", o, r.EmailDomains)
		}
	}
}

// SetJITRoles replaces the default roles: sorted, and an empty list reads
// back empty, not nil (set to none, unlike never set). The domains are
// left alone, and the roles come with FindJITRule.
func durTestJITRoles(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"a.example"}))
	durMust(t, s.SetJITRoles(t.Context(), "acme", "o1", []string{"member", "admin"}))
	want := storage.JITRule{TenantID: "acme", OrganizationID: "o1", EmailDomains: []string{"a.example"}, Roles: []string{"admin", "member"}}
	durSame(t, "rule with roles", durGetJITRule(t, s, "acme", "o1"), want)
	durSame(t, "found rule with roles", durFindJITRule(t, s, "acme", "a.example"), want)

	durMust(t, s.SetJITRoles(t.Context(), "acme", "o1", []string{}))
	for what, r := range map[string]storage.JITRule{
		"rule":       durGetJITRule(t, s, "acme", "o1"),
		"found rule": durFindJITRule(t, s, "acme", "a.example"),
	} {
		if r.Roles == nil || len(r.Roles) != 0 {
			t.Errorf("%s with roles set to none: roles %#v, want empty and non-nil", what, r.Roles)
		}
		durSame(t, what+" with roles set to none", r.EmailDomains, want.EmailDomains)
	}

	// Replacing the domains leaves the roles.
	durMust(t, s.SetJITRoles(t.Context(), "acme", "o1", []string{"member"}))
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"b.example"}))
	durSame(t, "rule after new domains", durGetJITRule(t, s, "acme", "o1"),
		storage.JITRule{TenantID: "acme", OrganizationID: "o1", EmailDomains: []string{"b.example"}, Roles: []string{"member"}})
}

// Every JIT method on an organization that does not exist (in this
// tenant) is ErrNotFound and writes nothing.
func durTestJITMissingOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durTenant(t, s, "other")
	durOrg(t, s, "other", "o1", "one")
	_, err := s.GetJITRule(t.Context(), "acme", "o1")
	durWantErr(t, "GetJITRule of a missing organization", err, storage.ErrNotFound)
	durWantErr(t, "SetJITEmailDomains of a missing organization",
		s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"a.example"}), storage.ErrNotFound)
	durWantErr(t, "SetJITRoles of a missing organization",
		s.SetJITRoles(t.Context(), "acme", "o1", []string{"member"}), storage.ErrNotFound)
	durWantErr(t, "SetJITEmailDomains in a missing tenant",
		s.SetJITEmailDomains(t.Context(), "nope", "o1", []string{"a.example"}), storage.ErrNotFound)
	durNoJITRule(t, s, "acme", "a.example")
	durNoJITRule(t, s, "other", "a.example")
	durSame(t, "other's o1", durGetJITRule(t, s, "other", "o1"), storage.JITRule{TenantID: "other", OrganizationID: "o1"})
}

// An organization's rule goes with it: its domains are free for another
// organization, and an organization created again with its ID has no
// rule.
func durTestJITDeleteOrg(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durOrg(t, s, "acme", "o1", "one")
	durOrg(t, s, "acme", "o2", "two")
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o1", []string{"a.example"}))
	durMust(t, s.SetJITRoles(t.Context(), "acme", "o1", []string{"admin"}))
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o2", []string{"b.example"}))
	durMust(t, s.DeleteOrganization(t.Context(), "acme", "o1"))

	durNoJITRule(t, s, "acme", "a.example")
	_, err := s.GetJITRule(t.Context(), "acme", "o1")
	durWantErr(t, "rule of the deleted organization", err, storage.ErrNotFound)
	durSame(t, "o2's rule", durFindJITRule(t, s, "acme", "b.example"),
		storage.JITRule{TenantID: "acme", OrganizationID: "o2", EmailDomains: []string{"b.example"}})
	durMust(t, s.SetJITEmailDomains(t.Context(), "acme", "o2", []string{"a.example", "b.example"}))

	durOrg(t, s, "acme", "o1", "one")
	r := durGetJITRule(t, s, "acme", "o1")
	if len(r.EmailDomains) != 0 || r.Roles != nil {
		t.Errorf("rule of an organization created again: %+v, want none", r)
	}
}

// A domain is one organization's per tenant: another tenant may list it
// for its own, and neither sees the other's rule.
func durTestJITTenantIsolation(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	durOrg(t, s, "a", "o1", "one")
	durOrg(t, s, "b", "o1", "one")
	durOrg(t, s, "b", "o2", "two")
	durMust(t, s.SetJITEmailDomains(t.Context(), "a", "o1", []string{"shared.example", "only-a.example"}))
	durMust(t, s.SetJITRoles(t.Context(), "a", "o1", []string{"admin"}))
	durMust(t, s.SetJITEmailDomains(t.Context(), "b", "o2", []string{"shared.example"}))

	durNoJITRule(t, s, "b", "only-a.example")
	if r := durFindJITRule(t, s, "b", "shared.example"); r.OrganizationID != "o2" || r.Roles != nil {
		t.Errorf("b's rule of shared.example: %+v", r)
	}
	durSame(t, "b's o1", durGetJITRule(t, s, "b", "o1"), storage.JITRule{TenantID: "b", OrganizationID: "o1"})
	durSame(t, "a's o1", durGetJITRule(t, s, "a", "o1"), storage.JITRule{TenantID: "a", OrganizationID: "o1",
		EmailDomains: []string{"only-a.example", "shared.example"}, Roles: []string{"admin"}})
}

// MarkUserProvisioned runs once per user: every read of the user shows
// ProvisionedAt; a second mark is ErrConflict and changes nothing, nor
// does UpdateUser; a missing user is ErrNotFound.
func durTestUserMarkProvisioned(t *testing.T, s storage.Store) {
	durTenant(t, s, "a")
	durTenant(t, s, "b")
	u := durUser(t, s, "a", "u1", "u1@example.test")
	durUser(t, s, "b", "u1", "u1@example.test")
	if got := durGetUser(t, s, "a", "u1"); !got.ProvisionedAt.IsZero() {
		t.Errorf("new user's ProvisionedAt = %v, want zero", got.ProvisionedAt)
	}
	at := durT0.Add(time.Hour)
	durMust(t, s.MarkUserProvisioned(t.Context(), "a", "u1", at))
	u.ProvisionedAt = at
	durSame(t, "GetUser", durGetUser(t, s, "a", "u1"), u)
	got, err := s.GetUserByEmail(t.Context(), "a", "U1@EXAMPLE.test")
	durMust(t, err)
	durSame(t, "GetUserByEmail", got, u)
	durUserToken(t, s, "a", "g1", "u1", "c1")
	if got := durGetToken(t, s, "a", "g1"); !got.User.ProvisionedAt.Equal(at) {
		t.Errorf("token's user: ProvisionedAt %v, want %v", got.User.ProvisionedAt, at)
	}

	durWantErr(t, "second mark", s.MarkUserProvisioned(t.Context(), "a", "u1", at.Add(time.Hour)), storage.ErrConflict)
	durSame(t, "user after a second mark", durGetUser(t, s, "a", "u1"), u)

	upd := u
	upd.EmailVerified, upd.UpdatedAt, upd.ProvisionedAt = false, durT0.Add(2*time.Hour), time.Time{}
	durMust(t, s.UpdateUser(t.Context(), upd))
	upd.ProvisionedAt = at
	durSame(t, "user after UpdateUser", durGetUser(t, s, "a", "u1"), upd)

	durWantErr(t, "mark of a missing user", s.MarkUserProvisioned(t.Context(), "a", "nope", at), storage.ErrNotFound)
	// b's u1 is another user, not provisioned yet.
	if got := durGetUser(t, s, "b", "u1"); !got.ProvisionedAt.IsZero() {
		t.Errorf("b's u1 after a's was marked: ProvisionedAt %v", got.ProvisionedAt)
	}
	durMust(t, s.MarkUserProvisioned(t.Context(), "b", "u1", at))
}

// Of concurrent marks of one user exactly one succeeds, outside and
// inside transactions.
func durTestUserMarkProvisionedConcurrent(t *testing.T, s storage.Store) {
	durTenant(t, s, "acme")
	durUser(t, s, "acme", "u1", "u1@example.test")
	durUser(t, s, "acme", "u2", "u2@example.test")
	errs := durRace(func(i int) error {
		return s.MarkUserProvisioned(t.Context(), "acme", "u1", durT0.Add(time.Duration(i+1)*time.Second))
	})
	durOneWinner(t, errs, storage.ErrConflict)
	errs = durRace(func(i int) error {
		return s.WithTx(t.Context(), func(tx storage.Store) error {
			return tx.MarkUserProvisioned(t.Context(), "acme", "u2", durT0.Add(time.Duration(i+1)*time.Second))
		})
	})
	durOneWinner(t, errs, storage.ErrConflict)
	for _, id := range []string{"u1", "u2"} {
		if got := durGetUser(t, s, "acme", id); got.ProvisionedAt.IsZero() {
			t.Errorf("%s not provisioned after the race", id)
		}
	}
}
